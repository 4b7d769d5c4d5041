"""pii.entities and pii.secrets: personal data and credentials in the text a model trains on.

Both are dataset checks so that `extract` (the expensive part: pre-filter, presidio, filters)
runs per record in the engine's worker processes and returns only small tuples (field, span,
entity, score, masked form, keyed hash); `finalize` turns them into findings and `summary` says
which entity types were active. No raw value ever leaves `extract`.
"""

from __future__ import annotations

import abc
from collections import Counter
from collections.abc import Iterable
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from curate.check import DatasetCheck, Params, RecordRef, RunState
from curate.model import Hit, Record, Severity
from curate.privacy import mask, value_hash

# RFC 2606/6761 names, and domains that in training data are almost always placeholders
DEFAULT_ALLOW = [
    "example.com",
    "example.org",
    "example.net",
    "example",
    "test",
    "invalid",
    "localhost",
    "yourdomain.com",
    "domain.com",
    "company.com",
    "mycompany.com",
    "email.com",
]

# (field, role, start, end, entity, score, masked, value_hash)
Found = tuple[str, str, int, int, str, float, str, str]


class PiiParams(Params):
    entities: list[str] | None = Field(
        None, description="entity types to report; null: the pattern types (PERSON/LOCATION are pii.names)"
    )
    score_threshold: float = Field(0.4, ge=0.0, le=1.0, description="minimum detection score (0-1)")
    allow: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ALLOW),
        description="values or domains that are not PII (a public support address, example.com)",
    )
    ner: Literal["auto", "off", "require"] = Field(
        "auto", description="PERSON/LOCATION via the optional NER model: auto (if installed), off, require"
    )
    ignore_private_ips: bool = Field(True, description="skip private, loopback and documentation IP ranges")
    organisation_contacts: bool = Field(
        False,
        description="also report an organisation's published contact: role addresses (info@, press@) and phone "
        "numbers introduced as a business line ('call us at', 'for reservations call')",
    )
    max_per_record: int = Field(50, ge=1, description="findings per record at most (the count is kept)")

    @field_validator("entities")
    @classmethod
    def _known(cls, v: list[str] | None) -> list[str] | None:
        from curate.checks.pii.analyzer import ALL_ENTITIES
        from curate.checks.pii.patterns import SECRET_ENTITIES

        return _check_names(v, (*ALL_ENTITIES, *SECRET_ENTITIES))


class SecretParams(Params):
    entities: list[str] | None = Field(None, description="secret types to report; null: all")
    allow: list[str] = Field(default_factory=list, description="values that are known not to be secrets")
    max_per_record: int = Field(50, ge=1, description="findings per record at most (the count is kept)")

    @field_validator("entities")
    @classmethod
    def _known(cls, v: list[str] | None) -> list[str] | None:
        from curate.checks.pii.patterns import SECRET_ENTITIES

        return _check_names(v, SECRET_ENTITIES)


def _check_names(v: list[str] | None, known: tuple[str, ...]) -> list[str] | None:
    """Entity names are case-insensitive; an unknown one is a rules-file error naming the choices."""
    if v is None:
        return v
    bad = [e for e in v if e.upper() not in known]
    if bad:
        raise ValueError(f"unknown entity type {bad[0]!r}; known: {', '.join(sorted(known))}")
    return [e.upper() for e in v]


