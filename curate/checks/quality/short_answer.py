"""One-word (or very short) answers to questions that wanted more.

A short answer is right for a classification, yes/no or arithmetic prompt, a riddle or an
extractive question, so only prompts that ask for more (explain, describe, write a ..., why,
how does ...) are judged, closed prompts are left alone, and numbers and code are never
flagged. Empty answers are the schema family's business (`schema.empty_content`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import Field

from curate.check import Params, RecordCheck
from curate.checks.codeview import view
from curate.checks.quality._params import Regex, alternation
from curate.checks.quality._text import ASSISTANT, undesirable, word_count
from curate.model import Hit, Record, Severity, Turn

# prompts that ask for a short answer: classification, choice, yes/no, a single word or number
CLOSED_PROMPTS = (
    r"\bclassif",
    r"\bcategori[sz]e\b",
    r"\bcategory\b",
    r"\blabel\b",
    r"\b(?:one|single|1)[- ]word\b",
    r"\byes or no\b",
    r"\btrue or false\b",
    r"\bwhich (?:one|of)\b",
    r"\b(?:choose|select|pick|identify|determine|detect|decide|name|find|give)\b",
    r"\b(?:is|are|was|does|do|can) (?:it|this|the|these|there)\b",
    r"\b(?:calculate|compute|evaluate|convert|solve|how many|how much|what is the (?:value|result|sum|answer))\b",
    r"\b(?:sentiment|positive or negative|opinion or fact|fact or opinion|synonym|antonym|plural|past tense"
    r"|abbreviation)\b",
    r"\bwhat (?:type|kind|part of speech)\b",
    r"\b(?:rate|rank|score)\b",
    r"\b(?:answer|reply|respond) with\b",
    r"\bblank\b|_{3,}|\bfill in\b|\bcomplete the (?:sentence|phrase|analogy)\b",
    r"\b(?:name|title|username|user name|password|passphrase|slogan|hashtag|domain|acronym|word|synonym|rhyme)s?"
    r" (?:for|of|that)\b",
    r"\b(?:generate|suggest|come up with|create|invent|output|extract|return)\b.{0,30}"
    r"\b(?:name|title|username|password|passphrase|slogan|hashtag|domain|word|acronym|emoji)\b",
    r"\b(?:concatenate|reverse|spell|translate|abbreviate|capitali[sz]e|rearrange|unscramble|round)\b",
    # Chinese: name, classify, choose, judge, whether, calculate, how many, which, one word
    r"名称|名字|用户名|标题|分类|类别|选择|判断|是否|计算|多少|哪|一个词|填空|情感",
)
# prompts that ask for more than a word: only those are judged (a one-word answer to "Who wrote
# Hamlet?" or a riddle is right; measured on real data, the closed-prompt list alone let those through)
OPEN_PROMPTS = (
    r"\b(?:explain|describe|discuss|elaborate|summari[sz]e|compare|contrast|analy[sz]e|outline|justify|argue)\b",
    r"\b(?:write|compose|draft|create|generate) (?:a|an|the|me|some|\d+)\b",
    r"\b(?:essay|story|poem|paragraph|article|letter|email|report|summary|blog|speech|review|plan|guide|tutorial)\b",
    r"\bhow (?:does|do|can|could|should|would|to|is|are)\b|\bwhy\b|\btell me (?:about|more)\b",
    r"\bwhat are (?:the|some) (?:benefits|advantages|disadvantages|differences|causes|effects|steps|ways|reasons)\b",
    r"\b(?:steps|in detail|detailed|step by step|pros and cons)\b",
    r"解释|描述|讨论|写一(?:篇|个|首|封)|为什么|如何|怎么|比较|总结|分析",
)
_NUMBER = re.compile(r"^[-+$€£]?\d[\d,.]*\s*%?[.!]?$")


class ShortAnswerParams(Params):
    min_words: int = Field(2, ge=1, description="answers with fewer words are flagged (2: one-word answers)")
    min_prompt_words: int = Field(5, ge=0, description="only when the prompt has at least this many words")
    allow_prompts: list[Regex] = Field(
        default_factory=lambda: list(CLOSED_PROMPTS),
        description="regexes (case-insensitive): a prompt matching one may get a short answer",
    )
    allow_numbers: bool = Field(True, description="a number is a fine answer")
    open_prompts: list[Regex] = Field(
        default_factory=lambda: list(OPEN_PROMPTS),
        description="regexes (case-insensitive): only prompts matching one are judged (empty: every prompt)",
    )


class ShortAnswer(RecordCheck):
    id = "quality.short_answer"
    description = "A one-word answer to an open prompt: the model learns to be curt (classification prompts are fine)."
    default_severity = Severity.INFO
    Params = ShortAnswerParams
    example = (
        '{"messages": [{"role": "user", "content": "Explain how photosynthesis works in plants"}, '
        '{"role": "assistant", "content": "Sunlight."}]}'
    )

    def check(self, record: Record) -> Iterable[Hit]:
        if undesirable(record):
            return
        roles = self.roles if self.roles is not None else ASSISTANT
        allow = alternation(tuple(self.params.allow_prompts))
        wants_more = alternation(tuple(self.params.open_prompts))
        prev: Turn | None = None
        for turn in record.conversation.turns:
            if turn.role in roles and prev is not None and not turn.tool_calls and turn.text.strip():
                n = word_count(turn.text, self.params.min_words)  # exact when below min_words
                if n < self.params.min_words and not self._fine(turn.text, prev.text, allow, wants_more):
                    yield Hit(
                        f"{turn.role} answer has {n} word{'s' if n != 1 else ''} "
                        f"for a {word_count(prev.text)}-word prompt",
                        field=turn.field,
                        data={"words": n, "spans": []},
                        fix="Write a complete answer, or drop the example.",
                    )
            if turn.role in ("user", "tool"):
                prev = turn

    def _fine(
        self, answer: str, prompt: str, allow: re.Pattern[str] | None, wants_more: re.Pattern[str] | None
    ) -> bool:
        if self.params.allow_numbers and _NUMBER.match(answer.strip()):
            return True
        if view(answer).is_code:  # `sorted(xs)` is a whole answer
            return True
        if wants_more is not None and not wants_more.search(prompt):
            return True
        if word_count(prompt, self.params.min_prompt_words) < self.params.min_prompt_words:
            return True
        return bool(allow and allow.search(prompt))
