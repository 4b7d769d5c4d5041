"""Generated test data with known PII: Faker values planted in realistic support-chat sentences,
plus hard negatives (versions, dates, timestamps, order ids, UUIDs, code) that must stay clean.

Used by the accuracy tests and benchmarks; `planted()` returns the text and the true spans, so
recall and precision per entity type are exact.
"""

from __future__ import annotations

import random
import string
from collections import Counter
from dataclasses import dataclass
from typing import Any

TEMPLATES: dict[str, tuple[str, ...]] = {
    "EMAIL_ADDRESS": (
        "You can reach me at {v} if anything changes with the order.",
        "Please send the invoice to {v} instead of my old address.",
        "My account email is {v}, I cannot log in since yesterday.",
        "Forwarding this from {v}: the export keeps failing.",
    ),
    "PHONE_NUMBER": (
        "Call me back on {v} after 5pm please.",
        "My phone number is {v} and I prefer text messages.",
        "The technician can reach me at {v} tomorrow morning.",
        "You can contact the office at {v} during business hours.",
    ),
    "CREDIT_CARD": (
        "I paid with my card {v} but the charge appears twice.",
        "Please refund the payment to the Visa ending in the number {v}.",
        "My credit card number is {v}, expiry next March.",
        "Card: {v} was declined at checkout.",
    ),
    "US_SSN": (
        "For the tax form my SSN is {v}.",
        "The applicant's social security number is {v}.",
        "I entered {v} as my SSN but the form rejected it.",
    ),
    "IBAN_CODE": (
        "Please wire the refund to IBAN {v}.",
        "My bank account is {v} at the local branch.",
        "Transfer to {v} failed with a validation error.",
    ),
    "IP_ADDRESS": (
        "The login attempts came from {v} last night.",
        "Our server at {v} stopped answering on port 443.",
        "My home IP is {v}, can you whitelist it?",
    ),
    "URL": (
        "The reset link was {v} but it expired.",
        "I was redirected to {v} after signing in.",
    ),
    "PERSON": (
        "Hi, this is {v} from the accounting team.",
        "Please ask {v} to approve the request.",
        "My manager {v} said the refund was approved.",
    ),
    "LOCATION": (
        "I am moving to {v} next month and need a new address on file.",
        "The package is stuck in the depot in {v}.",
        "Our office in {v} has no internet today.",
    ),
    "OPENAI_API_KEY": ("My OpenAI key is {v}, why do I get 401?", "export OPENAI_API_KEY={v}"),
    "AWS_ACCESS_KEY": ("aws_access_key_id = {v}", "The access key {v} was rotated."),
    "GITHUB_TOKEN": ("git clone https://{v}@github.com/acme/app.git", "token: {v}"),
    "SLACK_TOKEN": ("The bot uses {v} to post messages.",),
    "JWT": ("The session cookie is {v} and it expires in an hour.",),
    "BEARER_TOKEN": ("curl -H 'Authorization: Bearer {v}' https://api.acme.io/v1/users",),
    "PRIVATE_KEY": ("Here is the deploy key:\n{v}\nKeep it safe.",),
    "URL_PASSWORD": ("DATABASE_URL=postgres://app:{v}@db.acme.internal:5432/prod",),
}

FILLER = (
    "I would like to know more about the refund policy for my recent purchase.",
    "The app crashes every time I open the settings page on my phone.",
    "Thanks for the quick answer, that solved the problem.",
    "Could you explain how the monthly billing cycle works?",
    "Sure, I can help with that. First, open the dashboard and choose Billing.",
    "Let me check the status of your ticket and get back to you shortly.",
    "Our team has escalated the issue and will follow up by the end of the week.",
)

# things that look like numbers, ids and addresses but are not personal data
HARD_NEGATIVES = (
    "Upgrade to version 2.14.3.1 which was released on 2023-10-15 at 12:30:45.",
    "Your order 1234567890 has shipped; order id 4539578763621486 is on its way.",
    "Request id 550e8400-e29b-41d4-a716-446655440000 failed at 1697371845123.",
    "The build 20231015.4 passed; see commit 9f8e7d6c5b4a39281706f5e4d3c2b1a0.",
    "for i in range(1000000): total += i * 3.14159265358979",
    "The invoice INV-2023-000123 totals $1,234,567.89 including 19.5% VAT.",
    "Tracking number 1Z999AA10123456784 shows delivery on 10/15/2023.",
    "Python 3.11.7 and Node 20.10.0 are installed; run pip install numpy==1.26.4.",
    "Timestamp 2024-01-31T23:59:59.999Z was logged by host web-01.",
    "ISBN 978-3-16-148410-0 is on page 123 of the 2nd edition.",
    "Set timeout=30000 and retries=5; the port is 8080 and the pid is 423412.",
    "Coordinates 48.8566, 2.3522 and a ratio of 16:9 at 1920x1080.",
    "The matrix is [[1, 2, 3], [4, 5, 6]] and the checksum is 0x1F2E3D4C.",
    "Meeting on 12.03.2024 from 09:00 to 10:30, room 4.12.",
    "Use the example address test@example.com in docs and 127.0.0.1 for local tests.",
    "Ticket #48293847 was merged into case 5512-3345-9981.",
    "SKU 4006381333931 costs 12.99 EUR; barcode 5901234123457.",
    "The regex \\d{3}-\\d{2}-\\d{4} matches a pattern, not a person.",
    "Call the function with phone_number=None and card=None to skip validation.",
    "Unix time 1700000000 equals 2023-11-14 22:13:20 UTC.",
)


@dataclass(frozen=True, slots=True)
class Planted:
    text: str
    spans: tuple[tuple[int, int, str], ...]  # the true (start, end, entity)