class _SpanCheck(DatasetCheck, abc.ABC):
    """Shared machinery: detect per turn in `extract`, keep small tuples, report in `finalize`."""

    stat: ClassVar[str] = "pii"
    fix: ClassVar[str] = ""
    cache_extract: ClassVar[bool] = True  # extract holds only masked forms and keyed hashes

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._detector: Any = None
        self._found: list[tuple[str, int, str, tuple[Found, ...]]] = []
        self._by_entity: Counter[str] = Counter()
        self._records = 0
        self._scanned = 0

    def __getstate__(self) -> dict[str, Any]:
        state = {
            k: getattr(self, k) for k in ("params", "ctx", "roles", "_found", "_by_entity", "_records", "_scanned")
        }
        state["_detector"] = None  # rebuilt per process: presidio engines do not pickle
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            setattr(self, k, v)

    @abc.abstractmethod
    def make_detector(self) -> Any:
        """The detector this check runs (built once per process)."""

    def coverage(self) -> dict[str, Any]:
        """What ran and what could not (and how to enable it): the report's answer to "was X checked?"."""
        from curate.checks.pii.analyzer import NER_EXTRA, ner_status

        det = self.detector
        ok, why = ner_status()
        out: dict[str, Any] = {
            "active_entities": sorted(det.active),
            "unavailable_entities": sorted(det.unavailable),
            "ner": why if ok else f"off: {why}",
            "by_entity": dict(self._by_entity.most_common()),
        }
        if det.unavailable:
            out["how_to_enable"] = f"{', '.join(sorted(det.unavailable))} need an NER model: {NER_EXTRA}"
        return out

    @property
    def detector(self) -> Any:
        if self._detector is None:
            self._detector = self.make_detector()
        return self._detector

    def extract(self, record: Record) -> tuple[Found, ...]:
        conv = record.conversation
        texts: list[tuple[str, str, str]] = []  # (field, role, text)
        for turn in (*conv.turns, *conv.rejected):
            if self.roles is not None and turn.role not in self.roles:
                continue
            texts.append((turn.field, turn.role, turn.text))
            message = turn.field.rsplit("/", 1)[0]  # tool call arguments: point at their message
            texts += [(message, f"{turn.role} tool call", c.arguments) for c in turn.tool_calls if c.arguments]
        out: list[Found] = []
        for (field, role, text), spans in zip(texts, self.detector.detect_many([t for _, _, t in texts]), strict=True):
            for s in spans:
                value = text[s.start : s.end]
                masked, vhash = mask(value, s.entity), value_hash(value, s.entity)
                out.append((field, role, s.start, s.end, s.entity, s.score, masked, vhash))
        record.stats[self.stat] = record.stats.get(self.stat, 0) + len(out)
        return tuple(out)

    def observe(self, ref: RecordRef, extracted: Any) -> None:
        self._scanned += 1
        if not extracted:
            return
        self._records += 1
        self._by_entity.update(f[4] for f in extracted)
        self._found.append((ref.path, ref.line, ref.key, extracted))

    def merge(self, other: DatasetCheck) -> None:
        assert isinstance(other, _SpanCheck)
        self._found.extend(other._found)
        self._by_entity.update(other._by_entity)
        self._records += other._records
        self._scanned += other._scanned

    def notices(self) -> list[str]:
        """Entity types this machine cannot check (no NER model): said once per run, never silent,
        and not a finding (nothing is wrong with the data)."""
        unavailable = sorted(self.detector.unavailable)
        if not unavailable:
            return []
        from curate.checks.pii.analyzer import NER_EXTRA, ner_status

        names, why = ", ".join(unavailable), ner_status()[1]
        how = "" if NER_EXTRA in why else f"; {NER_EXTRA} installs the model"
        return [f"{names} not checked: {why}{how}; or drop {names} from this rule"]

    def finalize(self, run: RunState) -> Iterable[Hit]:
        limit = self.params.max_per_record  # type: ignore[attr-defined]
        for path, line, key, found in self._found:
            seen: Counter[tuple[str, str]] = Counter()
            for i, (field, role, start, end, entity, score, masked, vhash) in enumerate(found):
                n = seen[(field, entity)]
                seen[(field, entity)] += 1
                if i >= limit:
                    yield Hit(
                        f"{len(found) - limit} more values not listed", path=path, line=line, key=key, identity="more"
                    )
                    break
                yield Hit(
                    f"{entity} {masked} in {role or 'text'} text (chars {start}-{end})",
                    field=field,
                    data={
                        "entity": entity,
                        "start": start,
                        "end": end,
                        "score": score,
                        "masked": masked,
                        "value_hash": vhash,
                    },
                    fix=self.fix,
                    path=path,
                    line=line,
                    key=key,
                    identity=f"{entity}:{n}",  # ordinal, not value: portable baselines, nothing to reverse
                )


class PiiEntities(_SpanCheck):
    """Detects with presidio's pattern recognizers (email, phone, card with Luhn, US SSN, IBAN, IP)
    on an offline engine, plus URLs that carry personal data; PERSON and LOCATION need the optional
    NER model (pip install 'curate[ner]'). A cheap pre-filter decides which texts presidio sees, and
    filters drop ids, dates, versions, timestamps and code that look like phones or cards."""

    id = "pii.entities"
    description = (
        "Personal data (emails, phones, cards, SSNs, IBANs, IPs, personal URLs, names) a model could memorise."
    )
    default_severity = Severity.WARNING
    Params = PiiParams
    example = (
        '{"messages": [{"role": "user", "content": "I am jane.roe@gmail.com, call +1 415 555 2671"}, '
        '{"role": "assistant", "content": "ok"}]}'
    )
    stat = "pii"
    fix = "Remove or scrub the value (curate export --scrub-pii), or allow-list it if it is public."

    def make_detector(self) -> Any:
        from curate.checks.pii.analyzer import Detector

        p: PiiParams = self.params  # type: ignore[assignment]
        from curate.checks.pii.analyzer import PATTERN_ENTITIES

        return Detector(
            entities=frozenset(p.entities if p.entities is not None else PATTERN_ENTITIES),
            score_threshold=p.score_threshold,
            allow=frozenset(p.allow),
            ner=p.ner,
            ignore_private_ips=p.ignore_private_ips,
            organisation_contacts=p.organisation_contacts,
        )

    def summary(self) -> dict[str, Any]:
        return {**self.coverage(), "records_scanned": self._scanned, "records_with_pii": self._records}

    @classmethod
    def explain_notes(cls) -> str:
        """Which entity types run on this machine and how to enable the rest (for `rules explain`)."""
        from curate.checks.pii.analyzer import NER_EXTRA, PATTERN_ENTITIES, ner_status

        ok, why = ner_status()
        lines = [f"pattern types (always active): {', '.join(PATTERN_ENTITIES)}", f"NER: {why}"]
        lines.append("PERSON, LOCATION: rule pii.names" if ok else f"PERSON, LOCATION are not checked; {NER_EXTRA}")
        return "\n".join(lines)


