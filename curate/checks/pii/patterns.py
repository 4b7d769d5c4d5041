"""Plain-regex parts of PII detection: the cheap pre-filter, secrets, personal URLs, and the
false-positive filters applied to presidio's results.

Pure `re`, no heavy imports: this module is what decides, per text, whether presidio runs at all.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from curate.checks.codeview import view

# --- pre-filter ------------------------------------------------------------------------------
# A few C-speed passes per text decide which presidio entity families can possibly match. Most chat
# text has no '@', no run of 7+ digits, no IPv6-like token and no IBAN-like token: presidio never
# sees it. Each pattern starts with a character class so `re` skips ahead in C (one alternation
# of all four cost 3.5x more: every position tried every branch); together they find a superset
# of what the alternation found (measured on 54,320 synthetic and real texts: 2 more, none fewer).
_DIGITS = re.compile(r"\d(?<![\w.]\d)[\d \t().-]{5,}\d")  # not glued to a word or a version number
_IPV6 = re.compile(r"\b[0-9A-Fa-f]{1,4}:[0-9A-Fa-f:]*:[0-9A-Fa-f]{0,4}")
_IBAN = re.compile(r"[A-Z]{2}\d{2}(?<!\w[A-Z]{2}\d{2})(?: ?[A-Z0-9]){11,30}\b")
_DIGIT_ENTITIES = ("PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IP_ADDRESS")


def candidate_entities(text: str) -> set[str]:
    """The presidio entity types worth running on `text` (empty: skip presidio)."""
    found: set[str] = set()
    if "@" in text:
        found.add("EMAIL_ADDRESS")
    for m in _DIGITS.finditer(text):
        run = m.group()
        if "." in run or sum(c.isdigit() for c in run) >= 7:
            found.update(_DIGIT_ENTITIES)
            break
    if ":" in text and _IPV6.search(text):
        found.add("IP_ADDRESS")
    if _IBAN.search(text):
        found.add("IBAN_CODE")
    return found


# --- secrets presidio does not know ----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SecretPattern:
    entity: str
    regex: re.Pattern[str]
    group: int = 0  # the capture group that is the secret itself (0: whole match)


def _p(entity: str, pattern: str, group: int = 0, flags: int = 0) -> SecretPattern:
    return SecretPattern(entity, re.compile(pattern, flags), group)


SECRET_PATTERNS: tuple[SecretPattern, ...] = (
    _p(
        "PRIVATE_KEY",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]{0,20000}?"
        r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    ),
    _p("ANTHROPIC_API_KEY", r"\bsk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{20,}"),
    _p("OPENAI_API_KEY", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}(?:T3BlbkFJ[A-Za-z0-9_-]{10,})?"),
    _p("AWS_ACCESS_KEY", r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    _p(
        "AWS_SECRET_KEY",
        r"(?i:aws_?secret(?:_?access)?_?key|secretaccesskey)[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])",
        1,
    ),
    _p("GITHUB_TOKEN", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b"),
    _p("GITLAB_TOKEN", r"\bglpat-[A-Za-z0-9_-]{20,}"),
    _p("SLACK_TOKEN", r"\bxox[abposr]-[A-Za-z0-9-]{10,}|https://hooks\.slack\.com/services/[A-Za-z0-9/]{20,}"),
    _p("GOOGLE_API_KEY", r"\bAIza[0-9A-Za-z_-]{35}\b"),
    _p("STRIPE_KEY", r"\b[rs]k_live_[0-9A-Za-z]{20,}\b"),
    _p("JWT", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    _p("BEARER_TOKEN", r"\b[Bb]earer\s+([A-Za-z0-9._~+/-]{20,}=*)", 1),
    _p("URL_PASSWORD", r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^\s:/@\"'<>]{1,100}:([^\s/@\"'<>]{1,200})@[\w.-]+", 1),
)
SECRET_ENTITIES: tuple[str, ...] = tuple(dict.fromkeys(p.entity for p in SECRET_PATTERNS))

# a cheap screen: no secret pattern can match a text that has none of these
# (the lookahead names every first character, so `re` skips to candidates in C: 1.5x faster)
_SECRET_SCREEN = re.compile(
    r"(?=[PsAS:ghxkeBb])"
    r"(?:PRIVATE KEY|sk-|AKIA|ASIA|ABIA|ACCA|(?i:secret)|gh[pousr]_|github_pat_|glpat-|xox|hooks\.slack|AIza"
    r"|k_live_|eyJ|[Bb]earer|://[^\s/]*@)"
)

_PLACEHOLDER = re.compile(
    r"(?i)example|x{4,}|\*{3,}|your[_-]|<[^>]*>|\$\{|\{\{|placeholder|redacted|dummy|changeme|\.\.\."
)
_PASSWORD_PLACEHOLDER = re.compile(
    r"(?i)^(?:pass(?:word)?|pwd|secret|\*+|x+|\$\w+|%\w+|\$[{(].*[})]|<.*>|\{.*\}|\[.*\]|:?\w*_?password_?\w*)$"
)


@dataclass(frozen=True, slots=True)
class RawSpan:
    start: int
    end: int
    entity: str
    score: float


def find_secrets(text: str, entities: frozenset[str] | None = None) -> list[RawSpan]:
    """Secrets in `text`; obvious placeholders (`sk-xxxx...`, `<token>`, `AKIA...EXAMPLE`) skipped."""
    if not _SECRET_SCREEN.search(text):
        return []
    out: list[RawSpan] = []
    for pat in SECRET_PATTERNS:
        if entities is not None and pat.entity not in entities:
            continue
        for m in pat.regex.finditer(text):
            value = m.group(pat.group)
            if pat.entity == "URL_PASSWORD":
                if _PASSWORD_PLACEHOLDER.match(value):
                    continue
            elif pat.entity != "PRIVATE_KEY" and (_PLACEHOLDER.search(value) or len(set(value)) < 6):
                continue
            if pat.entity == "BEARER_TOKEN" and not (re.search(r"\d", value) and re.search(r"[A-Za-z]", value)):
                continue
            out.append(RawSpan(m.start(pat.group), m.end(pat.group), pat.entity, 1.0))
    return _drop_overlaps(out)


# --- URLs that carry personal data -----------------------------------------------------------
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'`)\]]+", re.IGNORECASE)
_PERSONAL_QUERY = re.compile(
    r"[?&;](?:e-?mail|mail|user(?:name)?|login|name|first_?name|last_?name|full_?name|phone|tel|mobile|ssn|"
    r"address|dob|birth(?:day|date)?|token|access_token|api_?key|key|session(?:id)?|sid|password|passwd|pwd|auth)=[^&#\s]{2,}",
    re.IGNORECASE,
)
_EMAILISH = re.compile(r"[\w.+-]+(?:@|%40)[\w-]+\.[\w.-]+")


def find_personal_urls(text: str) -> list[RawSpan]:
    """URLs whose query string names a person or a credential, or that embed an email address."""
    if "://" not in text and "www." not in text.lower():
        return []
    out = []
    for m in _URL.finditer(text):
        url = m.group().rstrip(".,;:!?")
        if _PERSONAL_QUERY.search(url) or _EMAILISH.search(
            url.split("://", 1)[-1].split("@", 1)[-1] if "://" in url else url
        ):
            out.append(RawSpan(m.start(), m.start() + len(url), "URL", 0.7))
    return out


# --- phone numbers phonenumbers rejects ---------------------------------------------------------
# presidio validates numbers against today's numbering plans, so a US-formatted number with an
# unassigned area code (common in typed text) is missed. This catches the North American layout
# with separators (and an extension); the same false-positive filters then apply.
_NANP = re.compile(
    r"(?<![\w.+-])(?:\+1[-. ]?|001[-. ]|1[-. ])?(?:\(\d{3}\) ?|\d{3}[-. ])\d{3}[-. ]\d{4}"
    r"(?:\s?(?:x|ext\.?|extension)\s?\d{1,5})?(?![\w-])"
)


_BARE10 = re.compile(r"(?<![\w.+-])\d{10}(?![\w-])")


def find_phones(text: str) -> list[RawSpan]:
    """NANP-layout numbers, and bare ten-digit runs (which `accept` keeps only after a cue word)."""
    out = [RawSpan(m.start(), m.end(), "PHONE_NUMBER", 0.4) for m in _NANP.finditer(text)]
    return out + [RawSpan(m.start(), m.end(), "PHONE_NUMBER", 0.4) for m in _BARE10.finditer(text)]


# presidio's card pattern predates Mastercard's 2221-2720 range
_CARD2 = re.compile(r"(?<![\w-])2(?:2[2-9]\d|[3-6]\d\d|7[01]\d|720)(?:[- ]?\d{4}){3}(?![\w-])")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# grouped with one separator throughout, dots included (`4716.7574.9118.6252`), which presidio's
# pattern does not take: 4-4-4-4(-1..3) and Amex 4-6-5
_CARD_GROUPED = re.compile(
    r"(?<![\w.-])[2-6]\d{3}(?:([ .-])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?|([ .-])\d{6}\2\d{5})(?![\w-]|\.\d)"
)


def find_cards(text: str) -> list[RawSpan]:
    out = []
    for m in _CARD_GROUPED.finditer(text):
        if luhn_ok("".join(c for c in m.group() if c.isdigit())):
            out.append(RawSpan(m.start(), m.end(), "CREDIT_CARD", 1.0))
    for m in _CARD2.finditer(text):
        if luhn_ok("".join(c for c in m.group() if c.isdigit())):
            out.append(RawSpan(m.start(), m.end(), "CREDIT_CARD", 1.0))
    return out


# --- false-positive filters on presidio results ----------------------------------------------
CONTEXT = {
    "PHONE_NUMBER": re.compile(
        r"(?i)\b(?:phone|call(?:ed|ing)?|tel|telephone|mobile|cell(?:phone)?|fax|whats?app|sms|text me|reach me|"
        r"contact|dial(?:ed)?|ring me|hotline)\b"
    ),
    "CREDIT_CARD": re.compile(
        r"(?i)\b(?:card|visa|master ?card|amex|american express|discover|credit|debit|cc|pan|payment|paid|charged?)\b"
    ),
    "US_SSN": re.compile(r"(?i)\b(?:ssn|social security|social-security|ss#|ss #|tax id|taxpayer)"),
    "IP_ADDRESS": re.compile(r"(?i)\b(?:ip|ipv4|ipv6|address|host|server|client|from|connect)"),
}
_ID_BEFORE = re.compile(
    r"(?i)(?:\b(?:order|invoice|ticket|case|ref|reference|tracking|id|no|sku|item|build|version|ver|v|release|"
    r"commit|issue|pr|isbn|serial|part|model|batch|lot|transaction|txn|po|account|acct|booking|confirmation)"
    r"\b(?:\s+(?:is|was|number|no\.?|nr\.?|id|code))?[\s:#.=-]{0,3}|#\s?)$"
)
_DATE = re.compile(
    r"^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})(?:[ T]\d{1,2}(?::\d{2}){1,2})?$"
)
_VERSION_BEFORE = re.compile(r"(?i)(?:\bv|version|ver\.?|release|build|firmware|python|node|java|go|rust)\s*$")
_SEPARATED = re.compile(r"[\s().-]")
_FICTIONAL_PHONE = re.compile(r"555[\s.-]?01\d\d$|^\+?1?[\s.-]?\(?555\)")  # 555-0100..0199 and area 555
_MATH = re.compile(r"\d\s+[-+*/x×÷=]\s+\d|[*/=×÷]|^\+\s|\d\s*[-+]\s*\(")
_MATH_BEFORE = re.compile(r"(?:[=*/×÷≈<>^]\s*|(?<![\w)])-)$")
_DECIMAL = re.compile(r"^\(?[+-]?\d*\.\d+\)?$")
_PLACEHOLDER_DIGITS = re.compile(r"1234567890|0123456789|(\d)\1{6,}")
# an ungrouped number counts without a cue only with a card brand's prefix and length
_CARD_BRAND = re.compile(r"^(?:4\d{15}|5[1-5]\d{14}|2[2-7]\d{14}|3[47]\d{13}|6(?:011|5\d\d)\d{12})$")
_NOT_A_NAME = re.compile(r"[\d(){}\[\]=/\\_<>@#|*+$%;]")
_RANGE = re.compile(r"^(\d{2,5})\s?-\s?(\d{2,5})$")


def _before(text: str, start: int, n: int = 40) -> str:
    return text[max(0, start - n) : start]


def has_context(entity: str, text: str, start: int) -> bool:
    rx = CONTEXT.get(entity)
    return bool(rx and rx.search(_before(text, start, 60)))


def _glued(text: str, start: int, end: int) -> bool:
    """Part of a longer token: a UUID, a hash, a path, a decimal, a longer number."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    if before.isalnum() or before in "_/\\=" or after.isalnum() or after in "_/\\":
        return True
    if before in ".-:" and start > 1 and text[start - 2].isalnum():
        return True
    return after in ".-:" and end + 1 < len(text) and text[end + 1].isalnum()