def _rand(r: random.Random, alphabet: str, n: int) -> str:
    return "".join(r.choice(alphabet) for _ in range(n))


def make_value(entity: str, fake: Any, r: random.Random) -> str:
    """One realistic value of `entity`; secrets follow the vendors' published formats."""
    alnum = string.ascii_letters + string.digits
    if entity == "EMAIL_ADDRESS":
        return fake.free_email() if r.random() < 0.6 else fake.company_email()
    if entity == "PHONE_NUMBER":
        return r.choice((fake.phone_number, lambda: f"+44 20 {r.randint(7000, 7999)} {r.randint(1000, 9999)}"))()
    if entity == "CREDIT_CARD":
        num = fake.credit_card_number(card_type=r.choice(("visa16", "mastercard", "amex", "discover")))
        if r.random() < 0.5 and len(num) == 16:
            num = " ".join(num[i : i + 4] for i in range(0, 16, 4))
        return num
    if entity == "US_SSN":
        return fake.ssn()
    if entity == "IBAN_CODE":
        return fake.iban()
    if entity == "IP_ADDRESS":
        return fake.ipv4_public() if r.random() < 0.8 else fake.ipv6()
    if entity == "URL":
        key = r.choice(("email", "user", "token", "name"))
        val = fake.free_email().replace("@", "%40") if key == "email" else fake.user_name()
        return f"https://{fake.domain_name()}/account/reset?{key}={val}&lang=en"
    if entity == "PERSON":
        return fake.name()
    if entity == "LOCATION":
        return fake.city()
    if entity == "OPENAI_API_KEY":
        return "sk-proj-" + _rand(r, alnum + "_-", 48)
    if entity == "AWS_ACCESS_KEY":
        return "AKIA" + _rand(r, string.ascii_uppercase + "234567", 16)
    if entity == "GITHUB_TOKEN":
        return "ghp_" + _rand(r, alnum, 36)
    if entity == "SLACK_TOKEN":
        return f"xoxb-{r.randint(10**10, 10**11)}-{r.randint(10**10, 10**11)}-{_rand(r, alnum, 24)}"
    if entity == "JWT":
        return "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ" + _rand(r, alnum, 40) + "." + _rand(r, alnum + "_-", 43)
    if entity == "BEARER_TOKEN":
        return _rand(r, alnum, 20) + str(r.randint(0, 9)) + _rand(r, alnum, 19)
    if entity == "PRIVATE_KEY":
        body = "\n".join(_rand(r, alnum + "+/", 64) for _ in range(4))
        return f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"
    if entity == "URL_PASSWORD":
        return _rand(r, alnum, 14) + str(r.randint(0, 9))
    raise ValueError(entity)


def planted(entity: str, fake: Any, r: random.Random) -> Planted:
    """A turn of support chat with one planted value of `entity` between filler sentences."""
    value = make_value(entity, fake, r)
    sentence = r.choice(TEMPLATES[entity])
    before = " ".join(r.sample(FILLER, r.randint(0, 2)))
    after = " ".join(r.sample(FILLER, r.randint(0, 2)))
    head = (before + " " if before else "") + sentence[: sentence.index("{v}")]
    text = head + value + sentence[sentence.index("{v}") + 3 :] + (" " + after if after else "")
    return Planted(text, ((len(head), len(head) + len(value), entity),))


def faker(seed: int = 7) -> Any:
    from faker import Faker

    f = Faker("en_US")
    f.seed_instance(seed)
    return f


def chat_record(r: random.Random, fake: Any, pii_share: float = 0.05, length: int = 500) -> dict[str, Any]:
    """A ~`length`-character chat record; with probability `pii_share` one turn holds planted PII."""
    turns = []
    for i in range(4):
        words: list[str] = []
        while sum(len(w) + 1 for w in words) < length // 4:
            words.append(r.choice(FILLER))
        turns.append({"role": "user" if i % 2 == 0 else "assistant", "content": " ".join(words)})
    if r.random() < pii_share:
        entity = r.choice(("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IP_ADDRESS", "OPENAI_API_KEY"))
        turns[0]["content"] = planted(entity, fake, r).text
    if r.random() < 0.2:
        turns[1]["content"] += " " + r.choice(HARD_NEGATIVES)
    return {"messages": turns}


def score(detector: Any, n: int, seed: int = 1) -> dict[str, dict[str, float]]:
    """Recall and precision per entity type: `n` planted values per active type, plus the hard
    negatives (every detection there is a false positive). A detection is a true positive when
    it overlaps a planted span of the same type."""
    r, fake = random.Random(seed), faker(seed)
    tp, fp, fn = Counter[str](), Counter[str](), Counter[str]()
    for entity in TEMPLATES:
        if entity not in detector.active:
            continue
        for _ in range(n):
            p = planted(entity, fake, r)
            found = detector.detect(p.text)
            for s, e, ent in p.spans:
                hit = any(x.entity == ent and x.start < e and s < x.end for x in found)
                (tp if hit else fn)[ent] += 1
            for x in found:
                if not any(ent == x.entity and x.start < e and s < x.end for s, e, ent in p.spans):
                    fp[x.entity] += 1
    for text in HARD_NEGATIVES * max(1, n // 20):
        for x in detector.detect(text):
            fp[x.entity] += 1
    out = {}
    for ent in sorted(set(tp) | set(fn) | set(fp)):
        t, f, m = tp[ent], fp[ent], fn[ent]
        recall = t / (t + m) if t + m else 1.0
        precision = t / (t + f) if t + f else 1.0
        out[ent] = {"recall": round(recall, 4), "precision": round(precision, 4), "tp": t, "fp": f, "fn": m}
    return out
