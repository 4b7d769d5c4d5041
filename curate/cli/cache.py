"""`curate cache`: where the per-record result cache lives, how big it is, and clearing it."""

from __future__ import annotations

import sys

import typer

from curate.cli import app

cache_app = typer.Typer(help="The per-record result cache (a second run over unchanged records is fast).")
app.add_typer(cache_app, name="cache")


@cache_app.command("info")
def info() -> None:
    """Print the cache folder and its size."""
    from curate.cache import cache_size, default_cache_dir

    files, size = cache_size()
    sys.stdout.write(f"{default_cache_dir()}: {files} rule-set cache(s), {size / 1e6:.1f} MB\n")


@cache_app.command("clear")
def clear() -> None:
    """Delete every cached result (safe: the next run recomputes them)."""
    from curate.cache import clear_cache, default_cache_dir

    freed = clear_cache()
    sys.stdout.write(f"{default_cache_dir()}: cleared {freed / 1e6:.1f} MB\n")
