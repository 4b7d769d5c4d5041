"""Text fields that hold a rendered chat template, split back into turns.

Some datasets ship conversations already rendered (`{"text": "<s>[INST] ... [/INST] ... </s>"}`,
ChatML inside a message, Llama 3 header tokens, the Alpaca prompt). Read as one text, content
checks see template tokens as content and no prompt/answer split. Each template is recognised
only when the text *starts* with it (after begin-of-text tokens), so prose that mentions a token
stays prose (and `schema.special_tokens` says so). Splitting uses `str.split`: linear in the text.
"""

from __future__ import annotations

import re

from curate.formats.transcript import MAX_TRANSCRIPT_CHARS, Segment, is_transcript, split_transcript

TEMPLATES = ("chatml", "llama2", "llama3", "alpaca_text", "anthropic_hh")

_BOS = ("<s>", "<|begin_of_text|>", "<|startoftext|>", "<bos>")
_END_TOKENS = ("</s>", "<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<|endoftext|>", "<eos>")
_ALPACA_HEADER = re.compile(
    r"^[ \t]*#{2,4}[ \t]*(Instruction|Input|Response|System|Human|User|Assistant)[ \t]*:?[ \t]*$\n?", re.M
)
_ALPACA_ROLES = {
    "Instruction": "user",
    "Human": "user",
    "User": "user",
    "Input": "input",
    "Response": "assistant",
    "Assistant": "assistant",
    "System": "system",
}


def _body(text: str) -> str:
    """The text without leading whitespace and begin-of-text tokens."""
    text = text.lstrip()
    changed = True
    while changed:
        changed = False
        for bos in _BOS:
            if text.startswith(bos):
                text = text[len(bos) :].lstrip()
                changed = True
    return text


def detect_template(text: object) -> str | None:
    """Which rendered template a text starts with; None when it is plain text."""
    if not isinstance(text, str) or len(text) > MAX_TRANSCRIPT_CHARS:
        return None
    body = _body(text[:4096])
    if body.startswith("<|im_start|>"):
        return "chatml"
    if body.startswith("<|start_header_id|>"):
        return "llama3"
    if body.startswith("[INST]") and "[/INST]" in text:
        return "llama2"
    if "### Response" in text and any(m.group(1) in ("Instruction", "Human", "User") for m in _first_headers(text)):
        return "alpaca_text"
    if is_transcript(text):
        return "anthropic_hh"
    return None


def _first_headers(text: str) -> list[re.Match[str]]:
    out = []
    for m in _ALPACA_HEADER.finditer(text):
        out.append(m)
        if len(out) >= 2:
            break
    return out


def split_template(name: str, text: str) -> list[Segment]:
    """The turns of a rendered text (roles as written in the template; the caller maps them)."""
    if len(text) > MAX_TRANSCRIPT_CHARS:
        return []
    if name == "chatml":
        return _chatml(text)
    if name == "llama3":
        return _llama3(text)
    if name == "llama2":
        return _llama2(text)
    if name == "alpaca_text":
        return _alpaca(text)
    if name == "anthropic_hh":
        return split_transcript(text)
    return []


def strip_end_tokens(text: str) -> str:
    """An answer rendered for a template usually ends with the template's end token."""
    text = text.strip()
    changed = True
    while changed:
        changed = False
        for tok in _END_TOKENS:
            if text.endswith(tok):
                text = text[: -len(tok)].rstrip()
                changed = True
    return text


def _chatml(text: str) -> list[Segment]:
    out = []
    for part in text.split("<|im_start|>")[1:]:
        header, _, body = part.partition("\n")
        content, closed, _ = body.partition("<|im_end|>")
        out.append(Segment(header.strip(), content.strip(), open=not closed))
    return out


def _llama3(text: str) -> list[Segment]:
    out = []
    for part in text.split("<|start_header_id|>")[1:]:
        role, sep, rest = part.partition("<|end_header_id|>")
        if not sep:
            continue
        cut = [i for i in (rest.find("<|eot_id|>"), rest.find("<|eom_id|>")) if i >= 0]
        content = rest[: min(cut)] if cut else rest
        out.append(Segment(role.strip(), content.strip(), open=not cut))
    return out


def _llama2(text: str) -> list[Segment]:
    out: list[Segment] = []
    chunks = text.split("[INST]")[1:]
    for i, chunk in enumerate(chunks):
        user, closed, answer = chunk.partition("[/INST]")
        if not out and "<<SYS>>" in user:
            before, _, rest = user.partition("<<SYS>>")
            system, _, user = rest.partition("<</SYS>>")
            user = before + user
            out.append(Segment("system", system.strip()))
        out.append(Segment("user", user.strip()))
        if closed:
            answer = strip_end_tokens(answer.replace("<s>", " "))
            last = i == len(chunks) - 1
            if answer or not last:
                out.append(Segment("assistant", answer))
            else:
                out.append(Segment("assistant", "", open=True))
    return out


def _alpaca(text: str) -> list[Segment]:
    heads = list(_ALPACA_HEADER.finditer(text))
    out: list[Segment] = []
    preamble = text[: heads[0].start()].strip() if heads else ""
    if preamble:
        out.append(Segment("system", preamble))
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        body = text[m.end() : end].strip()
        role = _ALPACA_ROLES[m.group(1)]
        if role == "input":
            if out and out[-1].role == "user":
                prev = out[-1]
                out[-1] = Segment("user", f"{prev.text}\n\n{body}" if body else prev.text)
                continue
            role = "user"
        body = strip_end_tokens(body) if role == "assistant" else body
        out.append(Segment(role, body, open=role == "assistant" and not body and i == len(heads) - 1))
    return out
