"""Masking and keyed hashing: the only forms in which the tool itself may show or store PII.

Everything curate emits (messages, finding data, fingerprints, logs, caches, error text) that is
derived from a detected value goes through `mask()` or `value_hash()`. Only the exported dataset
itself (and the record view of the review TUI) may hold original text.

`mask()` keeps just enough to recognise a value in a review (`j***@e***.com`,
`**** **** **** 1234`); `value_hash()` is an HMAC so low-entropy values (phone numbers, SSNs)
cannot be recovered by hashing every candidate, as a plain hash could.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets

__all__ = [
    "mask",
    "mask_text",
    "find_values",
    "value_hash",
    "normalise_value",
    "pii_key",
    "use_run_key",
    "use_key",
    "KEY_ENV",
]

KEY_ENV = "CURATE_PII_KEY"
_STAR = "***"
_DIGIT = re.compile(r"\d")


def mask(value: str, entity_type: str = "") -> str:
    """A recognisable but non-revealing form of `value` (never the value itself)."""
    value = str(value)
    kind = entity_type.upper()
    fn = _MASKERS.get(kind)
    out = fn(value) if fn else _generic(value)
    if out == value or (len(value) >= 4 and value in out):  # a masker must never echo its input
        return _STAR
    return out


def mask_text(text: str, spans: list[tuple[int, int, str]]) -> str:
    """`text` with each (start, end, entity) span replaced by its mask; spans may overlap."""
    out, pos = [], 0
    for start, end, entity in sorted(spans):
        if start < pos:  # overlapping: already covered by the previous span
            if end > pos:
                pos = end
            continue
        out.append(text[pos:start])
        out.append(mask(text[start:end], entity))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _first(s: str) -> str:
    return s[:1] + _STAR if len(s) > 1 else _STAR


def _generic(value: str) -> str:
    v = value.strip()
    if len(v) <= 4:
        return _STAR
    return v[:1] + _STAR + (f" ({len(v)} chars)" if len(v) > 12 else "")


def _email(value: str) -> str:
    local, _, domain = value.strip().rpartition("@")
    if not local:
        return _generic(value)
    head, _, tld = domain.rpartition(".")
    masked_domain = f"{_first(head)}.{tld}" if head and tld else _first(domain)
    return f"{_first(local)}@{masked_domain}"


def _last_digits(value: str, keep: int, group: str) -> str:
    digits = _DIGIT.findall(value)
    if len(digits) <= keep + 4:
        keep = 0
    tail = "".join(digits[-keep:]) if keep else ""
    return f"{group}{tail}" if tail else group.rstrip() or _STAR


def _card(value: str) -> str:
    return _last_digits(value, 4, "**** **** **** ")


def _phone(value: str) -> str:
    return _last_digits(value, 2, "***-***-**")


def _ssn(value: str) -> str:
    return "***-**-****"


def _iban(value: str) -> str:
    v = value.replace(" ", "")
    return f"{v[:2]}** **** ... {v[-2:]}" if len(v) > 8 else _STAR


def _ip(value: str) -> str:
    if ":" in value and "." not in value:
        return value.split(":", 1)[0] + ":****:****"
    first = value.split(".", 1)[0]
    return f"{first}.***.***.***"


def _url(value: str) -> str:
    m = re.match(r"^([a-zA-Z][\w+.-]*://)?([^/?#@]*@)?([^/?#:]*)", value.strip())
    if not m:
        return _generic(value)
    scheme, _userinfo, host = m.group(1) or "", m.group(2), m.group(3)
    head, _, tld = host.rpartition(".")
    masked_host = f"{_first(head)}.{tld}" if head and tld else _first(host)
    return f"{scheme}{'***:***@' if _userinfo else ''}{masked_host}/***"


def _person(value: str) -> str:
    parts = value.split()
    return " ".join(p[:1] + _STAR for p in parts) if parts else _STAR


def _location(value: str) -> str:
    return _first(value.strip())


# secrets keep their public prefix (which says what kind of key it is) and nothing else
_SECRET_PREFIX = re.compile(
    r"^(sk-(?:proj-|ant-|svcacct-|admin-)?|AKIA|ASIA|gh[pousr]_|github_pat_|xox[abposr]-|eyJ|"
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----|[Bb]earer\s+|glpat-|AIza|sk_live_|rk_live_)"
)


def _secret(value: str) -> str:
    m = _SECRET_PREFIX.match(value.strip())
    prefix = m.group(1) if m else ""
    return f"{prefix}{_STAR}" if prefix else _STAR


def _url_password(value: str) -> str:
    return _url(value) if "://" in value else _STAR


_MASKERS = {
    "EMAIL_ADDRESS": _email,
    "EMAIL": _email,
    "CREDIT_CARD": _card,
    "PHONE_NUMBER": _phone,
    "US_SSN": _ssn,
    "IBAN_CODE": _iban,
    "IP_ADDRESS": _ip,
    "URL": _url,
    "PERSON": _person,
    "LOCATION": _location,
    "URL_PASSWORD": _url_password,
    "OPENAI_API_KEY": _secret,
    "ANTHROPIC_API_KEY": _secret,
    "AWS_ACCESS_KEY": _secret,
    "AWS_SECRET_KEY": _secret,
    "GITHUB_TOKEN": _secret,
    "SLACK_TOKEN": _secret,
    "PRIVATE_KEY": _secret,
    "JWT": _secret,
    "BEARER_TOKEN": _secret,
    "GOOGLE_API_KEY": _secret,
    "STRIPE_KEY": _secret,
    "GITLAB_TOKEN": _secret,
}


def normalise_value(value: str, entity_type: str = "") -> str:
    """The canonical form hashed, so `+1 (555) 010-2000` and `555-010-2000` correlate."""
    kind = entity_type.upper()
    v = value.strip()
    if kind in ("PHONE_NUMBER", "CREDIT_CARD", "US_SSN"):
        digits = "".join(_DIGIT.findall(v))
        return digits[-10:] if kind == "PHONE_NUMBER" else digits
    if kind in ("EMAIL_ADDRESS", "URL", "IBAN_CODE"):
        return v.lower().replace(" ", "") if kind == "IBAN_CODE" else v.lower()
    return v


_key_cache: bytes | None = None
_given_key: bytes | None = None  # the run's driver gave this process its key (`use_key`): it wins


def pii_key() -> bytes:
    """The HMAC key: $CURATE_PII_KEY, else a random key kept in the user's cache dir (0600).

    Kept per machine (not in the project) so a report shared with others cannot be reversed by
    hashing candidate values. Fingerprints do not use it, so baselines stay portable.
    """
    global _key_cache
    if _given_key is not None:
        return _given_key
    env = os.environ.get(KEY_ENV)
    if env:
        return env.encode()
    if _key_cache is not None:
        return _key_cache
    from curate.io.cachedir import default_cache_dir

    base = default_cache_dir()
    path = base / "pii.key"
    try:
        key = path.read_bytes().strip()
        if len(key) < 16:
            raise OSError("short key")
    except OSError:
        key = secrets.token_hex(32).encode()
        try:
            base.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(key)
        except FileExistsError:  # another process won the race: use its key
            key = path.read_bytes().strip() or key
        except OSError:
            pass  # read-only home: a per-process key still never reveals the value
    _key_cache = key
    return key


def use_run_key() -> None:
    """`--no-cache`: create nothing in the cache folder, not even `pii.key`.

    An existing key is still read (it is not a cache: reports of cached and uncached runs then
    hash values alike); without one, a key is made for this run only and passed to the worker
    processes through $CURATE_PII_KEY, so value hashes agree within the run's report."""
    global _key_cache
    if os.environ.get(KEY_ENV):
        return
    from curate.io.cachedir import default_cache_dir

    try:
        key = (default_cache_dir() / "pii.key").read_bytes().strip()
    except OSError:
        key = b""
    if len(key) < 16:
        key = secrets.token_hex(32).encode()
        os.environ[KEY_ENV] = key.decode()
    _key_cache = key


