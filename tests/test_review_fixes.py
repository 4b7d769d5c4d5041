"""Suggested fixes: the built-in ones, and the guarantees of `suggest` (copy, no crash, no no-op)."""

from __future__ import annotations

from typing import Any

import pytest

from curate.fixes import diff_lines, register_fix, suggest
from curate.model import Finding, Severity
from curate.privacy import value_hash


def finding(check: str, field: str | None, **data: Any) -> Finding:
    return Finding(check.split(".")[1], check, Severity.WARNING, "x.jsonl", 1, field, "m", "fp", "k", None, data)


def chat(*msgs: tuple[str, Any]) -> dict[str, Any]:
    return {"messages": [{"role": r, "content": c} for r, c in msgs]}


@pytest.mark.parametrize(
    ("check", "field", "data", "record", "expected"),
    [
        (
            "schema.invalid_role",
            "/messages/0/role",
            {},
            chat(("human", "a"), ("assistant", "b")),
            chat(("user", "a"), ("assistant", "b")),
        ),
        ("schema.invalid_role", "/messages/0/role", {}, chat(("robot", "a")), None),  # no safe mapping
        (
            "schema.special_tokens",
            "/messages/1/content",
            {"token": "<|eot_id|>", "span": [2, 12]},
            chat(("user", "q"), ("assistant", "ok<|eot_id|> and <|eot_id|>")),
            chat(("user", "q"), ("assistant", "ok and ")),
        ),
        (
            "schema.system_position",
            "/messages/1/content",
            {},
            chat(("user", "q"), ("system", "s"), ("assistant", "a")),
            chat(("system", "s"), ("user", "q"), ("assistant", "a")),
        ),
        (
            "schema.last_turn",
            "/messages/2/content",
            {},
            chat(("user", "q"), ("assistant", "a"), ("user", "bye")),
            chat(("user", "q"), ("assistant", "a")),
        ),
        (
            "schema.message_unknown_key",
            "/messages/0/speaker",
            {},
            {"messages": [{"role": "user", "content": "q", "speaker": "x"}]},
            {"messages": [{"role": "user", "content": "q"}]},
        ),
        ("schema.nan_literal", None, {}, {"text": "t", "score": float("nan")}, {"text": "t", "score": None}),
    ],
)
def test_builtin_fixes(check: str, field: str | None, data: dict, record: dict, expected: dict | None) -> None:
    before = repr(record)
    assert suggest(None, record, finding(check, field, **data)) == expected
    assert repr(record) == before  # the record itself is never changed


def test_pii_placeholder_checks_the_value_before_replacing() -> None:
    record = chat(("user", "write to jane.doe@acme-mail.org today"), ("assistant", "ok"))
    f = finding(
        "pii.entities",
        "/messages/0/content",
        entity="EMAIL_ADDRESS",
        start=9,
        end=31,
        value_hash=value_hash("jane.doe@acme-mail.org", "EMAIL_ADDRESS"),
    )
    assert suggest(None, record, f)["messages"][0]["content"] == "write to <EMAIL_ADDRESS> today"
    shifted = chat(("user", "please write to jane.doe@acme-mail.org"), ("assistant", "ok"))
    assert suggest(None, shifted, f) is None  # offsets no longer point at the value: no fix


def test_a_check_method_wins_and_a_broken_fixer_is_no_fix() -> None:
    class Check:
        def fix(self, data: dict, f: Finding) -> dict:
            data["fixed"] = True
            return data

    class Broken:
        def fix(self, data: dict, f: Finding) -> dict:
            raise RuntimeError("boom")

    assert suggest(Check(), {"a": 1}, finding("x.y", None)) == {"a": 1, "fixed": True}
    assert suggest(Broken(), {"a": 1}, finding("x.y", None)) is None


def test_registered_fix_and_no_op() -> None:
    @register_fix("test.noop")
    def noop(data: dict, f: Finding) -> dict:
        return data

    assert suggest(None, {"a": 1}, finding("test.noop", None)) is None  # unchanged is not a fix


def test_diff_lines() -> None:
    lines = diff_lines({"a": "x"}, {"a": "y"})
    assert '-  "a": "x"' in lines and '+  "a": "y"' in lines
