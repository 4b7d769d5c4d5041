"""Benchmark questions and their wrapped copies: the hand-made set behind the n-gram contamination
tests and `benchmarks/contamination_set.py`.

`fixtures/contamination/questions.jsonl` holds 50 benchmark-style questions (with a short answer)
and, for each, an unrelated question of the same topic written in the same style. A *wrapped*
copy puts a question between an instruction and a request ("Please solve carefully: ... Answer in
French.") and changes its casing, punctuation or spacing, as people do when they paste a benchmark
into a training set.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

QUESTIONS = Path(__file__).parent / "fixtures" / "contamination" / "questions.jsonl"
PREFIXES = (
    "Please solve carefully:",
    "Question:",
    "Here is a problem from my homework.",
    "You are a tutor. Answer the following.",
    "",
)
SUFFIXES = (
    "Answer in French.",
    "Explain your reasoning step by step.",
    "Give only the final answer.",
    "Keep it short.",
    "",
)
REPLY = "Let me think about it. The answer follows from what the question gives."


def questions() -> list[dict[str, str]]:
    return [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


def wrap(question: str, i: int) -> str:
    """The question inside an instruction and a request, its casing, punctuation or spacing changed."""
    kind = i % 4
    if kind == 0:
        question = question.upper()
    elif kind == 1:
        question = question.lower().replace(",", "").replace("?", " ?")
    elif kind == 2:
        question = "  ".join(question.split(" ")).replace(". ", ".\n\n")
    return f"{PREFIXES[i % len(PREFIXES)]} {question} {SUFFIXES[(i * 3) % len(SUFFIXES)]}".strip()


def chat(user: str, assistant: str = REPLY) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]}


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def hand_made_set(folder: Path) -> tuple[Path, Path, int]:
    """(training file, evaluation file, wrapped records): lines 1..50 of the training file wrap
    evaluation lines 1..50; lines 51..100 are the unrelated same-topic questions, wrapped alike."""
    qs = questions()
    evals = write_jsonl(folder / "eval.jsonl", [{"question": q["question"], "answer": q["answer"]} for q in qs])
    train = [chat(wrap(q["question"], i)) for i, q in enumerate(qs)]
    train += [chat(wrap(q["other"], i + 1)) for i, q in enumerate(qs)]
    return write_jsonl(folder / "train.jsonl", train), evals, len(qs)


def precision_recall(findings: list[Any], wrapped: int) -> dict[str, float | int]:
    """Scores of eval-contamination findings (objects with .line and .data) on `hand_made_set`:
    a finding is right when it is on a wrapped line and names that line's evaluation record."""
    hits = {f.line: f.data["duplicate_of"] for f in findings}
    tp = sum(1 for line, target in hits.items() if line <= wrapped and target == line)
    fp = len(hits) - tp
    return {
        "true_positives": tp,
        "false_positives": fp,
        "missed": wrapped - tp,
        "precision": tp / len(hits) if hits else 1.0,
        "recall": tp / wrapped,
    }