def accept(entity: str, value: str, text: str, start: int, end: int, ignore_private_ips: bool = True) -> bool:
    """False for presidio matches that are really ids, dates, versions, timestamps or code."""
    if entity in _DIGIT_ENTITIES and view(text).inside(start):
        return False  # digit runs and addresses in code (fenced or not) are constants, ports, test data
    if entity == "EMAIL_ADDRESS" and _in_url(text, start):
        return False  # `.../place/Name+Street/@37.3,-122.0,...`: a map URL's path, not a mailbox
    if entity == "PHONE_NUMBER":
        if _glued(text, start, end) or _DATE.match(value) or _ID_BEFORE.search(_before(text, start)):
            return False
        if _FICTIONAL_PHONE.search(value) or _VERSION_BEFORE.search(_before(text, start, 12)):
            return False
        if _MATH.search(value) or _MATH_BEFORE.search(_before(text, start, 4)) or _DECIMAL.match(value):
            return False  # 223905 - 1858, = -0.3571428571, 3845.63: arithmetic, not a phone
        if _PLACEHOLDER_DIGITS.search(value) or _RANGE.match(value):
            return False
        digits = sum(c.isdigit() for c in value)
        if value.count(".") >= 2 and not has_context(entity, text, start):
            return False  # 10.12.2023, 1.2.3456: dotted numbers are rarely phones without a cue
        if not _SEPARATED.search(value.strip().lstrip("+")) or digits > 15:
            return has_context(entity, text, start)  # a bare run of digits: needs a cue
        return True
    if entity == "CREDIT_CARD":
        if _glued(text, start, end) or _ID_BEFORE.search(_before(text, start)):
            return False
        groups = [g for g in re.split(r"[\s.-]+", value.strip()) if g]
        grouped = len(groups) in (3, 4, 5) and all(3 <= len(g) <= 6 for g in groups)
        return grouped or bool(_CARD_BRAND.match(value)) or has_context(entity, text, start)
    if entity == "US_SSN":
        if _glued(text, start, end) or _ID_BEFORE.search(_before(text, start)) or _DATE.match(value):
            return False
        return bool(re.fullmatch(r"\d{3}[- ]\d{2}[- ]\d{4}", value)) or has_context(entity, text, start)
    if entity == "IP_ADDRESS":
        return _accept_ip(value, text, start, end, ignore_private_ips)
    if entity in ("PERSON", "LOCATION"):  # NER on code and numbers: range(1000000, 10/15/2023, checksum
        return value[:1].isupper() and not _NOT_A_NAME.search(value)
    return True


