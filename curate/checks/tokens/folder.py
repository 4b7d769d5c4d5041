"""Counting with a local model folder (`--tokenizer`): one TrainerCounter per process, stats per record."""

from __future__ import annotations

from typing import Any

from curate.checks.tokens.counting import Counts
from curate.checks.tokens.trainer import RenderError, TrainerCounter, TrainerSettings
from curate.display import shown
from curate.model import Record

_counters: dict[tuple[Any, ...], TrainerCounter] = {}


def label_source(settings: dict[str, Any], has_generation: bool) -> str:
    """Which tokens carry labels: the template's generation blocks, else the response and instruction markers
    (Unsloth), else the response marker (TRL), else all."""
    if has_generation:
        return "generation"
    if settings.get("response_template") and settings.get("instruction_template"):
        return "markers"
    if settings.get("response_template"):
        return "marker"
    return "all"


def counter(settings: dict[str, Any], max_length: int | None) -> TrainerCounter:
    from curate.hf_tokenizer import folder

    key = (
        settings["tokenizer"],
        settings.get("tokenizer_digest"),
        max_length,
        settings.get("overflow", "truncate"),
        settings.get("response_template"),
        settings.get("instruction_template"),
    )
    found = _counters.get(key)
    if found is None:
        model = folder(settings["tokenizer"], settings.get("tokenizer_digest"))
        labels = label_source(settings, model.has_generation)
        trainer = TrainerSettings(
            max_length,
            settings.get("overflow", "truncate"),
            labels,
            settings.get("response_template"),
            settings.get("instruction_template"),
        )
        found = _counters[key] = TrainerCounter(model, trainer)
    return found


def measure_with_folder(record: Record, settings: dict[str, Any], max_length: int | None) -> Counts | None:
    """The record's counts with the model folder; None (and stats['template_error']) when its template
    refuses the conversation. Stats columns: tokens, trainable_tokens, trained_tokens, messages."""
    c = counter(settings, max_length)
    conv = record.conversation
    try:
        total, sequences = c.measure(conv)
    except RenderError as exc:
        record.stats["template_error"] = shown(str(exc), 300)
        return None
    trainable = sum(s.trainable for s in sequences)
    messages = len(conv.turns) + (len(conv.rejected_tail()) if conv.rejected else 0)
    counts = Counts(total, trainable, messages, total - trainable, sequences)
    stats = record.stats
    stats["tokens"] = total
    stats["trainable_tokens"] = trainable
    stats["trained_tokens"] = counts.trained
    stats["messages"] = messages
    return counts


def folder_label(settings: dict[str, Any]) -> str:
    """How counts made with the folder are described: its name, exact."""
    from pathlib import Path

    return f"exact, {shown(Path(settings['tokenizer']).name)} chat template + tokenizer"
