"""A held-out validation set with the same mix as training, and no duplicate across the two.

Records are grouped first: exact copies (same normalised conversation text) always, and the
clusters of the dedup rules when the rule set has them (a near-duplicate finding joins the
record to the copy it duplicates). A group goes wholly to one side, so no question leaks from
training into validation. Groups are then drawn per stratum (language or category) until the
stratum's validation share is as close to `val` as whole groups allow.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curate.io.atomic import atomic_writer
from curate.io.reader import ReadOptions, iter_raw, to_record
from curate.model import Finding, Record

_SPACE = re.compile(r"\s+")
STRATA = ("language", "category")


class UnionFind:
    """Groups of record indices; `find` is the group's smallest index (stable, order-independent)."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def text_hash(record: Record) -> str:
    """Exact-duplicate identity: every turn's role and text, case and whitespace folded. A record
    without conversation text is its own group (records of an unknown format are not copies)."""
    if not record.conversation.readable:
        return f"record:{record.key}"
    parts = [f"{t.role}\x1f{_SPACE.sub(' ', t.text).strip().casefold()}" for t in record.conversation.turns]
    return hashlib.blake2b("\x1e".join(parts).encode(), digest_size=12).hexdigest()


def assign(labels: list[str], groups: list[int], val: float, seed: int) -> set[int]:
    """Indices that go to validation: per label, whole groups until the label's share is reached.

    `groups[i]` is record i's group (any int); a group's label is the label of its first record.
    Pure and deterministic for a given seed.
    """
    members: dict[int, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    by_label: dict[str, list[int]] = {}
    for g, idx in members.items():
        by_label.setdefault(labels[idx[0]], []).append(g)
    rng = random.Random(seed)
    quotas = _quotas({label: sum(len(members[g]) for g in gs) for label, gs in by_label.items()}, val)
    chosen: set[int] = set()
    for label in sorted(by_label):
        gs = by_label[label]
        target = quotas[label]
        rng.shuffle(gs)
        got = 0
        for g in gs:
            if got >= target:
                break
            n = len(members[g])
            if abs(got + n - target) <= abs(got - target):
                chosen.update(members[g])
                got += n
    return chosen


def _quotas(sizes: dict[str, int], val: float) -> dict[str, int]:
    """Validation records per label, summing to round(val * total) (largest remainder first)."""
    exact = {k: val * n for k, n in sizes.items()}
    quotas = {k: int(x) for k, x in exact.items()}
    spare = round(val * sum(sizes.values())) - sum(quotas.values())
    for k in sorted(exact, key=lambda k: (-(exact[k] - quotas[k]), k))[: max(0, spare)]:
        quotas[k] += 1
    return quotas


@dataclass(slots=True)
class SplitSummary:
    train: int = 0
    val: int = 0
    skipped: int = 0  # records that could not be parsed: written to neither side
    groups: int = 0  # groups of more than one record (kept on one side)
    grouped_records: int = 0
    grouping: list[str] = field(default_factory=list)  # what grouped records: exact text, dedup rules
    stratify: str | None = None
    seed: int = 0
    val_fraction: float = 0.1
    mix: dict[str, dict[str, int]] = field(default_factory=dict)  # label -> {train: n, val: n}
    files: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "train": self.train,
            "val": self.val,
            "skipped": self.skipped,
            "val_fraction": self.val_fraction,
            "seed": self.seed,
            "stratify": self.stratify,
            "grouping": self.grouping,
            "groups": self.groups,
            "grouped_records": self.grouped_records,
            "mix": self.mix,
            "files": self.files,
        }


def _records(paths: Iterable[str], read: ReadOptions, hint: Any = None) -> Iterator[tuple[Record, bytes | None]]:
    for path in paths:
        for item in iter_raw(path, read):
            record = to_record(path, item, read)
            if hint:
                record.format_hint = hint
            yield record, item.raw


