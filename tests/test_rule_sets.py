"""Every built-in rule set loads, binds known checks, and keeps rule ids unique and kebab-case."""

from __future__ import annotations

import pytest

from curate.config import RULE_ID, builtin_rules_dir, load_ruleset

RULE_SETS = sorted(p.stem for p in builtin_rules_dir().glob("*.yaml"))


def test_the_documented_rule_sets_exist():
    assert {"default", "openai", "strict", "fast"} <= set(RULE_SETS)


@pytest.mark.parametrize("name", RULE_SETS)
def test_rule_set_loads(name):
    ruleset = load_ruleset(name)
    ids = [r.id for r in ruleset.rules]
    assert len(ids) == len(set(ids))
    assert all(RULE_ID.match(i) for i in ids)
    assert ruleset.rules, f"{name} binds no rules"


def test_fast_differs_from_default_only_in_the_second_language_opinion():
    default = {r.id: r for r in load_ruleset("default").rules}
    fast = {r.id: r for r in load_ruleset("fast").rules}
    assert default.keys() == fast.keys()
    changed = [i for i in default if default[i].params != fast[i].params]
    assert changed == ["language-mix"]
    assert fast["language-mix"].params.second_opinion is False
    assert default["language-mix"].params.second_opinion is True
