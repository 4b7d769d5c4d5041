"""Refusals and AI boilerplate in answers: a model learns to refuse from the examples that refuse."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from pydantic import Field

from curate.check import DatasetCheck, Params, RecordCheck, RecordRef, RunState
from curate.checks.quality._params import Regex, alternation
from curate.checks.quality._text import ASSISTANT, clip, raw_spans, turns, undesirable
from curate.model import Hit, Record, Severity

# A refusal is an answer that declines the task; it counts near the start of the answer.
REFUSALS = (
    # "I'm sorry, but I can't help": the negated verb must be about doing the task
    # ("I'm sorry, but I'm unable to come into work today" is a drafted email, not a refusal)
    r"I(?:'m| am) (?:sorry|afraid),? (?:but )?(?:I|as an AI)[^.\n]{0,40}?"
    r"(?:can(?:no|')t|not able to|unable to|won't|will not|don't|do not) "
    r"(?:have (?:access|the ability|the capability|enough information|real-time|information)|help|assist|comply"
    r"|provide|fulfil+|answer|complete|create|generate|write|access|browse|view|see|perform|share|give|offer"
    r"|discuss|engage|retrieve|estimate|determine|predict|process|display|support|do that|know)\b",
    r"I (?:can(?:no|')t|am not able to|am unable to|won't|will not) "
    r"(?:help(?! but)|assist|comply|provide|fulfil+|do that|answer|complete|create|generate|write|support"
    r"|browse|access|perform|share|give|offer|discuss|engage)\b",
    r"I(?:'m| am) (?:not able|unable) to "
    r"(?:help|assist|comply|provide|fulfil+|answer|complete|create|generate|write|access|browse|view|see)\b",
    r"I must (?:respectfully )?decline",
    r"(?:this|that|your) request (?:goes against|violates|is against)",
    r"I(?:'m| am) not (?:allowed|permitted|programmed) to",
    r"(?:it|this) (?:is|would be) (?:not appropriate|inappropriate|unethical) for me to",
    # Chinese: "(很)抱歉/对不起，…我无法/不能…"
    r"(?:抱歉|对不起)[，,]?[^。！？\n]{0,30}?(?:无法|不能|没有办法|做不到)",
)
# Boilerplate is a stock phrase about being an AI: it teaches the model a persona nobody asked for.
BOILERPLATE = (
    r"As an? (?:AI|artificial intelligence)(?: language)?(?: model| assistant| system)?\b"
    r"(?!(?: language)?(?: model| assistant| system)? (?:developed|created|built|made|trained|designed) by)",
    r"As a (?:large )?language model\b",
    # "I'm an AI language model and do not ...": a disclaimer ("I am an AI assistant made by X" answers who it is)
    r"I(?:'m| am) (?:just |only )?an? (?:AI|artificial intelligence|language model)"
    r"(?: language model| model| assistant)?"
    r",?(?: and| so)?,? (?:I )?(?:do(?:n't| not)|cannot|can't|am not|have no|lack)\b",
    r"I do(?:n't| not) have (?:personal )?(?:opinions|feelings|emotions|beliefs|preferences|personal experiences)\b",
    r"my (?:knowledge|training) (?:cutoff|cut-off)\b",
    r"I do(?:n't| not) have (?:access to )?(?:real-time|the internet|browsing)\b",
    # Chinese: "作为一个人工智能语言模型", and "我是一个人工智能，所以我无法…" (not "我是一个人工智能助手" alone)
    r"(?<!你)作为(?:一个|一名|一款|一种)?(?:大型)?(?:人工智能|AI|语言模型)(?:语言模型|助手|模型|程序)?(?=[，,]\s*我)",
    r"我(?:只)?是(?:一个|一名|个)(?:人工智能|AI|语言模型|文本(?:聊天)?机器人)(?:助手|语言模型|模型|程序)?"
    r"[，,]?(?:所以|因此)?我?(?:并)?(?:没有|无法|不能|不会)",
)

# built-in phrases are curate's own (they use lookaround), so they stay on Python's re
_BUILTIN_REFUSALS = re.compile("|".join(f"(?:{p})" for p in REFUSALS), re.I)
_BUILTIN_BOILERPLATE = re.compile("|".join(f"(?:{p})" for p in BOILERPLATE), re.I)


class RefusalParams(Params):
    refusal_within: int = Field(200, ge=1, description="a refusal phrase counts only in the first N characters")
    boilerplate: bool = Field(True, description="also flag stock AI boilerplate ('As an AI language model')")
    extra_phrases: list[Regex] = Field(default_factory=list, description="more refusal regexes (case-insensitive)")
    allow: list[Regex] = Field(default_factory=list, description="regexes: answers matching one are never flagged")
    tool_scope_ok: bool = Field(
        True,
        description="in records that declare tools, declining a task no tool covers is the intended behaviour",
    )
    persona_aware: bool = Field(
        True, description="no boilerplate finding when the prompt asks for an AI character (role-play, chatbot scripts)"
    )
    preference_aware: bool = Field(
        True,
        description="no finding for a refusal in the chosen answer of a pair whose rejected answer complies "
        "(harmlessness data: refusing is the point)",
    )


# every boilerplate phrase contains one of these (lower case): a cheap screen before the regex
_BOILER_HINTS = (
    " ai",
    "artificial intelligence",
    "language model",
    "opinion",
    "feeling",
    "emotion",
    "belief",
    "preference",
    "personal experience",
    "cutoff",
    "cut-off",
    "real-time",
    "internet",
    "browsing",
)
# never in ASCII text; "ai" alone, since 作为一名AI / 我是一名AI / 作为一款AI all count
_BOILER_HINTS_CJK = ("人工智能", "语言模型", "机器人", "ai")
# every built-in refusal phrase but the Chinese one contains one of these, lower case: in ASCII
# text (where lower() is exactly the regex's case folding) an answer without one cannot match.
_REFUSAL_HINTS = ("i'm", "i am", "i can", "i won", "i will", "i must", "request", "for me to")
_QUOTABLE = re.compile(r"[A-Za-z' ,.\-…\u4e00-\u9fff，、]+")
_TOOL_SCOPE = re.compile(r"\b(?:functions?|tools?|capabilit(?:y|ies)|external tasks?)\b", re.I)


Found = list[tuple[str, int, int]]

# classify's recent results. quality.refusal and quality.refusal_share read the same answers of
# the same record one after the other, so each answer is classified once. An entry holds the
# text itself, so its id cannot be reused by another string while the entry lives.
_MEMO_SIZE = 64
_memo: dict[tuple[Any, ...], tuple[str, tuple[tuple[str, ...], ...], tuple[tuple[str, int, int], ...]]] = {}


def classify(text: str, params: RefusalParams, has_tools: bool = False) -> Found:
    """(kind, start, end) of each refusal or boilerplate phrase in an answer."""
    key = (id(text), has_tools, params.refusal_within, params.boilerplate, params.tool_scope_ok)
    phrases = (tuple(params.extra_phrases), tuple(params.allow))
    hit = _memo.get(key)
    if hit is not None and hit[0] is text and hit[1] == phrases:
        return list(hit[2])
    found = _classify(text, params, has_tools)
    if len(_memo) >= _MEMO_SIZE:
        _memo.clear()
    _memo[key] = (text, phrases, tuple(found))
    return found


def _classify(text: str, params: RefusalParams, has_tools: bool) -> Found:
    refusal, boiler = _BUILTIN_REFUSALS, _BUILTIN_BOILERPLATE
    extra = alternation(tuple(params.extra_phrases))  # the rules file's phrases run on RE2
    allowed = alternation(tuple(params.allow))
    if allowed is not None and allowed.search(text):
        return []
    if has_tools and params.tool_scope_ok and _TOOL_SCOPE.search(text, 0, params.refusal_within * 2):
        return []  # "I can't book flights, my functions only cover ...": what a tool-using model should say
    out = []
    end = params.refusal_within + 80
    window = text[:end]
    if params.extra_phrases or not window.isascii() or any(map(window.lower().__contains__, _REFUSAL_HINTS)):
        found = [m for m in (refusal.search(text, 0, end), extra.search(text, 0, end) if extra else None) if m]
        m = min(found, key=lambda m: m.start(), default=None)
        if m and m.start() < params.refusal_within:
            out.append(("refusal", m.start(), m.end()))
    if params.boilerplate:
        low = text.lower()
        if any(map(low.__contains__, _BOILER_HINTS)) or (
            not low.isascii() and any(map(low.__contains__, _BOILER_HINTS_CJK))
        ):
            out += [("boilerplate", m.start(), m.end()) for m in boiler.finditer(text)]
    return out


# the prompt asks to play an AI character (role-play, a chatbot's script): its stock lines are the role, not
# boilerplate. A plain "You are a helpful AI assistant" system prompt asks for no role: it does not count.
_PERSONA = re.compile(
    r"\b(?:act(?:ing)? as|pretend(?:ing)? (?:to be|you are)|play(?:ing)? the (?:role|part) of"
    r"|role-?play(?:ing)?(?: as)?|imagine you are|you will play)\s+(?:an?|the)\s+(?:\w+\s+){0,3}"
    r"(?:AI|artificial intelligence|chat ?bot|bot|robot"
    r"|virtual assistant|language model|android)\b"
    r"|\b(?:chat ?bot|AI assistant|virtual assistant)(?:'s)?\s+(?:script|dialogue|conversation|persona|character)"
    r"|\b(?:script|dialogue|conversation) (?:between|with) (?:\w+\s+){0,3}(?:AI|chat ?bot|bot|robot)"
    r"|聊天机器人|机器人(?:脚本|对话)|扮演|角色扮演",
    re.I,
)


def asks_for_ai_persona(record: Record) -> bool:
    """True when a system or user turn asks the answer to speak as an AI character (role-play sets)."""
    return any(t.role in ("system", "user") and _PERSONA.search(t.text) for t in record.conversation.turns)


def _refusing_is_preferred(record: Record, params: RefusalParams, has_tools: bool) -> str | None:
    """The chosen answer's field when a preference pair prefers a refusal over an answer that complies
    (harmlessness data): refusing is what the pair teaches."""
    conv = record.conversation
    if not conv.rejected:
        return None
    chosen = next((t for t in reversed(conv.turns) if t.role == "assistant"), None)
    rejected = next((t for t in reversed(conv.rejected) if t.role == "assistant"), None)
    if chosen is None or rejected is None:
        return None
    refuses = any(k == "refusal" for k, _, _ in classify(chosen.text, params, has_tools))
    complies = not any(k == "refusal" for k, _, _ in classify(rejected.text, params, has_tools))
    return chosen.field if refuses and complies else None


class Refusal(RecordCheck):
    id = "quality.refusal"
    description = (
        "An answer that refuses or carries AI boilerplate ('As an AI language model'); the model learns to refuse."
    )
    default_severity = Severity.WARNING
    Params = RefusalParams
    example = (
        '{"messages": [{"role": "user", "content": "Write a poem"}, '
        '{"role": "assistant", "content": "As an AI language model, I cannot write poems."}]}'
    )

    def check(self, record: Record) -> Iterable[Hit]:
        if undesirable(record):
            return
        refused = False
        has_tools = bool(record.conversation.tools)
        persona = self.params.persona_aware and asks_for_ai_persona(record)
        chosen_refusal_ok = self.params.preference_aware and _refusing_is_preferred(record, self.params, has_tools)
        for turn in turns(self, record, ASSISTANT):
            found = classify(turn.text, self.params, has_tools)
            if persona:  # "As an AI ..." is the requested role, not boilerplate
                found = [f for f in found if f[0] != "boilerplate"]
            if found and chosen_refusal_ok and turn.field == chosen_refusal_ok:
                found = []
            if not found:
                continue
            kinds = sorted({k for k, _, _ in found})
            refused = refused or "refusal" in kinds
            first = found[0]
            # quote the matched stock phrase, unless the free part of a match looks like data
            phrase = clip(turn.text[first[1] : first[2]])
            phrase = phrase if _QUOTABLE.fullmatch(phrase) else ""
            what = "refuses" if "refusal" in kinds else "contains AI boilerplate"
            yield Hit(
                f"{turn.role} {what}: '{phrase}'" if phrase else f"{turn.role} {what}",
                field=turn.field,
                data={
                    "kinds": kinds,
                    "phrase": phrase,
                    "spans": raw_spans(record, turn, [(s, e) for _, s, e in found]),
                },
                fix="Replace the answer with one that does the task, or drop the example.",
                identity=",".join(kinds),
            )
        record.stats["refusal"] = refused


class ShareParams(RefusalParams):
    max_share: float = Field(0.2, ge=0, le=1, description="warn when more than this share of answers refuse")
    min_records: int = Field(10, ge=1, description="say nothing about datasets smaller than this")


class RefusalShare(DatasetCheck):
    id = "quality.refusal_share"
    description = "Too large a share of refusing answers: a dataset that is 60% refusals teaches refusing."
    default_severity = Severity.WARNING
    Params = ShareParams
    example = (
        '{"messages": [{"role": "user", "content": "hi"}, '
        '{"role": "assistant", "content": "I cannot help with that."}]}'
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.answered: Counter[str] = Counter()  # records with an answer, per file
        self.refused: Counter[str] = Counter()

    def extract(self, record: Record) -> bool | None:
        answers = turns(self, record, ASSISTANT)
        if undesirable(record) or not any(t.text.strip() for t in answers):
            return None
        tools = bool(record.conversation.tools)
        return any(kind == "refusal" for t in answers for kind, _, _ in classify(t.text, self.params, tools))

    def observe(self, ref: RecordRef, extracted: Any) -> None:
        if extracted is None:
            return
        self.answered[ref.path] += 1
        if extracted:
            self.refused[ref.path] += 1

    def merge(self, other: DatasetCheck) -> None:
        assert isinstance(other, RefusalShare)
        self.answered.update(other.answered)
        self.refused.update(other.refused)

    def finalize(self, run: RunState) -> Iterable[Hit]:
        for path, n in self.answered.items():
            share = self.refused[path] / n
            if n >= self.params.min_records and share > self.params.max_share:
                yield Hit(
                    f"{share:.0%} of answers refuse ({self.refused[path]} of {n}; limit {self.params.max_share:.0%})",
                    path=path,
                    data={"share": round(share, 4), "refused": self.refused[path], "records": n},
                    fix="Drop most refusing examples, or add examples that do the task.",
                )

    def summary(self) -> dict[str, Any]:
        n = sum(self.answered.values())
        r = sum(self.refused.values())
        return {"answers": n, "refusals": r, "refusal_share": round(r / n, 4) if n else 0.0}