def dedup_links(findings: Iterable[Finding]) -> Iterator[tuple[tuple[str, int], tuple[str, int]]]:
    """(duplicate, kept copy) pairs, as (path, line), from dedup findings that name a cluster."""
    for f in findings:
        if not f.check.startswith("dedup.") or f.path is None or f.line is None:
            continue
        kept_line = f.data.get("duplicate_of")
        if isinstance(kept_line, int):
            yield (f.path, f.line), (str(f.data.get("duplicate_of_path") or f.path), kept_line)


def split_dataset(
    paths: list[str],
    out_dir: str | Path,
    val: float = 0.1,
    stratify: str | None = None,
    seed: int = 0,
    labels_by_line: dict[tuple[str, int], str] | None = None,
    findings: Iterable[Finding] = (),
    grouping: Iterable[str] = (),
    read: ReadOptions | None = None,
    hint: Any = None,
) -> SplitSummary:
    """Write train.jsonl, val.jsonl and split.json into `out_dir`; inputs are only read.

    `labels_by_line` gives each record's stratum (from an engine run), `findings` the dedup
    findings whose clusters must stay on one side; `hint` is --input-format / --role-map.
    """
    if not 0 < val < 1:
        raise ValueError("--val must be between 0 and 1 (a fraction, e.g. 0.1)")
    read = read or ReadOptions()
    out = Path(out_dir)
    train_path, val_path = out / "train.jsonl", out / "val.jsonl"
    inputs = {Path(p).resolve() for p in paths if p != "-"}
    for target in (train_path, val_path, out / "split.json"):
        if target.resolve() in inputs:
            raise ValueError(f"{target} is an input file; split never overwrites its input")
    # pass 1: where every parsable record is, its exact-text identity and its label
    where: list[tuple[str, int]] = []
    index: dict[tuple[str, int], int] = {}
    first_by_hash: dict[str, int] = {}
    labels: list[str] = []
    summary = SplitSummary(stratify=stratify, seed=seed, val_fraction=val, grouping=["exact text", *grouping])
    uf_links: list[tuple[int, int]] = []
    for record, _ in _records(paths, read, hint):
        if not record.ok:
            summary.skipped += 1
            continue
        i = len(where)
        where.append((record.path, record.line))
        index[(record.path, record.line)] = i
        h = text_hash(record)
        if h in first_by_hash:
            uf_links.append((first_by_hash[h], i))
        else:
            first_by_hash[h] = i
        labels.append((labels_by_line or {}).get((record.path, record.line), "all") if stratify else "all")
    uf = UnionFind(len(where))
    for a, b in uf_links:
        uf.union(a, b)
    for dup, kept in dedup_links(findings):
        if dup in index and kept in index:
            uf.union(index[dup], index[kept])
    groups = [uf.find(i) for i in range(len(where))]
    sizes = Counter(groups)
    summary.groups = sum(1 for n in sizes.values() if n > 1)
    summary.grouped_records = sum(n for n in sizes.values() if n > 1)
    chosen = assign(labels, groups, val, seed)
    mix: dict[str, Counter[str]] = {}
    for i, label in enumerate(labels):
        mix.setdefault(label, Counter())["val" if i in chosen else "train"] += 1
    summary.mix = {
        k: {"train": c["train"], "val": c["val"]} for k, c in sorted(mix.items(), key=lambda kv: -sum(kv[1].values()))
    }
    # pass 2: stream the records to their side, in input order
    import orjson

    i = 0
    with atomic_writer(train_path) as ftrain, atomic_writer(val_path) as fval:
        for record, raw in _records(paths, read):
            if not record.ok:
                continue
            line = raw.strip() if raw is not None and b"\n" not in raw.strip() else orjson.dumps(record.data)
            (fval if i in chosen else ftrain).write(line + b"\n")
            i += 1
    summary.val = len(chosen)
    summary.train = len(where) - len(chosen)
    summary.files = {"train": str(train_path), "val": str(val_path)}
    with atomic_writer(out / "split.json") as f:
        f.write(orjson.dumps(summary.to_json(), option=orjson.OPT_INDENT_2) + b"\n")
    return summary