class NamesParams(Params):
    entities: list[str] = Field(default_factory=lambda: ["PERSON", "LOCATION"], description="PERSON and/or LOCATION")
    score_threshold: float = Field(0.5, ge=0.0, le=1.0, description="minimum NER score (0-1)")
    allow: list[str] = Field(default_factory=list, description="names that are public (your company, your product)")
    ner: Literal["auto", "require"] = Field("auto", description="require: fail the rule when no NER model is installed")
    max_per_record: int = Field(20, ge=1, description="findings per record at most (the count is kept)")

    @field_validator("entities")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        from curate.checks.pii.analyzer import NER_ENTITIES

        return _check_names(v, NER_ENTITIES) or []


class PiiNames(_SpanCheck):
    """Runs spaCy NER through presidio (the optional `curate[ner]` extra; weights verified by sha256
    before loading). Noisy by nature (public figures, book titles, product names are names too),
    hence info by default and its own rule. Without the model it reports, once, that these types
    were not checked, and `stats.pii.names.unavailable_entities` says so too."""

    id = "pii.names"
    description = "Names of people and places (NER): personal data, but noisy; needs pip install 'curate[ner]'."
    default_severity = Severity.INFO
    Params = NamesParams
    example = (
        '{"messages": [{"role": "user", "content": "I am Jane Roe from Leeds"}, '
        '{"role": "assistant", "content": "hi"}]}'
    )
    stat = "names"
    fix = "Replace the name with a placeholder or a fake (curate export --scrub-pii --pii-mode fake)."

    def make_detector(self) -> Any:
        from curate.checks.pii.analyzer import Detector

        p: NamesParams = self.params  # type: ignore[assignment]
        return Detector(frozenset(p.entities), p.score_threshold, frozenset(p.allow), ner=p.ner)

    def summary(self) -> dict[str, Any]:
        return {"names": {**self.coverage(), "records_with_names": self._records}}

    @classmethod
    def explain_notes(cls) -> str:
        from curate.checks.pii.analyzer import NER_EXTRA, ner_status

        ok, why = ner_status()
        return f"NER: {why}" + ("" if ok else f"\nPERSON, LOCATION are not checked here; enable them with {NER_EXTRA}")


class PiiSecrets(_SpanCheck):
    """Regexes for credentials presidio lacks: OpenAI/Anthropic, AWS, GitHub, GitLab, Slack, Google
    and Stripe keys, private key blocks, JWTs, bearer tokens and passwords in URLs. Obvious
    placeholders (sk-xxxx, <token>, ...EXAMPLE) are skipped."""

    id = "pii.secrets"
    description = "API keys, tokens, private keys and passwords in text: a trained-in secret can be extracted."
    default_severity = Severity.ERROR
    Params = SecretParams
    example = (
        '{"messages": [{"role": "user", "content": "my key is AKIAZ3X7Q2LMNB4KD9PQ"}, '
        '{"role": "assistant", "content": "ok"}]}'
    )
    stat = "secrets"
    fix = "Revoke the credential, then remove or scrub it (curate export --scrub-pii)."

    def make_detector(self) -> Any:
        from curate.checks.pii.analyzer import Detector
        from curate.checks.pii.patterns import SECRET_ENTITIES

        p: SecretParams = self.params  # type: ignore[assignment]
        ents = frozenset(p.entities) if p.entities is not None else frozenset(SECRET_ENTITIES)
        return Detector(entities=ents, score_threshold=0.0, allow=frozenset(p.allow), ner="off")

    def summary(self) -> dict[str, Any]:
        return {
            "secret_types": sorted(self.detector.active),
            "records_with_secrets": self._records,
            "secrets_by_type": dict(self._by_entity.most_common()),
        }
