"""Unfilled template placeholders: `{{name}}`, `{user}`, `<PLACEHOLDER>`, `[INSERT NAME]`.

A placeholder that reached the dataset means the template was never filled, and the model
learns to print braces. Code is skipped (fenced blocks and inline code), and single braces
must hold an identifier, so `{}` in code, `{"a": 1}` in JSON and `x^{2}` in LaTeX stay quiet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import Field

from curate.check import Params, RecordCheck
from curate.checks.quality._text import clip, code_spans, inside, looks_like_code, raw_spans
from curate.model import Hit, Record, Severity

_HTML_TAGS = frozenset(
    [
        "A",
        "B",
        "I",
        "U",
        "S",
        "P",
        "BR",
        "HR",
        "DIV",
        "SPAN",
        "TD",
        "TR",
        "TH",
        "UL",
        "OL",
        "LI",
        "EM",
        "STRONG",
        "TABLE",
        "HTML",
        "BODY",
        "HEAD",
        "TITLE",
        "IMG",
        "CODE",
        "PRE",
        "SUP",
        "SUB",
        "H1",
        "H2",
        "H3",
        "H4",
        "H5",
        "H6",
        "DL",
        "DT",
        "DD",
        "FONT",
        "CENTER",
        "SMALL",
        "BIG",
        "NAV",
        "FORM",
        "INPUT",
        "META",
        "LINK",
        "SCRIPT",
        "STYLE",
    ]
)

_VALUE_WORDS = (
    "NAME|FIRST_NAME|LAST_NAME|FULLNAME|DATE|TIME|EMAIL|PHONE|ADDRESS|COMPANY|CITY|COUNTRY|LINK|URL|"
    "PLACEHOLDER|INSERT|RECIPIENT|SENDER|PRODUCT|USER|USERNAME|AMOUNT|NUMBER|ID|TODO|TBD|TK|XXX"
)
# special tokens of masked-language tasks and tokenizers: they are the task, not a template hole
_TOKENS = frozenset({"MASK", "CLS", "SEP", "PAD", "UNK", "EOS", "BOS", "BLANK", "SOS", "NUM", "URL", "USER"})

PATTERNS: tuple[tuple[str, str], ...] = (
    ("double_brace", r"(?<!\$)\{\{\s*[A-Za-z_][\w.\- ]{0,40}?\s*\}\}"),
    ("dollar_brace", r"\$\{[A-Za-z_][\w.]{0,40}\}"),
    # {name}: not after a word char, backslash, ^, _, $ or } (LaTeX arguments, shell)
    ("single_brace", r"(?<![\w\\^_${}])\{[A-Za-z_][A-Za-z0-9_]{1,40}\}(?![}{])"),
    ("angle", r"<(?:[A-Z][A-Z0-9]*(?:[_ ][A-Z0-9]+)+|[A-Z]{3,}[0-9]*)>"),
    ("angle_phrase", r"<(?i:your|insert|enter|add|put|fill in)\s[^<>\n]{1,40}>"),
    (
        "bracket",
        r"\[(?:(?i:insert|your|fill in|placeholder|todo|tbd|tk)|(?i:enter|add) (?i:your|the|a|an))"
        r"\b[^\[\]\n]{0,40}\](?!\()",
    ),
    # [COMPANY NAME], [QR_CODE]: several words; one word only when it names a value ([NAME], [DATE])
    ("bracket_caps", r"\[(?:[A-Z]{2,}(?:[ _][A-Z0-9]{2,}){1,4}|" + _VALUE_WORDS + r")\](?![(:\[])"),
)


# fill-in fields an answer leaves for its reader ("Best regards, [Your Name]" in a drafted letter)
FILL_INS = frozenset({"bracket", "bracket_caps", "angle_phrase"})
_MATH_SUBSCRIPT = re.compile(r"^\{[A-Za-z]_[A-Za-z0-9]{1,3}\}$")


class PlaceholderParams(Params):
    kinds: list[str] = Field(
        default_factory=lambda: [k for k, _ in PATTERNS],
        description="which placeholder shapes to look for: " + ", ".join(k for k, _ in PATTERNS),
    )
    skip_code: bool = Field(True, description="ignore fenced and inline code")
    ignore: list[str] = Field(default_factory=list, description="placeholders that are fine, e.g. [CLS] or {{char}}")
    fill_ins_in_answers: bool = Field(
        False,
        description="also flag [Your Name]-style fill-in fields in assistant answers (drafted letters, templates)",
    )


_COMPILED = {k: re.compile(p) for k, p in PATTERNS}


def find_placeholders(text: str, params: PlaceholderParams) -> list[tuple[str, int, int]]:
    if "{" not in text and "<" not in text and "[" not in text:
        return []
    code = code_spans(text) if params.skip_code else []
    ignore = set(params.ignore)
    out: list[tuple[str, int, int]] = []
    for kind in params.kinds:
        pattern = _COMPILED.get(kind)
        if pattern is None:
            continue
        for m in pattern.finditer(text):
            s, e = m.span()
            token = m.group(0)
            if inside(s, code) or token in ignore or any(a <= s < b for _, a, b in out):
                continue
            if kind == "angle" and (token[1:-1] in _HTML_TAGS or token[1:-1] in _TOKENS):
                continue
            if kind == "single_brace" and _MATH_SUBSCRIPT.match(token):
                continue
            if kind != "double_brace" and looks_like_code(_line_at(text, s), braces=False):
                continue
            out.append((kind, s, e))
    return sorted(out, key=lambda x: x[1])


_DATA_LIKE = re.compile(r"@|\d{3}")


def _quoted(kind: str, token: str) -> str:
    """A placeholder as a message may show it; one holding an address or a number is named by its shape."""
    return f"<{kind}>" if _DATA_LIKE.search(token) else clip(token, 40)


def _line_at(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return text[start : end if end >= 0 else len(text)]


class Placeholder(RecordCheck):
    id = "quality.placeholder"
    description = "An unfilled template placeholder ({{name}}, {user}, <PLACEHOLDER>): the template was never filled."
    default_severity = Severity.WARNING
    Params = PlaceholderParams
    example = '{"messages": [{"role": "user", "content": "Hi {{name}}"}, {"role": "assistant", "content": "Hello"}]}'

    def check(self, record: Record) -> Iterable[Hit]:
        earlier: list[str] = []
        for turn in record.conversation.turns:
            found = find_placeholders(turn.text, self.params)
            # an answer that names the prompt's own placeholder refers to it: the prompt is the finding
            found = [f for f in found if not any(turn.text[f[1] : f[2]] in t for t in earlier)]
            if turn.role == "assistant" and not self.params.fill_ins_in_answers:
                found = [f for f in found if f[0] not in FILL_INS]
            earlier.append(turn.text)
            if not found or (self.roles is not None and turn.role not in self.roles):
                continue
            tokens = sorted({_quoted(kind, turn.text[s:e]) for kind, s, e in found})
            shown = ", ".join(tokens[:3]) + (f" (+{len(tokens) - 3} more)" if len(tokens) > 3 else "")
            yield Hit(
                f"{turn.role} has unfilled placeholder{'s' if len(tokens) > 1 else ''} {shown}",
                field=turn.field,
                data={"placeholders": tokens, "spans": raw_spans(record, turn, [(s, e) for _, s, e in found])},
                fix="Fill the template with real values, or drop the example.",
                identity=",".join(tokens),
            )
