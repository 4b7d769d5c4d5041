"""dedup.prompt's columnar rows read back exactly the tuples that went in, through merge and a shard file."""

from __future__ import annotations

from curate.cache.codec import decode, encode
from curate.checks.dedup.prompt_rows import PromptRows
from curate.run.checkstate import dump_state, load_state

ROWS = [
    (2**64 - 1, 7, 120, "/messages/1/content", "a.jsonl", 1, "k1", b"\x01\x02\x03\x04" * 16, 0, False, 5),
    (3, 2**63, 0, "/messages/3/content", "a.jsonl", 2, "k2", b"", 9, True, 0),
    (3, 8, 4, "/messages/1/content", "b.json", 7, "k3", b"\xff" * 12, 2**64 - 2, False, 11),
]


def filled(rows) -> PromptRows:
    out = PromptRows()
    for row in rows:
        out.append(row)
    return out


def test_rows_read_back_as_appended():
    rows = filled(ROWS)
    assert len(rows) == 3 and [rows[i] for i in range(3)] == ROWS and list(rows) == ROWS
    assert rows.fields == ["/messages/1/content", "/messages/3/content"] and rows.paths == ["a.jsonl", "b.json"]
    assert isinstance(rows[1][9], bool) and isinstance(rows[0][7], bytes)


def test_merge_and_saved_state_keep_every_row():
    first, second = filled(ROWS[:1]), filled(ROWS[1:])
    first.merge(second)
    assert list(first) == ROWS
    holder = type("Holder", (), {})()  # a check's attribute, as a shard's state file holds it
    holder.rows = filled(ROWS)
    state = decode(encode(dump_state(holder)))
    holder.rows = PromptRows()
    load_state(holder, state)
    assert list(holder.rows) == ROWS
