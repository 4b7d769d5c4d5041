"""Precision of the default rules on real public data, judged by people (issue 17).

The data are not in the project: point `--data` at folders of real datasets (default
`../shared/realdata` and `../shared/realdata2`, beside the checkout). Labels in
`benchmarks/labels/*.yaml` say, for one finding (file name, line, rule), whether it is right:

    - {file: gsm8k_test.jsonl, line: 12, rule: truncated-answer, verdict: false, note: "ends in '#### 42'"}

`verdict` is true, false or debatable (counts half). A label never quotes the data: file, line,
rule and a short judgement in our own words. Records read without any finding are labelled
`rule: missed` with `verdict: clean`, or `verdict: missed`, the `kind` of defect and the rule that
`should` have caught it (an existing rule id, or `new: ...` when no rule looks for it).

    python benchmarks/precision.py table            # precision per rule over the judged findings
    python benchmarks/precision.py show RULE -n 20  # findings of RULE not judged yet, with their text
    python benchmarks/precision.py clean FILE -n 30 # unflagged records of FILE, to label misses
    python benchmarks/precision.py misses           # per file: sample read, clean, missed by kind

Findings are produced by the real CLI (`curate check -f json --all --no-cache`), one file at a time.
Schema findings on files curate cannot read yet are about reading, not judgement: the table shows the
content families (quality, dedup, pii, balance, tokens) unless `--all-families`.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LABELS = HERE / "labels"
DEFAULT_DATA = [ROOT.parent / "shared" / "realdata", ROOT.parent / "shared" / "realdata2"]
CONTENT_FAMILIES = ("quality", "dedup", "pii", "balance", "tokens")
SCORE = {"true": 1.0, "debatable": 0.5, "false": 0.0}


def datasets(folders: list[Path]) -> list[Path]:
    out = []
    for folder in folders:
        for p in sorted(folder.iterdir()):
            if p.name.lower().startswith("readme"):
                continue
            out.append(p)
    return out


@functools.lru_cache(maxsize=1)
def _sources_digest() -> bytes:
    """The curate sources and rule sets, read once per run (an edit during a run does not mix two versions)."""
    digest = hashlib.sha256()
    for src in sorted((ROOT / "curate").rglob("*.py")) + sorted((ROOT / "rules").rglob("*.yaml")):
        digest.update(src.read_bytes())
    return digest.digest()


def run_findings(path: Path, rules: str, cache: Path) -> list[dict[str, Any]]:
    """Findings of one dataset through the real CLI, remembered by (file, rules, curate sources) digest."""
    digest = hashlib.sha256(str(path).encode() + rules.encode() + _sources_digest())
    key = cache / f"{path.name}.{digest.hexdigest()[:16]}.json"
    if key.exists():
        return json.loads(key.read_text())
    cmd = [sys.executable, "-m", "curate", "check", str(path), "-f", "json", "--all", "--no-cache", "-j", "1"]
    cmd += ["--fail-on", "never", "--rules", rules]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        print(f"{path.name}: not read ({proc.stderr.strip()[:160]})", file=sys.stderr)
        report = {"findings": []}
    findings = [dict(f, file=path.name) for f in report.get("findings", [])]
    cache.mkdir(parents=True, exist_ok=True)
    key.write_text(json.dumps(findings))
    return findings


Key = tuple[str, "int | None", str, "str | None"]


def load_labels() -> dict[Key, dict[str, Any]]:
    """Labels by (file, line, rule, field); a label without `field` covers every field of that record."""
    out: dict[Key, dict[str, Any]] = {}
    for path in sorted(LABELS.glob("*.yaml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            out[(item["file"], item.get("line"), item["rule"], item.get("field"))] = item
    return out


def label_of(labels: dict[Key, dict[str, Any]], f: dict[str, Any]) -> dict[str, Any] | None:
    return labels.get((f["file"], f["line"], f["rule"], f.get("field"))) or labels.get(
        (f["file"], f["line"], f["rule"], None)
    )


def _family(finding: dict[str, Any]) -> str:
    return str(finding.get("check", "")).split(".")[0]


def all_findings(args: argparse.Namespace) -> list[dict[str, Any]]:
    cache = Path(os.environ.get("CURATE_PRECISION_CACHE", "/tmp/curate-precision"))
    out: list[dict[str, Any]] = []
    for path in datasets(args.data):
        if args.cached:  # the last findings computed for this file, whatever the sources are now
            runs = sorted(cache.glob(f"{path.name}.*.json"), key=lambda p: p.stat().st_mtime)
            if runs:
                out += json.loads(runs[-1].read_text())
                continue
        out += run_findings(path, args.rules, cache)
    if not args.all_families:
        out = [f for f in out if _family(f) in CONTENT_FAMILIES and f.get("line") is not None]
    return out


def table(args: argparse.Namespace) -> None:
    findings = all_findings(args)
    labels = load_labels()
    per_rule: dict[str, Counter[str]] = defaultdict(Counter)
    files: dict[str, set[str]] = defaultdict(set)
    seen: set[tuple[str, int | None, str, str | None]] = set()
    for f in findings:
        k = (f["file"], f["line"], f["rule"], f.get("field"))
        if k in seen:  # the same rule twice on one field (two kinds): one judgement
            continue
        seen.add(k)
        c = per_rule[f["rule"]]
        c["findings"] += 1
        label = label_of(labels, f)
        if label is None:
            continue
        c[str(label["verdict"]).lower()] += 1
        files[f["rule"]].add(f["file"])
    rows = []
    for rule, c in sorted(per_rule.items()):
        judged = c["true"] + c["false"] + c["debatable"]
        precision = (c["true"] + 0.5 * c["debatable"]) / judged if judged else None
        rows.append((rule, c["findings"], judged, c["true"], c["debatable"], c["false"], len(files[rule]), precision))
    if args.json:
        print(
            json.dumps(
                [
                    dict(
                        zip(
                            ("rule", "findings", "judged", "true", "debatable", "false", "files", "precision"),
                            r,
                            strict=True,
                        )
                    )
                    for r in rows
                ],
                indent=1,
            )
        )
        return
    print(f"{'rule':<24} {'found':>6} {'judged':>6} {'true':>5} {'deb':>4} {'false':>5} {'files':>5} {'precision':>9}")
    for rule, n, judged, t, d, fa, nf, p in rows:
        shown = f"{p:.2f}" if p is not None else "-"
        print(f"{rule:<24} {n:>6} {judged:>6} {t:>5} {d:>4} {fa:>5} {nf:>5} {shown:>9}")
    missed = Counter(v.get("kind", "?") for v in labels.values() if v["rule"] == "missed" and v.get("kind"))
    if missed:
        print("missed defects (labelled in unflagged records):", dict(missed))


def _records(path: Path) -> dict[int, Any]:
    sys.path.insert(0, str(ROOT))
    from curate.io.reader import iter_records

    return {r.line: r for r in iter_records(str(path))}


def _show_record(record: Any, width: int) -> None:
    try:
        turns = record.conversation.turns
        rejected = record.conversation.rejected_tail()  # the prompt it shares with the chosen side is shown once
    except Exception:  # noqa: BLE001 - a record that does not normalise is shown raw
        print("   raw:", json.dumps(record.data, ensure_ascii=False)[:width])
        return
    for t in turns:
        print(f"   [{t.role} {t.field}] {t.text[:width]!r}" + (f" ...{t.text[-200:]!r}" if len(t.text) > width else ""))
        for call in t.tool_calls:  # a tool call is what the turn says when its text is empty
            print(f"     call {call.name}({str(call.arguments)[:width]})")
    for t in rejected:
        print(f"   [rejected {t.role} {t.field}] {t.text[:200]!r}")


def _show_flagged(record: Any, field: str | None, width: int) -> None:
    """The first prompt and the flagged turn (its start and its end): enough to judge most findings."""
    try:
        turns = list(record.conversation.turns) + list(record.conversation.rejected or ())
    except Exception:  # noqa: BLE001
        print("   raw:", json.dumps(record.data, ensure_ascii=False)[:width])
        return
    first = next((t for t in turns if t.role != "system"), None)
    flagged = next((t for t in turns if t.field == field), None)
    if first is not None and first is not flagged:
        print(f"   [{first.role}] {first.text[: width // 2]!r}")
    if flagged is not None:
        text = flagged.text
        shown = repr(text) if len(text) <= width else f"{text[: width // 2]!r} ... {text[-width // 2 :]!r}"
        print(f"   [{flagged.role} FLAGGED] {shown}")


def show(args: argparse.Namespace) -> None:
    labels = load_labels()
    findings = [f for f in all_findings(args) if f["rule"] == args.rule]
    todo = [f for f in findings if label_of(labels, f) is None]
    todo.sort(key=lambda f: hashlib.sha1(f"{f['file']}:{f['line']}".encode()).hexdigest())
    by_file = {p.name: p for p in datasets(args.data)}
    loaded: dict[str, dict[int, Any]] = {}
    for f in todo[: args.n]:
        if f["file"] not in loaded:
            loaded[f["file"]] = _records(by_file[f["file"]])
        where = f"file: {f['file']}, line: {f['line']}, rule: {f['rule']}, field: {f.get('field')}"
        print(f"- {{{where}}}\n  # {f['message']}")
        record = loaded[f["file"]].get(f["line"])
        if record is not None:
            if args.full:
                _show_record(record, args.width)
            else:
                _show_flagged(record, f.get("field"), args.width)
    print(f"# {len(todo)} of {len(findings)} findings of {args.rule} not judged", file=sys.stderr)


def sample_order(file: str, line: int, seed: str = "") -> str:
    """The fixed pseudo-random order records are read in: a hash of seed, file and line. The empty
    seed is the order the first labels were read in; another seed draws another sample."""
    return hashlib.sha1(f"{seed}{file}:{line}".encode()).hexdigest()


def unflagged_sample(path: Path, findings: list[dict[str, Any]], n: int, seed: str = "") -> list[Any]:
    """The first `n` records of `path` in `sample_order` that no content rule flags (and that read)."""
    flagged = {f["line"] for f in findings if f["file"] == path.name}
    records = [r for line, r in sorted(_records(path).items()) if line not in flagged and r.ok]
    records.sort(key=lambda r: sample_order(path.name, r.line, seed))
    return records[:n]


def _missed_labels(labels: dict[Key, dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    return {(k[0], k[1]): v for k, v in labels.items() if v["rule"] == "missed" and k[1] is not None}


def clean(args: argparse.Namespace) -> None:
    path = next(p for p in datasets(args.data) if p.name == args.file)
    read = _missed_labels(load_labels()) if args.todo else {}
    for r in unflagged_sample(path, all_findings(args), args.n, args.seed):
        if (path.name, r.line) in read:
            continue
        print(f"- file: {path.name}, line: {r.line}")
        _show_record(r, args.width)


def misses(args: argparse.Namespace) -> None:
    """Per file: how much of its sample is read, how many records were clean, what was missed (and
    which rule should have caught it). Only labels inside the current sample count."""
    findings = all_findings(args)
    read = _missed_labels(load_labels())
    by_file = {p.name: p for p in datasets(args.data)}
    names = args.files or sorted({f for f, _ in read})
    kinds: Counter[tuple[str, str]] = Counter()
    rows = []
    for name in names:
        sample = unflagged_sample(by_file[name], findings, args.n, args.seed)
        labelled = [read[(name, r.line)] for r in sample if (name, r.line) in read]
        missed = [v for v in labelled if v["verdict"] == "missed"]
        kinds.update((str(v.get("kind", "?")), str(v.get("should", "?"))) for v in missed)
        rows.append((name, len(sample), len(labelled), len(labelled) - len(missed), len(missed)))
    print(f"{'file':<44} {'sample':>6} {'read':>5} {'clean':>5} {'missed':>6}")
    for name, n, k, c, m in rows:
        print(f"{name:<44} {n:>6} {k:>5} {c:>5} {m:>6}")
    tot = [sum(r[i] for r in rows) for i in range(1, 5)]
    print(f"{'total (' + str(len(rows)) + ' files)':<44} {tot[0]:>6} {tot[1]:>5} {tot[2]:>5} {tot[3]:>6}")
    print("\nmissed, by kind (rule that should catch it):")
    for (kind, should), n in kinds.most_common():
        print(f"  {n:>3}  {kind} ({should})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, action="append", help="folder of real datasets (repeatable)")
    ap.add_argument("--rules", default="default")
    ap.add_argument("--all-families", action="store_true", help="also schema findings")
    ap.add_argument("--cached", action="store_true", help="the last findings computed per file (while editing)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("table")
    t.add_argument("--json", action="store_true")
    s = sub.add_parser("show")
    s.add_argument("rule")
    s.add_argument("-n", type=int, default=20)
    s.add_argument("--width", type=int, default=400)
    s.add_argument("--full", action="store_true", help="every turn of the record")
    c = sub.add_parser("clean", help="the file's sample of unflagged records, to read and label")
    c.add_argument("file")
    c.add_argument("-n", type=int, default=30)
    c.add_argument("--width", type=int, default=400)
    c.add_argument("--seed", default="", help="another sample (default: the order the first labels were read in)")
    c.add_argument("--todo", action="store_true", help="only records of the sample not labelled yet")
    m = sub.add_parser("misses", help="per file: sample read, clean, missed; misses by kind")
    m.add_argument("files", nargs="*", help="files (default: every file with a label of unflagged records)")
    m.add_argument("-n", type=int, default=30)
    m.add_argument("--seed", default="")
    args = ap.parse_args()
    args.data = args.data or DEFAULT_DATA
    {"table": table, "show": show, "clean": clean, "misses": misses}[args.cmd](args)


if __name__ == "__main__":
    main()
