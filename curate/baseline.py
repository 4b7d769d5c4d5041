"""A baseline of accepted findings, committed beside the datasets (the detect-secrets idea).

The file holds one entry per accepted finding: its fingerprint, rule, record key and path,
never a line number and never record text. Fingerprints are built from the record's content
(or its id field), so inserting lines above a record does not re-raise its finding; editing the
record does, which is what a reviewer wants. `curate check` suppresses every fingerprint in
the baseline; `curate baseline PATH...` rewrites the entries of the files it checked and
keeps the others, sorted, so the file diffs well.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from curate.io.atomic import write_bytes_atomic
from curate.loading import BASELINE_LIMIT, decode_utf8, json_line_of, read_bytes_bounded
from curate.model import Finding
from curate.yamlfile import ConfigError, raise_all

DEFAULT_BASELINE = ".curate-baseline.json"
BASELINE_VERSION = 1


@dataclass(frozen=True, slots=True, order=True)
class Entry:
    __pydantic_config__ = ConfigDict(extra="forbid")  # how a baseline file is validated
    path: str  # POSIX path relative to the baseline's directory
    rule: str
    key: str
    fingerprint: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "rule": self.rule, "key": self.key, "fingerprint": self.fingerprint}


@dataclass(slots=True)
class Baseline:
    path: Path
    entries: set[Entry] = field(default_factory=set)

    def fingerprints(self) -> frozenset[str]:
        return frozenset(e.fingerprint for e in self.entries)

    def rel(self, dataset: str) -> str:
        """A dataset path as the baseline stores it: relative to the baseline's folder, POSIX."""
        if dataset == "-":
            return "-"
        rel = os.path.relpath(os.path.abspath(dataset), os.path.abspath(self.path.parent))
        return Path(rel).as_posix()

    def update(self, checked: Iterable[str], findings: Iterable[Finding]) -> tuple[int, int]:
        """Replace the entries of the `checked` files with `findings`; returns (added, removed)."""
        checked_rel = {self.rel(p) for p in checked}
        keep = {e for e in self.entries if e.path not in checked_rel}
        new = {Entry(self.rel(f.path) if f.path else "", f.rule, f.key or "", f.fingerprint) for f in findings}
        old = {e for e in self.entries if e.path in checked_rel}
        self.entries = keep | new
        return len(new - old), len(old - new)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": BASELINE_VERSION,
            "tool": "curate",
            "about": "Accepted findings: curate check does not fail on these. Update with `curate baseline`.",
            "findings": [e.to_json() for e in sorted(self.entries)],
        }

    def save(self) -> None:
        text = json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"
        write_bytes_atomic(self.path, text.encode("utf-8"))


class _File(BaseModel):
    """A baseline file as written by `save`; entries are validated against `Entry` itself."""

    model_config = ConfigDict(extra="forbid")
    version: int = BASELINE_VERSION
    tool: str = "curate"
    about: str | None = None
    findings: list[Entry]


def load_baseline(path: str | Path) -> Baseline:
    """The baseline at `path` (empty when the file does not exist).

    A baseline may come from a repository: it is read with a size limit, parsed by orjson (which
    bounds nesting) and validated, so a malformed file is a ConfigError naming the file and the
    line, never a traceback."""
    p = Path(path)
    base = Baseline(p)
    if not p.is_file():
        return base
    text = decode_utf8(read_bytes_bounded(p, BASELINE_LIMIT, "baseline"), p, "baseline")
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"cannot read baseline: not valid JSON ({exc.msg})", p, exc.lineno) from None
    if not isinstance(doc, dict):
        raise ConfigError("not a curate baseline (expected an object with a 'findings' list)", p, 1)
    try:
        spec = _File.model_validate(doc)
    except ValidationError as exc:
        errors, seen = [], set()
        for err in exc.errors():
            loc = tuple(err["loc"])
            if loc[:2] in seen or len(seen) >= 20:
                continue  # the first problem of each entry is enough
            seen.add(loc[:2])
            if loc[:1] == ("findings",) and len(loc) >= 2:
                where = f"baseline entry {int(loc[1]) + 1}: "
                loc_text = ".".join(str(x) for x in loc[2:])
            else:
                where, loc_text = "", ".".join(str(x) for x in loc)
            unknown = err["type"] in ("extra_forbidden", "unexpected_keyword_argument")
            what = f"unknown key {loc[-1]!r}" if unknown else f"{loc_text}: {err['msg']}"
            if err["type"] == "missing" and loc[:1] == ("findings",) and len(loc) == 1:
                what = "not a curate baseline (expected an object with a 'findings' list)"
            errors.append(ConfigError(where + what, p, json_line_of(text, loc)))
        raise_all(errors)
        raise  # pragma: no cover - raise_all raised
    if spec.version > BASELINE_VERSION:
        raise ConfigError(f"baseline version {spec.version} is newer than this curate understands", p)
    base.entries.update(spec.findings)
    return base
