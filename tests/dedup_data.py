"""Planted duplicates with known ground truth, generated (no files from outside the repo)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ren",
    "to",
    "sa",
    "vel",
    "dor",
    "pi",
    "an",
    "qu",
    "es",
    "zu",
    "bri",
    "nol",
    "ta",
    "ex",
    "or",
]


def vocabulary(rng: random.Random, n: int = 3000) -> list[str]:
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3))))
    return sorted(words)


def sentence(rng: random.Random, vocab: list[str], n: int) -> str:
    # common words make unrelated records share some shingles, as real text does
    common = ["the", "a", "of", "to", "and", "is", "in", "it", "you", "that"]
    words = [rng.choice(common) if rng.random() < 0.3 else rng.choice(vocab) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def chat(user: str, assistant: str, system: str | None = None) -> dict[str, Any]:
    msgs = [{"role": "system", "content": system}] if system else []
    return {"messages": [*msgs, {"role": "user", "content": user}, {"role": "assistant", "content": assistant}]}


def replace_words(rng: random.Random, vocab: list[str], text: str, frac: float) -> str:
    words = text.split(" ")
    for i in rng.sample(range(len(words)), max(1, int(len(words) * frac))):
        words[i] = rng.choice(vocab)
    return " ".join(words)


def typos(rng: random.Random, text: str, k: int) -> str:
    chars = list(text)
    for i in rng.sample(range(len(chars)), k):
        chars[i] = rng.choice("abcdefghijklmnopqrstuvwxyz")
    return "".join(chars)


def restyle(text: str) -> str:
    """Punctuation, casing and spacing changes only."""
    return text.replace(".", " !").replace(" a ", "  A ").upper().replace("THE", "the")


@dataclass
class Planted:
    lines: list[str] = field(default_factory=list)
    truth: dict[int, int] = field(default_factory=dict)  # copy line -> original line
    kind: dict[int, str] = field(default_factory=dict)

    def add(self, record: dict[str, Any], copy_of: int | None = None, kind: str = "original") -> int:
        self.lines.append(json.dumps(record, ensure_ascii=False))
        line = len(self.lines)
        if copy_of is not None:
            self.truth[line] = copy_of
        self.kind[line] = kind
        return line

    def write(self, path: Path) -> Path:
        path.write_text("\n".join(self.lines) + "\n", encoding="utf-8")
        return path


def planted(seed: int = 7, originals: int = 200) -> Planted:
    """Originals of ~300 words, then copies: exact, reformatted, Alpaca, light edits; and hard
    negatives (same question with a new answer, same opening with a new body)."""
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    p = Planted()
    base: list[tuple[int, str, str]] = []
    for _ in range(originals):
        user = sentence(rng, vocab, 30)
        answer = " ".join(sentence(rng, vocab, rng.randint(12, 20)) for _ in range(17))
        base.append((p.add(chat(user, answer)), user, answer))
    picks = rng.sample(base, 120)
    for line, user, answer in picks[:15]:
        p.add(chat(user, answer), line, "exact")
    for line, user, answer in picks[15:25]:
        p.add(chat("  " + user.upper() + "\n", answer.replace(" ", "  ")), line, "exact-whitespace-case")
    for line, user, answer in picks[25:40]:
        p.add({"instruction": user, "input": "", "output": answer}, line, "alpaca")
    for line, user, answer in picks[40:55]:
        p.add(chat(user, replace_words(rng, vocab, answer, 0.02)), line, "words-2%")
    for line, user, answer in picks[55:70]:
        p.add(chat(replace_words(rng, vocab, user, 0.05), replace_words(rng, vocab, answer, 0.05)), line, "words-5%")
    for line, user, answer in picks[70:85]:
        p.add(chat(typos(rng, user, 2), typos(rng, answer, 12)), line, "typos")
    for line, user, answer in picks[85:100]:
        p.add(chat(restyle(user), restyle(answer)), line, "punctuation-case")
    for _line, user, _answer in picks[100:110]:
        new = " ".join(sentence(rng, vocab, 16) for _ in range(17))
        p.add(chat(user, new), None, "same-question-new-answer")
    for _line, _user, answer in picks[110:120]:
        head = answer.split(" ")[:60]
        new = " ".join(head) + " " + " ".join(sentence(rng, vocab, 16) for _ in range(13))
        p.add(chat(sentence(rng, vocab, 30), new), None, "shared-opening")
    return p
