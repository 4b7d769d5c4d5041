"""Realistic synthetic chat data for benchmarks: mixed lengths, languages, some PII and duplicates.

Deterministic for a seed, streamed to disk (1M records never sit in memory), no network.
"""

from __future__ import annotations

import random
from pathlib import Path

import orjson

EN = [
    "the",
    "customer",
    "asked",
    "how",
    "to",
    "reset",
    "a",
    "password",
    "and",
    "the",
    "assistant",
    "explained",
    "each",
    "step",
    "in",
    "order",
    "please",
    "open",
    "settings",
    "then",
    "security",
    "and",
    "choose",
    "reset",
    "we",
    "will",
    "send",
    "a",
    "link",
    "that",
    "expires",
    "soon",
    "deployments",
    "can",
    "fail",
    "when",
    "the",
    "health",
    "check",
    "times",
    "out",
    "so",
    "look",
    "at",
    "the",
    "first",
    "red",
    "line",
    "in",
    "the",
    "log",
    "invoices",
    "are",
    "listed",
    "under",
    "billing",
    "history",
    "and",
    "every",
    "invoice",
    "has",
    "a",
    "download",
    "button",
    "for",
    "the",
    "pdf",
    "rate",
    "limits",
    "protect",
    "the",
    "service",
    "so",
    "retry",
    "with",
    "exponential",
    "backoff",
    "after",
    "the",
    "time",
    "in",
    "the",
    "header",
]
DE = [
    "der",
    "kunde",
    "fragte",
    "wie",
    "man",
    "das",
    "passwort",
    "zuruecksetzt",
    "und",
    "der",
    "assistent",
    "erklaerte",
    "jeden",
    "schritt",
    "bitte",
    "oeffnen",
    "sie",
    "die",
    "einstellungen",
    "und",
    "waehlen",
    "sie",
    "sicherheit",
    "dann",
    "erhalten",
    "sie",
    "einen",
    "link",
    "rechnungen",
    "finden",
    "sie",
    "unter",
    "abrechnung",
    "und",
    "jede",
    "rechnung",
    "kann",
    "als",
    "pdf",
    "geladen",
    "werden",
]
FR = [
    "le",
    "client",
    "a",
    "demande",
    "comment",
    "reinitialiser",
    "son",
    "mot",
    "de",
    "passe",
    "et",
    "l",
    "assistant",
    "a",
    "explique",
    "chaque",
    "etape",
    "ouvrez",
    "les",
    "parametres",
    "puis",
    "securite",
    "et",
    "choisissez",
    "reinitialiser",
    "nous",
    "enverrons",
    "un",
    "lien",
]
ZH = list(
    "客户询问如何重置密码助手逐步解释了每一个步骤请打开设置然后选择安全我们会发送一个链接发票在账单历史中可以下载"
)
SYSTEMS = [
    "You are a helpful support assistant for Acme Cloud.",
    "You are a concise assistant. Answer in the user's language.",
    "You are a billing specialist. Be precise.",
]
PII = [
    "my email is {name}@mailbox{n}.com",
    "call me at +1 415 555 {n4}",
    "card 4111 1111 1111 1111 expires 12/29",
    "my ip is 10.{a}.{b}.{c}",
    "key sk-proj-{hex}",
]


def _text(rng: random.Random, words: list[str], n: int, sep: str = " ") -> str:
    """Sentences of 6-18 words, capitalised and ended with a full stop, like real answers."""
    out, left = [], n
    while left > 0:
        k = min(left, rng.randint(6, 18))
        sentence = sep.join(rng.choices(words, k=k))
        out.append(sentence[:1].upper() + sentence[1:] + ("。" if sep == "" else "."))
        left -= k
    return sep.join(out)


def record(rng: random.Random, i: int) -> dict:
    lang = rng.choices(["en", "de", "fr", "zh"], weights=[70, 15, 10, 5])[0]
    words, sep = {"en": (EN, " "), "de": (DE, " "), "fr": (FR, " "), "zh": (ZH, "")}[lang]
    scale = 3 if lang == "zh" else 1
    msgs = [{"role": "system", "content": rng.choice(SYSTEMS)}]
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        user = _text(rng, words, rng.randint(8, 40) * scale, sep)
        if rng.random() < 0.03:
            user += " " + rng.choice(PII).format(
                name=f"user{i}",
                n=i % 97,
                n4=f"{i % 10000:04d}",
                a=i % 250,
                b=(i // 7) % 250,
                c=(i // 3) % 250,
                hex=f"{rng.getrandbits(160):040x}",
            )
        msgs.append({"role": "user", "content": user})
        msgs.append({"role": "assistant", "content": _text(rng, words, rng.randint(20, 160) * scale, sep)})
    return {"messages": msgs, "metadata": {"category": rng.choice(["billing", "auth", "deploy", "other"])}}


def write_dataset(path: Path, n: int, seed: int = 0, dup_rate: float = 0.02) -> Path:
    """n records; about dup_rate of them repeat an earlier record exactly or with one word changed."""
    rng = random.Random(seed)
    recent: list[dict] = []
    with open(path, "wb") as f:
        for i in range(n):
            if recent and rng.random() < dup_rate:
                rec = orjson.loads(orjson.dumps(rng.choice(recent)))
                if rng.random() < 0.5:
                    turn = rec["messages"][-1]
                    parts = turn["content"].split(" ")
                    parts[rng.randrange(len(parts))] = "changed"
                    turn["content"] = " ".join(parts)
            else:
                rec = record(rng, i)
                if len(recent) < 2000:
                    recent.append(rec)
                else:
                    recent[rng.randrange(2000)] = rec
            f.write(orjson.dumps(rec) + b"\n")
    return path


if __name__ == "__main__":
    import sys

    out = Path(sys.argv[1])
    write_dataset(out, int(sys.argv[2]) if len(sys.argv) > 2 else 10_000)
    print(out, out.stat().st_size)
