"""The decisions file: what is saved is what loads back, whatever the record text contains."""

from __future__ import annotations

import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from curate.decisions import Decision, DecisionLog, decisions_path, load_decisions

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


class _F:
    """The parts of a finding that matching an accepted decision reads."""

    def __init__(self, rule: str, key: str, fingerprint: str, line: int) -> None:
        self.rule, self.key, self.fingerprint, self.line, self.path = rule, key, fingerprint, line, "data.jsonl"


@settings(max_examples=40, deadline=None)
@given(record=st.dictionaries(st.text(max_size=10), json_values, max_size=4), reason=st.text(), key=st.text(min_size=1))
def test_round_trip(tmp_path_factory, record, reason, key) -> None:  # noqa: ANN001
    """Saved sealed, loaded unmatched, matched back to the records: the same decisions."""
    path = tmp_path_factory.mktemp("d") / "data.jsonl"
    log = DecisionLog(decisions_path(path))
    log.add(Decision(key, "edit", record=record, occurrence=2, line=7))
    log.add(Decision(key, "drop", reason=reason))
    log.add(Decision("yes", "accept", rule="no", fingerprint="0123abcd", line=9))
    log.save()
    back = load_decisions(path)
    assert all(d.key == "" for d in back.decisions)  # sealed in the file: nothing matched yet
    back.resolve([(7, key), (9, "yes")], [_F("no", "yes", "0123abcd", 9)])
    assert sorted(
        (d.key, d.action, d.reason, d.new_record(None), d.occurrence, d.line, d.rule, d.fingerprint)
        for d in back.decisions
    ) == sorted(
        (d.key, d.action, d.reason, d.record, d.occurrence, d.line, d.rule, d.fingerprint) for d in log.decisions
    )


def test_tricky_strings_round_trip(tmp_path: Path) -> None:
    texts = [
        "yes",
        "null",
        "1e5",
        "2026-11-23T18:12:57Z",
        "a: b",
        "- x",
        "#c",
        "\u2028",
        "\x85",
        "\x7f",
        "\ufeff",
        "😀",
        "'\"",
        "\t\n\r",
    ]
    log = DecisionLog(decisions_path(tmp_path / "d.jsonl"))
    for t in texts:
        log.add(Decision(t, "edit", record={t: [t]}, reason=t))
    log.save()
    back = load_decisions(tmp_path / "d.jsonl")
    back.resolve([(i + 1, t) for i, t in enumerate(texts)])
    assert {(d.key, d.reason, str(d.new_record(None))) for d in back.decisions} == {
        (t, t, str({t: [t]})) for t in texts
    }


def test_large_log_saves_and_loads(tmp_path: Path) -> None:
    log = DecisionLog(decisions_path(tmp_path / "d.jsonl"))
    for i in range(1_000):  # each key is sealed once (scrypt, ~0.5 ms): 20,000 is in benchmarks
        log.add(Decision(f"{i:020x}", "accept", rule="invalid-role", fingerprint=f"{i:016x}", line=i + 1))
    t = time.perf_counter()
    log.save()
    elapsed = time.perf_counter() - t
    back = load_decisions(tmp_path / "d.jsonl")
    findings = [_F("invalid-role", f"{i:020x}", f"{i:016x}", i + 1) for i in range(1_000)]
    assert back.resolve([(f.line, f.key) for f in findings], findings) == 0
    assert len(back.accepted_fingerprints()) == 1_000
    assert elapsed >= 0  # speed is measured in benchmarks/bench_review.py, not asserted here


def test_empty_log(tmp_path: Path) -> None:
    log = DecisionLog(decisions_path(tmp_path / "d.jsonl"))
    log.save()
    assert load_decisions(tmp_path / "d.jsonl").decisions == []
    assert "decisions: []" in log.path.read_text()


def test_hand_edited_yaml_still_loads(tmp_path: Path) -> None:
    path = decisions_path(tmp_path / "d.jsonl")
    path.write_text(
        "# reviewed by hand\n"
        "version: 1\n"
        "dataset: d\n"
        "decisions:\n"
        "  - key: abc\n"
        "    action: edit\n"
        "    at: '2026-01-01T00:00:00Z'\n"
        "    record:\n"
        "      messages:\n"
        "        - {role: user, content: hi}\n"
    )
    (d,) = load_decisions(tmp_path / "d.jsonl").decisions
    assert d.record == {"messages": [{"role": "user", "content": "hi"}]}
    assert d.at == "2026-01-01T00:00:00Z"
