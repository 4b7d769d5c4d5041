"""What turns `curate check` into a gate (pre-commit, CI): which files are datasets, the whole
project's datasets, the findings already accepted (decisions files and the baseline), the cache.

Kept out of the CLI module so `check` and `baseline` share it and tests call it directly.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from curate.baseline import DEFAULT_BASELINE, load_baseline
from curate.io.listing import Inputs
from curate.loading import within
from curate.yamlfile import ConfigError


def project_datasets(start: Path | None = None) -> list[str]:
    """`[tool.curate] datasets` (paths or globs, relative to the pyproject.toml), as paths from here."""
    from curate.pyproject import load_project_settings

    settings, pyproject = load_project_settings(start)
    if not settings.datasets or pyproject is None:
        raise ConfigError(
            "no datasets given and none configured: pass paths, or add "
            '`datasets = ["data/*.jsonl"]` under [tool.curate] in pyproject.toml'
        )
    root = pyproject.parent
    out: list[str] = []
    for pattern in settings.datasets:  # relative, without '..' (validated): inside the project
        full = str(root / pattern)
        matches = sorted(glob.glob(full, recursive=True)) if glob.has_magic(full) else [full]
        if not matches or not all(os.path.exists(m) for m in matches):
            raise ConfigError(f"[tool.curate] datasets: {pattern!r} matches no file", pyproject)
        outside = [m for m in matches if within(root, os.path.relpath(m, root)) is None]
        if outside:  # a symlink out of the project: curate would write decisions and exports beside it
            raise ConfigError(f"[tool.curate] datasets: {pattern!r} leads outside the project", pyproject)
        out.extend(_relative(m) for m in matches)
    return out


def _relative(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path
    return path if rel.startswith("..") else rel


def gather(paths: list[str], project: bool, expand: Callable[[list[str]], Inputs]) -> Inputs:
    """The files to check: the given paths (expanded), plus the project's datasets with --project
    (or when no path is given). Files a directory listing skipped come along, with their reasons."""
    wanted = list(paths)
    if project or not wanted:
        wanted += project_datasets()
    inputs = Inputs()
    seen: set[str] = set()
    expanded = expand(wanted)
    inputs.skipped.extend(expanded.skipped)
    for path in expanded.files:
        norm = os.path.normpath(path) if path != "-" else path
        if norm in seen:
            continue
        seen.add(norm)
        if os.path.basename(path) == os.path.basename(DEFAULT_BASELINE):
            inputs.skipped.append((path, "curate's baseline of accepted findings, not a dataset"))
            continue
        inputs.files.append(path)
    return inputs


def find_baseline(explicit: str | None) -> Path | None:
    """--baseline FILE, else .curate-baseline.json here or beside the project's pyproject.toml."""
    if explicit:
        return Path(explicit)
    here = Path(DEFAULT_BASELINE)
    if here.is_file():
        return here
    from curate.pyproject import load_project_settings

    try:
        _, pyproject = load_project_settings()
    except ConfigError:
        return None
    if pyproject is not None and (pyproject.parent / DEFAULT_BASELINE).is_file():
        return pyproject.parent / DEFAULT_BASELINE
    return None


ACCEPT_BUDGET = 5_000  # keys sealed at most per decisions file to find accepted records that moved (~2.5 s)


class Accepted:
    """What does not fail the check: findings accepted in review or recorded in the baseline.

    Those files may be committed, so their keys are sealed (`curate.sealing`): they are matched
    against the run's findings, which makes this a function of the findings (the engine calls it)."""

    def __init__(self, logs: dict[str, Any], baseline: Any = None) -> None:
        self.logs = logs  # dataset path -> DecisionLog
        self.baseline = baseline

    def __call__(self, findings: list[Any]) -> frozenset[str]:
        out: set[str] = set()
        for path, log in self.logs.items():
            mine = [f for f in findings if f.path == path]
            log.resolve(((f.line, f.key) for f in mine), mine, budget=ACCEPT_BUDGET)
            out |= log.accepted_fingerprints()
        if self.baseline is not None:
            out |= self.baseline.accepted(findings)
        return frozenset(out)


def accepted(files: list[str], baseline: Path | None, decisions: bool = True) -> Accepted:
    """The decisions files of `files` and the baseline, loaded (a malformed file is a ConfigError,
    exit 2, never ignored) and ready to match a run's findings."""
    from curate.decisions import load_decisions

    logs = {}
    if decisions:
        for f in files:
            if f != "-":
                log = load_decisions(f)
                if log.decisions:
                    logs[f] = log
    base = None
    if baseline is not None:
        if not baseline.is_file():
            raise ConfigError(f"baseline {baseline} not found (create it with `curate baseline PATH`)")
        base = load_baseline(baseline)
    return Accepted(logs, base)


def pending_export(files: list[str], findings: list) -> dict[str, int]:
    """Per dataset, how many of these findings sit on records that review already fixed, edited or
    dropped: the decisions wait for `curate export`, which is what clears them."""
    from curate.decisions import decisions_path, load_decisions

    out: dict[str, int] = {}
    for f in files:
        if f == "-" or not decisions_path(f).is_file():
            continue
        log = load_decisions(f)
        mine = [x for x in findings if x.path == f]
        log.resolve(((x.line, x.key) for x in mine), budget=ACCEPT_BUDGET)
        decided = {d.key for d in log.decisions if d.action in ("fix", "edit", "drop") and d.key}
        n = sum(1 for x in findings if x.path == f and x.key in decided)
        if n:
            out[f] = n
    return out
