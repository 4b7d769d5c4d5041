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

from curate.io.atomic import write_bytes_atomic
from curate.model import Finding
from curate.yamlfile import ConfigError

DEFAULT_BASELINE = ".curate-baseline.json"
BASELINE_VERSION = 1


@dataclass(frozen=True, slots=True, order=True)
class Entry:
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


def load_baseline(path: str | Path) -> Baseline:
    """The baseline at `path` (empty when the file does not exist); a malformed file is a ConfigError."""
    p = Path(path)
    base = Baseline(p)
    if not p.is_file():
        return base
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read baseline: {exc}", p) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
        raise ConfigError("not a curate baseline (expected an object with a 'findings' list)", p)
    if doc.get("version", BASELINE_VERSION) > BASELINE_VERSION:
        raise ConfigError(f"baseline version {doc['version']} is newer than this curate understands", p)
    for i, item in enumerate(doc["findings"]):
        if not isinstance(item, dict) or not isinstance(item.get("fingerprint"), str):
            raise ConfigError(f"baseline entry {i + 1} has no fingerprint", p)
        base.entries.add(
            Entry(str(item.get("path", "")), str(item.get("rule", "")), str(item.get("key", "")), item["fingerprint"])
        )
    return base
