"""Detect a record's format and normalise it to one Conversation view.

Checks that read text read the Conversation, so every format is audited the same way.
Schema checks read the raw record, because that is what an upload validates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from curate.formats.builders import BUILDERS, content_text, hh_rejected_key, qa_keys
from curate.formats.roles import DEFAULT_ROLES, Roles
from curate.formats.templates import detect_template
from curate.formats.transcript import is_transcript
from curate.model import Conversation

__all__ = ["FORMATS", "FORMAT_HELP", "FormatHint", "content_text", "detect", "normalise", "roles_of"]

# every value --input-format accepts, with what it reads (shown by --help and docs/schema.md)
FORMAT_HELP: dict[str, str] = {
    "openai_chat": "messages: [{role, content}]",
    "openai_preference": "input.messages + preferred_output / non_preferred_output",
    "prompt_completion": "prompt + completion (strings or message lists)",
    "preference": "chosen / rejected (+ prompt, conversations or messages)",
    "anthropic_hh": 'chosen / rejected transcripts "\\n\\nHuman: ...\\n\\nAssistant: ..."',
    "alpaca": "instruction / input / output",
    "sharegpt": "conversations: [{from, value}]",
    "question_answer": "question|query|prompt + answer|response, or input + output",
    "oasst_tree": "OpenAssistant message tree (prompt with nested replies), best-ranked path",
    "prompt_only": "prompt without an answer (RL prompt sets, evaluation sets)",
    "chatml": "text rendered as ChatML <|im_start|>role ... <|im_end|>",
    "llama2": "text rendered as Llama 2 / Mistral <s>[INST] ... [/INST] ... </s>",
    "llama3": "text rendered with Llama 3 <|start_header_id|>role<|end_header_id|> ... <|eot_id|>",
    "alpaca_text": "text rendered as ### Instruction: / ### Input: / ### Response:",
    "text": "plain text (pre-training style)",
}
FORMATS = tuple(FORMAT_HELP)


@dataclass(frozen=True, slots=True)
class FormatHint:
    """What the user says about the input (`--input-format`, `--role-map`): a format to assume
    instead of detecting one, and role spellings to read as canonical roles. A value, so it
    pickles to workers and prints the same way into the cache's run key."""

    format: str | None = None
    roles: tuple[tuple[str, str], ...] = ()  # (spelling as in the data, canonical role), sorted

    def __bool__(self) -> bool:
        return bool(self.format or self.roles)


def roles_of(hint: str | FormatHint | None) -> Roles:
    """The role reader a record's hint asks for."""
    if isinstance(hint, FormatHint) and hint.roles:
        return _roles_for(hint.roles)
    return DEFAULT_ROLES


_ROLES_CACHE: dict[tuple[tuple[str, str], ...], Roles] = {}


def _roles_for(mapping: tuple[tuple[str, str], ...]) -> Roles:
    roles = _ROLES_CACHE.get(mapping)
    if roles is None:
        if len(_ROLES_CACHE) > 16:
            _ROLES_CACHE.clear()
        roles = _ROLES_CACHE[mapping] = Roles(mapping)
    return roles


def detect(data: dict[str, Any]) -> str:
    """The format of one record, from the keys it has; 'unknown' when nothing matches."""
    if "input" in data and "preferred_output" in data:
        return "openai_preference"
    chosen = data.get("chosen")
    if "chosen" in data and ("rejected" in data or hh_rejected_key(data)) or "chosen_messages" in data:
        return "anthropic_hh" if is_transcript(chosen) else "preference"
    if isinstance(data.get("messages"), list):
        return "openai_chat"
    if "prompt" in data and "completion" in data:
        return "prompt_completion"
    if "instruction" in data and ("output" in data or "response" in data):
        return "alpaca"
    if isinstance(data.get("conversations"), list) or isinstance(data.get("conversation"), list):
        return "sharegpt"
    text = data.get("text")
    if isinstance(text, str):
        return detect_template(text) or "text"
    if is_transcript(chosen):
        return "anthropic_hh"  # chosen alone: an SFT transcript
    prompt = data.get("prompt")
    if isinstance(prompt, dict) and "replies" in prompt:
        return "oasst_tree"
    if qa_keys(data) is not None:
        return "question_answer"
    if isinstance(prompt, str) or isinstance(prompt, list) and prompt and isinstance(prompt[0], dict):
        return "prompt_only"
    if "messages" in data:
        return "openai_chat"  # present but malformed: schema checks will say how
    return "unknown"


def normalise(data: Any, hint: str | FormatHint | None = None) -> Conversation:
    """The Conversation of a raw record; `hint` is a format name or a FormatHint (format and roles)."""
    if not isinstance(data, dict):
        return Conversation("invalid", ())
    fmt = hint.format if isinstance(hint, FormatHint) else hint
    fmt = fmt or detect(data)
    builder = BUILDERS.get(fmt)
    if builder is None:
        return Conversation(fmt, ())
    try:
        return builder(data, roles_of(hint))
    except (TypeError, AttributeError, KeyError, ValueError, IndexError):
        # a malformed record of a known format: schema checks report the details
        return Conversation(fmt, ())
