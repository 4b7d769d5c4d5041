"""The `curate` console script: start-up that a Ctrl-C cannot turn into a traceback.

Importing the CLI (typer, click, rich) takes a noticeable moment, before `curate.cli.main` has
installed its signal handlers. A Ctrl-C in that moment would print Python's KeyboardInterrupt
traceback; this module imports nothing heavy itself, so it can catch it and print one line.
"""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from curate.cli import main as cli_main
    except KeyboardInterrupt:
        sys.stderr.write("curate: interrupted while starting; nothing was read or written\n")
        sys.exit(130)
    cli_main()


if __name__ == "__main__":  # pragma: no cover - `python -m curate` goes through curate/__main__.py
    main()
