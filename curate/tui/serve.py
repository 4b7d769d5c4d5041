"""`curate review --serve`: the same review UI in a web browser, through textual-serve.

Each browser tab starts its own `curate review FILE` process driven by Textual's web driver;
decisions are saved to the same decisions file as in a terminal. Anyone who can reach the port
can read the records and change decisions, so it listens on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import shlex
import sys


def review_command(path: str, options: list[str]) -> str:
    """The shell command textual-serve runs per browser session (quoted: paths may hold spaces)."""
    return shlex.join([sys.executable, "-m", "curate", "review", path, *options])


def serve_review(path: str, options: list[str], host: str, port: int) -> None:
    try:
        from textual_serve.server import Server
    except ImportError:
        from curate.cli.common import fail

        fail("--serve needs textual-serve: pip install 'curate[serve]'")
    from curate.display import shown

    public = host if host not in ("0.0.0.0", "::") else "localhost"
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.stderr.write(f"curate: listening on {shown(host)}: anyone who can reach it can read and decide records\n")
    sys.stderr.write(f"curate: reviewing {shown(path)} at http://{public}:{port}/ (Ctrl+C stops)\n")
    from pathlib import Path

    import textual_serve

    # textual-serve's subprocess transports are collected after its loop closed at shutdown: that is
    # noise ("Exception ignored ... Event loop is closed"), never something a user should read
    sys.unraisablehook = lambda _unraisable: None
    Server(
        review_command(path, options),
        host=host,
        port=port,
        title=f"curate review {path}",
        statics_path=Path(textual_serve.__file__).parent / "static",
        templates_path=Path(__file__).parent / "serve_templates",  # offline: no web font from another host
    ).serve()
