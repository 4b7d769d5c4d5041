"""A small dataset with one of each defect the review tests decide on, and a session over it."""

from __future__ import annotations

import json
from pathlib import Path

from curate.config import load_ruleset, select_rules
from curate.decisions import DecisionLog, load_decisions
from curate.review import ReviewSession
from curate.run.engine import EngineOptions

GOOD = {
    "messages": [
        {"role": "user", "content": "How do I reset my password?"},
        {"role": "assistant", "content": "Use Settings."},
    ]
}
MARKUP = "[bold]not bold[/bold] \x1b[31mnot red\x1b[0m [link=https://example.com]no link[/link] \u202eabc"

LINES: list[str] = [
    json.dumps(GOOD),  # 1
    json.dumps(
        {
            "messages": [
                {"role": "human", "content": "Where is my order?"},
                {"role": "assistant", "content": "Which order?"},
            ]
        }
    ),  # 2
    json.dumps(
        {
            "messages": [
                {"role": "user", "content": "Thanks!"},
                {"role": "assistant", "content": "Welcome!<|endoftext|>"},
            ]
        }
    ),  # 3
    '{"messages": [{"role": "user", "content": "Is the API down?"}',  # 4 invalid JSON
    "",  # 5 blank
    json.dumps({"messages": [{"role": "user", "content": "Only a question"}]}),  # 6 missing assistant
    json.dumps(GOOD),  # 7 exact copy of line 1
    json.dumps({"messages": [{"role": "user", "content": MARKUP}, {"role": "assistant", "content": "  "}]}),  # 8
    json.dumps({"messages": [{"role": "user", "content": "Fine"}, {"role": "assistant", "content": "Fine too."}]}),  # 9
]

FAMILIES = ["schema", "dedup.exact"]


def write_dataset(tmp_path: Path, name: str = "chat.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    return path


def rules():  # noqa: ANN201
    ruleset = load_ruleset("default")
    return select_rules(ruleset.rules, FAMILIES, None)


def open_session(path: Path) -> ReviewSession:
    return ReviewSession.open(path, rules(), jobs=1)


__all__ = ["EngineOptions", "GOOD", "LINES", "MARKUP", "open_session", "rules", "write_dataset"]


def reloaded(session: ReviewSession) -> DecisionLog:
    """The session's decisions file read back and matched to its records, as the next run would
    (the file holds sealed keys only)."""
    log = load_decisions(session.path)
    log.resolve(((i.line, i.key) for i in session.items), [f for i in session.items for f in i.original])
    return log
