"""Cost arithmetic, pure: epochs, billed tokens, price; self-hosted GPU-hours; few-shot break-even.

Nothing here reads files or counts tokens: callers pass per-example token counts and a Model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from curate.targets import Model, SelfHosted

# OpenAI cookbook (chat fine-tuning data prep): aim for 3 epochs, but see at least 100 and at most
# 25,000 examples in total, with 1..25 epochs.
TARGET_EPOCHS = 3
MIN_TARGET_EXAMPLES = 100
MAX_TARGET_EXAMPLES = 25_000
MIN_EPOCHS = 1
MAX_EPOCHS = 25

FULL_FLOPS_PER_PARAM_TOKEN = 6  # forward 2NT + backward 4NT
LORA_FLOPS_PER_PARAM_TOKEN = 4  # frozen base: forward 2NT + activation gradients 2NT, no weight gradients


def auto_epochs(n_examples: int) -> int:
    """The cookbook's default: 3 epochs, stretched or shrunk to 100..25,000 example-epochs."""
    if n_examples <= 0:
        return 0
    epochs = TARGET_EPOCHS
    if n_examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        epochs = min(MAX_EPOCHS, MIN_TARGET_EXAMPLES // n_examples)
    elif n_examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        epochs = max(MIN_EPOCHS, MAX_TARGET_EXAMPLES // n_examples)
    return epochs


def parse_epochs(value: str | int) -> int | None:
    """`auto` -> None; a positive integer otherwise (ValueError when it is neither)."""
    if isinstance(value, int):
        n = value
    elif value.strip().lower() == "auto":
        return None
    else:
        n = int(value)
    if n < 1:
        raise ValueError("epochs must be at least 1")
    return n


@dataclass(frozen=True, slots=True)
class Estimate:
    provider: str
    model: str
    encoding: str
    exact: bool  # False: counted with a stand-in tiktoken encoding (an estimate)
    epochs: int
    tokens_per_epoch: int
    trained_tokens: int
    price_per_million: float | None
    cost: float | None
    currency: str
    truncated_examples: int
    limit: int | None
    examples: int
    price_source: str | None
    price_date: str | None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["cost"] = None if self.cost is None else round(self.cost, 6)
        return out


def estimate(model: Model, lengths: Sequence[int], epochs: int | None = None) -> Estimate:
    """Billed training tokens and cost: each example capped at the model's limit, times the epochs."""
    n = len(lengths)
    ep = auto_epochs(n) if epochs is None else epochs
    limit = model.limit
    if limit:
        per_epoch = sum(x if x < limit else limit for x in lengths)
        truncated = sum(1 for x in lengths if x > limit)
    else:
        per_epoch, truncated = sum(lengths), 0
    trained = per_epoch * ep
    price = model.training_price
    src = model.cite("training_price")
    return Estimate(
        provider=model.provider,
        model=model.model,
        encoding=model.encoding,
        exact=model.exact,
        epochs=ep,
        tokens_per_epoch=per_epoch,
        trained_tokens=trained,
        price_per_million=price,
        cost=None if price is None else trained / 1_000_000 * price,
        currency=model.currency,
        truncated_examples=truncated,
        limit=limit,
        examples=n,
        price_source=src.url if src else None,
        price_date=src.date if src else None,
    )


@dataclass(frozen=True, slots=True)
class SelfHostedEstimate:
    model: str
    parameters: float
    trained_tokens: int
    method: str  # "full" or "lora"
    flops: float
    gpu: str
    mfu: float
    gpu_hours: float
    gpu_hour_price: float
    cost: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def self_hosted(
    model: Model,
    trained_tokens: int,
    hw: SelfHosted,
    method: str,
    mfu: float | None = None,
    gpu_hour_price: float | None = None,
) -> SelfHostedEstimate | None:
    """GPU-hours from FLOPs: 6·N·T for full fine-tuning, 4·N·T for LoRA, at an assumed MFU."""
    if not model.parameters:
        return None
    per = FULL_FLOPS_PER_PARAM_TOKEN if method == "full" else LORA_FLOPS_PER_PARAM_TOKEN
    util = mfu if mfu is not None else (hw.mfu_full if method == "full" else hw.mfu_lora)
    price = gpu_hour_price if gpu_hour_price is not None else hw.gpu_hour_price
    flops = per * model.parameters * trained_tokens
    hours = flops / (hw.peak_tflops * 1e12 * util) / 3600
    return SelfHostedEstimate(
        model.name, model.parameters, trained_tokens, method, flops, hw.gpu, util, hours, price, hours * price
    )


@dataclass(frozen=True, slots=True)
class BreakEven:
    """When fine-tuning pays for itself against putting `shots` examples in every prompt."""

    model: str
    shots: int
    fewshot_tokens_per_request: float
    saving_per_request: float | None  # currency; None when prices are unknown
    requests: int | None  # None: never (or unknown)
    reason: str

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["fewshot_tokens_per_request"] = round(self.fewshot_tokens_per_request, 2)
        if self.saving_per_request is not None:
            out["saving_per_request"] = round(self.saving_per_request, 8)
        return out


def break_even(
    model: Model,
    training_cost: float | None,
    shots: int,
    example_tokens: float,
    prompt_tokens: float,
    completion_tokens: float,
) -> BreakEven:
    """Requests until `training_cost` is repaid.

    Few-shot: each request also sends `shots` examples (example_tokens each) at the base input price.
    Fine-tuned: no examples, but the request's own prompt and completion are billed at the fine-tuned
    rates, which some providers set higher. Saving per request = the first minus that premium.
    """
    extra = shots * example_tokens
    if training_cost is None or model.input_price is None:
        return BreakEven(model.name, shots, extra, None, None, "inference prices unknown for this model")
    ft_in = model.ft_input_price if model.ft_input_price is not None else model.input_price
    out = model.output_price or 0.0
    ft_out = model.ft_output_price if model.ft_output_price is not None else out
    fewshot_cost = extra * model.input_price / 1e6
    premium = (prompt_tokens * (ft_in - model.input_price) + completion_tokens * (ft_out - out)) / 1e6
    saving = fewshot_cost - premium
    if saving <= 0:
        return BreakEven(
            model.name,
            shots,
            extra,
            saving,
            None,
            "never: the fine-tuned model's higher rates cost more than the examples",
        )
    return BreakEven(model.name, shots, extra, saving, max(1, math.ceil(training_cost / saving)), "")


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), on already sorted values."""
    if not sorted_values:
        return 0.0
    k = (len(sorted_values) - 1) * p / 100
    lo = math.floor(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def describe(values: Sequence[int]) -> dict[str, Any]:
    """count, total, min, max, mean, median and true p5/p95/p99 of a list of counts."""
    s = sorted(values)
    n = len(s)
    if not n:
        return {"count": 0, "total": 0}
    return {
        "count": n,
        "total": sum(s),
        "min": s[0],
        "max": s[-1],
        "mean": round(sum(s) / n, 2),
        "median": round(percentile(s, 50), 2),
        "p5": round(percentile(s, 5), 2),
        "p95": round(percentile(s, 95), 2),
        "p99": round(percentile(s, 99), 2),
    }
