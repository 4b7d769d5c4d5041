"""The pii checks through the engine: findings, spans, roles, allow-list, coverage, NER off."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from curate.checks.pii import analyzer
from curate.checks.pii.entities import PiiParams
from curate.config import Rule
from curate.model import Severity
from curate.registry import load_registry
from curate.run.engine import Engine, EngineOptions

EMAIL = "jane.roe@gmail.com"
CARD = "4111 1111 1111 1111"
KEY = "AKIAZ3X7Q2LMNB4KD9PQ"


def rule(check: str, rule_id: str = "r", roles: frozenset[str] | None = None, **params: Any) -> Rule:
    cls = load_registry().checks[check]
    return Rule(rule_id, check, Severity.WARNING, cls.Params.model_validate(params), roles, "test", "")


def write(tmp_path: Path, records: list[dict[str, Any]]) -> Path:
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def chat(user: str, assistant: str = "Noted.", system: str | None = None) -> dict[str, Any]:
    msgs = [{"role": "system", "content": system}] if system else []
    return {"messages": [*msgs, {"role": "user", "content": user}, {"role": "assistant", "content": assistant}]}


def run(path: Path, *rules: Rule) -> Any:
    return Engine(list(rules), options=EngineOptions(jobs=1)).run([str(path)])


def test_findings_carry_field_span_and_masked_value(tmp_path: Path) -> None:
    user = f"Mail {EMAIL} and charge card {CARD}."
    path = write(tmp_path, [chat("hello"), chat(user, system="Be brief.")])
    report = run(path, rule("pii.entities", ner="off"))
    found = [
        (f.line, f.field, f.data["entity"], f.data["start"], f.data["end"], f.data["masked"]) for f in report.findings
    ]
    assert found == [
        (2, "/messages/1/content", "EMAIL_ADDRESS", 5, 5 + len(EMAIL), "j***@g***.com"),
        (
            2,
            "/messages/1/content",
            "CREDIT_CARD",
            user.index(CARD),
            user.index(CARD) + len(CARD),
            "**** **** **** 1111",
        ),
    ]
    assert report.findings[0].message == f"EMAIL_ADDRESS j***@g***.com in user text (chars 5-{5 + len(EMAIL)})"
    assert len(report.findings[0].data["value_hash"]) == 16
    pii = report.stats["pii"]
    assert pii["records_with_pii"] == 1 and pii["by_entity"] == {"EMAIL_ADDRESS": 1, "CREDIT_CARD": 1}
    assert "EMAIL_ADDRESS" in pii["active_entities"] and pii["unavailable_entities"] == []
    assert report.table["pii"].to_list() == [0, 2]


def test_fingerprints_survive_inserted_lines(tmp_path: Path) -> None:
    rec = chat(f"write to {EMAIL}")
    a = run(write(tmp_path, [rec]), rule("pii.entities", ner="off")).findings
    b = run(write(tmp_path, [chat("unrelated"), chat("more"), rec]), rule("pii.entities", ner="off")).findings
    assert [f.fingerprint for f in a] == [f.fingerprint for f in b] and b[0].line == 3
    assert EMAIL not in a[0].fingerprint


def test_roles_entities_and_allow_list(tmp_path: Path) -> None:
    path = write(tmp_path, [chat(f"I am {EMAIL}", f"Write to help@acme.io or call (415) 555-2671, {EMAIL}")])
    only_user = run(path, rule("pii.entities", roles=frozenset({"user"}), ner="off"))
    assert [f.field for f in only_user.findings] == ["/messages/0/content"]
    phones = run(path, rule("pii.entities", entities=["phone_number"], ner="off"))
    assert [f.data["entity"] for f in phones.findings] == ["PHONE_NUMBER"]
    allowed = run(path, rule("pii.entities", allow=["acme.io", EMAIL], ner="off"))
    assert [f.data["entity"] for f in allowed.findings] == ["PHONE_NUMBER"]


@pytest.mark.parametrize(
    ("address", "role"),
    [
        ("info@acme-widgets.org", True),
        ("press.office@acme-widgets.org", True),
        ("admissions@state-college.edu", True),
        ("CSRInfo@acme-widgets.org", True),
        ("jane.doe@gmail.com", False),
        ("prince.alfred@acme-widgets.org", False),  # "pr" only as a whole word
        ("hilary@acme-widgets.org", False),
    ],
)
def test_organisation_contacts_are_an_organisations_contact(tmp_path: Path, address: str, role: bool) -> None:
    path = write(tmp_path, [chat("Who do I write to?", f"Please write to {address} before Friday.")])
    default = run(path, rule("pii.entities", ner="off"))
    assert [f.data["entity"] for f in default.findings] == ([] if role else ["EMAIL_ADDRESS"])
    asked = run(path, rule("pii.entities", ner="off", organisation_contacts=True))
    assert [f.data["entity"] for f in asked.findings] == ["EMAIL_ADDRESS"]


@pytest.mark.parametrize(
    ("before", "business"),
    [
        ("For quality service in town, give Acme Heating Experts a call at", True),
        ("For registration information, call", True),
        ("Our customer service line is", True),
        ("Contact Wendy directly at", False),
        ("My cell is", False),
    ],
)
def test_business_lines_are_an_organisations_contact(tmp_path: Path, before: str, business: bool) -> None:
    path = write(tmp_path, [chat("How do I reach them?", f"{before} (415) 555-2671 any weekday.")])
    default = run(path, rule("pii.entities", ner="off"))
    assert [f.data["entity"] for f in default.findings] == ([] if business else ["PHONE_NUMBER"])
    asked = run(path, rule("pii.entities", ner="off", organisation_contacts=True))
    assert [f.data["entity"] for f in asked.findings] == ["PHONE_NUMBER"]


def test_secrets_rule(tmp_path: Path) -> None:
    path = write(tmp_path, [chat(f"my key {KEY}", "Bearer <YOUR_TOKEN>")])
    report = run(path, rule("pii.secrets"))
    assert [(f.data["entity"], f.data["masked"]) for f in report.findings] == [("AWS_ACCESS_KEY", "AKIA***")]
    assert report.stats["pii"]["secrets_by_type"] == {"AWS_ACCESS_KEY": 1}


def test_tool_call_arguments_are_scanned(tmp_path: Path) -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "send", "arguments": json.dumps({"to": EMAIL})}}
    rec = {
        "messages": [
            {"role": "user", "content": "send it"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "c1", "content": "sent"},
            {"role": "assistant", "content": "Done."},
        ]
    }
    report = run(write(tmp_path, [rec]), rule("pii.entities", ner="off"))
    assert [(f.field, f.data["entity"]) for f in report.findings] == [("/messages/1", "EMAIL_ADDRESS")]


def test_unknown_entity_is_a_config_error() -> None:
    with pytest.raises(ValidationError, match="unknown entity type 'EMAIL'"):
        PiiParams.model_validate({"entities": ["EMAIL"]})


@pytest.fixture
def no_ner(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analyzer, "ner_status", lambda: (False, "no NER model installed (test)"))


def test_names_without_model_say_so(tmp_path: Path, no_ner: None) -> None:
    report = run(write(tmp_path, [chat("I am Jane Roe from Leeds")]), rule("pii.names", "names"))
    assert report.findings == []  # a missing model is about the run, not the data: a notice, not a finding
    assert len(report.notices) == 1
    note = report.notices[0]
    assert note.startswith("names: LOCATION, PERSON not checked") and "curate[ner]" in note
    assert report.exit_code("info") == 0
    names = report.stats["pii"]["names"]
    assert names["active_entities"] == [] and names["unavailable_entities"] == ["LOCATION", "PERSON"]
    assert "curate[ner]" in names["how_to_enable"]


def test_entities_listing_person_without_model(tmp_path: Path, no_ner: None) -> None:
    path = write(tmp_path, [chat(f"I am Jane Roe, {EMAIL}")])
    report = run(path, rule("pii.entities", entities=["EMAIL_ADDRESS", "PERSON"]))
    assert [f.data.get("entity") for f in report.findings] == ["EMAIL_ADDRESS"]
    assert [n.split(":", 1)[0] for n in report.notices] == [report.rules[0].id]
    assert "PERSON not checked" in report.notices[0]
    assert report.stats["pii"]["unavailable_entities"] == ["PERSON"]
    with pytest.raises(RuntimeError, match="no NER model"):
        analyzer.Detector(frozenset({"PERSON"}), ner="require")


def test_ner_model_pin_is_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A model whose weights differ from the pinned hashes is refused, never loaded."""
    import importlib.util
    from types import SimpleNamespace

    pkg = tmp_path / analyzer.NER_PACKAGE
    data = pkg / f"{analyzer.NER_PACKAGE}-3.8.0"
    for rel in analyzer.NER_WEIGHTS:
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        (data / rel).write_bytes(b"not the real weights")
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: SimpleNamespace(submodule_search_locations=[str(pkg)])
    )
    analyzer.ner_status.cache_clear()
    try:
        ok, why = analyzer.ner_status()
    finally:
        analyzer.ner_status.cache_clear()
    assert not ok and "does not match the pinned sha256" in why
