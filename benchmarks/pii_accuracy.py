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
import uuid
from collections import Counter
from pathlib import Path
from unittest.mock import patch

from curate.checks.pii.analyzer import ALL_ENTITIES, Detector
from curate.checks.pii.entities import DEFAULT_ALLOW
from curate.checks.pii.patterns import SECRET_ENTITIES
from curate.checks.pii.synth import TEMPLATES, score
from curate.privacy import mask


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
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--realdata", default=str(Path(__file__).resolve().parents[2] / "shared" / "realdata"))
    args = ap.parse_args()
    det = Detector(
        frozenset(ALL_ENTITIES) | frozenset(SECRET_ENTITIES),
        ner=args.ner,
        allow=frozenset(DEFAULT_ALLOW),
    )
    print(f"active: {', '.join(sorted(det.active))}; unavailable: {', '.join(sorted(det.unavailable)) or '-'}")
    print(f"{'entity':<18} {'recall':>7} {'precision':>9} {'tp':>5} {'fp':>5} {'fn':>5}")
    for ent, m in score(det, args.n, args.seed).items():
        print(f"{ent:<18} {m['recall']:>7.3f} {m['precision']:>9.3f} {m['tp']:>5} {m['fp']:>5} {m['fn']:>5}")
    # the same values with no cue word around them: what the false-positive filters cost
    neutral = {e: ("Here it is: {v}.", "ok {v}") for e in TEMPLATES}
    with patch.dict(TEMPLATES, neutral):
        print("without cue words (template 'Here it is: {v}.' / 'ok {v}'):")
        for ent, m in score(det, args.n, args.seed + 1).items():
            print(f"  {ent:<18} recall {m['recall']:.3f} precision {m['precision']:.3f}")
    # random numbers and ids in neutral sentences: the false-positive rate on look-alikes
    rr = random.Random(args.seed)
    looks = {
        "16-digit number": lambda: str(rr.randint(10**15, 10**16 - 1)),
        "10-digit number": lambda: str(rr.randint(10**9, 10**10 - 1)),
        "9-digit number": lambda: str(rr.randint(10**8, 10**9 - 1)),
        "3-3-4 digits": lambda: f"{rr.randint(100, 999)}-{rr.randint(100, 999)}-{rr.randint(1000, 9999)}",
        "dotted quad": lambda: ".".join(str(rr.randint(0, 255)) for _ in range(4)),
        "uuid": lambda: str(uuid.UUID(int=rr.getrandbits(128))),
        "ISO timestamp": lambda: f"2024-{rr.randint(1, 12):02d}-{rr.randint(1, 28):02d}T{rr.randint(0, 23):02d}:15:00Z",
    }
    for sentence in ("Your reference is {v}.", "See {v} below."):
        print(f"look-alikes in {sentence!r} (share flagged as anything):")
        for name, make in looks.items():
            flagged = Counter[str]()
            for _ in range(args.n * 5):
                for x in det.detect(sentence.format(v=make())):
                    flagged[x.entity] += 1
            print(f"  {name:<16} {sum(flagged.values()) / (args.n * 5):.3f} {dict(flagged)}")
    root = Path(args.realdata)
    if not root.is_dir():
        print(f"no real data at {root}", file=sys.stderr)
        return
    texts = real_texts(root)
    hits = Counter[str]()
    shown = 0
    for i in range(0, len(texts), 64):
        chunk = texts[i : i + 64]
        for text, spans in zip(chunk, det.detect_many(chunk), strict=True):
            for x in spans:
                hits[x.entity] += 1
                if shown < 40:
                    ctx = text[max(0, x.start - 30) : x.start].replace("\n", " ")
                    masked = mask(text[x.start : x.end], x.entity)
                    print(f"  real-data hit {x.entity:<14} {masked:<24} after: ...{ctx!r}")
                    shown += 1
    chars = sum(len(t) for t in texts)
    print(f"real data: {len(texts):,} strings, {chars / 1e6:.1f} M chars, hits by type: {dict(hits) or 'none'}")


if __name__ == "__main__":
    main()
