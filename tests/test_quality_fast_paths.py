"""The quality checks' shortcuts (literal screens, bounded windows, memos) agree with the plain way.

Each shortcut is compared with the straightforward computation it replaces, on seeded random
texts built from fragments that reach the edges: refusal and boilerplate phrases, code, endings,
case variants and the non-ASCII letters that case-insensitive regexes fold onto ASCII ones.
"""

from __future__ import annotations

import random
import re
from difflib import SequenceMatcher

import pytest

from curate.checks.quality import refusal, truncated
from curate.checks.quality._text import looks_like_code, lower_words, word_count
from curate.checks.quality.copy_prompt import similarity
from curate.checks.quality.repetition import repeated

FRAGMENTS = [
    "I'm sorry, but I cannot help with that",
    "I am unable to browse",
    "I can't help but feel",
    "I must decline",
    "this request violates",
    "it is not appropriate for me to",
    "As an AI language model",
    "as a large language model",
    "I'm just an AI and I don't",
    "I don't have personal opinions",
    "my knowledge cutoff",
    "很抱歉，我无法",
    "作为一个人工智能，我",
    "Iı İ ſ K",
    "x = f(y);",
    'print(f"{a}")',
    "def main",
    "s'x'",
    "#tag",
    " # heading",
    "- item",
    "1) step",
    "key: value",
    "|a|b|",
    "```",
    "~~~",
    "`code`",
    "the",
    "of",
    "although",
    "A",
    "I",
    "word",
    "donde",
    "Über",
    "naïve",
    "_x9",
    ",",
    ".",
    "!",
    "…",
    "🙂",
    "\n",
    "\t",
    "  ",
    "'",
]


def texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        parts = [rng.choice(FRAGMENTS) for _ in range(rng.randrange(1, 40))]
        text = " ".join(parts) if rng.random() < 0.7 else "".join(parts)
        out.append(text.upper() if rng.random() < 0.1 else text)
    return out


CORPUS = texts(3000, 1)


def test_lower_words_is_the_lowered_regex_words() -> None:
    rng = random.Random(2)
    ascii_noise = ["".join(chr(rng.randrange(128)) for _ in range(rng.randrange(60))) for _ in range(2000)]
    for text in CORPUS + ascii_noise:
        assert lower_words(text) == tuple(w.lower() for w in re.findall(r"\w+", text)), repr(text)


def test_word_count_with_a_limit_stops_there() -> None:
    for text in CORPUS:
        full = word_count(text)
        for limit in (1, 2, 5, 8):
            assert word_count(text, limit) == min(full, limit)


# the single regex looks_like_code used before it was split into one test per sign
_CODE_LINE = re.compile(
    r"""\w\(|^\s*(?:def|class|return|print|for|if|while|import|const|let|var|function|echo)\b|[=;]|\b[fs]["']"""
)


@pytest.mark.parametrize("braces", [True, False])
def test_looks_like_code_matches_one_regex(braces: bool) -> None:
    for text in CORPUS:
        for line in [text, *text.split("\n")]:
            want = bool(_CODE_LINE.search(line)) or (braces and ("{" in line or "}" in line))
            assert looks_like_code(line, braces) == want, repr(line)


# the last-line patterns as they were searched over the whole line
_STRUCTURED = re.compile(r"^\s*(?:[-*+•]|\d+[.)]|#{1,6}\s|\||>|[\w ]{1,30}:)|(?:^|\s)#\w+\s*$")


def test_truncation_windows_find_what_full_searches_find() -> None:
    for text in CORPUS:
        stripped = text.rstrip()
        if not stripped:
            continue
        line = stripped[stripped.rfind("\n") + 1 :]
        assert truncated._structured(line) == bool(_STRUCTURED.search(line)), repr(line)
        assert bool(truncated._ENDS_OK.search(stripped, len(stripped) - 1)) == bool(truncated._ENDS_OK.search(stripped))
        full = truncated._LAST_WORD.search(line)
        window = truncated._LAST_WORD.search(line, max(0, len(line) - truncated._DANGLING_LEN))
        if full and full.group(1).lower() in truncated.DANGLING:
            assert window is not None and window.span() == full.span()
        else:
            assert window is None or window.group(1).lower() not in truncated.DANGLING


def test_truncation_on_cut_texts() -> None:
    params = truncated.TruncatedParams(min_chars=0)
    for text in CORPUS[:500]:
        for cut in range(0, len(text), 7):
            truncated.truncation(text[:cut], params)  # every branch runs without error


@pytest.mark.parametrize("has_tools", [False, True])
def test_refusal_screens_change_nothing(has_tools: bool) -> None:
    """A never-matching extra phrase turns the refusal screen off: the results must not differ."""
    plain = refusal.RefusalParams()
    unscreened = refusal.RefusalParams(extra_phrases=[r"[^\s\S]"])  # never matches (RE2 has no (?!))
    for text in CORPUS:
        assert refusal._classify(text, plain, has_tools) == refusal._classify(text, unscreened, has_tools), repr(text)


def test_refusal_memo_is_per_text_and_params() -> None:
    text = "I'm sorry, but I cannot help with that."
    copy = "".join(list(text))  # equal, but another object
    allow = refusal.RefusalParams(allow=["^I'm sorry"])
    found = refusal.classify(text, refusal.RefusalParams())
    assert found and refusal.classify(copy, refusal.RefusalParams()) == found
    assert refusal.classify(text, allow) == []
    assert refusal.classify(text, refusal.RefusalParams()) == found
    found.clear()  # a caller changing its list does not change the remembered one
    assert refusal.classify(text, refusal.RefusalParams())
    for i in range(200):  # many texts: the memo stays small and stays right
        other = f"As an AI language model, I see {i}."
        assert refusal.classify(other, refusal.RefusalParams())[0][0] == "boilerplate"
    assert len(refusal._memo) <= refusal._MEMO_SIZE


def _repeated_plain(tokens: list[str], n: int) -> list[bool]:
    covered = [False] * len(tokens)
    seen: set[tuple[str, ...]] = set()
    for i in range(len(tokens) - n + 1):
        gram = tuple(tokens[i : i + n])
        if gram in seen:
            covered[i : i + n] = [True] * n
        seen.add(gram)
    return covered


def test_repeated_matches_the_plain_walk() -> None:
    rng = random.Random(3)
    for _ in range(2000):
        tokens = [rng.choice("abcd") for _ in range(rng.randrange(30))]
        for n in (2, 3, 5):
            assert repeated(tokens, n) == _repeated_plain(tokens, n)


def test_similarity_bound_before_difflib() -> None:
    rng = random.Random(4)
    for _ in range(3000):
        a = [rng.choice("abc") for _ in range(rng.randrange(1, 40))]
        b = a[: rng.randrange(len(a) + 1)] + [rng.choice("abcd") for _ in range(rng.randrange(4))]
        floor = rng.choice([0.0, 0.5, 0.9, 0.97, 1.0])
        if not b:
            continue
        sm = SequenceMatcher(None, a, b, autojunk=False)
        want = 0.0 if sm.real_quick_ratio() < floor or sm.quick_ratio() < floor else sm.ratio()
        assert similarity(a, b, floor) == want
