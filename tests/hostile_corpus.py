"""A hostile corpus: personal values and terminal escapes planted in every place a string can live.

`write_corpus(folder)` writes the dataset files (one of them with a hostile file name) and a rule
file that turns on the statistics that quote text (category field, openings, system prompts), and
returns what was planted. `tests/test_hostile_outputs.py` runs every command over it and greps
every output, file and cache for the raw values and raw control bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


def _luhn_complete(prefix: str) -> str:
    """`prefix` plus the check digit that makes it a valid card number."""
    total = 0
    for i, ch in enumerate(reversed(prefix + "0")):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return prefix + str((10 - total % 10) % 10)


def _groups(number: str, sep: str) -> str:
    return sep.join(number[i : i + 4] for i in range(0, len(number), 4))


CARD_A = _luhn_complete("471675749118625")
CARD_B = _luhn_complete("453201511283036")
CARD_C = _luhn_complete("554433221100998")
CARD_D = _luhn_complete("601100099990139")

# every value is planted raw; none may appear in any output (in any letter case)
VALUES: dict[str, str] = {
    "email": "jane.roe.leak@gmail.com",
    "email_key": "owner.secret@protonmail.com",
    "email_file": "mark.file@outlook.com",
    "email_tool": "tool.author@yahoo.com",
    "card_dotted": _groups(CARD_A, "."),
    "card_spaced": _groups(CARD_B, " "),
    "card_dashed": _groups(CARD_C, "-"),
    "card_plain": CARD_D,
    "ssn": "512-44-7789",
    "ssn_id": "623-51-8842",
    "phone": "+1 (415) 867-2671",
    "phone_call_id": "415.867.3382",
    "github": "ghp_Q7xR2mK9pL4sT8vW1zY6bN3cD5fG0hJ2kM4n",
    "github_key": "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
    "openai": "sk-proj-Zq8Wx3Lm7Nb2Vc6Xr9Tp4Yk1",
    "openai_role": "sk-proj-Hd5Jf8Kg2Ls6Mq9Nw3Pe7Rt4",
    "iban": "DE89370400440532013000",
    "iban_name": "GB29NWBK60161331926819",
}
ESCAPES = ("\x1b]0;pwned\x07", "\x1b[2J", "\u202e", "\x9b31m")
RAW_CONTROL_BYTES = (b"\x1b", "\u202e".encode(), "\x9b".encode(), b"\x07")

SYSTEM = f"You are the assistant of card holder {VALUES['card_spaced']} \x1b[2J"
OPENING = f"{VALUES['card_plain']} is on file"


@dataclass
class Corpus:
    files: list[Path]
    rules: Path
    planted: dict[str, str] = field(default_factory=lambda: dict(VALUES))
    places: list[str] = field(default_factory=list)


def _chat(user: str, answer: str, **extra: object) -> dict[str, object]:
    msgs = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]
    msgs.append({"role": "assistant", "content": answer})
    return {"messages": msgs, **extra}


def records() -> tuple[list[str], list[str]]:
    """(JSONL lines, the places they plant values in)."""
    v = VALUES
    places: list[str] = []
    lines: list[dict[str, object] | str] = []

    def add(place: str, record: dict[str, object] | str) -> None:
        places.append(place)
        lines.append(record)

    # text (the record view may show it; nothing else may)
    add("user text", _chat(f"Mail {v['email']} or call {v['phone']} {ESCAPES[0]}", f"{OPENING}, noted."))
    # a derived category: the first words of the user turn, lowercased (a GitHub token)
    add("derived category", _chat(f"{v['github']} leaked, rotate it", f"{OPENING}, rotating."))
    # object keys: a message key, a top-level key, a metadata key
    bad_key = {"role": "user", "content": "hi", v["github_key"]: "x"}
    add("message key", {"messages": [bad_key, {"role": "assistant", "content": f"{OPENING}."}]})
    add("top-level key", {**_chat("hello there", f"{OPENING}."), v["email_key"]: 1})
    add("metadata key", _chat("hello again", f"{OPENING}.", metadata={v["card_dashed"]: "x", "category": "a"}))
    # roles and names
    add(
        "role",
        {"messages": [{"role": v["openai_role"] + ESCAPES[1], "content": "hi"}, {"role": "assistant", "content": "k"}]},
    )
    add(
        "name",
        {
            "messages": [
                {"role": "user", "content": "hi", "name": v["iban_name"] + ESCAPES[2]},
                {"role": "assistant", "content": f"{OPENING}."},
            ]
        },
    )
    # ids: a record id and a tool call id
    call = {"id": v["phone_call_id"], "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
    add(
        "ids",
        {
            "id": v["ssn_id"],
            "messages": [
                {"role": "user", "content": "look it up"},
                {"role": "assistant", "content": None, "tool_calls": [call, call]},
                {"role": "tool", "tool_call_id": v["phone_call_id"] + "x", "content": "done"},
                {"role": "assistant", "content": f"{OPENING}, found."},
            ],
        },
    )
    # tool definitions and arguments
    tool = {
        "type": "function",
        "function": {
            "name": v["email_tool"],
            "description": f"charges {v['card_dotted']} {ESCAPES[3]}",
            "parameters": {"type": "object", "properties": {v["ssn"]: {"type": "string"}}},
        },
    }
    args = json.dumps({"iban": v["iban"], "card": v["card_dotted"]})
    tcall = {"id": "c1", "type": "function", "function": {"name": v["email_tool"], "arguments": args}}
    add(
        "tools",
        {
            "tools": [tool],
            "messages": [
                {"role": "user", "content": "pay it"},
                {"role": "assistant", "content": None, "tool_calls": [tcall]},
                {"role": "tool", "tool_call_id": "c1", "content": "paid"},
                {"role": "assistant", "content": f"{OPENING}, paid."},
            ],
        },
    )
    # category field values (a rule reads metadata.category)
    for i in range(3):
        meta = {"category": f"{v['ssn']} {ESCAPES[0]}{ESCAPES[1]}", "note": v["email"]}
        add("category field", _chat(f"question number {i} about billing", f"{OPENING}, billing {i}.", metadata=meta))
    # an unknown format whose keys are values
    add("unknown format", {v["openai"]: {v["email"]: v["card_spaced"]}})
    # a line that is not JSON, quoting values
    add("invalid json", '{"messages": [{"role": "user", "content": "' + v["email"] + " " + v["github"] + '"')
    # exact duplicates (export --drop-duplicates quarantines them, with reasons)
    dup = _chat(f"duplicate {v['card_spaced']}", f"{OPENING}, duplicate.")
    add("duplicate", dup)
    add("duplicate", dup)
    out = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in lines]
    return out, places


RULES = """\
extends: default
settings:
  id_field: id  # record keys become `id:<value>`: the ssn_id record's key holds an SSN
rules:
  category-mix: {params: {field: metadata.category, min_share: 0.5}}
  repeated-opening: {params: {max_share: 0.05, min_count: 2}}
  system-prompt-variety: {params: {max_share: 0.1}}
"""


def write_corpus(folder: Path) -> Corpus:
    """The dataset twice: once under a plain name, once under a name holding an email and escapes."""
    lines, places = records()
    text = "\n".join(lines) + "\n"
    plain = folder / "hostile.jsonl"
    plain.write_text(text, encoding="utf-8")
    named = folder / f"{VALUES['email_file']}{ESCAPES[1]}.jsonl"
    named.write_text(text, encoding="utf-8")
    rules = folder / "hostile-rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    return Corpus([plain, named], rules, places=[*places, "file name"])
