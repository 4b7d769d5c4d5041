"""One side of a diff, audited: a path on disk, or a path at a git revision copied out first.

Each side runs through the normal engine with its own result cache handle, so a side whose
files did not change replays from the cache. A revision's files are copied into a folder the
caller owns; every path in the output is named as the user gave it (`data.jsonl@HEAD~1`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curate.check import RunContext
from curate.config import Rule
from curate.diff.compare import Side
from curate.diff.revisions import Spec, materialize
from curate.io.reader import ReadOptions


class SideError(Exception):
    """A side that cannot be read at all (no such path on disk)."""


@dataclass(slots=True)
class Setup:
    """How both sides are audited: the same rules, context and options."""

    rules: list[Rule]
    ctx: RunContext
    ruleset: str
    read: ReadOptions
    input_format: Any = None
    jobs: int = 0
    use_cache: bool = True
    on_progress: Callable[[Any], None] | None = None


def audit(spec: Spec, setup: Setup, workdir: Path) -> tuple[Side, list[tuple[str, str]]]:
    """The side's report (None when the path did not exist at the revision) and the files skipped."""
    from curate.display import shown
    from curate.io.listing import list_directory

    if spec.rev is not None:
        done = materialize(spec, workdir)
        if done.path is None:
            # no commit id beside the revision: "HEAD~1 (531879682135" reads as a phone number to the masker
            note = f"{shown(spec.path)} did not exist at {shown(spec.rev)}: every record is new"
            return Side(spec.label, None, notes=[note]), []
        root = done.path
    else:
        root = spec.path
        if not Path(root).exists():
            raise SideError(f"{shown(root)}: no such file or directory")
    skipped: list[tuple[str, str]] = []
    if Path(root).is_dir():
        found = list_directory(Path(root))
        files, skipped = found.files, found.skipped
    else:
        files = [root]
    name = _namer(spec, root)
    report = _engine(setup).run(files)
    notes = [f"{shown(name(p))}: skipped, {why}" for p, why in skipped]
    # what the run could not do (a model missing ...), a revision's copy named as the user gave it
    notes += [n.replace(shown(root, None), shown(spec.label, None)) if spec.rev else n for n in report.notices]
    side = Side(spec.label, report, name, notes=notes)
    if report is not None and setup.read.id_field:
        side.digests = _digests(side, setup.read)
    return side, [(name(p), why) for p, why in skipped]


def _engine(setup: Setup) -> Any:
    from curate.run.engine import Engine, EngineOptions

    cache = None
    if setup.use_cache:
        from curate.cache import ResultCache

        cache = ResultCache()
    options = EngineOptions(
        input_format=setup.input_format,
        read=setup.read,
        jobs=setup.jobs,
        cache=cache,
        on_progress=setup.on_progress,
    )
    return Engine(setup.rules, copy.deepcopy(setup.ctx), options, ruleset_name=setup.ruleset)


def _namer(spec: Spec, root: str) -> Callable[[str], str]:
    """How the side's file paths appear: as given on disk, or `PATH/inner@REV` for a revision."""
    if spec.rev is None:
        return lambda path: path
    if not Path(root).is_dir():
        return lambda path: spec.label
    base = spec.path.rstrip("/") or "."

    def name(path: str) -> str:
        inner = Path(path).relative_to(root).as_posix() if path.startswith(root) else Path(path).name
        return f"{base}/{inner}@{spec.rev}"

    return name


def _digests(side: Side, read: ReadOptions) -> list[str]:
    """Each row's content hash, for records keyed by id (a changed record keeps its id). One more
    read of the files: only runs whose rule set names an `id_field` pay for it."""
    from curate.io.reader import iter_records

    plain = ReadOptions(max_line_bytes=read.max_line_bytes)
    assert side.report is not None
    by_place: dict[tuple[str, int], str] = {}
    for info in side.report.datasets:
        for record in iter_records(info.path, plain):
            by_place[(record.path, record.line)] = record.key
    return [by_place.get((p, line), "") for p, line in zip(side.column("path"), side.column("line"), strict=True)]
