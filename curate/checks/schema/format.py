"""Format detection as findings: records of no known format, and files mixing formats."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from pydantic import Field

from curate.check import DatasetCheck, Params, RecordCheck, RecordRef, RunState
from curate.display import shown
from curate.formats import FORMATS
from curate.model import Hit, Record, Severity


class UnknownFormat(RecordCheck):
    id = "schema.unknown_format"
    description = "A record whose keys match no known format (chat, preference, Alpaca, ShareGPT, text)."
    default_severity = Severity.ERROR
    example = '{"question": "hi", "answer": "hello"}'

    def check(self, record: Record) -> Iterable[Hit]:
        if record.format != "unknown":
            return ()
        keys = ", ".join(shown(k, 30) for k in sorted(record.data)[:8]) or "none"
        return [
            Hit(
                f"unknown record format (keys: {keys})",
                fix="Use messages, instruction/output, conversations, chosen/rejected, prompt/completion, "
                "question/answer or text; or pass --input-format (curate check --help lists the formats).",
            )
        ]


class UnsupportedParams(Params):
    allowed: list[str] = Field(default_factory=lambda: ["openai_chat", "openai_preference"])


class UnsupportedFormat(RecordCheck):
    id = "schema.unsupported_format"
    description = "A record in a format the target does not accept (e.g. Alpaca for an OpenAI upload)."
    default_severity = Severity.ERROR
    Params = UnsupportedParams
    example = '{"instruction": "hi", "output": "hello"}'

    def check(self, record: Record) -> Iterable[Hit]:
        fmt = record.format
        if fmt not in FORMATS or fmt in self.params.allowed:
            return ()
        return [
            Hit(
                f"{fmt} records are not accepted by this target (accepted: {', '.join(self.params.allowed)})",
                fix="Convert the dataset (curate export can write OpenAI chat) or choose another rule set.",
            )
        ]


class MixedFormats(DatasetCheck):
    id = "schema.mixed_formats"
    description = "A file whose records come in more than one format; loaders pick one and fail on the rest."
    default_severity = Severity.WARNING
    example = 'line 1 {"messages": [...]}, line 2 {"instruction": ..., "output": ...}'

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.formats: dict[str, Counter[str]] = defaultdict(Counter)
        self.first: dict[tuple[str, str], tuple[int, str]] = {}

    def observe(self, ref: RecordRef, extracted: Any) -> None:
        if ref.format in ("unknown", "invalid"):
            return
        self.formats[ref.path][ref.format] += 1
        self.first.setdefault((ref.path, ref.format), (ref.line, ref.key))

    def merge(self, other: DatasetCheck) -> None:
        assert isinstance(other, MixedFormats)
        for path, counts in other.formats.items():
            self.formats[path].update(counts)
        for k, v in other.first.items():
            if k not in self.first or v[0] < self.first[k][0]:
                self.first[k] = v

    def finalize(self, run: RunState) -> Iterable[Hit]:
        for path, counts in self.formats.items():
            if len(counts) < 2:
                continue
            main, _ = counts.most_common(1)[0]
            mix = ", ".join(f"{fmt} {n:,}" for fmt, n in counts.most_common())
            for fmt, n in counts.items():
                if fmt == main:
                    continue
                line, key = self.first[(path, fmt)]
                yield Hit(
                    f"file mixes formats ({mix}); first {fmt} record here",
                    path=path,
                    line=line,
                    key=key,
                    data={"formats": dict(counts)},
                    fix=f"Convert the {n:,} {fmt} records to {main}, or split the file.",
                    identity=fmt,
                )


class MinExamplesParams(Params):
    minimum: int | None = Field(default=None, ge=1, description="default: the target's minimum, else 10")


class MinExamples(DatasetCheck):
    id = "schema.min_examples"
    description = "Fewer examples than the target requires (OpenAI: 10)."
    default_severity = Severity.ERROR
    Params = MinExamplesParams
    example = "a file with 5 records"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.counts: Counter[str] = Counter()

    def observe(self, ref: RecordRef, extracted: Any) -> None:
        self.counts[ref.path] += 1

    def merge(self, other: DatasetCheck) -> None:
        assert isinstance(other, MinExamples)
        self.counts.update(other.counts)

    def minimum(self) -> int:
        if self.params.minimum is not None:
            return self.params.minimum
        from curate.targets import target_minimum

        return target_minimum(self.ctx.target) or 10

    def finalize(self, run: RunState) -> Iterable[Hit]:
        need = self.minimum()
        for path in self.ctx.paths:
            n = self.counts.get(path, 0)
            if n < need:
                yield Hit(
                    f"{n} valid examples; the target needs at least {need}",
                    path=path,
                    data={"records": n, "minimum": need},
                    fix="Add examples (50-100 good ones is the usual starting point).",
                )


CHECKS = [UnknownFormat, UnsupportedFormat, MixedFormats, MinExamples]
