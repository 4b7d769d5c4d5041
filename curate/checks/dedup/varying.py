"""What of a record varies: the near-duplicate comparison without text most records share.

On templated data (one instruction template, one system prompt, the same tool descriptions in
every record) the shared text dominates word-shingle similarity, so records that differ in all
that matters look alike. Two user options narrow what goes into the signature:

- `ignore_shared_lines: S`: a line (normalised: case and spacing) found in more than a share S
  of the records is left out. Shares are counted on the first `shared_sample` records of each
  file, read again from the file by the same bounded reader, so every worker (and every shard)
  decides the same way without a second pass over the data.
- `turns: last`: only the last exchange counts (the last prompt turn and the answer, with the
  rejected answer of a preference pair).
- `turns: auto` (the default): the whole conversation, unless the file's head is tree-shaped
  (OpenAssistant paths: conversations sharing a whole exchange, then going on differently; or a
  preference set holding each prompt in several pairs, a ranking's); then only the final answer
  (both answers of a pair), since branches share their history by design and are copies only when
  their answers are. A final answer under `min_words`, or one that replies to a closing thanks
  ("You're welcome!"), is compared with its whole conversation, exactly.

Nothing here changes which records are exact copies: `dedup.exact` compares whole records.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from curate.checks.dedup.text import digest64, selected_turns, turn_text
from curate.model import Record, Turn


@dataclass(frozen=True, slots=True)
class Varying:
    """The options that narrow the compared text (all off: the whole selected text).

    `trees`: in a tree-shaped file (sampled from its head, as for shared lines) compare the final
    answer only: branches of one conversation share their history by design, and two branches are
    copies when their answers are."""

    shared_share: float | None = None
    sample: int = 2000
    last_exchange: bool = False
    trees: bool = False

    @property
    def active(self) -> bool:
        return self.shared_share is not None or self.last_exchange or self.trees


def line_key(line: str) -> int | None:
    """A line's identity for sharing: case and spacing do not matter; blank lines have none."""
    norm = " ".join(line.casefold().split())
    return digest64(norm) if norm else None


def compared_turns(
    record: Record, scope: str, roles: frozenset[str] | None, last_exchange: bool, answer_only: bool = False
) -> list[Turn]:
    """The turns that count, narrowed to the last exchange (or its answer) when asked."""
    turns = selected_turns(record, scope, roles)
    if not (last_exchange or answer_only):
        return turns
    conv = record.conversation
    users = [i for i, t in enumerate(conv.turns) if t.role == "user"]
    if not users:
        return turns
    start = users[-1] + 1 if answer_only else users[-1]
    keep = {id(t) for t in conv.turns[start:]} | {id(t) for t in conv.rejected_tail()}
    narrowed = [t for t in turns if id(t) in keep]
    return narrowed or turns


def applies(path: str, scope: str, roles: frozenset[str] | None, v: Varying) -> tuple[frozenset[int], bool]:
    """(shared line keys, whether the file is tree-shaped) for this file; both empty/False mean the
    whole selected text is compared, by the same path as without these options."""
    shared = shared_lines(path, scope, roles, v)
    return shared, bool(v.trees and tree_shaped(path, v.sample))