def use_key(key: bytes) -> None:
    """Hash values with `key` in this process (a Ray worker takes the driver's, so value hashes
    agree across machines, whatever the worker's own environment or cache folder holds)."""
    global _given_key
    _given_key = key


def value_hash(value: str, entity_type: str = "", key: bytes | None = None) -> str:
    """A keyed hash of the normalised value: correlates repeats without revealing them."""
    norm = normalise_value(value, entity_type)
    return hmac.new(key or pii_key(), f"{entity_type.upper()}\x1f{norm}".encode(), hashlib.blake2b).hexdigest()[:16]


# --- values in text shown outside the record view -------------------------------------------
# `curate.display.shown()` masks what these find in any user-derived string (a category value, an
# object key, a role, a file name). The screen is the detector's own cheap pre-filter and secret
# patterns; unlike the detector it asks for no context word (a 16-digit run in a category label is
# masked even without "card" before it): showing a stretch of digits masked costs little, showing
# a value raw cannot be undone.
_EMAIL_LIKE = re.compile(r"[\w.+%-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+")
# a run glued to letters counts only when separators show it is written as a number (`415.867.3382x`);
# a bare glued run is part of a hash or an identifier
_DIGIT_RUN = re.compile(r"(?<![\d.])\+?\d[\d \t().\-/]*\d(?!\d)")
_SEPARATOR = re.compile(r"[ \t().\-/]")
_DATE_LIKE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_SSN_LIKE = re.compile(r"\d{3}[- ]?\d{2}[- ]?\d{4}")
_IBAN_LIKE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}(?![A-Za-z0-9])")
_MIN_DIGITS = 7  # a phone number without its area code; shorter runs are counts, years, ports
_MIN_BARE = 9  # without separators: an SSN or a phone with its area code (a line number or a count is shorter)


