"""Word n-gram containment: which evaluation record a training record quotes a long span of.

MinHash compares whole records, so a benchmark question wrapped in other words ("Please solve
carefully: <question> Answer in French.") is not similar enough to be found. Here the evaluation
records' word n-grams (13 by default: the decontamination of datatrove and open-instruct) are
hashed into one sorted array; a training record's n-grams are looked up in it with one
`searchsorted`, and the few hits are grown into the longest run of consecutive shared n-grams
(the matched span) and the share of the evaluation record that shared n-grams cover.

Words are `text.words` (NFKC, casefolded, punctuation and spacing gone) hashed by `wordhash`, the
same hashes the near-duplicate sketch uses, so a record's words are hashed once for both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from curate.checks.dedup.common import joined_hashes
from curate.checks.dedup.sketch import _Consts, ngram_hashes, word_prefix
from curate.checks.dedup.text import _CJK, ASCII_PUNCTUATION, words
from curate.checks.dedup.wordhash import texts_word_hashes

# what `wordhash` separates ASCII words on (whitespace, \x1c-\x1f, ASCII punctuation but "_")
_ASCII_WORD = re.compile("[^" + re.escape(" \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f" + ASCII_PUNCTUATION) + "]+")
_K = _Consts("uint64", SIX=6, LOW=63, ONE=1)
SHARED_FLOOR = 10  # an n-gram is a benchmark's template only when at least this many records share it


@dataclass(frozen=True, slots=True)
class EvalText:
    """One evaluation record as the index keeps it: where it is and the turns it indexed."""

    path: str
    line: int
    key: str
    turns: tuple[tuple[str, str], ...]  # (role, text) of the indexed turns, in order


@dataclass(frozen=True, slots=True)
class Overlap:
    """The strongest evidence a training record gives against one evaluation record."""

    row: int  # the evaluation record (index into NgramIndex.records)
    span: int  # words of the longest shared run
    start: int  # where that run starts among the evaluation record's words
    covered: int  # words of the evaluation record inside shared n-grams

    def fields(self) -> tuple[int, int, int, int]:
        return (self.row, self.span, self.start, self.covered)


class NgramIndex:
    """Sorted n-gram hashes of the evaluation records, with each one's record and word position.

    Prompts (user turns) shorter than `n` words but at least `short` words long are kept as one
    whole-turn hash each: a training record matches one by holding that whole prompt."""

    def __init__(
        self, records: Iterable[tuple[EvalText, Any]], n: int, short: int, shared: float, short_roles: frozenset[str]
    ) -> None:
        import numpy as np

        self.n, self.short = n, short
        self.records: list[EvalText] = []
        words_per: list[int] = []
        full: list[tuple[Any, int]] = []  # (n-gram hashes in text order, row)
        short_h, short_row, short_pos, short_len = [], [], [], []
        for text, turn_hashes in records:
            row = len(self.records)
            self.records.append(text)
            w = joined_hashes(turn_hashes)
            words_per.append(len(w))
            if len(w) >= n:
                full.append((ngram_hashes(w, n), row))
            offset = 0
            for (role, _), th in zip(text.turns, turn_hashes, strict=True):
                if role in short_roles and short and short <= len(th) < n:
                    short_h.append(int(ngram_hashes(th, len(th))[0]))
                    short_row.append(row)
                    short_pos.append(offset)
                    short_len.append(len(th))
                offset += len(th)
        self.words = np.array(words_per, dtype=np.int64)
        if full:
            h = np.concatenate([f[0] for f in full])
            rows = np.concatenate([np.full(len(f[0]), f[1], dtype=np.int32) for f in full])
            pos = np.concatenate([np.arange(len(f[0]), dtype=np.int32) for f in full])
        else:
            h, rows, pos = np.zeros(0, np.uint64), np.zeros(0, np.int32), np.zeros(0, np.int32)
        limit = max(SHARED_FLOOR, int(shared * len(self.records)))
        self.hashes, self.rows, self.pos, self.dropped = _sorted_without_shared(
            h, rows, pos, limit, n, np.concatenate(([0], np.cumsum(self.words)))
        )
        self._bits, self._shift = _bit_table(self.hashes)
        order = np.argsort(np.array(short_h, dtype=np.uint64), kind="stable")
        self.short_hashes = np.array(short_h, dtype=np.uint64)[order]
        self.short_rows = np.array(short_row, dtype=np.int32)[order]
        self.short_pos = np.array(short_pos, dtype=np.int32)[order]
        self.short_len = np.array(short_len, dtype=np.int32)[order]
        self.short_lengths = tuple(sorted(set(short_len)))

    def __len__(self) -> int:
        return len(self.records)

    def summary(self, min_span: int) -> dict[str, int]:
        """What was indexed, for `stats.dedup.contamination.ngram_index`."""
        return {
            "ngram": self.n,
            "min_span": min_span,
            "ngrams": len(self.hashes),
            "template_ngrams": self.dropped,
            "short_prompts": len(self.short_hashes),
        }

    def find(self, w: Any, min_span: int) -> Overlap | None:
        """The evaluation record whose words a training record's words `w` share most of, when the
        longest shared run has at least `min_span` words (or a whole short prompt is held); else None."""
        import numpy as np

        runs: list[tuple[Any, Any, Any, Any]] = []  # (rows, starts in the eval record, words, whole prompt)
        prefix = word_prefix(w) if len(w) >= self.n or self.short_lengths else None
        if len(w) >= self.n and len(self.hashes):
            grams = ngram_hashes(w, self.n, prefix)
            slot = grams >> self._shift  # a bit table first: most n-grams of most records are in no benchmark
            maybe = np.flatnonzero((self._bits[slot >> _K.SIX] >> (slot & _K.LOW)) & _K.ONE)
            if len(maybe):
                at = np.searchsorted(self.hashes, grams[maybe])
                at[at == len(self.hashes)] = 0
                hit = maybe[self.hashes[at] == grams[maybe]]
                if len(hit):
                    runs.append(self._runs(grams[hit], hit))
        for length in self.short_lengths:
            if len(w) < length:
                break
            grams = ngram_hashes(w, length, prefix)
            at = np.searchsorted(self.short_hashes, grams)
            at[at == len(self.short_hashes)] = 0
            for g in np.unique(grams[self.short_hashes[at] == grams]).tolist():  # rare: a whole short prompt
                lo = int(np.searchsorted(self.short_hashes, g, side="left"))
                hi = int(np.searchsorted(self.short_hashes, g, side="right"))
                e = np.arange(lo, hi)[self.short_len[lo:hi] == length]
                runs.append((self.short_rows[e], self.short_pos[e], self.short_len[e], np.ones(len(e), dtype=bool)))
        if not runs:
            return None
        rows, starts, spans, whole = (np.concatenate([r[i] for r in runs]) for i in range(4))
        best: tuple[float, int, int] | None = None
        found = None
        for row in np.unique(rows[whole | (spans >= min_span)]).tolist():
            mine = rows == row
            covered = _covered(starts[mine], spans[mine])
            k = int(np.argmax(np.where(mine, spans, -1)))
            score = (covered / max(1, int(self.words[row])), int(spans[k]), -row)
            if best is None or score > best:
                best, found = score, Overlap(row, int(spans[k]), int(starts[k]), covered)
        return found

    def _runs(self, grams: Any, tpos: Any) -> tuple[Any, Any, Any, Any]:
        """Shared n-grams (hashes at training positions `tpos`) as runs along one diagonal: a run
        of r consecutive shared n-grams is a shared span of r + n - 1 words of both records."""
        import numpy as np

        lo = np.searchsorted(self.hashes, grams, side="left")
        count = np.searchsorted(self.hashes, grams, side="right") - lo
        entries = np.repeat(lo - np.cumsum(count) + count, count) + np.arange(int(count.sum()))
        t = np.repeat(tpos, count).astype(np.int64)
        rows = self.rows[entries]
        e = self.pos[entries].astype(np.int64)
        diag = t - e
        order = np.lexsort((t, diag, rows))
        rows, e, t, diag = rows[order], e[order], t[order], diag[order]
        cont = np.zeros(len(t), dtype=bool)
        cont[1:] = (rows[1:] == rows[:-1]) & (diag[1:] == diag[:-1]) & (t[1:] - t[:-1] == 1)
        first = np.flatnonzero(~cont)
        length = np.diff(np.append(first, len(t)))
        return rows[first], e[first], length + self.n - 1, np.zeros(len(first), dtype=bool)

    def span_text(self, row: int, start: int, span: int, limit: int) -> tuple[str, str]:
        """(role, text) of the words [start, start + span) of an evaluation record as written there,
        widened to whole personal values and masked (curate.display.shown); turns joined by " / "."""
        from curate.display import shown

        pieces, role, offset = [], "", 0
        for turn_role, text in self.records[row].turns:
            spans = _token_spans(text)
            a, b = max(start - offset, 0), min(start + span - offset, len(spans))
            if a < b:
                role = role or turn_role
                pieces.append(_piece(text, spans, a, b))
            offset += len(spans)
        return role, shown(" / ".join(pieces), limit)


def _bit_table(hashes: Any) -> tuple[Any, Any]:
    """A one-hash Bloom filter of the n-grams: about 32 bits per n-gram (3% false hits), at most 2^28
    bits (32 MB). One gather per n-gram instead of a binary search over the whole index."""
    import numpy as np

    bits = max(12, min(28, (max(1, len(hashes)) * 32 - 1).bit_length()))
    shift = np.uint64(64 - bits)
    table = np.zeros(1 << (bits - 6), dtype=np.uint64)
    slot = hashes >> shift
    np.bitwise_or.at(table, slot >> np.uint64(6), np.uint64(1) << (slot & np.uint64(63)))
    return table, shift


def _covered(starts: Any, spans: Any) -> int:
    """Words in the union of [start, start + span) intervals."""
    import numpy as np

    order = np.argsort(starts, kind="stable")
    total, end = 0, -1
    for s, n in zip(starts[order].tolist(), spans[order].tolist(), strict=True):
        if s + n > end:
            total += s + n - max(s, end)
            end = s + n
    return total


def _sorted_without_shared(h: Any, rows: Any, pos: Any, limit: int, n: int, offsets: Any) -> tuple[Any, Any, Any, int]:
    """The entries sorted by hash, less a benchmark's prompt template: the n-grams found in more than
    `limit` records (a template every question shares says nothing about one question), and the
    n-grams mostly made of template words (where the template meets a question: "... choose the
    best answer. Which" would otherwise tie every question that starts with "Which" together)."""
    import numpy as np

    order = np.lexsort((pos, rows, h))
    h, rows, pos = h[order], rows[order], pos[order]
    if not len(h):
        return h, rows, pos, 0
    new_pair = np.ones(len(h), dtype=bool)  # first entry of each (hash, record)
    new_pair[1:] = (h[1:] != h[:-1]) | (rows[1:] != rows[:-1])
    new_hash = np.ones(len(h), dtype=bool)
    new_hash[1:] = h[1:] != h[:-1]
    group = np.cumsum(new_hash) - 1
    records = np.bincount(group, weights=new_pair)
    shared = records[group] > limit
    if not shared.any():
        return h, rows, pos, 0
    start = offsets[rows].astype(np.int64) + pos  # each n-gram's first word among all records' words
    edges = np.zeros(int(offsets[-1]) + 1, dtype=np.int64)
    np.add.at(edges, start[shared], 1)
    np.add.at(edges, start[shared] + n, -1)
    template = np.concatenate(([0], np.cumsum(np.cumsum(edges)[:-1] > 0)))  # template words before each word
    in_template = template[start + n] - template[start]
    keep = ~shared & (2 * (n - in_template) > n)
    return h[keep], rows[keep], pos[keep], int((records > limit).sum())


def _token_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of `text.words(text)` in `text` itself (what wordhash hashed)."""
    if text.isascii():
        return [m.span() for m in _ASCII_WORD.finditer(text)]
    spans = [m.span() for m in _CJK.finditer(text)]
    n = len(words(text))
    if len(spans) == n:
        return spans
    return [(0, len(text))] * n  # NFKC changed the words: show the whole turn (masked) for each


def _piece(text: str, spans: Sequence[tuple[int, int]], a: int, b: int) -> str:
    """text from word a to word b - 1, widened to whole whitespace-separated chunks and whole
    personal values, so the mask never sees half a value."""
    from curate.privacy import find_values

    lo, hi = spans[a][0], spans[b - 1][1]
    while lo > 0 and not text[lo - 1].isspace():
        lo -= 1
    while hi < len(text) and not text[hi].isspace():
        hi += 1
    for s, e, _ in find_values(text):
        if s < hi and e > lo:
            lo, hi = min(lo, s), max(hi, e)
    return " ".join(text[lo:hi].split())


def eval_entry(text: EvalText) -> tuple[EvalText, list[Any]]:
    """An evaluation record with the word hashes of each of its turns (all turns hashed at once)."""
    return text, texts_word_hashes([t for _, t in text.turns]) if text.turns else []
