"""ReviewSession without Textual: order, filters, accept/drop/fix/edit, undo, bulk, resume."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))

from review_data import open_session, reloaded, rules, write_dataset  # noqa: E402

from curate.decisions import decisions_path  # noqa: E402
from curate.model import Severity  # noqa: E402
from curate.review import EditRefused, ReviewFilter, ReviewSession, SaveFailed, parse_edit  # noqa: E402
from curate.run.engine import Engine, EngineOptions  # noqa: E402


@pytest.fixture
def session(tmp_path: Path) -> ReviewSession:
    return open_session(write_dataset(tmp_path))


def goto_rule(s: ReviewSession, rule: str) -> None:
    for pos, idx in enumerate(s.view):
        if any(f.rule == rule for f in s.items[idx].findings):
            s.goto(pos)
            return
    raise AssertionError(f"{rule} not in view")


def test_worst_first(session: ReviewSession) -> None:
    worst = [i.worst for i in session.items]
    assert worst == sorted(worst, reverse=True)
    assert session.items[0].worst == Severity.ERROR
    assert {i.line for i in session.items} >= {2, 3, 4, 5, 6, 7, 8}
    assert 1 not in {i.line for i in session.items} and 9 not in {i.line for i in session.items}


def test_identical_copies_are_told_apart(session: ReviewSession) -> None:
    dup = next(i for i in session.items if i.line == 7)
    assert dup.occurrence == 2


def test_accept_persists_and_check_skips_it(session: ReviewSession, tmp_path: Path) -> None:
    goto_rule(session, "blank-line")
    finding = session.current_finding
    assert finding is not None
    session.accept()
    log = reloaded(session)
    assert finding.fingerprint in log.accepted_fingerprints()
    assert session.status(next(i for i in session.items if i.line == 5)) == "accepted"
    report = Engine(rules(), options=EngineOptions(jobs=1, suppress=log.accepted_fingerprints())).run([session.path])
    assert report.suppressed == 1
    assert all(f.rule != "blank-line" for f in report.findings)


def test_accept_moves_to_next_pending(session: ReviewSession) -> None:
    session.goto(0)
    first = session.current
    session.accept()
    assert session.current is not first
    assert session.status(session.current) == "pending"


def test_fix_renames_role_and_rechecks(session: ReviewSession) -> None:
    goto_rule(session, "role-alias")
    item = session.current
    proposal = session.fix_proposal()
    assert proposal is not None
    assert any('-      "role": "human"' in line for line in proposal.diff)
    assert any('+      "role": "user"' in line for line in proposal.diff)
    session.apply_fix(proposal)
    assert item.findings == []
    assert session.status(item) == "fixed"
    assert session.record(item).data["messages"][0]["role"] == "user"


def test_special_token_fix(session: ReviewSession) -> None:
    goto_rule(session, "special-tokens")
    proposal = session.fix_proposal()
    assert proposal is not None
    assert proposal.new["messages"][1]["content"] == "Welcome!"


def test_no_fix_when_the_check_has_none(session: ReviewSession) -> None:
    goto_rule(session, "missing-assistant")
    assert session.fix_proposal() is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{bad", "invalid JSON at line 1, column 2"),
        ('{"a": NaN}', "NaN is not valid JSON"),
        ("[1, 2]", "must be a JSON object, not list"),
        ('{"a": 1,\n "b": }', "line 2, column"),
    ],
)
def test_edit_refuses_invalid_json(text: str, reason: str) -> None:
    with pytest.raises(EditRefused, match=reason.replace("(", r"\(")):
        parse_edit(text)


def test_edit_repairs_an_unparseable_line(session: ReviewSession) -> None:
    goto_rule(session, "invalid-json")
    item = session.current
    assert session.edit_text().startswith('{"messages": [{"role": "user", "content": "Is the API down?"}')
    with pytest.raises(EditRefused):
        session.edit(session.edit_text())
    assert session.status(item) == "pending"
    session.edit(
        '{"messages": [{"role": "user", "content": "Is the API down?"}, {"role": "assistant", "content": "No."}]}'
    )
    assert item.findings == []
    assert session.status(item) == "edited"


def test_undo_restores_state_and_file(session: ReviewSession) -> None:
    goto_rule(session, "missing-assistant")
    item = session.current
    session.drop()
    assert session.status(item) == "dropped"
    assert reloaded(session).dropped_keys() == {item.key}
    assert session.undo() == "undid drop"
    assert session.status(item) == "pending"
    assert session.current is item
    assert reloaded(session).decisions == []
    assert session.undo() == "nothing to undo in this session"


def test_bulk_accept_only_touches_the_filtered_rule(session: ReviewSession) -> None:
    session.apply_filter(ReviewFilter(rule="special-tokens"))
    assert [session.items[i].line for i in session.view] == [3]
    session.bulk_accept()
    accepted = reloaded(session).accepted_fingerprints()
    assert len(accepted) == 1
    session.apply_filter(ReviewFilter())
    assert 3 not in {session.items[i].line for i in session.view}
    assert 2 in {session.items[i].line for i in session.view}


def test_bulk_drop_is_one_undo_step(session: ReviewSession) -> None:
    session.apply_filter(ReviewFilter(severity=Severity.ERROR))
    lines = sorted(session.items[i].line for i in session.view)
    assert lines == [4, 6]  # line 2's role `human` is read as user: a role-alias (info), not an error
    session.bulk_drop()
    assert len(reloaded(session).dropped()) == 2
    session.undo()
    assert reloaded(session).dropped() == set()


@pytest.mark.parametrize(
    ("flt", "lines"),
    [
        (ReviewFilter(family="dedup"), [7]),
        (ReviewFilter(text="api down"), [4]),  # text inside the record
        (ReviewFilter(text="whitespace-only"), [8]),  # a finding's message
        (ReviewFilter(text=":6"), [6]),  # a line number
        (ReviewFilter(severity=Severity.WARNING, rule="empty-content"), [8]),
    ],
)
def test_filters(session: ReviewSession, flt: ReviewFilter, lines: list[int]) -> None:
    session.apply_filter(flt)
    assert sorted(session.items[i].line for i in session.view) == lines


def test_status_filters(session: ReviewSession) -> None:
    goto_rule(session, "missing-assistant")
    session.drop()
    session.apply_filter(ReviewFilter(status="decided"))
    assert [session.items[i].line for i in session.view] == [6]
    session.apply_filter(ReviewFilter(status="all"))
    assert len(session.view) == len(session.items)
    session.apply_filter(ReviewFilter(status="pending"))
    assert 6 not in {session.items[i].line for i in session.view}


def test_resume(tmp_path: Path) -> None:
    path = write_dataset(tmp_path)
    first = open_session(path)
    goto_rule(first, "role-alias")
    first.apply_fix(first.fix_proposal())
    goto_rule(first, "missing-assistant")
    first.drop()
    second = open_session(path)
    statuses = {i.line: second.status(i) for i in second.items}
    assert statuses[2] == "fixed" and statuses[6] == "dropped"
    assert {second.items[i].line for i in second.view}.isdisjoint({2, 6})
    fixed = next(i for i in second.items if i.line == 2)
    assert fixed.findings == []  # re-checked on the fixed record


def test_decisions_file_is_readable_yaml(session: ReviewSession) -> None:
    goto_rule(session, "exact-duplicate")
    session.drop()
    doc = yaml.safe_load(decisions_path(session.path).read_text())
    (entry,) = doc["decisions"]
    assert entry["action"] == "drop" and entry["occurrence"] == 2 and entry["line"] == 7
    assert entry["reason"] == "exact-duplicate"  # rule ids only: a message may quote the record
    plain = next(i.key for i in session.items if i.line == 7)
    assert entry["key"] != plain and plain not in decisions_path(session.path).read_text()  # sealed


def test_dataset_level_findings_cannot_be_dropped(session: ReviewSession) -> None:
    pos = next(p for p, i in enumerate(session.view) if session.items[i].line is None)
    session.goto(pos)
    assert "cannot be dropped" in session.drop()
    session.accept()
    assert session.status(session.items[session.view[pos]]) == "accepted"


def test_a_decision_that_cannot_be_saved_is_not_taken(session: ReviewSession) -> None:
    decisions_path(session.path).mkdir()  # a directory where the file should go: every save fails
    goto_rule(session, "missing-assistant")
    item = session.current
    with pytest.raises(SaveFailed, match="cannot save decisions"):
        session.drop()
    assert session.status(item) == "pending"
    assert session.log.decisions == []
    assert session.undo() == "nothing to undo in this session"