def _iban_checksum_ok(value: str) -> bool:
    v = value.replace(" ", "").upper()
    moved = v[4:] + v[:4]
    try:
        return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1
    except ValueError:
        return False


def _iban_end(value: str) -> int:
    """How much of an IBAN-shaped match is an IBAN: all capitals, or a valid checksum (a lowercased
    or spaced IBAN, with words of the sentence after it cut off); 0 when it is none."""
    if re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", value):
        return len(value)
    cut = len(value)
    while cut >= 15:
        if _iban_checksum_ok(value[:cut]):
            return cut
        cut = value.rfind(" ", 0, cut)
    return 0


def _digit_kind(run: str) -> str | None:
    digits = "".join(_DIGIT.findall(run))
    if len(digits) < (_MIN_DIGITS if len(digits) != len(run) else _MIN_BARE) or _DATE_LIKE.fullmatch(run.strip()):
        return None
    if _IPV4.fullmatch(run):
        return "IP_ADDRESS"
    if len(digits) == 9 and _SSN_LIKE.fullmatch(run):
        return "US_SSN"
    if 13 <= len(digits) <= 19:
        from curate.checks.pii.patterns import luhn_ok

        if luhn_ok(digits):
            return "CREDIT_CARD"
    return "PHONE_NUMBER" if len(digits) <= 15 else "NUMBER"


def find_values(text: str) -> list[tuple[int, int, str]]:
    """(start, end, entity) of every value in `text` that must not be shown raw; never overlapping.

    Secrets and personal URLs come from the detector's own patterns; emails, IBANs and runs of
    seven or more digits (cards dotted or spaced, phones, SSNs) from the screens above.
    """
    from curate.checks.pii.patterns import RawSpan, drop_overlaps, find_personal_urls, find_secrets

    spans: list[RawSpan] = list(find_secrets(text))
    spans += find_personal_urls(text)
    if "@" in text or "%40" in text:
        spans += [RawSpan(m.start(), m.end(), "EMAIL_ADDRESS", 1.0) for m in _EMAIL_LIKE.finditer(text)]
    for m in _DIGIT_RUN.finditer(text):
        run = m.group().rstrip(" \t(-/.")
        glued = (m.start() > 0 and text[m.start() - 1].isalnum()) or (
            m.start() + len(run) < len(text) and text[m.start() + len(run)].isalnum()
        )
        if glued and not _SEPARATOR.search(run):
            continue
        kind = _digit_kind(run)
        if kind:
            spans.append(RawSpan(m.start(), m.start() + len(run), kind, 1.0))
    for m in _IBAN_LIKE.finditer(text):
        end = _iban_end(m.group())
        if end:
            spans.append(RawSpan(m.start(), m.start() + end, "IBAN_CODE", 1.0))
    return [(s.start, s.end, s.entity) for s in drop_overlaps(spans)]
