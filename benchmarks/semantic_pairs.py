"""Precision and recall of dedup.semantic's similarity on hand-written prompt pairs (issue 20).

    .venv/bin/python benchmarks/semantic_pairs.py

tests/fixtures/semantic/pairs.jsonl holds 50 paraphrase pairs (`same: true`: one request in other
words) and 50 near misses (`same: false`: the same template or topic, a different request). Each
prompt is embedded as `dedup.semantic` embeds a record's text (curate/embeddings.py); a pair is
"found" at threshold t when its cosine similarity is >= t. Recall: paraphrase pairs found;
precision: found pairs that are paraphrases. The near misses are adversarial on purpose (each
differs from a paraphrase prompt by a word or two), so precision here is a floor, not what a
real dataset gives: see docs/semantic.md for the judged findings on real data.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from curate.embeddings import embedder  # noqa: E402

THRESHOLDS = (0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)


def main() -> None:
    rows = [json.loads(x) for x in (ROOT / "tests/fixtures/semantic/pairs.jsonl").read_text().splitlines()]
    emb = embedder()

    def vec(text: str) -> np.ndarray:
        e = emb.embed(text)
        assert e is not None
        return e.vector.astype(np.float32)

    sims = np.array([float(vec(r["a"]) @ vec(r["b"])) for r in rows])
    same = np.array([bool(r["same"]) for r in rows])
    pos, neg = sims[same], sims[~same]
    print(f"{len(pos)} paraphrase pairs (mean similarity {pos.mean():.3f}), {len(neg)} near misses ({neg.mean():.3f})")
    print("| threshold | recall | precision | found paraphrases | found near misses |")
    print("|---:|---:|---:|---:|---:|")
    for t in THRESHOLDS:
        tp, fp = int((pos >= t).sum()), int((neg >= t).sum())
        prec = tp / (tp + fp) if tp + fp else float("nan")
        print(f"| {t:.2f} | {tp / len(pos):.2f} | {prec:.2f} | {tp} | {fp} |")
    counts, edges = np.histogram(sims, bins=np.arange(0.2, 1.0001, 0.05))
    print("\nsimilarity histogram (paraphrase / near miss):")
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        p = int(((pos >= lo) & (pos < hi)).sum())
        q = int(((neg >= lo) & (neg < hi)).sum())
        print(f"  {lo:.2f}-{hi:.2f}  {'#' * p:<14} {'.' * q}")


if __name__ == "__main__":
    main()
