"""Declarative rules in YAML (quality.pattern / length / field) and the quality family end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from curate.config import load_ruleset
from curate.run.engine import Engine
from curate.yamlfile import ConfigError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "rules" / "examples" / "custom.yaml"


def write(tmp_path: Path, text: str, name: str = "rules.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def jsonl(tmp_path: Path, records: list[dict], name: str = "data.jsonl") -> str:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return str(path)


def chat(user: str, answer: str, **extra: object) -> dict:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}], **extra}


@pytest.mark.parametrize(
    ("params", "line"),
    [
        ("    params:\n      patterns: ['(unclosed']\n", 6),  # the line of the bad value itself
        ("    params:\n      literals: [ok]\n      fields: ['']\n", 7),
    ],
)
def test_bad_pattern_params_name_file_and_line(tmp_path: Path, params: str, line: int) -> None:
    path = write(tmp_path, f"rules:\n  # a comment\n  brand:\n    check: quality.pattern\n{params}")
    with pytest.raises(ConfigError) as err:
        load_ruleset(str(path))
    assert err.value.path == str(path)
    assert err.value.line == line
    assert f"{path}:{line}:" in str(err.value)
    assert "brand" in str(err.value)


@pytest.mark.parametrize(
    ("check", "params", "needle"),
    [
        ("quality.field", "{path: /id, match: '[a-'}", "invalid regex"),
        ("quality.refusal", "{extra_phrases: ['(?P<x']}", "invalid regex"),
        ("quality.short_answer", "{allow_prompts: ['*oops']}", "invalid regex"),
        ("quality.length", "{min: 10, max: 2}", "larger than max"),
        ("quality.length", "{unit: tokens}", "unit"),
        ("quality.pattern", "{mode: must}", "mode"),
        ("quality.field", "{path: /id, type: float}", "type"),
    ],
)
def test_bad_params_are_config_errors(tmp_path: Path, check: str, params: str, needle: str) -> None:
    path = write(tmp_path, f"rules:\n  my-rule: {{check: {check}, params: {params}}}\n")
    with pytest.raises(ConfigError) as err:
        load_ruleset(str(path))
    assert err.value.line == 2
    assert needle in str(err.value)


def test_example_rules_file_loads_on_top_of_default() -> None:
    ruleset = load_ruleset(str(EXAMPLE))
    ids = {r.id for r in ruleset.rules}
    assert {"banned-phrases", "product-name-spelling", "system-prompt-required", "answer-length"} <= ids
    assert "ticket-category" not in ids  # enabled: false
    assert "refusal" in ids and "invalid-json" in ids  # extends: default
    banned = next(r for r in ruleset.rules if r.id == "banned-phrases")
    assert banned.roles == frozenset({"assistant"})
    assert "guaranteed" in banned.params.literals


def test_declarative_rules_end_to_end(tmp_path: Path) -> None:
    rules = write(
        tmp_path,
        """
rules:
  banned: {check: quality.pattern, roles: [assistant], params: {literals: [guaranteed], message: "no promises"}}
  sign-off:
    check: quality.pattern
    roles: [assistant]
    params: {mode: must_match, turn: last, patterns: ['Acme Team$'], message: "sign off as the team"}
  system-required:
    check: quality.pattern
    roles: [system]
    params: {mode: must_match, require_turn: true, patterns: ['^You are Acme']}
  short: {check: quality.length, roles: [user], params: {min: 3, message: "prompt too short"}}
  source: {check: quality.field, params: {path: metadata.source, one_of: [web, app]}}
