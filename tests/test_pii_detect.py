"""Detection: what must be found, what must not (ids, dates, versions, code), allow-list, offline."""

from __future__ import annotations

import pytest

from curate.checks.pii.analyzer import Detector, build_analyzer
from curate.checks.pii.patterns import SECRET_ENTITIES, candidate_entities, find_secrets


@pytest.fixture(scope="module")
def det() -> Detector:
    return Detector(ner="off", secrets=True, allow=frozenset({"example.com", "support@acme.io"}))


def _found(det: Detector, text: str) -> list[tuple[str, str]]:
    return [(s.entity, text[s.start : s.end]) for s in det.detect(text)]


POSITIVES = [
    ("mail me at jane.roe@gmail.com today", "EMAIL_ADDRESS", "jane.roe@gmail.com"),
    ("call me at (415) 555-2671 tonight", "PHONE_NUMBER", "(415) 555-2671"),
    ("my phone: +44 20 7946 0958", "PHONE_NUMBER", "+44 20 7946 0958"),
    ("my phone is 4155552671", "PHONE_NUMBER", "4155552671"),
    ("card 4111 1111 1111 1111 declined", "CREDIT_CARD", "4111 1111 1111 1111"),
    ("my visa number is 4539578763621486", "CREDIT_CARD", "4539578763621486"),
    ("SSN 536-22-8726 on the form", "US_SSN", "536-22-8726"),
    ("iban DE89 3704 0044 0532 0130 00 please", "IBAN_CODE", "DE89 3704 0044 0532 0130 00"),
    ("login from 84.17.33.9 at night", "IP_ADDRESS", "84.17.33.9"),
    ("host 2a00:1450:4001:82a::200e is down", "IP_ADDRESS", "2a00:1450:4001:82a::200e"),
    (
        "see https://shop.io/reset?email=jane%40gmail.com&x=1 now",
        "URL",
        "https://shop.io/reset?email=jane%40gmail.com&x=1",
    ),
    ("key sk-proj-Abc123def456GHI789jkl012mno ok", "OPENAI_API_KEY", "sk-proj-Abc123def456GHI789jkl012mno"),
    ("id AKIAZ3X7Q2LMNB4KD9PQ", "AWS_ACCESS_KEY", "AKIAZ3X7Q2LMNB4KD9PQ"),
    (
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzKEYabcde",
        "AWS_SECRET_KEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzKEYabcde",
    ),
    ("token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "GITHUB_TOKEN", "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"),
    (
        "bot xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUv",
        "SLACK_TOKEN",
        "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUv",
    ),
    ("Authorization: Bearer a1B2c3D4e5F6g7H8i9J0k1L2", "BEARER_TOKEN", "a1B2c3D4e5F6g7H8i9J0k1L2"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N", "JWT", None),
    ("postgres://admin:s3cretPw9@db.internal:5432/app", "URL_PASSWORD", "s3cretPw9"),
    (
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
        "PRIVATE_KEY",
        None,
    ),
]


@pytest.mark.parametrize(("text", "entity", "value"), POSITIVES)
def test_finds(det: Detector, text: str, entity: str, value: str | None) -> None:
    found = _found(det, text)
    assert any(e == entity and (value is None or v == value) for e, v in found), found


NEGATIVES = [
    "Upgrade to version 1.2.3.4 released 2023-10-15 at 12:30:45",
    "Order 1234567890 shipped; order id 4539578763621486 ref",
    "Request 550e8400-e29b-41d4-a716-446655440000 at 1697371845123",
    "Timestamp 20231015123045 epoch 1697371845 on 10/15/2023",
    "for i in range(10): x = 2020-2021; print(3.14159265358979)",
    "Python 3.11.7, numpy==1.26.4, node v20.10.0, build 10.0.19045.3693",
    "Price $1,234,567.89, 1.000.000 units, ISBN 978-3-16-148410-0",
    "ticket #4829384712 and case 5512-3345-9981",
    "Meeting 12.03.2024 09:00-10:30, ratio 16:9, time 14:05:33.123456",
    "fictional numbers 555-0123 and (212) 555-0199",
    "local 127.0.0.1, lan 192.168.1.20, docs 203.0.113.7, loop ::1",
    "SKU 4006381333931 barcode 5901234123457 checksum 0x1F2E3D4C",
    "tracking 1Z999AA10123456784 and invoice INV-2023-000123",
    "placeholders sk-xxxxxxxxxxxxxxxxxxxxxxxx, AKIAIOSFODNN7EXAMPLE, Bearer <YOUR_TOKEN_HERE>",
    "postgres://user:password@localhost/db and https://user:${DB_PASSWORD}@host/x",
    "allowed: support@acme.io and anyone@example.com and https://www.example.com/?email=a%40example.com",
    "hash 9f8e7d6c5b4a39281706f5e4d3c2b1a0 and sha 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_does_not_flag(det: Detector, text: str) -> None:
    assert _found(det, text) == []


def test_spans_index_the_text(det: Detector) -> None:
    text = "Hi!\nMy email is a.b@corp.io and my card 5555 5555 5555 4444."
    spans = det.detect(text)
    assert [(s.entity, text[s.start : s.end]) for s in spans] == [
        ("EMAIL_ADDRESS", "a.b@corp.io"),
        ("CREDIT_CARD", "5555 5555 5555 4444"),
    ]
    assert all(0 < s.score <= 1 for s in spans)


def test_entity_list_and_threshold() -> None:
    text = "mail jane.roe@gmail.com or call (415) 555-2671"
    only_email = Detector(frozenset({"EMAIL_ADDRESS"}), ner="off")
    assert [s.entity for s in only_email.detect(text)] == ["EMAIL_ADDRESS"]
    strict = Detector(frozenset({"EMAIL_ADDRESS", "PHONE_NUMBER"}), score_threshold=0.9, ner="off")
    assert [s.entity for s in strict.detect(text)] == ["EMAIL_ADDRESS"]  # phone scores 0.75 with "call"


def test_prefilter_skips_plain_text() -> None:
    assert candidate_entities("Thanks, that solved the problem. See you on Monday.") == set()
    assert "EMAIL_ADDRESS" in candidate_entities("x@y.com")
    assert "PHONE_NUMBER" in candidate_entities("+1 415 555 2671")


def test_secret_types_cover_the_issue() -> None:
    for name in (
        "OPENAI_API_KEY",
        "AWS_ACCESS_KEY",
        "GITHUB_TOKEN",
        "SLACK_TOKEN",
        "PRIVATE_KEY",
        "JWT",
        "BEARER_TOKEN",
        "URL_PASSWORD",
    ):
        assert name in SECRET_ENTITIES
    assert find_secrets("nothing to see here") == []


def test_offline_no_download(monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    """Building the engine and validating an email never touches the network."""
    import socket

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    build_analyzer.cache_clear()
    det = Detector(frozenset({"EMAIL_ADDRESS"}), ner="off")
    assert [s.entity for s in det.detect("write to someone@university.ac.uk")] == ["EMAIL_ADDRESS"]
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err


def test_detect_many_matches_detect() -> None:
    """The batched path (spaCy pipe when the NER model is installed) finds exactly what detect does."""
    det = Detector(ner="auto", secrets=True)
    texts = ["Jane Roe moved to Leeds; mail jane.roe@gmail.com", "", "call (415) 555-2671", "Thanks, Paul!"]
    assert det.detect_many(texts) == [det.detect(t) for t in texts]
    assert any(s.entity == "EMAIL_ADDRESS" for s in det.detect_many(texts)[0])


@pytest.mark.parametrize(
    ("entity", "value", "ok"),
    [
        ("PERSON", "Jane Roe", True),
        ("LOCATION", "Leeds", True),
        ("LOCATION", "range(1000000", False),
        ("LOCATION", "10/15/2023", False),
        ("LOCATION", "checksum", False),
        ("PERSON", "{v", False),
    ],
)
def test_ner_spans_must_look_like_names(entity: str, value: str, ok: bool) -> None:
    from curate.checks.pii.patterns import accept

    text = f"x {value} y"
    assert accept(entity, value, text, 2, 2 + len(value)) is ok


@pytest.mark.parametrize(
    "text",
    [
        # an example domain in another spelling (the default allow-list has the word "example")
        "an address matching this regex would be John.Doe-123%+@example-domain.com or jean@exemple.fr",
        # a map URL's path has an '@' and digits, not a mailbox
        "see https://www.google.com/maps/place/Some+Street/@37.3362725,-122.0342946,17z/data=!3m1 for it",
        # digit runs and addresses inside unfenced code are constants, not someone's phone or IP
        "Set it up like this:\nserver = Server(host='84.17.33.9', port=8080)\nserver.call(415, 5552671)\nserver.run()",
    ],
)
def test_code_urls_and_example_domains_are_not_personal_data(text: str) -> None:
    from curate.checks.pii.entities import DEFAULT_ALLOW

    det = Detector(ner="off", allow=frozenset(DEFAULT_ALLOW))
    assert [(s.entity, text[s.start : s.end]) for s in det.detect(text)] == []
