"""The per-record rows `dedup.prompt` keeps until finalize, as columns.

A tuple of eleven Python objects per record cost ~520 bytes in the main process (~520 MB at 1M
records); typed arrays, the answer sketches in one bytearray and indexes into the few distinct
fields and paths cost ~150. Reading a row gives the same tuple as before, so finalize is unchanged.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator

# prompt hash, answer hash, answer words, field, path, line, key, answer word-set sketch,
# rejected answer hash (0: not a preference pair), whether the prompt holds an earlier answer,
# question hash (the last user turn)
Row = tuple[int, int, int, str, str, int, str, bytes, int, bool, int]


class PromptRows:
    """Rows in arrival order; `append` a `Row`, read one back with `rows[i]`."""

    def __init__(self) -> None:
        self.prompt = array("Q")
        self.answer = array("Q")
        self.words = array("q")
        self.fields: list[str] = []  # distinct answer fields (a file has a few: /messages/1/content ...)
        self._field_ix: dict[str, int] = {}
        self.field_of = array("L")
        self.paths: list[str] = []
        self._path_ix: dict[str, int] = {}
        self.path_of = array("L")
        self.line = array("q")
        self.keys: list[str] = []
        self.sketches = bytearray()
        self.sketch_end = array("q")
        self.rejected = array("Q")
        self.multi = bytearray()
        self.question = array("Q")

    def __len__(self) -> int:
        return len(self.line)

    def append(self, row: Row) -> None:
        prompt, answer, words, field, path, line, key, sketch, rejected, multi, question = row
        self.prompt.append(prompt)
        self.answer.append(answer)
        self.words.append(words)
        self.field_of.append(_index(self.fields, self._field_ix, field))
        self.path_of.append(_index(self.paths, self._path_ix, path))
        self.line.append(line)
        self.keys.append(key)
        self.sketches += sketch
        self.sketch_end.append(len(self.sketches))
        self.rejected.append(rejected)
        self.multi.append(multi)
        self.question.append(question)

    def __getitem__(self, i: int) -> Row:
        start = self.sketch_end[i - 1] if i else 0
        return (
            self.prompt[i],
            self.answer[i],
            self.words[i],
            self.fields[self.field_of[i]],
            self.paths[self.path_of[i]],
            self.line[i],
            self.keys[i],
            bytes(self.sketches[start : self.sketch_end[i]]),
            self.rejected[i],
            bool(self.multi[i]),
            self.question[i],
        )

    def __iter__(self) -> Iterator[Row]:
        return (self[i] for i in range(len(self)))

    def merge(self, other: PromptRows) -> None:
        """Append another part's rows (a later shard's, a Ray block's)."""
        for i in range(len(other)):
            self.append(other[i])


def _index(names: list[str], where: dict[str, int], name: str) -> int:
    """Position of `name` among the distinct values (appended when new)."""
    ix = where.get(name)
    if ix is None:
        ix = where[name] = len(names)
        names.append(name)
    return ix
