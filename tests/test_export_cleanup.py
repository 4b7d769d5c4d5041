"""`curate export --apply-fixes / --drop-rule / --drop-severity`: exactly the right records, nothing else.

The expected records come from the run's own findings (`curate check --format json` on the same file):
the tests check the selection and the bookkeeping, not the checks themselves.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

from review_data import LINES, open_session, write_dataset  # noqa: E402

from curate.cli import app  # noqa: E402
from curate.config import load_ruleset  # noqa: E402
from curate.decisions import load_decisions  # noqa: E402
from curate.export import export_dataset  # noqa: E402
from curate.review import ReviewSession  # noqa: E402


@pytest.fixture(autouse=True)
def _here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no project settings or baseline of the repository


def findings(path: Path) -> list[dict]:
    result = CliRunner().invoke(app, ["check", str(path), "--format", "json", "--no-cache"])
    assert result.exit_code in (0, 1), result.output
    return [f for f in json.loads(result.stdout)["findings"] if f["line"] is not None]


def export(path: Path, *args: str) -> tuple[object, list[str], list[dict]]:
    out = path.with_name("out.jsonl")
    result = CliRunner().invoke(app, ["export", str(path), "-o", str(out), "-v", *args])
    assert result.exit_code == 0, result.output
    q = path.with_name(f"{path.stem}.quarantine.jsonl")
    rows = [json.loads(x) for x in q.read_text().splitlines()] if q.exists() else []
    return result, out.read_text(encoding="utf-8").splitlines(), rows


def verbatim(lines: list[int]) -> list[str]:
    """The input's lines, byte for byte, as the output must hold them."""
    return [LINES[n - 1] for n in sorted(lines)]


PARSED = {n for n, raw in enumerate(LINES, 1) if raw and n != 4}  # 4 is invalid JSON, 5 blank


@pytest.mark.parametrize("level", ["error", "warning", "info"])
def test_drop_severity_drops_exactly_the_records_at_or_above(tmp_path: Path, level: str) -> None:
    path = write_dataset(tmp_path)
    order = ["info", "warning", "error"]
    expected = {f["line"] for f in findings(path) if order.index(f["severity"]) >= order.index(level)} & PARSED
    assert expected  # each level drops something on this fixture
    result, out, rows = export(path, "--drop-severity", level)
    dropped = {r["line"] for r in rows if not r["reasons"][0].startswith("unparseable")}
    assert dropped == expected
    assert out == verbatim(PARSED - expected)  # everything else verbatim, in order
    assert all(r["reasons"][0].startswith(f"--drop-severity {level}: ") for r in rows if r["line"] in expected)
    assert f"{len(expected)} dropped by --drop-rule/--drop-severity" in result.output


def test_drop_rule_is_repeatable_and_drops_only_those_rules(tmp_path: Path) -> None:
    path = write_dataset(tmp_path)
    found = findings(path)
    rules = ["missing-assistant", "special-tokens"]
    expected = {f["line"] for f in found if f["rule"] in rules}
    assert expected == {3, 6}
    _, out, rows = export(path, "--drop-rule", rules[0], "--drop-rule", rules[1])
    assert {r["line"]: r["reasons"] for r in rows if r["line"] in expected} == {
        3: ["--drop-rule: special-tokens"],
        6: ["--drop-rule: missing-assistant"],
    }
    assert out == verbatim(PARSED - expected)
    _, out_comma, _ = export(path, "--drop-rule", ",".join(rules))
    assert out_comma == out


def test_apply_fixes_changes_exactly_the_fixable_records_as_review_would(tmp_path: Path) -> None:
    path = write_dataset(tmp_path)
    session = ReviewSession.open(path, load_ruleset("default").rules, jobs=1)
    proposals = {}
    for pos in range(len(session.view)):
        session.goto(pos)
        item = session.current
        for index in range(len(item.findings)):  # the first finding of the record that has a fix
            session.finding_index = index
            proposal = session.fix_proposal()
            if proposal is not None:
                proposals[item.line] = proposal.new
                break
    assert set(proposals) == {2, 3, 8}
    result, out, _ = export(path, "--apply-fixes")
    by_line = dict(zip([n for n in range(1, len(LINES) + 1) if n in PARSED], out, strict=True))
    for n, line in by_line.items():
        if n in proposals:
            assert json.loads(line) == proposals[n]  # one fix each here: the same record review proposes
        else:
            assert line == LINES[n - 1]  # untouched records stay byte for byte
    assert "3 fixed by --apply-fixes" in result.output
    assert "line 2: fixed (--apply-fixes): role-alias" in result.output


