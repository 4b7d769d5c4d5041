"""The values that cross from per-record work to everything else."""

from __future__ import annotations


class _Skip:
    """Marks a dataset check that does not look at a record; pickled by name, so it stays the one object
    across worker processes (a plain `object()` would come back as a new object)."""

    __slots__ = ()

    def __reduce__(self) -> str:
        return "SKIP_MARK"

    def __repr__(self) -> str:
        return "SKIP_MARK"


SKIP_MARK = _Skip()
