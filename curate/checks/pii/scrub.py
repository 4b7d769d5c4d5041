"""Scrubbing: replace every detected value in a record by a mask, a typed placeholder, or a
consistent fake.

`curate export --scrub-pii --pii-mode mask|placeholder|fake` calls `Scrubber.scrub_record` per
record. Every string leaf and every object key is scrubbed, whatever its place (roles, names, ids,
tool arguments, unknown formats), not only the turns a check reads, with the same `Detector` the
checks use (it sees through zero-width characters), so a re-check of the output with that
detection finds nothing of the active types. Fake values are chosen so that the detector does
not flag them again: emails and URLs on example.com, fictional 555-01xx phones, Luhn-invalid cards,
never-issued SSNs, checksum-invalid IBANs, documentation IP ranges. Names and places from Faker
do look like names (an NER re-check sees them); secrets always become placeholders.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Literal

from curate.checks.pii.analyzer import Detector
from curate.checks.pii.entities import DEFAULT_ALLOW
from curate.checks.pii.patterns import SECRET_ENTITIES, luhn_ok
from curate.privacy import normalise_value, pii_key

Mode = Literal["mask", "placeholder", "fake"]
MODES: tuple[str, ...] = ("mask", "placeholder", "fake")


class Scrubber:
    """Replaces PII and secrets in records; one instance per exported dataset (fakes stay consistent)."""

    def __init__(
        self,
        mode: Mode = "mask",
        entities: frozenset[str] | None = None,
        score_threshold: float = 0.4,
        allow: frozenset[str] = frozenset(DEFAULT_ALLOW),
        ner: str = "auto",
        secrets: bool = True,
        key: bytes | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown PII mode {mode!r}; use one of {', '.join(MODES)}")
        self.mode = mode
        self.detector = Detector(entities, score_threshold, allow, ner, secrets=secrets)
        self._key = key or pii_key()
        self._fakes: dict[tuple[str, str], str] = {}
        self._faker: Any = None

    @property
    def active_entities(self) -> frozenset[str]:
        return self.detector.active

    @property
    def unavailable_entities(self) -> frozenset[str]:
        return self.detector.unavailable

    def coverage_note(self) -> str | None:
        """A line for the user when some requested types cannot be scrubbed here (never silent)."""
        if not self.detector.unavailable:
            return None
        from curate.checks.pii.analyzer import NER_EXTRA, ner_status

        return (
            f"{', '.join(sorted(self.detector.unavailable))} not scrubbed: {ner_status()[1]}; enable with {NER_EXTRA}"
        )

    def scrub_record(self, data: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """A new record with every detected value replaced, and how many were replaced."""
        return self._walk(data)

    def scrub_text(self, text: str) -> tuple[str, int]:
        spans = self.detector.detect(text)
        if not spans:
            return text, 0
        out, pos = [], 0
        for s in spans:
            out.append(text[pos : s.start])
            out.append(self.replacement(text[s.start : s.end], s.entity))
            pos = s.end
        out.append(text[pos:])
        return "".join(out), len(spans)

    def replacement(self, value: str, entity: str) -> str:
        if self.mode == "placeholder" or (self.mode == "fake" and entity in SECRET_ENTITIES):
            return f"<{entity}>"
        if self.mode == "mask":
            return "".join("*" if c.isalnum() else c for c in value)
        k = (entity, normalise_value(value, entity))
        fake = self._fakes.get(k)
        if fake is None:
            fake = self._fakes[k] = self._fake(entity, k[1])
        return fake

    def _walk(self, node: Any) -> tuple[Any, int]:
        """Every string leaf and every object key, at any depth; a number that is wholly a detected
        value (a card or phone stored as an integer) becomes the replacement string."""
        if isinstance(node, str):
            return self.scrub_text(node)
        if isinstance(node, dict):
            total, out = 0, {}
            for k, v in node.items():
                new_k, nk = self.scrub_text(k) if isinstance(k, str) else (k, 0)
                if nk and new_k in out:  # two keys scrubbed alike: keep both values
                    base, i = new_k, 2
                    while f"{base}#{i}" in out or f"{base}#{i}" in node:
                        i += 1
                    new_k = f"{base}#{i}"
                out[new_k], n = self._walk(v)
                total += n + nk
            return out, total
        if isinstance(node, list):
            total, items = 0, []
            for v in node:
                item, n = self._walk(v)
                items.append(item)
                total += n
            return items, total
        if isinstance(node, int) and not isinstance(node, bool) and abs(node) >= 10**6:
            text = str(node)
            spans = self.detector.detect(text)
            if spans:
                return self.scrub_text(text)
        return node, 0

    def _fake_word(self, word: str, first: bool) -> str:
        k = ("PERSON_WORD", f"{int(first)}{word.lower()}")
        fake = self._fakes.get(k)
        if fake is None:
            self._fake("", k[1])  # seeds the shared Faker from the word
            fake = self._fakes[k] = self._faker.first_name() if first else self._faker.last_name()
        return fake

    def _fake(self, entity: str, norm: str) -> str:
        """A fake chosen by a keyed hash of the value: same value, same fake, in every run."""
        seed = int.from_bytes(hmac.new(self._key, f"{entity}\x1f{norm}".encode(), hashlib.sha256).digest()[:8], "big")
        if self._faker is None:
            from faker import Faker

            self._faker = Faker("en_US")
        f = self._faker
        f.seed_instance(seed)
        r = f.random
        if entity == "EMAIL_ADDRESS":
            return f"{f.user_name()}{r.randint(1, 999)}@example.com"
        if entity == "PHONE_NUMBER":
            return f"({r.randint(201, 989)}) 555-01{r.randint(0, 99):02d}"  # 555-0100..0199: fictional
        if entity == "CREDIT_CARD":
            return _bad_luhn(f"4000{r.randint(0, 10**11 - 1):011d}")
        if entity == "US_SSN":
            return f"{r.randint(100, 899):03d}-00-{r.randint(1, 9999):04d}"  # group 00 is never issued
        if entity == "IBAN_CODE":
            letters = "".join(r.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(8))
            return f"GB00 TEST {letters[:4]} {letters[4:]} {r.randint(0, 9999):04d}"  # check digits 00: invalid
        if entity == "IP_ADDRESS":
            net = r.choice(("192.0.2", "198.51.100", "203.0.113"))  # RFC 5737 documentation ranges
            return f"{net}.{r.randint(1, 254)}"
        if entity == "URL":
            return f"https://example.com/{f.uri_path()}"
        if entity == "PERSON":  # word by word, so "Jane Roe" and a later "Jane" stay the same person
            words = norm.split() or [norm]
            return " ".join(self._fake_word(w, i == 0) for i, w in enumerate(words))
        if entity == "LOCATION":
            return f.city()
        return f"<{entity}>"


def _bad_luhn(body15: str) -> str:
    """16 digits in groups of four whose Luhn check fails, so no card detector accepts them."""
    digits = body15 + "0"
    if luhn_ok(digits):
        digits = body15 + "1"
    return " ".join(digits[i : i + 4] for i in range(0, 16, 4))