def test_apply_fixes_applies_every_fix_of_a_record_in_turn(tmp_path: Path) -> None:
    record = {
        "messages": [
            {"role": "human", "content": "Hi<|endoftext|>"},
            {"role": "gpt", "content": "Hello<|im_end|> there"},
        ]
    }
    path = tmp_path / "many.jsonl"
    path.write_text(json.dumps(record) + "\n" + LINES[0] + "\n", encoding="utf-8")
    _, out, _ = export(path, "--apply-fixes")
    fixed = json.loads(out[0])
    assert fixed == {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello there"}]}
    assert out[1] == LINES[0]


def test_fixes_come_before_drops(tmp_path: Path) -> None:
    """A record whose only finding at the level is fixed stays; a record still at the level goes."""
    path = write_dataset(tmp_path)
    result, out, rows = export(path, "--apply-fixes", "--drop-severity", "warning")
    dropped = {r["line"] for r in rows if not r["reasons"][0].startswith("unparseable")}
    # 3 (special token) is fixed and kept; 6 (missing answer), 7 (copy), 8 (empty answer) stay at warning
    assert dropped == {6, 7, 8}
    assert [r["reasons"] for r in rows if r["line"] == 8] == [["--drop-severity warning: empty-content"]]
    assert len(out) == len(PARSED) - 3
    assert "2 fixed by --apply-fixes" in result.output  # 2 and 3; 8 was fixed, then dropped for what is left
    assert json.loads(out[1])["messages"][0]["role"] == "user"


def test_with_drop_duplicates_each_record_goes_once(tmp_path: Path) -> None:
    path = write_dataset(tmp_path)
    result, out, rows = export(path, "--drop-duplicates", "--drop-severity", "warning")
    reasons = {r["line"]: r["reasons"] for r in rows}
    assert reasons[7] == ["exact-duplicate: duplicate of line 1"]  # the duplicate drop names its kept copy
    assert [r["line"] for r in rows].count(7) == 1
    assert set(reasons) == {3, 4, 6, 7, 8}
    assert "1 dropped as duplicates" in result.output
    assert "3 dropped by --drop-rule/--drop-severity" in result.output
    assert out == verbatim([1, 2, 9])


def test_review_decisions_win_over_the_policy(tmp_path: Path) -> None:
    path = write_dataset(tmp_path)
    s = open_session(path)
    for pos in range(len(s.view)):
        s.goto(pos)
        if s.current.line == 6:
            s.accept()  # missing-assistant accepted: intended, never dropped by policy
            break
    for pos in range(len(s.view)):
        s.goto(pos)
        if s.current.line == 3:
            s.drop()  # dropped by the reviewer: counted as a review drop, not twice
            break
    result, out, rows = export(path, "--drop-rule", "missing-assistant", "--drop-rule", "special-tokens")
    reasons = {r["line"]: r["reasons"] for r in rows}
    assert 6 not in reasons
    assert reasons[3] == ["special-tokens"]  # the review's reason
    assert "1 dropped in review" in result.output
    assert "dropped by --drop-rule" not in result.output
    assert LINES[5] in out


def test_export_dataset_takes_the_policy_as_a_function(tmp_path: Path) -> None:
    """Without the CLI: the policy is a value, and export counts what it did apart from review."""
    from curate.cleanup import AutoDecision

    path = write_dataset(tmp_path)

    def auto(record):  # noqa: ANN001, ANN202
        return AutoDecision("drop", "--drop-rule: x") if record.line == 9 else None

    result = export_dataset(path, load_decisions(path), out=tmp_path / "o.jsonl", auto=auto)
    assert (result.dropped_by_rule, result.dropped, result.written) == (1, 0, 6)


def test_no_raw_value_in_summary_or_reasons(tmp_path: Path) -> None:
    email, card = "jane.doe@fastmail.de", "4111 1111 1111 1111"
    records = [
        {"messages": [{"role": "user", "content": f"Mail {email}"}, {"role": "assistant", "content": "Noted."}]},
        {"messages": [{"role": "user", "content": f"Card {card}"}, {"role": "assistant", "content": "Ok."}]},
        {"messages": [{"role": "user", "content": "Plain question"}, {"role": "assistant", "content": "Plain."}]},
    ]
    path = tmp_path / "pii.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    result, out, rows = export(path, "--drop-rule", "personal-data")
    assert [r["line"] for r in rows] == [1, 2]
    for value in (email, card, "jane.doe", "1111 1111"):
        assert value not in result.output
        assert all(value not in json.dumps(r["reasons"]) for r in rows)
    assert rows[0]["record"] == records[0]  # the quarantined record itself is the data, kept whole
    result, out, _ = export(path, "--apply-fixes")
    assert email not in result.output and card not in result.output
    assert email not in "\n".join(out) and "<EMAIL" in out[0].upper()  # the placeholder fix, as review's


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--drop-rule", "missing-asistant"], "did you mean missing-assistant"),
        (["--drop-severity", "fatal"], "--drop-severity must be error, warning or info"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    path = write_dataset(tmp_path)
    result = CliRunner().invoke(app, ["export", str(path), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "chat.curated.jsonl").exists()