def tree_shaped(path: str, sample: int, min_branches: int = 3) -> bool:
    """Whether the first `sample` records of `path` are paths of conversation trees: conversations
    that share a whole exchange and then go on differently (dedup.prompt's test, on the file's head),
    or pairs of rankings (one prompt in several preference pairs with other answers, or in KTO
    records with a desirable and an undesirable answer): either way one
    prompt or history is shared by design, and records are copies when their answers are."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return _tree_shaped(path, st.st_size, st.st_mtime_ns, sample, min_branches)


@lru_cache(maxsize=16)
def _tree_shaped(path: str, size: int, mtime: int, sample: int, min_branches: int) -> bool:
    import orjson

    from curate.io.reader import iter_records

    _SORT = orjson.OPT_SORT_KEYS
    following: dict[int, set[int]] = {}
    answers: dict[int, set[int]] = {}
    seen = 0
    try:
        for record in iter_records(path):
            if seen >= sample:
                break
            if not record.ok:
                continue
            seen += 1
            turns = [t for t in record.conversation.turns if t.role != "system"]
            keys = [digest64(f"{t.role}:{' '.join(turn_text(t).casefold().split())}") for t in turns]
            if record.conversation.tools:  # the tools offered are part of the conversation (as in dedup.prompt)
                keys[:1] = [digest64(f"{keys[0]}{orjson.dumps(record.conversation.tools, option=_SORT).decode()}")]
            # an exchange ends with a written answer (not a tool call) and the user speaks next
            ends = [i for i, t in enumerate(turns[:-1]) if _answer(t) and turns[i + 1].role == "user"]
            for i in ends:
                prefix = digest64(" ".join(map(str, keys[: i + 1])))
                following.setdefault(prefix, set()).add(keys[i + 1])
            last = len(turns) - 1
            # a prompt that holds an earlier answer: its answers are branches too; so are a KTO set's
            # answers to one prompt (a desirable and an undesirable one: a ranking in another form)
            if (ends or _kto(record)) and last >= 1 and _answer(turns[last]):
                answers.setdefault(digest64(" ".join(map(str, keys[:last]))), set()).add(keys[last])
            tail = record.conversation.rejected_tail()
            if tail and last >= 1:  # a ranking: one prompt in several pairs, with other answers
                pair = digest64(f"{keys[last]} {' '.join(turn_text(t) for t in tail).casefold()}")
                answers.setdefault(digest64("pair " + " ".join(map(str, keys[:last]))), set()).add(pair)
    except (OSError, ValueError):
        return False
    branches = sum(1 for f in following.values() if len(f) > 1) + sum(1 for a in answers.values() if len(a) > 1)
    return branches >= min_branches


def _kto(record: Record) -> bool:
    return isinstance(record.data, dict) and isinstance(record.data.get("label"), bool)


def _answer(turn: Turn) -> bool:
    return turn.role == "assistant" and not turn.tool_calls and bool(turn.text.strip())


def varying_texts(turns: list[Turn], shared: frozenset[int]) -> list[str]:
    """Each turn's text without its shared lines; the whole texts when nothing would be left
    (a record made only of shared lines is compared whole, not as an empty text)."""
    texts = [turn_text(t) for t in turns]
    if not shared:
        return texts
    out = ["\n".join(ln for ln in text.split("\n") if line_key(ln) not in shared) for text in texts]
    return out if any(s.strip() for s in out) else texts


def shared_lines(path: str, scope: str, roles: frozenset[str] | None, v: Varying) -> frozenset[int]:
    """Keys of the lines found in more than `v.shared_share` of the first `v.sample` records of `path`.

    Remembered per process by the file's identity (size, modification time), so a worker reads
    the file's head once. A file that cannot be read again (stdin) gives no shared lines."""
    if v.shared_share is None:
        return frozenset()
    try:
        st = os.stat(path)
    except OSError:
        return frozenset()
    return _shared_lines(path, st.st_size, st.st_mtime_ns, scope, roles, v)


@lru_cache(maxsize=16)
def _shared_lines(
    path: str, size: int, mtime: int, scope: str, roles: frozenset[str] | None, v: Varying
) -> frozenset[int]:
    from curate.io.reader import iter_records

    counts: Counter[int] = Counter()
    seen = 0
    try:
        for record in iter_records(path):
            if seen >= v.sample:
                break
            if not record.ok:
                continue
            seen += 1
            keys = set()
            for turn in compared_turns(record, scope, roles, v.last_exchange):
                keys.update(line_key(ln) for ln in turn_text(turn).split("\n"))
            keys.discard(None)
            counts.update(keys)  # type: ignore[arg-type]
    except (OSError, ValueError):  # a read error is the engine's to report; here it only means no sample
        return frozenset()
    if seen < 2:
        return frozenset()
    assert v.shared_share is not None
    return frozenset(k for k, n in counts.items() if n > v.shared_share * seen)
