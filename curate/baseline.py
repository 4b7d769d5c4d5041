"""A baseline of accepted findings, committed beside the datasets (the detect-secrets idea).

The file holds one entry per accepted finding: its fingerprint, rule, record key and path,
never a line number and never record text. Fingerprints are built from the record's content
(or its id field), so inserting lines above a record does not re-raise its finding; editing the
record does, which is what a reviewer wants. `curate check` suppresses every fingerprint in
the baseline; `curate baseline PATH...` rewrites the entries of the files it checked and
keeps the others, sorted, so the file diffs well.

Version 2: the file is meant to be committed, so record keys and fingerprints are sealed
(`curate.sealing`: scrypt with a salt stored in the file, ~0.5 ms per key): a record that is only
an SSN cannot be found again by hashing every SSN. Matching a run against it seals the keys of the
findings whose (path, rule) the baseline holds. Version 1 files (plain keys) still load, match by
their plain fingerprints, and are sealed when next written.
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
from curate.sealing import Seal, SealSpec
from curate.yamlfile import ConfigError, raise_all

DEFAULT_BASELINE = ".curate-baseline.json"
BASELINE_VERSION = 2


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
    entries: set[Entry] = field(default_factory=set)  # sealed with `seal`
    legacy: set[Entry] = field(default_factory=set)  # plain entries of a version 1 file, sealed on save
    seal: Seal | None = None

    def fingerprints(self) -> frozenset[str]:
        """The plain fingerprints of a version 1 file (sealed entries need `accepted`)."""
        return frozenset(e.fingerprint for e in self.legacy)

    def accepted(self, findings: Iterable[Finding]) -> frozenset[str]:
        """Plain fingerprints of the `findings` this baseline accepts. Only findings whose file and
        rule the baseline names are sealed (the slow part), each record key once."""
        findings = list(findings)
        plain = self.fingerprints()
        out = {f.fingerprint for f in findings if f.fingerprint in plain}
        if self.entries and self.seal is not None:
            seal = self.seal
            wanted = {(e.path, e.rule) for e in self.entries}
            sealed_fps = {e.fingerprint for e in self.entries}
            todo = [f for f in findings if (self.rel(f.path) if f.path else "", f.rule) in wanted]
            seal.keys([f.key or "" for f in todo])
            out |= {f.fingerprint for f in todo if seal.finding(f.key, f.fingerprint) in sealed_fps}
        return frozenset(out)

    def rel(self, dataset: str) -> str:
        """A dataset path as the baseline stores it: relative to the baseline's folder, POSIX."""
        if dataset == "-":
            return "-"
        rel = os.path.relpath(os.path.abspath(dataset), os.path.abspath(self.path.parent))
        return Path(rel).as_posix()

    def _seal(self) -> Seal:
        if self.seal is None:
            self.seal = Seal.new()
        return self.seal

    def _sealed(self, path: str, rule: str, key: str, fingerprint: str) -> Entry:
        seal = self._seal()
        sealed = seal.key(key)
        return Entry(path, rule, sealed, seal.fingerprint(sealed, fingerprint))

    def update(self, checked: Iterable[str], findings: Iterable[Finding]) -> tuple[int, int]:
        """Replace the entries of the `checked` files with `findings`; returns (added, removed)."""
        self._upgrade()
        findings = list(findings)
        checked_rel = {self.rel(p) for p in checked}
        keep = {e for e in self.entries if e.path not in checked_rel}
        self._seal().keys([f.key or "" for f in findings])
        new = {self._sealed(self.rel(f.path) if f.path else "", f.rule, f.key or "", f.fingerprint) for f in findings}
        old = {e for e in self.entries if e.path in checked_rel}
        self.entries = keep | new
        return len(new - old), len(old - new)

    def _upgrade(self) -> None:
        """Seal the plain entries of a version 1 file (their plain keys are in the file)."""
        if self.legacy:
            self._seal().keys([e.key for e in self.legacy])
            self.entries |= {self._sealed(e.path, e.rule, e.key, e.fingerprint) for e in self.legacy}
            self.legacy = set()

    def to_json(self) -> dict[str, Any]:
        return {
            "version": BASELINE_VERSION,
            "tool": "curate",
            "seal": self._seal().to_json(),
            "about": "Accepted findings: curate check does not fail on these. Update with `curate baseline`.",
            "findings": [e.to_json() for e in sorted(self.entries)],
        }

    def save(self) -> None:
        self._upgrade()
        text = json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"
        write_bytes_atomic(self.path, text.encode("utf-8"))


class _File(BaseModel):
    """A baseline file as written by `save`; entries are validated against `Entry` itself."""

    model_config = ConfigDict(extra="forbid")
    version: int = BASELINE_VERSION
    tool: str = "curate"
    about: str | None = None
    seal: SealSpec | None = None
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
    if spec.version >= 2:
        if spec.seal is None:
            raise ConfigError("baseline version 2 has no 'seal' (salt and cost of its keys)", p)
        base.seal = Seal(spec.seal)
        base.entries.update(spec.findings)
    else:
        base.legacy.update(spec.findings)
    return base
