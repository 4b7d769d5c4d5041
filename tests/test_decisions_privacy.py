"""Decisions files may be committed: a fix stores only what it changed, a drop only rule ids, and keys
are sealed. Old (version 1) files still load and are written back in the new form."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from curate.config import load_ruleset, select_rules
from curate.decisions import decisions_path, load_decisions
from curate.export import export_dataset
from curate.model import content_key
from curate.review import ReviewSession

EMAIL, CARD, SSN = "jane.doe@acme-mail.org", "4716 7574 9118 6252", "536-22-8714"
RECORD = {
    "messages": [
        {"role": "user", "content": f"Mail me at {EMAIL} please."},
        {"role": "assistant", "content": f"Card on file: {CARD}, ssn {SSN}. Anything else?"},
    ]
}
OTHER = {"messages": [{"role": "user", "content": f"my ssn is {SSN}"}]}  # no answer: missing-assistant


def _session(tmp_path: Path) -> ReviewSession:
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(RECORD) + "\n" + json.dumps(OTHER) + "\n")
    rules = select_rules(load_ruleset("default").rules, ["pii.entities", "schema"], None)
    return ReviewSession.open(path, rules, jobs=1)


def _goto(session: ReviewSession, rule: str, line: int) -> None:
    for pos, idx in enumerate(session.view):
        item = session.items[idx]
        if item.line == line:
            session.goto(pos)
            session.finding_index = next(i for i, f in enumerate(item.findings) if f.rule == rule)
            return
    raise AssertionError(f"no {rule} at line {line}")


def test_fixing_one_email_stores_only_the_fix_and_no_raw_value(tmp_path: Path) -> None:
    session = _session(tmp_path)
    _goto(session, "personal-data", 1)
    finding = session.current_finding
    assert finding is not None and finding.data.get("entity", "EMAIL_ADDRESS") == "EMAIL_ADDRESS"
    proposal = session.fix_proposal()
    assert proposal is not None
    session.apply_fix(proposal)
    _goto(session, "missing-assistant", 2)
    session.drop()
    text = decisions_path(session.path).read_text()
    for raw in (EMAIL, CARD, SSN, "acme-mail", "Card on file", content_key(RECORD), content_key(OTHER)):
        assert raw not in text, raw
    doc = yaml.safe_load(text)
    fix = next(d for d in doc["decisions"] if d["action"] == "fix")
    assert all(op["op"] == "splice" and op["path"] == "/messages/0/content" for op in fix["patch"])
    drop = next(d for d in doc["decisions"] if d["action"] == "drop")
    assert drop["reason"] == "missing-assistant, personal-data"  # rule ids, never the message
    out = tmp_path / "o.jsonl"
    result = export_dataset(session.path, load_decisions(session.path), out=out)  # a fresh process would do this
    assert (result.fixed, result.dropped, result.unmatched) == (1, 1, 0)
    (written,) = [json.loads(x) for x in out.read_text().splitlines()]
    assert EMAIL not in json.dumps(written)
    assert written["messages"][1] == RECORD["messages"][1]  # the rest of the record is the original


def test_version_1_file_loads_and_is_rewritten_sealed(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(RECORD) + "\n" + json.dumps(OTHER) + "\n")
    key = content_key(RECORD)
    fixed = json.loads(json.dumps(RECORD).replace(EMAIL, "<EMAIL_ADDRESS>"))
    decisions_path(path).write_text(
        "version: 1\ndataset: d\ndecisions:\n"
        f"- key: {json.dumps(key)}\n  action: fix\n  at: 2026-01-01T00:00:00Z\n  line: 1\n"
        f"  rule: personal-data\n  record: {json.dumps(fixed)}\n"
    )
    log = load_decisions(path)
    assert log.decisions[0].key == key and log.decisions[0].record == fixed  # plain, as version 1 wrote it
    export_dataset(path, log, out=tmp_path / "o1.jsonl")
    assert EMAIL not in (tmp_path / "o1.jsonl").read_text()
    rules = select_rules(load_ruleset("default").rules, ["schema"], None)
    session = ReviewSession.open(path, rules, jobs=1)
    session.log.save(session._original_of)  # what any decision in review does
    text = decisions_path(path).read_text()
    assert "version: 2" in text and key not in text and CARD not in text and SSN not in text
    export_dataset(path, load_decisions(path), out=tmp_path / "o2.jsonl")
    assert (tmp_path / "o2.jsonl").read_text() == (tmp_path / "o1.jsonl").read_text()


def test_a_newer_or_broken_seal_is_a_clear_error(tmp_path: Path) -> None:
    from curate.yamlfile import ConfigError

    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(RECORD) + "\n")
    for body, words in [
        ("version: 2\ndecisions: []\n", "no `seal:`"),
        ('version: 2\nseal: {"kdf": "scrypt", "salt": "00", "n": 2}\ndecisions: []\n', "seal"),
        ("version: 3\ndecisions: []\n", "newer"),
    ]:
        decisions_path(path).write_text(body)
        try:
            load_decisions(path)
        except ConfigError as exc:
            assert words in str(exc), (body, str(exc))
        else:
            raise AssertionError(body)