""",
    )
    data = jsonl(
        tmp_path,
        [
            {
                **chat("How do I log in to my account?", "Use SSO. Uptime is guaranteed.\nAcme Team"),
                "metadata": {"source": "web"},
            },
            {**chat("hi", "Hello!"), "metadata": {"source": "fax"}},
        ],
    )
    ruleset = load_ruleset(str(rules))
    report = Engine(ruleset.rules).run([data])
    got = {(f.rule, f.line, f.message) for f in report.findings}
    assert got == {
        ("banned", 1, "no promises"),
        ("system-required", 1, "no system to match '^You are Acme'"),
        ("sign-off", 2, "sign off as the team"),
        ("system-required", 2, "no system to match '^You are Acme'"),
        ("short", 2, "prompt too short"),
        ("source", 2, "/metadata/source is not one of 'web', 'app'"),
    }


def test_default_rules_find_quality_defects(tmp_path: Path) -> None:
    records = [
        chat(f"Question number {i}: what is the answer?", "I'm sorry, but I cannot help with that.") for i in range(8)
    ]
    records += [chat("Who are you?", "I am {{name}}, made by {{author}}."), chat("Say café", "cafÃ© &amp; more")]
    records += [
        chat(f"Tell me about topic {i} in detail.", f"Topic {i} is interesting for many reasons.") for i in range(4)
    ]
    data = jsonl(tmp_path, records)
    ruleset = load_ruleset("default")
    report = Engine([r for r in ruleset.rules if r.check.startswith("quality.")]).run([data])
    rules = [f.rule for f in report.findings]
    assert rules.count("refusal") == 8
    assert rules.count("refusal-share") == 1
    assert {"unfilled-placeholder", "encoding-damage", "markup-leftovers"} <= set(rules)
    share = next(f for f in report.findings if f.rule == "refusal-share")
    assert share.line is None and share.data["refused"] == 8 and share.data["records"] == 14
    assert report.stats["quality"]["refusals"] == 8


def test_cli_runs_the_example_rules_on_the_sample_data() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "curate",
            "check",
            "--rules",
            str(EXAMPLE),
            "--select",
            "quality",
            str(ROOT / "sample_data"),
            "--format",
            "json",
        ],
        capture_output=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode in (0, 1), proc.stderr.decode()
    report = json.loads(proc.stdout)
    rules = {f["rule"] for f in report["findings"]}
    assert "answer-length" in rules
    assert not report.get("errors"), report.get("errors")


def test_every_rules_example_in_the_docs_loads(tmp_path: Path) -> None:
    import re

    text = (ROOT / "docs" / "custom-rules.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "rules:" in b]
    assert len(blocks) >= 5
    for i, block in enumerate(blocks):
        path = write(tmp_path, block, f"doc{i}.yaml")
        ruleset = load_ruleset(str(path))
        assert ruleset.rules, block


@pytest.mark.parametrize(
    ("answer", "rule", "fixed"),
    [
        (
            "Chéri is a cafÃ© owner in Belle Ã‰poque Paris.",
            "encoding-damage",
            "Chéri is a café owner in Belle Époque Paris.",
        ),
        ("Tom &amp; Jerry say hi.", "markup-leftovers", "Tom & Jerry say hi."),
        ("Hello there.\n\n", "stray-whitespace", "Hello there."),
    ],
)
def test_review_offers_the_quality_fix(tmp_path: Path, answer: str, rule: str, fixed: str) -> None:
    """Through the review session as the TUI drives it: the fix changes only the matched text."""
    from curate.review import ReviewSession

    data = jsonl(tmp_path, [chat("Tell me something nice, please.", answer)])
    rules = [r for r in load_ruleset("default").rules if r.id == rule]
    session = ReviewSession.open(data, rules, jobs=1)
    assert session.current_finding is not None and session.current_finding.rule == rule
    proposal = session.fix_proposal()
    assert proposal is not None
    assert proposal.new["messages"][1]["content"] == fixed
    assert proposal.new["messages"][0] == {"role": "user", "content": "Tell me something nice, please."}


def test_hostile_lines_do_not_make_the_new_checks_quadratic():
    """20,000 colons or opening quotes made the input pattern of unsupported-reference take 30 s and
    13 s (a run retried at every mark); an escape-heavy line re-read per escape did the same."""
    from curate.checks.quality.escapes import EscapeParams, escapes
    from curate.checks.quality.reference import _INPUT

    assert _INPUT.search(":" * 20000) is None
    assert _INPUT.search("\u201c" * 20000) is None
    assert _INPUT.search("Summarise this: a b c") is not None
    assert len(escapes("First.\\nSecond. " * 20000, EscapeParams())) == 20000
    assert escapes('io.write("' + "\\n" * 20000 + '")', EscapeParams()) == []
