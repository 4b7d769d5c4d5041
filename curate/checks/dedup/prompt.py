"""`dedup.prompt`: one prompt with conflicting answers, and one answer given to many prompts.

The first teaches the model two things at once (conflicting supervision); the second is
usually a canned reply or a template bug that the model learns to produce everywhere.

Two layouts give one prompt several answers by design, and are not conflicts: preference sets
with several pairs per prompt (all pairs of a ranking: the conflict there is the same two answers
preferred both ways round), and tree-shaped sets (OpenAssistant exports flattened into one record
per path: sibling answers to one prompt are the tree's alternatives). A set is tree-shaped when
conversations share a whole exchange (a prompt and its answer) and then go on differently (another
question, or another answer to the same next question), which independent conversations almost never
do; a conversation saved again after every turn shares its exchanges but never goes on differently.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import orjson
from pydantic import Field

from curate.check import DatasetCheck, Params, RecordRef, RunState
from curate.checks.dedup.common import cluster_id, pair_hit, turn_norm, turn_word_hashes
from curate.checks.dedup.pleasantry import substantive
from curate.checks.dedup.prompt_rows import PromptRows
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


# prompt hash, answer hash, answer words, answer field, answer sketch, rejected answer hash,
# (exchange hash, hash of the turn after it) for each answer inside the prompt, last user turn hash
Extract = tuple[int, int, int, str, bytes, int, tuple[tuple[int, int], ...], int]


class PromptParams(Params):
    conflicting: bool = Field(True, description="report one prompt with different answers")
    tree_siblings: bool = Field(
        False, description="also report sibling answers in tree-shaped sets (OpenAssistant paths) as conflicts"
    )
    tree_min_branches: int = Field(
        3, ge=1, description="shared exchanges continued differently that make a set tree-shaped"
    )
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
        self.rows = PromptRows()  # one `prompt_rows.Row` per record, kept as columns
        # exchange hash (the conversation up to an answer inside a prompt) -> hashes of the turns that follow it
        self.exchanges: dict[int, set[int]] = defaultdict(set)
        self._summary: dict[str, Any] = {}
        self._notices: list[str] = []

    def extract(self, record: Record) -> Extract | None:
        p: PromptParams = self.params  # type: ignore[assignment]
        if isinstance(record.data.get("label"), bool):
            return None  # KTO: one prompt with a desirable and an undesirable answer is by design
        turns = list(record.conversation.turns)
        last = max((i for i, t in enumerate(turns) if t.role == "assistant"), default=None)
        if last is None or last == 0:
            return None
        last = substantive(turns, last)
        prompt = [t for t in turns[:last] if p.include_system or t.role != "system"]
        if not any(t.role == "user" for t in prompt):
            return None
        if p.ignore_case:  # the default normalisation: shared with dedup.exact and dedup.near
            prompt_text = TURN_SEP.join(f"{t.role}:{turn_norm(record, t)}" for t in prompt)
        else:
            prompt_text = exact_text(prompt, ignore_case=False)
        answer = self._answer_text(record, turns[last])
        if not answer:
            return None
        tools = ""
        if record.conversation.tools:  # the tools offered are part of the prompt: other tools, other answer
            tools = "\x1d" + orjson.dumps(record.conversation.tools, option=orjson.OPT_SORT_KEYS).decode()
        # where this prompt goes after each answer inside it: (the conversation up to that answer, the next turn)
        steps = [f"{t.role}:{turn_norm(record, t)}" for t in prompt]
        exchanges = tuple(  # an exchange ends with a written answer (not a tool call) and the user speaks next
            (digest64(TURN_SEP.join(steps[: i + 1]) + tools), digest64(steps[i + 1]))
            for i, t in enumerate(prompt[:-1])
            if t.role == "assistant" and not t.tool_calls and prompt[i + 1].role == "user"
        )
        # the question this answer replies to: the last user turn (tool outputs after it vary in form only)
        question = digest64(next(s for s in reversed(steps) if s.startswith("user:")))
        rejected = 0
        tail = [t for t in record.conversation.rejected_tail() if t.role == "assistant"]
        if tail:
            rejected = digest64(self._answer_text(record, tail[-1]))
        return (
            digest64(prompt_text + tools),
            digest64(answer),
            len(answer.split()),
            turns[last].field,
            sketch_of(turn_word_hashes(record, turns[last])),
            rejected,
            exchanges,
            question,
        )

    def _answer_text(self, record: Record, turn: Any) -> str:
        if self.params.ignore_case:  # type: ignore[attr-defined]
            return turn_norm(record, turn)
        return normalise_exact(turn_text(turn), "NFC", False, True, False)

    def observe(self, ref: RecordRef, extracted: Extract | None) -> None:
        if extracted is not None:
            multi_turn = bool(extracted[6])  # the prompt holds an answer: a whole exchange before the question
            row = (*extracted[:4], ref.path, ref.line, ref.key, extracted[4], extracted[5], multi_turn, extracted[7])
            self.rows.append(row)
            for exchange, following in extracted[6]:
                self.exchanges[exchange].add(following)

    def merge(self, other: DatasetCheck) -> None:
        assert isinstance(other, PromptAnswer)
        self.rows.merge(other.rows)
        for exchange, following in other.exchanges.items():
            self.exchanges[exchange] |= following

    def notices(self) -> list[str]:
        return self._notices

    def finalize(self, run: RunState) -> Iterable[Hit]:
        p: PromptParams = self.params  # type: ignore[assignment]
        by_prompt: dict[int, list[int]] = defaultdict(list)
        by_answer: dict[int, list[int]] = defaultdict(list)
        for i, row in enumerate(self.rows):
            by_prompt[row[0]].append(i)
            by_answer[row[1]].append(i)
        out: list[Hit] = []
        conflicts = repeated = siblings = reversed_pairs = 0
        # branch points: an exchange followed by different turns, or one prompt that contains an answer
        # (a whole exchange shared with another record) given different answers
        branches = sum(1 for following in self.exchanges.values() if len(following) > 1)
        branches += sum(
            1
            for members in by_prompt.values()
            if self.rows[members[0]][9] and len({self.rows[i][1] for i in members if not self.rows[i][8]}) > 1
        )
        tree = branches >= p.tree_min_branches
        if p.conflicting:
            for members in by_prompt.values():
                pairs = [i for i in members if self.rows[i][8]]
                if pairs:
                    found = self._reversed_preferences(pairs)
                    out += found
                    reversed_pairs += bool(found)
                members = [i for i in members if not self.rows[i][8]]
                answers = {self.rows[i][1] for i in members}
                if len(answers) < 2:
                    continue
                if tree and not p.tree_siblings:
                    siblings += 1
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
                # distinct questions, not prompts: one follow-up answered alike after different histories
                # ("What about London and Paris?" with the same tool result) is the same answer to the same question
                prompts = {self.rows[i][10] for i in members}
                if len(prompts) < p.min_prompts or self.rows[members[0]][2] < p.min_answer_words:
                    continue
                repeated += 1
                kept = members[0]
                for i in members[1:]:
                    if self.rows[i][10] != self.rows[kept][10]:
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
                "reversed_preferences": reversed_pairs,
                "repeated_answers": repeated,
                "reported": len(out),
                "tree_branches": branches,
                "sibling_prompts": siblings,
            }
        }
        if siblings:
            self._notices = [
                f"the data are tree-shaped ({branches} shared exchanges continued "
                f"differently, as in OpenAssistant paths); {siblings} prompts with sibling answers were not "
                "reported as conflicts (params: {tree_siblings: true} to report them)"
            ]
        return out

    def _reversed_preferences(self, members: list[int]) -> list[Hit]:
        """Pairs of one prompt that prefer the same two answers both ways round: the real conflict of a
        preference set (several pairs per prompt with other chosen answers are a ranking's pairs)."""
        first: dict[tuple[int, int], int] = {}
        out = []
        for i in members:
            row = self.rows[i]
            first.setdefault((row[1], row[8]), i)
        for i in members:
            row = self.rows[i]
            kept = first.get((row[8], row[1]))
            if kept is not None and kept < i:
                out.append(
                    self._hit(
                        i,
                        kept,
                        "reversed_preference",
                        2,
                        "same prompt and answers as {where}, preferred the other way round",
                        "Keep the pair whose preference is right, drop the other.",
                    )
                )
        return out

    def _hit(self, i: int, kept: int, kind: str, count: int, message: str, fix: str) -> Hit:
        row, krow = self.rows[i], self.rows[kept]
        data = {"kind": kind, "cluster": cluster_id(kind, krow[6]), "similarity": 1.0, "count": count}
        return pair_hit(message, fix, row[4:7], krow[4:7], data, field=row[3], identity=f"{kind}:{krow[6]}")

    def summary(self) -> dict[str, Any]:
        return self._summary
