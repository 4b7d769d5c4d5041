"""The options `check` and `cost` share to count like the trainer: --tokenizer, --max-length, --overflow,
--response-template, --instruction-template. The model folder is loaded here once, so a missing or broken
one exits 2 at once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from curate.cli.common import fail

TokenizerOpt = Annotated[
    Optional[str],
    typer.Option(
        "--tokenizer",
        help="Local Hugging Face model folder (tokenizer.json + tokenizer_config.json with its chat_template): "
        "count exactly as the trainer renders and tokenizes.",
    ),
]
MaxLengthOpt = Annotated[
    Optional[int],
    typer.Option("--max-length", help="Trainer's maximum sequence length (default: the target's limit).", min=1),
]
OverflowOpt = Annotated[
    str, typer.Option("--overflow", help="What the trainer does with longer sequences: truncate | drop.")
]
ResponseTemplateOpt = Annotated[
    Optional[str],
    typer.Option(
        "--response-template",
        help="Response marker (TRL completion-only collator, Unsloth train_on_responses_only) when the chat "
        "template has no {% generation %} blocks.",
    ),
]

InstructionTemplateOpt = Annotated[
    Optional[str],
    typer.Option(
        "--instruction-template",
        help="With --response-template: the user-turn marker, as Unsloth's train_on_responses_only(instruction_part, "
        "response_part); labels run from each response marker to the next instruction marker (multi-turn).",
    ),
]


def mistral_target(target: str | None) -> bool:
    """True when the target is a model the table counts with mistral-common (exact, its own tokenizer)."""
    from curate.targets import encoding_for
    from curate.yamlfile import ConfigError

    if not target:
        return False
    try:
        encoding, _ = encoding_for(target)
    except ConfigError:
        return False
    return encoding.startswith("mistral-")


def trainer_settings(
    tokenizer: str | None,
    max_length: int | None,
    overflow: str,
    response_template: str | None,
    target: str | None = None,
    instruction_template: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Run settings for the token checks, and the run notices that say how labels were found.
    `target` is the run's target model: a Mistral one takes --max-length and --overflow without a folder."""
    from curate.display import shown

    if overflow not in ("truncate", "drop"):
        fail("--overflow must be truncate or drop")
    if instruction_template is not None and not response_template:
        fail("--instruction-template needs --response-template (Unsloth's train_on_responses_only takes both)")
    if tokenizer is None:
        if max_length and response_template is None and mistral_target(target):
            notice = (
                "labels: the assistant turns as mistral-common encodes each one (mistral-finetune's mask), "
                f"cut at {max_length:,} tokens ({overflow})"
            )
            return {"max_length": max_length, "overflow": overflow}, [notice]
        given = [name for name, v in (("--max-length", max_length), ("--response-template", response_template)) if v]
        if given or overflow != "truncate":
            fail(
                f"{', '.join(given) or '--overflow'} needs --tokenizer PATH (a local Hugging Face model folder)"
                + ("" if response_template else ", or --max-length with Mistral models only (check --target, cost -m)")
            )
        return {}, []
    if response_template is not None and not response_template:
        fail("--response-template must not be empty")
    if instruction_template is not None and not instruction_template:
        fail("--instruction-template must not be empty")
    from curate.checks.tokens.folder import label_source
    from curate.hf_tokenizer import load_folder
    from curate.tokenizer import TokenizerError

    path = str(Path(tokenizer).resolve())
    try:
        model = load_folder(path)
    except TokenizerError as exc:
        fail(str(exc))
    settings: dict[str, Any] = {"tokenizer": path, "tokenizer_digest": model.digest, "overflow": overflow}
    if max_length:
        settings["max_length"] = max_length
    if response_template:
        settings["response_template"] = response_template
    if instruction_template:
        settings["instruction_template"] = instruction_template
    labels = label_source(settings, model.has_generation)
    notices = []
    if labels == "generation":
        notices.append("labels: the chat template's {% generation %} blocks (as transformers' assistant mask)")
        if response_template:
            given = "--response-template and --instruction-template" if instruction_template else "--response-template"
            notices.append(f"{given} ignored: the chat template marks assistant tokens itself")
    elif labels == "markers":
        notices.append(
            f"labels: from each {shown(response_template)!r} to the next {shown(instruction_template)!r} "
            "(Unsloth train_on_responses_only)"
        )
        for name, text in (
            ("--response-template", response_template),
            ("--instruction-template", instruction_template),
        ):
            if not model.encode(text or "").ids:
                fail(f"{name} tokenizes to nothing with this tokenizer")
    elif labels == "marker":
        notices.append(f"labels: every token after the last {shown(response_template)!r} (TRL completion-only)")
        if not model.encode(response_template or "").ids:
            fail("--response-template tokenizes to nothing with this tokenizer")
    else:
        notices.append(
            "labels: every token (the chat template has no {% generation %} blocks and no --response-template "
            "was given), so labels-all-masked cannot be checked"
        )
    return settings, notices
