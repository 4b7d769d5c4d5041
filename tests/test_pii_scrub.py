"""Scrubbing: every mode replaces every planted value, fakes are consistent, a re-check is clean."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate.checks.pii.analyzer import Detector
from curate.checks.pii.patterns import SECRET_ENTITIES
from curate.checks.pii.scrub import Scrubber
from curate.checks.pii.synth import TEMPLATES, faker, make_value, planted

PATTERN_TYPES = [e for e in TEMPLATES if e not in ("PERSON", "LOCATION")]
KEY = b"test-key-0123456789abcdef"


def _records(n: int = 3) -> list[tuple[dict, list[str]]]:
    r, fake = random.Random(3), faker(3)
    out = []
    for _ in range(n):
        turns, values = [], []
        for entity in PATTERN_TYPES:
            p = planted(entity, fake, r)
            s, e, _ = p.spans[0]
            values.append(p.text[s:e])
            turns.append({"role": "user", "content": p.text})
        turns.append({"role": "assistant", "content": "Noted, thanks."})
        out.append(({"messages": turns, "meta": {"contact": values[0]}}, values))
    return out


@pytest.fixture(scope="module")
def records() -> list[tuple[dict, list[str]]]:
    return _records()


@pytest.mark.parametrize("mode", ["mask", "placeholder", "fake"])
def test_every_value_replaced_and_recheck_clean(mode: str, records: list[tuple[dict, list[str]]]) -> None:
    scrubber = Scrubber(mode, ner="off", key=KEY)  # type: ignore[arg-type]
    recheck = Detector(ner="off", secrets=True, allow=frozenset({"example.com", "example.org", "example.net"}))
    for data, values in records:
        before = json.dumps(data)
        new, n = scrubber.scrub_record(data)
        assert json.dumps(data) == before  # the input record is not modified
        blob = json.dumps(new)
        assert n >= len(values)
        for v in values:
            assert v not in blob, (mode, v)
        for turn in new["messages"]:
            assert recheck.detect(turn["content"]) == [], (mode, turn["content"])
        assert new["messages"][-1] == {"role": "assistant", "content": "Noted, thanks."}
        if mode == "placeholder":
            assert "<EMAIL_ADDRESS>" in blob and "<CREDIT_CARD>" in blob


def test_mask_keeps_shape() -> None:
    new, n = Scrubber("mask", ner="off", key=KEY).scrub_record({"text": "mail jane.roe@gmail.com now"})
    assert (new, n) == ({"text": "mail ****.***@*****.*** now"}, 1)


def test_fake_is_consistent_within_and_across_runs() -> None:
    text = "jane.roe@gmail.com called from (415) 555-2671; later jane.roe@gmail.com wrote again"
    a = Scrubber("fake", ner="off", key=KEY)
    out1, n = a.scrub_text(text)
    assert n == 3
    first, second = out1.split("; later ")
    email_fake = first.split(" ")[0]
    assert email_fake.endswith("@example.com") and second.startswith(email_fake)
    assert Scrubber("fake", ner="off", key=KEY).scrub_text(text)[0] == out1  # same key: same fakes
    assert Scrubber("fake", ner="off", key=b"another-key-000000000000").scrub_text(text)[0] != out1
    other, _ = a.scrub_text("bob.smith@yahoo.com")
    assert other != email_fake


def test_fake_secrets_become_placeholders() -> None:
    r = random.Random(1)
    key = make_value("OPENAI_API_KEY", faker(), r)
    out, n = Scrubber("fake", ner="off", key=KEY).scrub_text(f"key {key}")
    assert (out, n) == ("key <OPENAI_API_KEY>", 1)
    assert "OPENAI_API_KEY" in SECRET_ENTITIES


def test_unknown_mode() -> None:
    with pytest.raises(ValueError, match="placeholder"):
        Scrubber("shred", ner="off")  # type: ignore[arg-type]


def test_export_scrub_pii_end_to_end(tmp_path: Path, records: list[tuple[dict, list[str]]]) -> None:
    from curate.cli import app

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(d) + "\n" for d, _ in records), encoding="utf-8")
    before = src.read_bytes()
    out = tmp_path / "out.jsonl"
    res = CliRunner().invoke(app, ["export", str(src), "-o", str(out), "--scrub-pii", "--pii-mode", "placeholder"])
    assert res.exit_code == 0, res.output
    assert src.read_bytes() == before
    text = out.read_text(encoding="utf-8")
    assert len(text.splitlines()) == len(records)
    for _, values in records:
        for v in values:
            assert v not in text and v not in res.output
    rules = tmp_path / "pii.yaml"
    rules.write_text(
        "rules:\n  personal-data: {check: pii.entities, params: {ner: 'off'}}\n  secret-in-text: {check: pii.secrets}\n"
    )
    res = CliRunner().invoke(app, ["check", str(out), "-r", str(rules), "--format", "json", "--no-cache", "-j", "1"])
    report = json.loads(res.stdout)
    assert report["findings"] == [], report["findings"][:3]


def test_coverage_note_when_ner_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from curate.checks.pii import analyzer

    monkeypatch.setattr(analyzer, "ner_status", lambda: (False, "no NER model installed (test)"))
    note = Scrubber("mask", key=KEY).coverage_note()
    assert note is not None and note.startswith("LOCATION, PERSON not scrubbed") and "curate[ner]" in note
    assert Scrubber("mask", ner="off", key=KEY).coverage_note() is None


# -- every place a string can live ----------------------------------------------------------------
EMAIL, SSN, PHONE = "jane.doe@acme-mail.org", "536-22-8714", "(415) 867-5309"
DOTTED, SPACED, DASHED = "4716.7574.9118.6252", "4716 7574 9118 6252", "5398-2271-0063-4417"
SECRET = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0"
PLANTED = (EMAIL, SSN, DOTTED, SPACED, DASHED, SECRET, "4716757491186252", "acme-mail")


def _everywhere() -> list[dict]:
    """Planted values in keys, roles, names, ids, tool calls, metadata, unknown formats, numbers, and
    split by invisible characters."""
    return [
        {
            "id": EMAIL,
            EMAIL: "a key that is an email",
            "messages": [
                {"role": EMAIL, "name": SSN, "content": "hi"},
                {
                    "role": "assistant",
                    "content": f"pay with {DOTTED}",
                    "tool_calls": [
                        {
                            "id": SECRET,
                            "type": "function",
                            "function": {"name": EMAIL, "arguments": json.dumps({"card": SPACED})},
                        }
                    ],
                },
                {"role": "user", "content": "mail jane\u200b.doe@acme-mail.org or call (415)\u2060 867-5309"},
            ],
            "metadata": {"owner": {SECRET: [SSN, {"note": f"ssn {SSN}"}]}, SSN: 1, "card": 4716757491186252},
            "tools": [{"type": "function", "function": {"name": "f", "description": f"billing to {DASHED}"}}],
        },
        {"weird": {"deep": [DOTTED, EMAIL, {PHONE: "x"}]}, "unknown_format": f"{SSN}|{EMAIL}"},
        {"system": f"you serve 4716\u200b.7574.9118.6252 and {EMAIL}", "prompt": EMAIL, "chosen": SSN},
    ]


def _strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in [k, *_strings(v)]]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [str(node)] if isinstance(node, int) and not isinstance(node, bool) else []


def _visible(text: str) -> str:
    from curate.checks.pii.analyzer import _INVISIBLE

    return _INVISIBLE.sub("", text)


@pytest.mark.parametrize("mode", ["mask", "placeholder", "fake"])
def test_scrub_reaches_every_place_and_the_same_detection_finds_nothing(mode: str) -> None:
    scrubber = Scrubber(mode, ner="off", key=KEY)  # type: ignore[arg-type]
    for data in _everywhere():
        found_before = sum(len(scrubber.detector.detect(s)) for s in _strings(data))
        new, n = scrubber.scrub_record(data)
        assert n == found_before > 0
        blob = _visible(json.dumps(new, ensure_ascii=False))
        for v in PLANTED:
            assert v not in blob, (mode, v, blob)
        for s in _strings(new):  # the re-check: the scrubber's own detector, on every leaf and key
            assert scrubber.detector.detect(s) == [], (mode, s)
        assert len(_strings(new)) == len(_strings(data))  # nothing lost: keys scrubbed alike stay apart


def test_keys_scrubbed_alike_keep_both_values() -> None:
    other = "john.roe@acme-mail.org"
    new, n = Scrubber("placeholder", ner="off", key=KEY).scrub_record({EMAIL: 1, other: 2})
    assert (new, n) == ({"<EMAIL_ADDRESS>": 1, "<EMAIL_ADDRESS>#2": 2}, 2)


def test_detector_sees_through_invisible_characters() -> None:
    d = Detector(ner="off")
    text = "write to jane\u200b.doe@acme-mail.org\ufeff today"
    (span,) = d.detect(text)
    assert span.entity == "EMAIL_ADDRESS" and text[span.start : span.end] == "jane\u200b.doe@acme-mail.org"
    assert [s.entity for s in d.detect(f"card {DOTTED} ok")] == ["CREDIT_CARD"]
    assert d.detect("version 4716.7574.9118.6253 ok") == []  # Luhn-invalid: not a card


@pytest.mark.parametrize("mode", ["mask", "placeholder", "fake"])
def test_export_every_mode_then_check_finds_nothing(tmp_path: Path, mode: str) -> None:
    from curate.cli import app

    src = tmp_path / "in.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in _everywhere()]
    lines.append(f'{{"note": "write to {EMAIL} or {DOTTED}", ')  # unparseable: quarantined, scrubbed
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    res = CliRunner().invoke(app, ["export", str(src), "-o", str(out), "--pii-mode", mode])
    assert res.exit_code == 0, res.output
    for written in (out, tmp_path / "in.quarantine.jsonl"):
        text = _visible(written.read_text(encoding="utf-8"))
        for v in PLANTED:
            assert v not in text, (written.name, v)
    rules = tmp_path / "pii.yaml"
    rules.write_text(
        "rules:\n  personal-data: {check: pii.entities, params: {ner: 'off'}}\n  secret-in-text: {check: pii.secrets}\n"
    )
    res = CliRunner().invoke(app, ["check", str(out), "-r", str(rules), "--format", "json", "--no-cache", "-j", "1"])
    assert json.loads(res.stdout)["findings"] == []
    res = CliRunner().invoke(app, ["check", str(src), "-r", str(rules), "--format", "json", "--no-cache", "-j", "1"])
    assert json.loads(res.stdout)["findings"]  # the same check does find them in the input
