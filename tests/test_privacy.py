"""mask() and value_hash(): recognisable but never the raw value."""

from __future__ import annotations

import pytest

from curate.privacy import mask, mask_text, value_hash

CASES = [
    ("john.doe@example.com", "EMAIL_ADDRESS", "j***@e***.com"),
    ("4111 1111 1111 1234", "CREDIT_CARD", "**** **** **** 1234"),
    ("+1 (555) 010-2000", "PHONE_NUMBER", "***-***-**00"),
    ("123-45-6789", "US_SSN", "***-**-****"),
    ("192.168.1.20", "IP_ADDRESS", "192.***.***.***"),
    ("https://alice:pw@corp.example.com/x", "URL_PASSWORD", "https://***:***@c***.com/***"),
    ("John Smith", "PERSON", "J*** S***"),
    ("sk-proj-abcdefghijklmnop1234", "OPENAI_API_KEY", "sk-proj-***"),
    ("AKIAIOSFODNN7EXAMPLE", "AWS_ACCESS_KEY", "AKIA***"),
    ("abc", "WHATEVER", "***"),
]


@pytest.mark.parametrize(("value", "entity", "expected"), CASES)
def test_mask_forms(value: str, entity: str, expected: str) -> None:
    assert mask(value, entity) == expected
    assert value not in mask(value, entity)


ENTITIES = ["", "EMAIL_ADDRESS", "PHONE_NUMBER", "PERSON", "LOCATION", "JWT", "URL", "IBAN_CODE"]


@pytest.mark.parametrize("entity", ENTITIES)
@pytest.mark.parametrize("value", ["x", "ab", "a@b.c", "Anna", "secretvalue123", "DE89370400440532013000"])
def test_mask_never_echoes(value: str, entity: str) -> None:
    out = mask(value, entity)
    assert out != value
    assert len(value) < 4 or value not in out


def test_mask_text_replaces_spans() -> None:
    text = "mail john.doe@example.com or call 555-010-2000"
    out = mask_text(text, [(5, 25, "EMAIL_ADDRESS"), (34, 46, "PHONE_NUMBER")])
    assert out == "mail j***@e***.com or call ***-***-**00"


def test_value_hash_is_keyed_and_normalised() -> None:
    a = value_hash("555-010-2000", "PHONE_NUMBER", key=b"k1" * 16)
    assert a == value_hash("+1 (555) 010 2000", "PHONE_NUMBER", key=b"k1" * 16)
    assert a != value_hash("555-010-2000", "PHONE_NUMBER", key=b"k2" * 16)
    assert "5550102000" not in a
