"""Role spellings of other tools and languages, read as the four canonical roles.

Datasets spell roles their tool's way (Cohere `User`/`Chatbot`/`System`, OpenAssistant
`prompter`, ShareGPT `human`/`gpt`, Vicuna `USER`/`ASSISTANT`, vigogne `UTILISATEUR`) and content
checks read roles to know what is a prompt and what is an answer. The normaliser reads these
spellings as canonical roles; the raw record keeps the original, so schema checks (an upload that
accepts only OpenAI's spellings) still see it. `--role-map` adds a dataset's own spellings.
"""

from __future__ import annotations

from collections.abc import Iterable

from curate.model import CANONICAL_ROLES

# casefolded spelling -> canonical role. Only spellings seen in published datasets or chat
# templates; a guess here would turn an unknown speaker into a prompt or an answer.
ROLE_ALIASES: dict[str, str] = {
    # user
    "user": "user",
    "human": "user",
    "prompter": "user",  # OpenAssistant
    "usuario": "user",
    "usuário": "user",
    "utilisateur": "user",  # vigogne (French)
    "utente": "user",
    "benutzer": "user",
    "nutzer": "user",
    "gebruiker": "user",
    "пользователь": "user",
    "用户": "user",
    "用戶": "user",
    "ユーザー": "user",
    "사용자": "user",
    "인간": "user",
    # assistant
    "assistant": "assistant",
    "gpt": "assistant",  # ShareGPT
    "chatgpt": "assistant",
    "bing": "assistant",
    "bard": "assistant",
    "bot": "assistant",
    "chatbot": "assistant",  # Cohere
    "model": "assistant",  # Gemini
    "ai": "assistant",
    "asistente": "assistant",
    "assistente": "assistant",
    "assistent": "assistant",
    "ассистент": "assistant",
    "助手": "assistant",
    "アシスタント": "assistant",
    "어시스턴트": "assistant",
    "조수": "assistant",
    # system
    "system": "system",
    "developer": "system",  # OpenAI's newer name for the system message
    "système": "system",
    "systeme": "system",
    "sistema": "system",
    "система": "system",
    "系统": "system",
    "システム": "system",
    "시스템": "system",
    # tool results
    "tool": "tool",
    "function": "tool",  # legacy OpenAI function result
    "observation": "tool",  # LLaMA-Factory ShareGPT
    "ipython": "tool",  # Llama 3.1 tool output
}

ROLE_MAP_HELP = "user=User,assistant=Chatbot: read these role spellings as these roles (repeatable)."


class RoleMapError(ValueError):
    """A --role-map value that cannot be read; the message says which part and why."""


def parse_role_map(values: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """`user=User,assistant=Chatbot` (any number of values) -> ((spelling, canonical), ...), sorted."""
    out: dict[str, str] = {}
    for value in values:
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            canonical, sep, spelling = part.partition("=")
            canonical, spelling = canonical.strip().lower(), spelling.strip()
            if not sep or not spelling:
                raise RoleMapError(f"{part!r} is not ROLE=SPELLING (e.g. assistant=Chatbot)")
            if canonical not in CANONICAL_ROLES:
                raise RoleMapError(f"{canonical!r} is not a role; use {', '.join(sorted(CANONICAL_ROLES))}")
            if out.get(spelling, canonical) != canonical:
                raise RoleMapError(f"{spelling!r} is mapped to both {out[spelling]} and {canonical}")
            out[spelling] = canonical
    return tuple(sorted(out.items()))


class Roles:
    """Reads a role spelling as a canonical role: the user's map first (exact spelling), then the
    built-in aliases (any case); an unknown spelling is kept as written, so checks see it is odd."""

    __slots__ = ("_user",)

    def __init__(self, mapping: tuple[tuple[str, str], ...] = ()) -> None:
        self._user = dict(mapping)

    def canonical(self, raw: str) -> str:
        if raw in CANONICAL_ROLES:
            return raw
        mapped = self._user.get(raw)
        if mapped is not None:
            return mapped
        return ROLE_ALIASES.get(raw.casefold(), raw)

    def known(self, raw: str) -> bool:
        """Whether `raw` reads as a canonical role (built in or mapped)."""
        return self.canonical(raw) in CANONICAL_ROLES

    def mapped_by_user(self, raw: str) -> bool:
        return raw in self._user


DEFAULT_ROLES = Roles()
