"""The result of one audit: findings, stats and what was read. Reporters render it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from curate import __version__
from curate.model import Finding, Severity

# the checks whose findings `export --drop-duplicates` acts on: one finding per record it drops
DUPLICATE_CHECKS = ("dedup.exact", "dedup.near")
REPORT_VERSION = "1.1"  # 1.1: summary.duplicates, notices
ROW_LAYOUTS = frozenset(("parquet", "arrow", "csv", "tsv"))  # records located by row, not line


@dataclass(slots=True)
class DatasetInfo:
    path: str
    records: int
    format: str  # the dominant format, or "mixed"
    formats: dict[str, int] = field(default_factory=dict)
    layout: str = "jsonl"  # jsonl | json-array | json-object | json-keyed | json-wrapper:KEY | parquet | arrow | csv
    lines: int = 0  # lines of text (decompressed), or rows of a table
    container: str = "plain"  # plain | gzip | zstd | bzip2 | xz (from the file's magic bytes)
    skipped: str | None = None  # why nothing was read (unsupported kind), else None
    read: int = 0  # records read, unparsable ones included (`records` counts the parsed ones)

    @property
    def kind(self) -> str:
        """Container and layout, as the summary names them: `gzip+jsonl`, `parquet`, `json-keyed`."""
        return self.layout if self.container == "plain" else f"{self.container}+{self.layout}"

    @property
    def row_located(self) -> bool:
        """Records of this file are located by row (`data.parquet:row 42`), not by line."""
        return self.layout in ROW_LAYOUTS


@dataclass(slots=True)
class Report:
    ruleset: str
    rules: list[Any]  # config.Rule
    datasets: list[DatasetInfo] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # plugin or check failures: not findings
    # what the run could not do or was told to skip (a model missing, families turned off by
    # configuration, inputs skipped): shown in every output, never in the exit code or findings
    notices: list[str] = field(default_factory=list)
    suppressed: int = 0
    target: str | None = None
    state: Any = None  # check.RunState: the per-record stats, as a polars table on demand

    @property
    def row_paths(self) -> frozenset[str]:
        """Files whose records are located by row (tables), for `curate.io.location.location`."""
        return frozenset(d.path for d in self.datasets if d.row_located)

    @property
    def table(self) -> Any:
        """polars.DataFrame, one row per record (path, line, key, format, stats columns)."""
        if self.state is None:
            import polars as pl

            return pl.DataFrame()
        return self.state.table

    @property
    def records(self) -> int:
        return sum(d.records for d in self.datasets)

    def by_severity(self) -> dict[str, int]:
        counts = Counter(str(f.severity) for f in self.findings)
        return {s: counts.get(s, 0) for s in ("error", "warning", "info")}

    def by_rule(self) -> dict[str, int]:
        return dict(Counter(f.rule for f in self.findings).most_common())

    def records_with_findings(self) -> int:
        return len({(f.path, f.line) for f in self.findings if f.line is not None})

    def exit_code(self, fail_on: str) -> int:
        if fail_on == "never":
            return 0
        level = Severity.parse(fail_on)
        return 1 if any(f.severity >= level for f in self.findings) else 0

    def summary(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "records_with_findings": self.records_with_findings(),
            "findings": len(self.findings),
            "suppressed": self.suppressed,
            "by_severity": self.by_severity(),
            "by_rule": self.by_rule(),
            "duplicates": self.duplicate_counts(),
        }

    def duplicate_counts(self) -> dict[str, Any]:
        """The one definition of duplicate counts, used by every output.

        `would_drop`: records `curate export --drop-duplicates` removes (the non-kept members of
        exact and near-duplicate clusters, one finding each); `clusters`: the records kept for
        them; `members`: both together. `by_kind` splits drops and clusters by check.
        """
        dropped: set[tuple[str | None, int]] = set()
        kept: set[tuple[str | None, int]] = set()
        by_kind: dict[str, dict[str, Any]] = {}
        for f in self.findings:
            if f.check not in DUPLICATE_CHECKS or f.line is None:
                continue
            data = f.data or {}
            kind = by_kind.setdefault(f.check.removeprefix("dedup."), {"clusters": set(), "would_drop": 0})
            kind["clusters"].add(data.get("cluster"))
            kind["would_drop"] += 1
            dropped.add((f.path, f.line))
            if isinstance(data.get("duplicate_of"), int):
                kept.add((data.get("duplicate_of_path") or f.path, data["duplicate_of"]))
        kept -= dropped
        return {
            "would_drop": len(dropped),
            "clusters": len(kept),
            "members": len(dropped) + len(kept),
            "by_kind": {k: {"clusters": len(v["clusters"]), "would_drop": v["would_drop"]} for k, v in by_kind.items()},
        }

    def to_json(self) -> dict[str, Any]:
        """The JSON report; every string derived from the data (file names, messages, stats) passes
        `curate.display` (findings' and stats' text did so in the engine; paths and notices here)."""
        from curate.display import shown

        def finding(f: Finding) -> dict[str, Any]:
            out = f.to_json()
            out["path"] = shown(f.path, None) if f.path else f.path
            out["key"] = shown(f.key, None) if f.key else f.key  # `id:<value>` quotes the record's id field
            return out

        return {
            "version": REPORT_VERSION,
            "tool": {"name": "curate", "version": __version__},
            "ruleset": self.ruleset,
            "target": self.target,
            "datasets": [
                {
                    "path": shown(d.path, None),
                    "records": d.records,
                    "format": d.format,
                    "formats": d.formats,
                    "layout": d.layout,
                    "container": d.container,
                    "kind": d.kind,
                    "read": d.read,
                    "skipped": d.skipped,
                }
                for d in self.datasets
            ],
            "summary": self.summary(),
            "findings": [finding(f) for f in self.findings],
            "stats": self.stats,
            "errors": [shown(e, None) for e in self.errors],
            "notices": [shown(n, None) for n in self.notices],
        }
