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


@settings(max_examples=80, deadline=None)
@given(record=st.dictionaries(st.text(max_size=10), json_values, max_size=4), reason=st.text(), key=st.text(min_size=1))
def test_round_trip(tmp_path_factory, record, reason, key) -> None:  # noqa: ANN001
    path = tmp_path_factory.mktemp("d") / "data.jsonl"
    log = DecisionLog(decisions_path(path))
    log.add(Decision(key, "edit", record=record, occurrence=2, line=7))
    log.add(Decision(key, "drop", reason=reason))
    log.add(Decision("yes", "accept", rule="no", fingerprint="0123abcd"))
    log.save()
    back = load_decisions(path)
    assert sorted(
        (d.key, d.action, d.reason, d.record, d.occurrence, d.line, d.rule, d.fingerprint) for d in back.decisions
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
    assert {(d.key, d.reason, str(d.record)) for d in back.decisions} == {(t, t, str({t: [t]})) for t in texts}


def test_large_log_saves_and_loads(tmp_path: Path) -> None:
    log = DecisionLog(decisions_path(tmp_path / "d.jsonl"))
    for i in range(20_000):
        log.add(Decision(f"{i:020x}", "accept", rule="invalid-role", fingerprint=f"{i:016x}"))
    t = time.perf_counter()
    log.save()
    elapsed = time.perf_counter() - t
    assert len(load_decisions(tmp_path / "d.jsonl").accepted_fingerprints()) == 20_000
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
