"""A progress line for long runs: records/s, ETA and stage on a terminal; silent otherwise.

Silent when stderr is not a terminal (CI, pipes), when CI is set, or for machine-readable
output, so logs and JSON stay clean.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator

from curate.run.engine import Progress


def wanted(machine_output: bool) -> bool:
    return not machine_output and sys.stderr.isatty() and not os.environ.get("CI")


@contextlib.contextmanager
def progress_display(enabled: bool) -> Iterator[Callable[[Progress], None] | None]:
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, TaskProgressColumn, TextColumn, TimeRemainingColumn
    from rich.progress import Progress as Bar

    console = Console(stderr=True)
    started = time.monotonic()
    bar = Bar(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    task = bar.add_task("reading", total=None, rate="")
    done_before: dict[int, int] = {}

    def update(p: Progress) -> None:
        elapsed = max(time.monotonic() - started, 1e-6)
        done_before[p.file_index] = p.records
        records = sum(done_before.values())
        name = os.path.basename(p.path)
        label = f"{p.stage} {name}" + (f" ({p.file_index + 1}/{p.files})" if p.files > 1 else "")
        total = p.bytes_total or None
        rate = f"{records / elapsed:,.0f} records/s"
        bar.update(task, description=label, completed=p.bytes_done if total else None, total=total, rate=rate)

    with bar:
        yield update
