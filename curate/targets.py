"""Target models (provider/model): encodings, limits, prices. The figures are data, not code.

The built-in table is `curate/data/models.yaml` (shipped in the wheel); users add or override
entries with their own YAML file (`--models FILE`, or `models = "FILE"` under `[tool.curate]`).
Every figure keeps its source and date so a report can say where a price came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from curate.yamlfile import ConfigError, LineDict, load_yaml

BUILTIN_TABLE = Path(__file__).parent / "data" / "models.yaml"
DEFAULT_ENCODING = "o200k_base"
FIGURES = (
    "example_limit",
    "context",
    "min_examples",
    "training_price",
    "input_price",
    "output_price",
    "ft_input_price",
    "ft_output_price",
    "parameters",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    url: str
    date: str
    note: str | None = None


class Model(_Strict):
    """One fine-tuning target; prices are per 1M tokens in `currency`, None when unknown.

    `source`/`date` are the entry's defaults; `sources` maps a figure to its own source (after
    loading, every figure that has a value has an entry there).
    """

    provider: str
    model: str
    aliases: list[str] = []
    encoding: str = DEFAULT_ENCODING
    tokenizer: str = "exact"  # "exact", or the model's own tokenizer when counts are estimates
    currency: str = "USD"
    example_limit: int | None = None
    context: int | None = None
    min_examples: int | None = None
    training_price: float | None = None
    input_price: float | None = None
    output_price: float | None = None
    ft_input_price: float | None = None
    ft_output_price: float | None = None
    parameters: float | None = None
    source: str | None = None
    date: str | None = None
    sources: dict[str, Source] = {}

    @property
    def name(self) -> str:
        return f"{self.provider}/{self.model}"

    @property
    def exact(self) -> bool:
        """True when `encoding` is the model's own tokenizer; otherwise counts are estimates."""
        return self.tokenizer == "exact"

    @property
    def limit(self) -> int | None:
        """Tokens per example beyond which the provider truncates (the context when no limit is known)."""
        return self.example_limit or self.context

    def cite(self, figure: str) -> Source | None:
        """Where one figure comes from, and when."""
        return self.sources.get(figure)

    def count_label(self) -> str:
        """How token counts for this model should be described wherever they appear."""
        if self.exact:
            return self.encoding
        return f"estimate with {self.encoding}; model tokenizer: {self.tokenizer}"


class SelfHosted(_Strict):
    """Assumptions of the self-hosted estimate (printed with it)."""

    gpu: str
    peak_tflops: float
    mfu_full: float
    mfu_lora: float
    gpu_hour_price: float
    source: str
    date: str


class _TableSpec(_Strict):
    version: int = 1
    currency: str = "USD"
    self_hosted: SelfHosted | None = None
    models: list[Model] = []


@dataclass(frozen=True, slots=True)
class ModelTable:
    models: tuple[Model, ...]
    self_hosted: SelfHosted | None
    files: tuple[str, ...]

    def find(self, target: str | None) -> Model | None:
        """A model by `provider/model`, an alias, or a bare model name when it is unambiguous."""
        if not target:
            return None
        wanted = target.strip().lower()
        provider, _, name = wanted.rpartition("/")
        hits = []
        for m in self.models:
            names = {m.model.lower(), *(a.lower() for a in m.aliases)}
            if name in names and (not provider or provider == m.provider.lower()):
                hits.append(m)
        if not hits and provider:  # fine-tuned ids like openai/ft:gpt-4o-mini:org::id
            base = name.removeprefix("ft:").split(":")[0]
            hits = [m for m in self.models if m.provider.lower() == provider and base in {m.model, *m.aliases}]
        return hits[0] if len(hits) == 1 or (hits and provider) else None

    def names(self) -> list[str]:
        return [m.name for m in self.models]


def _parse(path: Path) -> tuple[_TableSpec, Any]:
    doc = load_yaml(path)
    if not isinstance(doc, dict):
        raise ConfigError("a model table must be a mapping with a `models:` list", path, 1)
    try:
        return _TableSpec.model_validate(doc), doc
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = err["loc"]
        line = _line(doc, loc)
        what = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise ConfigError(f"{'.'.join(str(p) for p in loc)}: {what}", path, line) from None


def _line(doc: Any, loc: tuple[Any, ...]) -> int | None:
    node, line = doc, getattr(doc, "line", None)
    for part in loc:
        if isinstance(node, LineDict) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            line = getattr(node, "line", line)
        else:
            break
    return line


def _resolved(m: Model, currency: str) -> Model:
    """The entry with its currency and a source for every figure it gives."""
    sources = dict(m.sources)
    if m.source:
        for fig in FIGURES:
            if getattr(m, fig) is not None and fig not in sources:
                sources[fig] = Source(url=m.source, date=m.date or "unknown")
    return m.model_copy(update={"currency": currency, "sources": sources})


def load_table(extra: tuple[str, ...] | list[str] = ()) -> ModelTable:
    """The built-in table plus user files; a user entry replaces the built-in one of the same name."""
    return _load_table(tuple(str(p) for p in extra))


@lru_cache(maxsize=8)
def _load_table(extra: tuple[str, ...]) -> ModelTable:
    from curate.tokenizer import ENCODINGS, MISTRAL_ENCODINGS

    known = (*ENCODINGS, *MISTRAL_ENCODINGS)
    models: dict[str, Model] = {}
    self_hosted = None
    files = []
    for path in (BUILTIN_TABLE, *(Path(p) for p in extra)):
        spec, doc = _parse(path)
        files.append(str(path))
        for i, m in enumerate(spec.models):
            if m.encoding not in known:
                raise ConfigError(
                    f"models.{i}: encoding must be one of {', '.join(known)}", path, _line(doc, ("models", i))
                )
            model = _resolved(m, spec.currency)
            models[model.name.lower()] = model
        self_hosted = spec.self_hosted or self_hosted
    return ModelTable(tuple(models.values()), self_hosted, tuple(files))


def find_model(target: str | None) -> Model | None:
    """The built-in (or project) table's entry for a rule set's target, None when unknown."""
    if not target:
        return None
    try:
        return load_table(_project_tables()).find(target)
    except ConfigError:
        return load_table().find(target)


def _project_tables() -> tuple[str, ...]:
    """`models = "FILE"` under [tool.curate] (relative to its pyproject.toml); none when unreadable,
    since `curate check` reports a bad pyproject itself."""
    from curate.pyproject import find_section

    try:
        found = find_section()
    except ConfigError:
        return ()
    if found is None or not isinstance(found[0].get("models"), str):
        return ()
    return (str((found[1].parent / found[0]["models"]).resolve()),)


def encoding_for(target: str | None) -> tuple[str, Model | None]:
    """The encoding to count with for a target: the model's, else o200k_base (recent OpenAI models)."""
    model = find_model(target)
    return (model.encoding if model else DEFAULT_ENCODING), model


def target_minimum(target: str | None) -> int | None:
    """Fewest examples the target's provider accepts (used by schema.min_examples)."""
    model = find_model(target)
    if model is not None and model.min_examples is not None:
        return model.min_examples
    if target and target.split("/", 1)[0].lower() == "openai":
        return 10
    return None
