"""Generated mixed-language chat data with known proportions (shared by the balance, split and report tests)."""

from __future__ import annotations

import json
import random
from pathlib import Path

_EN = (
    "the weather is nice today and we would like to go for a walk in the park with our friends "
    "because it has been raining for a whole week which made everyone feel tired and bored at home "
    "please tell me how I can improve my writing skills when I have very little time after work"
)
_DE = (
    "das Wetter ist heute sehr schön und wir möchten mit unseren Freunden im Park spazieren gehen "
    "weil es die ganze Woche geregnet hat und alle zu Hause müde und gelangweilt waren bitte sag mir "
    "wie ich meine Schreibfähigkeiten verbessern kann wenn ich nach der Arbeit nur wenig Zeit habe"
)
EN, DE = _EN.split(), _DE.split()
ZH = [
    "今天",
    "天气",
    "很好",
    "我们",
    "想去",
    "公园",
    "散步",
    "因为",
    "下了",
    "一个",
    "星期",
    "的雨",
    "大家",
    "都很",
    "无聊",
    "请告诉我",
    "如何",
    "提高",
    "写作",
    "能力",
]


def sentence(lang: str, rng: random.Random, words: int = 18) -> str:
    vocab = {"en": EN, "de": DE, "zh": ZH}[lang]
    picked = [rng.choice(vocab) for _ in range(words)]
    return ("".join(picked) + "。") if lang == "zh" else (" ".join(picked).capitalize() + ".")


def chat(user: str, assistant: str, **extra: object) -> dict:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}], **extra}


def mixed(counts: dict[str, int], seed: int = 7, dup_every: int = 0) -> list[dict]:
    """Records in `counts` languages (question and answer in the same one), shuffled.

    With dup_every=k, every k-th record is followed by an exact copy (for split tests).
    """
    rng = random.Random(seed)
    out = []
    for lang, n in counts.items():
        for i in range(n):
            out.append(chat(sentence(lang, rng), sentence(lang, rng, 24), metadata={"category": f"{lang}-{i % 2}"}))
    rng.shuffle(out)
    if dup_every:
        with_dups = []
        for i, rec in enumerate(out):
            with_dups.append(rec)
            if i % dup_every == 0:
                with_dups.append(json.loads(json.dumps(rec)))
        out = with_dups
    return out


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def test_generator_is_deterministic() -> None:
    assert mixed({"en": 3, "de": 2}) == mixed({"en": 3, "de": 2})
    assert len(mixed({"en": 10}, dup_every=5)) == 12
