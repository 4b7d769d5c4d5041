"""`dedup.prompt`: one prompt with conflicting answers, and one answer given to many prompts.

The first teaches the model two things at once (conflicting supervision); the second is
usually a canned reply or a template bug that the model learns to produce everywhere.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from pydantic import Field

from curate.check import DatasetCheck, Params, RecordRef, RunState
from curate.checks.dedup.common import cluster_id, pair_hit
from curate.checks.dedup.text import digest64, exact_text, normalise_exact, turn_text
from curate.model import Hit, Record, Severity


class PromptParams(Params):
    conflicting: bool = Field(True, description="report one prompt with different answers")
    repeated_answers: bool = Field(True, description="report one answer given to many different prompts")
    min_prompts: int = Field(3, ge=2, description="an answer counts as repeated from this many distinct prompts")
    min_answer_words: int = Field(4, ge=1, description="shorter answers (yes, no, ok) may legitimately repeat")
    include_system: bool = Field(True, description="a different system prompt makes a different prompt")
    ignore_case: bool = True


class PromptAnswer(DatasetCheck):
    id = "dedup.prompt"
    description = "One prompt with conflicting answers, or one answer to many prompts: confusing or canned supervision."
    default_severity = Severity.WARNING
    Params = PromptParams
    example = "Two records asking 'What is 2+2?', one answered '4', the other '5'."

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows: list[tuple[int, int, int, str, str, int, str]] = []  # prompt, answer, words, field, path, line, key
        self._summary: dict[str, Any] = {}

    def extract(self, record: Record) -> tuple[int, int, int, str] | None:
        p: PromptParams = self.params  # type: ignore[assignment]
        if isinstance(record.data.get("label"), bool):
            return None  # KTO: one prompt with a desirable and an undesirable answer is by design
        turns = list(record.conversation.turns)
        last = max((i for i, t in enumerate(turns) if t.role == "assistant"), default=None)
        if last is None or last == 0:
            return None
        prompt = [t for t in turns[:last] if p.include_system or t.role != "system"]
        if not any(t.role == "user" for t in prompt):
            return None
        answer = normalise_exact(turn_text(turns[last]), "NFC", p.ignore_case, True, False)
        if not answer:
            return None
        return (
            digest64(exact_text(prompt, ignore_case=p.ignore_case)),
            digest64(answer),
            len(answer.split()),
            turns[last].field,
        )

    def observe(self, ref: RecordRef, extracted: tuple[int, int, int, str] | None) -> None:
        if extracted is not None:
            self.rows.append((*extracted, ref.path, ref.line, ref.key))

    def merge(self, other: DatasetCheck) -> None:
        assert isinstance(other, PromptAnswer)
        self.rows.extend(other.rows)

    def finalize(self, run: RunState) -> Iterable[Hit]:
        p: PromptParams = self.params  # type: ignore[assignment]
        by_prompt: dict[int, list[int]] = defaultdict(list)
        by_answer: dict[int, list[int]] = defaultdict(list)
        for i, row in enumerate(self.rows):
            by_prompt[row[0]].append(i)
            by_answer[row[1]].append(i)
        out: list[Hit] = []
        conflicts = repeated = 0
        if p.conflicting:
            for members in by_prompt.values():
                answers = {self.rows[i][1] for i in members}
                if len(answers) < 2:
                    continue
                conflicts += 1
                kept = members[0]
                for i in members[1:]:
                    if self.rows[i][1] != self.rows[kept][1]:
                        out.append(
                            self._hit(
                                i,
                                kept,
                                "conflicting_answers",
                                len(answers),
                                f"same prompt as {{where}}, different answer ({len(answers)} answers to this prompt)",
                                "Keep one answer for this prompt, or make the prompts say what differs.",
                            )
                        )
        if p.repeated_answers:
            for members in by_answer.values():
                prompts = {self.rows[i][0] for i in members}
                if len(prompts) < p.min_prompts or self.rows[members[0]][2] < p.min_answer_words:
                    continue
                repeated += 1
                kept = members[0]
                for i in members[1:]:
                    if self.rows[i][0] != self.rows[kept][0]:
                        out.append(
                            self._hit(
                                i,
                                kept,
                                "repeated_answer",
                                len(prompts),
                                f"same answer as {{where}}, given to {len(prompts)} different prompts",
                                "Write an answer for this prompt, or drop the canned replies.",
                            )
                        )
        self._summary = {
            "prompt": {
                "records": len(self.rows),
                "conflicting_prompts": conflicts,
                "repeated_answers": repeated,
                "reported": len(out),
            }
        }
        return out

    def _hit(self, i: int, kept: int, kind: str, count: int, message: str, fix: str) -> Hit:
        row, krow = self.rows[i], self.rows[kept]
        data = {"kind": kind, "cluster": cluster_id(kind, krow[6]), "similarity": 1.0, "count": count}
        return pair_hit(message, fix, row[4:], krow[4:], data, field=row[3], identity=f"{kind}:{krow[6]}")

    def summary(self) -> dict[str, Any]:
        return self._summary