def _in_url(text: str, start: int) -> bool:
    """The match starts inside a URL token (after its `://` with no space between)."""
    token_start = max(text.rfind(" ", 0, start), text.rfind("\n", 0, start)) + 1
    return "://" in text[token_start:start]


# public resolvers quoted in every networking tutorial: infrastructure, not anyone's address
PUBLIC_SERVICE_IPS = frozenset(
    {
        "8.8.8.8",
        "8.8.4.4",
        "1.1.1.1",
        "1.0.0.1",
        "9.9.9.9",
        "149.112.112.112",
        "208.67.222.222",
        "208.67.220.220",
        "2001:4860:4860::8888",
        "2001:4860:4860::8844",
        "2606:4700:4700::1111",
    }
)


def _accept_ip(value: str, text: str, start: int, end: int, ignore_private: bool) -> bool:
    if ignore_private and value in PUBLIC_SERVICE_IPS:
        return False
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return False
    if _VERSION_BEFORE.search(_before(text, start, 12)):
        return False
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    if (
        before.isalnum()
        or before in ".:_-"
        or after.isalnum()
        or after in "_-"
        or (after in ".:" and text[end + 1 : end + 2].isalnum())
    ):
        return False
    if ip.version == 6 and (value.count(":") < 2 or re.fullmatch(r"[\d:]+", value)):
        return False  # times like 12:30:45 and ratios are not addresses
    # private also covers the documentation ranges 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24
    special = ip.is_private or ip.is_loopback or ip.is_unspecified or ip.is_link_local
    special = special or ip.is_multicast or (ip.version == 4 and ip.is_reserved)  # most of IPv6 is "reserved"
    return not (ignore_private and special)


def _drop_overlaps(spans: list[RawSpan]) -> list[RawSpan]:
    """One span per stretch of text: a secret beats PII (a token in a clone URL is not an email),
    then the longer span wins (a JWT inside a bearer header is one secret)."""

    def rank(s: RawSpan) -> tuple[int, int]:
        return (s.entity in SECRET_ENTITIES, s.end - s.start)

    spans.sort(key=lambda s: (s.start, -(s.end - s.start)))
    out: list[RawSpan] = []
    for s in spans:
        if out and s.start < out[-1].end:
            if rank(s) > rank(out[-1]):
                out[-1] = s
            continue
        out.append(s)
    return out


drop_overlaps = _drop_overlaps
