"""Precision and recall of `eval-contamination` on hand-made wrapped benchmark questions (issue 20).

    .venv/bin/python benchmarks/contamination_set.py

tests/fixtures/contamination/questions.jsonl holds 50 benchmark-style questions (arithmetic,
algebra, science, history, grammar, code; 7 to 35 words) and, for each, an unrelated question of
the same topic in the same style. The training file holds the 50 questions wrapped in an
instruction and a request ("Please solve carefully: ... Answer in French.") with their casing,
punctuation or spacing changed (tests/contamination_data.py), then the 50 unrelated questions
wrapped alike; the evaluation file holds the 50 questions with their answers. A finding is right
when it is on a wrapped line and names that line's question. Each setting is one rule binding.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from contamination_data import hand_made_set, precision_recall  # noqa: E402

from curate.check import RunContext  # noqa: E402
from curate.config import Rule  # noqa: E402
from curate.registry import load_registry  # noqa: E402
from curate.run.engine import Engine, EngineOptions  # noqa: E402

SETTINGS = (
    ("whole records only (ngram: 0, what --against did before)", {"ngram": 0}),
    ("default (ngram: 13, min_span: 13, short_prompt: 8)", {}),
    ("short prompts off (short_prompt: 0)", {"short_prompt": 0}),
    ("ngram: 8", {"ngram": 8, "min_span": 8}),
    ("min_span: 20", {"min_span": 20}),
)


def main() -> None:
    cls = load_registry().checks["dedup.contamination"]
    with tempfile.TemporaryDirectory() as tmp:
        train, evals, wrapped = hand_made_set(Path(tmp))
        print("| setting | found | right | wrong | missed | precision | recall |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, params in SETTINGS:
            rule = Rule(
                "eval-contamination",
                cls.id,
                cls.default_severity,
                cls.Params.model_validate({**params, "cache": False}),
                None,
                "bench",
                "",
            )
            engine = Engine([rule], RunContext(against=(str(evals),), use_cache=False), EngineOptions(jobs=1))
            findings = engine.run([str(train)]).findings
            s = precision_recall(findings, wrapped)
            print(
                f"| {name} | {len(findings)} | {s['true_positives']} | {s['false_positives']} | {s['missed']} "
                f"| {s['precision']:.2f} | {s['recall']:.2f} |"
            )


if __name__ == "__main__":
    main()
