"""Recall and precision per PII entity type on generated data, false positives on real text.

    .venv/bin/python benchmarks/pii_accuracy.py [--n 200] [--ner auto|off] [--realdata ../shared/realdata]

Generated data: `curate.checks.pii.synth` plants one Faker value per turn in support-chat
sentences (true spans known) and mixes in hard negatives (versions, dates, ids, code). A
prediction counts as a true positive when it overlaps a true span of the same type. Real data:
every finding on the public datasets in --realdata is counted and shown masked (they are
believed to hold no real PII, so each is a false positive unless the value is a public one).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

from curate.checks.pii.analyzer import ALL_ENTITIES, Detector
from curate.checks.pii.patterns import SECRET_ENTITIES
from curate.checks.pii.synth import HARD_NEGATIVES, TEMPLATES, faker, planted
from curate.privacy import mask


def score_generated(det: Detector, n: int, seed: int = 1) -> dict[str, dict[str, float]]:
    r, fake = random.Random(seed), faker(seed)
    tp, fp, fn = Counter[str](), Counter[str](), Counter[str]()
    for entity in TEMPLATES:
        if entity not in det.active:
            continue
        for _ in range(n):
            p = planted(entity, fake, r)
            found = det.detect(p.text)
            for s, e, ent in p.spans:
                if any(x.entity == ent and x.start < e and s < x.end for x in found):
                    tp[ent] += 1
                else:
                    fn[ent] += 1
            for x in found:
                if not any(ent == x.entity and x.start < e and s < x.end for s, e, ent in p.spans):
                    fp[x.entity] += 1
    for text in HARD_NEGATIVES * max(1, n // 20):
        for x in det.detect(text):
            fp[x.entity] += 1
    out = {}
    for ent in sorted(set(tp) | set(fn) | set(fp)):
        t, f, m = tp[ent], fp[ent], fn[ent]
        out[ent] = {
            "recall": round(t / (t + m), 4) if t + m else 1.0,
            "precision": round(t / (t + f), 4) if t + f else 1.0,
            "tp": t,
            "fp": f,
            "fn": m,
        }
    return out


def real_texts(root: Path) -> list[str]:
    """Every string inside the public datasets (they are JSON arrays or JSONL)."""
    texts: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, str):
            texts.append(node)
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for path in sorted(root.glob("*.json*")):
        raw = path.read_text(encoding="utf-8")
        if path.suffix == ".jsonl":
            for line in raw.splitlines():
                if line.strip():
                    walk(json.loads(line))
        else:
            walk(json.loads(raw))
    return texts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200, help="planted values per entity type")
    ap.add_argument("--ner", default="auto")
    ap.add_argument("--realdata", default=str(Path(__file__).resolve().parents[2] / "shared" / "realdata"))
    args = ap.parse_args()
    det = Detector(
        frozenset(ALL_ENTITIES) | frozenset(SECRET_ENTITIES),
        ner=args.ner,
        allow=frozenset({"example.com", "example.org", "example.net"}),
    )
    print(f"active: {', '.join(sorted(det.active))}; unavailable: {', '.join(sorted(det.unavailable)) or '-'}")
    print(f"{'entity':<18} {'recall':>7} {'precision':>9} {'tp':>5} {'fp':>5} {'fn':>5}")
    for ent, m in score_generated(det, args.n).items():
        print(f"{ent:<18} {m['recall']:>7.3f} {m['precision']:>9.3f} {m['tp']:>5} {m['fp']:>5} {m['fn']:>5}")
    root = Path(args.realdata)
    if not root.is_dir():
        print(f"no real data at {root}", file=sys.stderr)
        return
    texts = real_texts(root)
    hits = Counter[str]()
    shown = 0
    for text in texts:
        for x in det.detect(text):
            hits[x.entity] += 1
            if shown < 40:
                ctx = text[max(0, x.start - 30) : x.start].replace("\n", " ")
                print(f"  real-data hit {x.entity:<14} {mask(text[x.start : x.end], x.entity):<24} after: ...{ctx!r}")
                shown += 1
    chars = sum(len(t) for t in texts)
    print(f"real data: {len(texts):,} strings, {chars / 1e6:.1f} M chars, hits by type: {dict(hits) or 'none'}")


if __name__ == "__main__":
    main()
