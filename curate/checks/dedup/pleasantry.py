"""Closing pleasantries: the reply to a user's "thanks" is the same in every conversation by design.

dedup.prompt skips them when it looks for one prompt's answers; dedup.near does not compare a
closing final answer alone (tree-shaped files): two different conversations that both end
"You're welcome!" are not copies.
"""

from __future__ import annotations

import re
from typing import Any

# a user turn that closes a conversation ("thanks!", "great, that's all"): the reply to it is a pleasantry
_CLOSING = re.compile(
    r"^\W*(?:(?:ok(?:ay)?|great|perfect|awesome|cool|nice|wonderful|excellent|got it|alright|that'?s (?:great|all|it"
    r"|perfect|helpful))\W*)*(?:thanks?|thank you|thx|ty|cheers|bye|goodbye|merci|danke|gracias"
    r"|谢谢|감사합니다|ありがとう|that'?s all|that'?s it|no,? that'?s all|perfect|great)\b",
    re.I,
)
_CLOSING_MAX_CHARS = 160
# thanks anywhere in a short user turn ("Oh, time flies! Thank you for the information.")
_THANKS = re.compile(r"\b(?:thanks|thank you|thx|merci|danke|gracias|obrigad[oa])\b|谢谢|감사합니다|ありがとう", re.I)
# a reply that is a pleasantry whatever it answers
_WELCOME = re.compile(
    r"^\W*(?:you'?re (?:very |most )?welcome|you are (?:very |most )?welcome|my pleasure"
    r"|(?:i'?m )?glad (?:i could|to) help|happy to help|no problem"
    r"|de rien|avec plaisir|je vous en prie|gern geschehen|bitte sehr|de nada|不客气)",
    re.I,
)


def substantive(turns: list[Any], last: int) -> int:
    """The last answer that is not a closing pleasantry: a reply to the user's "thanks" in a later turn
    ("You're welcome! If you have any other questions...") is the same in every conversation by design."""
    while True:
        user = last - 1
        if user <= 0 or turns[user].role != "user":
            return last
        text = turns[user].text.strip()
        short = len(text) <= _CLOSING_MAX_CHARS
        closing = short and (_CLOSING.match(text) is not None or (_THANKS.search(text) is not None and "?" not in text))
        if not (closing or _WELCOME.match(turns[last].text)):
            return last
        earlier = max((i for i in range(user) if turns[i].role == "assistant"), default=None)
        if earlier is None:
            return last
        last = earlier


def closing_reply(turns: list[Any], last: int) -> bool:
    """Whether answer `last` only closes the conversation: it opens with "You're welcome", or replies
    to a short thanks that asks nothing more. "Merci. Comment dois-je procéder ?" asks, and "Great,
    thanks! Now convert 5000 yen to pounds." makes a request: neither is a closing."""
    if _WELCOME.match(turns[last].text):
        return True
    user = last - 1
    if user <= 0 or turns[user].role != "user":
        return False
    text = turns[user].text.strip()
    if len(text) > _CLOSING_MAX_CHARS or "?" in text:
        return False
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    thanks = [_CLOSING.match(s.strip()) is not None or _THANKS.search(s) is not None for s in sentences]
    # every sentence thanks, or is a short aside ("Oh, time flies!")
    return any(thanks) and all(t or len(s.split()) <= _ASIDE_WORDS for s, t in zip(sentences, thanks, strict=True))


_SENTENCE_END = re.compile(r"[.!?…]+")
_ASIDE_WORDS = 4
