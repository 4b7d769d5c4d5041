"""pii.ner_unavailable: say so when PERSON/LOCATION were asked for but could not be checked.

Never degrade silently: without the optional NER model the audit still runs the pattern
recognizers, and this info finding (plus `stats.pii.unavailable_entities`) says what was skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import Field

from curate.check import DatasetCheck, Params, RecordRef, RunState
from curate.model import Hit, Record, Severity


class CoverageParams(Params):
    entities: list[str] = Field(default_factory=lambda: ["PERSON", "LOCATION"], description="NER types expected")


class NerUnavailable(DatasetCheck):
    id = "pii.ner_unavailable"
    description = "PERSON/LOCATION were requested but no NER model is installed, so they were not checked."
    default_severity = Severity.INFO
    Params = CoverageParams
    example = "(any dataset, on a machine without the curate[ner] extra)"

    def extract(self, record: Record) -> Any:
        return None

    def observe(self, ref: RecordRef, extracted: Any) -> None:
        return None

    def merge(self, other: DatasetCheck) -> None:
        return None

    def finalize(self, run: RunState) -> Iterable[Hit]:
        from curate.checks.pii.analyzer import NER_ENTITIES, NER_EXTRA, ner_status

        wanted = [e for e in self.params.entities if e.upper() in NER_ENTITIES]  # type: ignore[attr-defined]
        ok, why = ner_status()
        if wanted and not ok and run.records:
            yield Hit(
                f"{', '.join(wanted)} not checked: {why}",
                data={"entities": wanted, "reason": why},
                fix=f"Install the NER model with {NER_EXTRA}, or disable this rule to accept pattern-only PII checks.",
                identity="ner",
            )
