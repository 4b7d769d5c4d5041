"""`dedup.prompt`: one prompt with conflicting answers, and one answer given to many prompts.

The first teaches the model two things at once (conflicting supervision); the second is
usually a canned reply or a template bug that the model learns to produce everywhere.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import orjson
from pydantic import Field

from curate.check import DatasetCheck, Params, RecordRef, RunState
from curate.checks.dedup.common import cluster_id, pair_hit, turn_norm, turn_word_hashes
from curate.checks.dedup.sketch import sorted_unique
from curate.checks.dedup.text import TURN_SEP, digest64, exact_text, normalise_exact, turn_text
from curate.model import Hit, Record, Severity

_SKETCH = 16


def sketch_of(hashes: Any) -> bytes:
    """Bottom-16 sketch of an answer's word set, from its word hashes (a uint64 array):
    enough to tell a light edit from another answer."""
    import numpy as np

    if not len(hashes):
        return b""
    # 32-bit values before choosing the smallest: sketch_similarity compares them as uint32
    return sorted_unique((hashes >> np.uint64(32)).astype(np.uint32))[:_SKETCH].tobytes()


def sketch_similarity(x: bytes, y: bytes) -> float:
    """Bottom-k estimate of Jaccard: of the k smallest hashes of the union, the share in both."""
    if not x or not y:
        return 1.0 if x == y else 0.0
    import numpy as np

    a, b = np.frombuffer(x, dtype=np.uint32), np.frombuffer(y, dtype=np.uint32)
    union = np.union1d(a, b)[:_SKETCH]
    both = np.intersect1d(a, b, assume_unique=True)
    return float(np.isin(union, both, assume_unique=True).sum() / len(union))


# a user turn that closes a conversation ("thanks!", "great, that's all"): the reply to it is a pleasantry
_CLOSING = re.compile(
    r"^\W*(?:(?:ok(?:ay)?|great|perfect|awesome|cool|nice|wonderful|excellent|got it|alright|that'?s (?:great|all|it"
    r"|perfect|helpful))\W*)*(?:thanks?|thank you|thx|ty|cheers|bye|goodbye|merci|danke|gracias"
    r"|谢谢|감사합니다|ありがとう|that'?s all|that'?s it|no,? that'?s all|perfect|great)\b",
    re.I,
)
_CLOSING_MAX_CHARS = 160


def _substantive(turns: list[Any], last: int) -> int:
    """The last answer that is not a closing pleasantry: a reply to the user's "thanks" in a later turn
    ("You're welcome! If you have any other questions...") is the same in every conversation by design."""
    while True:
        user = last - 1
        if user <= 0 or turns[user].role != "user":
            return last
        text = turns[user].text.strip()
        if len(text) > _CLOSING_MAX_CHARS or not _CLOSING.match(text):
            return last
        earlier = max((i for i in range(user) if turns[i].role == "assistant"), default=None)
        if earlier is None:
            return last
        last = earlier


class PromptParams(Params):
    conflicting: bool = Field(True, description="report one prompt with different answers")
    repeated_answers: bool = Field(True, description="report one answer given to many different prompts")
    min_prompts: int = Field(3, ge=2, description="an answer counts as repeated from this many distinct prompts")
    min_answer_words: int = Field(4, ge=1, description="shorter answers (yes, no, ok) may legitimately repeat")
    include_system: bool = Field(True, description="a different system prompt makes a different prompt")
    ignore_case: bool = True
    same_answer_similarity: float = Field(
        0.8, gt=0, le=1, description="answers sharing this share of words are one answer lightly edited (dedup.near's)"
    )


class PromptAnswer(DatasetCheck):
    id = "dedup.prompt"
    needs_text = True  # records without conversation text are never duplicates of each other
    description = "One prompt with conflicting answers, or one answer to many prompts: confusing or canned supervision."
    default_severity = Severity.WARNING
    Params = PromptParams
    example = "Two records asking 'What is 2+2?', one answered '4', the other '5'."

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # prompt hash, answer hash, answer words, field, path, line, key, answer word-set sketch
        self.rows: list[tuple[int, int, int, str, str, int, str, bytes]] = []
        self._summary: dict[str, Any] = {}

    def extract(self, record: Record) -> tuple[int, int, int, str, bytes] | None:
        p: PromptParams = self.params  # type: ignore[assignment]
        if isinstance(record.data.get("label"), bool):
            return None  # KTO: one prompt with a desirable and an undesirable answer is by design
        turns = list(record.conversation.turns)
        last = max((i for i, t in enumerate(turns) if t.role == "assistant"), default=None)
        if last is None or last == 0:
            return None
        last = _substantive(turns, last)
        prompt = [t for t in turns[:last] if p.include_system or t.role != "system"]
        if not any(t.role == "user" for t in prompt):
            return None
        if p.ignore_case:  # the default normalisation: shared with dedup.exact and dedup.near
            answer = turn_norm(record, turns[last])
            prompt_text = TURN_SEP.join(f"{t.role}:{turn_norm(record, t)}" for t in prompt)
        else:
            answer = normalise_exact(turn_text(turns[last]), "NFC", False, True, False)
            prompt_text = exact_text(prompt, ignore_case=False)
        if not answer:
            return None
        if record.conversation.tools:  # the tools offered are part of the prompt: other tools, other answer
            prompt_text += "\x1d" + orjson.dumps(record.conversation.tools, option=orjson.OPT_SORT_KEYS).decode()
        return (
            digest64(prompt_text),
            digest64(answer),
            len(answer.split()),
            turns[last].field,
            sketch_of(turn_word_hashes(record, turns[last])),
        )

    def observe(self, ref: RecordRef, extracted: tuple[int, int, int, str, bytes] | None) -> None:
        if extracted is not None:
            self.rows.append((*extracted[:4], ref.path, ref.line, ref.key, extracted[4]))

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
                kept = members[0]
                before = len(out)
                for i in members[1:]:
                    row, krow = self.rows[i], self.rows[kept]
                    if row[1] != krow[1] and sketch_similarity(row[7], krow[7]) < p.same_answer_similarity:
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
                conflicts += len(out) > before
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
        return pair_hit(message, fix, row[4:7], krow[4:7], data, field=row[3], identity=f"{kind}:{krow[6]}")

    def summary(self) -> dict[str, Any]:
        return self._summary
