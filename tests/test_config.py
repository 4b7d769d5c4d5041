# ruff: noqa: E501 - a table of rule files, one case per line
"""Rule sets: mistakes name file and line; extends, --select/--ignore and [tool.curate] work."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from curate.config import check_tokens, load_ruleset, select_rules
from curate.model import Severity
from curate.pyproject import load_project_settings
from curate.registry import load_registry
from curate.yamlfile import ConfigError


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


BAD_FILES = [
    ("unknown top-level key", "description: x\ntarget: openai/gpt-4o-mini\ncolour: red\n", 3, "unknown key 'colour'"),
    ("unknown rule key", "rules:\n  a-rule:\n    check: schema.weight\n    sevrity: error\n", 4, "unknown key 'sevrity'"),
    ("bad severity", "rules:\n  a-rule:\n    check: schema.weight\n    severity: fatal\n", 4, "severity"),
    ("bad fail_on", "fail_on: sometimes\n", 1, "fail_on"),
    ("unknown check", "rules:\n  a-rule: {check: schema.weigth}\n", 2, "did you mean schema.weight"),
    ("bad parameter value", "rules:\n  a-rule:\n    check: schema.min_examples\n    params: {minimum: -3}\n", 4, "minimum"),
    ("unknown parameter", "rules:\n  a-rule:\n    check: schema.weight\n    params:\n      strictness: 2\n", 5, "strictness"),
    ("rule id not kebab-case", "rules:\n  A_Rule: {check: schema.weight}\n", 2, "kebab-case"),
    ("rule without check", "rules:\n  a-rule: {severity: error}\n", 2, "has no 'check'"),
    ("bad role", "rules:\n  a-rule:\n    check: schema.empty_content\n    roles: [robot]\n", 4, "roles"),
    ("duplicate key", "rules:\n  a-rule: {check: schema.weight}\n  a-rule: {check: schema.weight}\n", 3, "duplicate key"),
    ("invalid YAML", "rules:\n  a-rule: {check: schema.weight\n", None, "invalid YAML"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "words"), [b[1:] for b in BAD_FILES], ids=[b[0] for b in BAD_FILES])
def test_mistakes_name_file_and_line(tmp_path, text, line, words):
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ConfigError) as err:
        load_ruleset(str(path))
    assert words in str(err.value)
    assert str(path.resolve()) in str(err.value) or str(path) in str(err.value)
    if line is not None:
        assert err.value.line == line, str(err.value)
        assert f":{line}:" in str(err.value)


def test_extends_inherits_and_overrides(tmp_path):
    write(
        tmp_path,
        "base.yaml",
        """
        target: openai/gpt-4o-mini
        rules:
          weights: {check: schema.weight, severity: warning}
          few: {check: schema.min_examples, params: {minimum: 20}}
          tokens: {check: schema.special_tokens}
        """,
    )
    child = write(
        tmp_path,
        "child.yaml",
        """
        extends: base.yaml
        fail_on: warning
        rules:
          weights: {severity: error}
          few: {params: {}}
          tokens: {enabled: false}
        """,
    )
    ruleset = load_ruleset(str(child))
    by_id = {r.id: r for r in ruleset.rules}
    assert set(by_id) == {"weights", "few"}
    assert by_id["weights"].severity is Severity.ERROR
    assert by_id["few"].params.minimum == 20  # params merge key by key
    assert ruleset.target == "openai/gpt-4o-mini" and ruleset.fail_on == "warning"
    assert by_id["weights"].source.startswith(str(child.resolve()))


def test_extends_cycle_is_an_error(tmp_path):
    write(tmp_path, "a.yaml", "extends: b.yaml\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\n")
    with pytest.raises(ConfigError, match="cycle"):
        load_ruleset(str(tmp_path / "a.yaml"))


@pytest.mark.parametrize("name", ["default", "openai", "strict"])
def test_builtin_rule_sets_load_and_bind_every_schema_check(name):
    ruleset = load_ruleset(name)
    checks = {r.check for r in ruleset.rules}
    schema = {c for c in load_registry().checks if c.startswith("schema.")}
    missing = schema - checks - ({"schema.unsupported_format"} if name != "openai" else set())
    assert not missing, missing


def test_openai_rules_are_stricter_than_default():
    default = {r.id: r for r in load_ruleset("default").rules}
    openai = {r.id: r for r in load_ruleset("openai").rules}
    assert openai["unknown-top-level-key"].severity is Severity.ERROR
    assert openai["unknown-top-level-key"].params.allow_common_metadata is False
    assert default["unknown-top-level-key"].params.allow_common_metadata is True
    assert openai["tool-call-id"].params.strict is True
    assert openai["tool-definitions"].params.allow_json_string is False


def ids(rules) -> set[str]:
    return {r.check for r in rules}


def test_select_family_ignore_rule_and_longest_match_wins():
    rules = load_ruleset("default").rules
    schema_only = select_rules(rules, ["schema"], [])
    assert schema_only and all(c.startswith("schema.") for c in ids(schema_only))
    no_weight = select_rules(rules, ["schema"], ["message-weight"])
    assert ids(schema_only) - ids(no_weight) == {"schema.weight"}
    # the longer, more specific token wins whichever list it is in
    only_weight = select_rules(rules, ["schema.weight"], ["schema"])
    assert ids(only_weight) == {"schema.weight"}
    assert select_rules(rules, [], []) == rules
    assert "schema.weight" not in ids(select_rules(rules, [], ["schema.weight"]))


def test_unknown_select_token_is_an_error():
    rules = load_ruleset("default").rules
    check_tokens(["schema", "message-weight", "schema.weight"], rules, load_registry())
    with pytest.raises(ConfigError, match="'shema' matches no rule"):
        check_tokens(["shema"], rules, load_registry())


def test_pyproject_tool_curate_is_found_from_a_subdirectory(tmp_path):
    write(
        tmp_path,
        "pyproject.toml",
        """
        [project]
        name = "x"
        [tool.curate]
        rules = "strict"
        select = ["schema"]
        fail_on = "warning"
        """,
    )
    sub = tmp_path / "data" / "deep"
    sub.mkdir(parents=True)
    settings, where = load_project_settings(sub)
    assert where == tmp_path / "pyproject.toml"
    assert (settings.rules, settings.select, settings.fail_on) == ("strict", ["schema"], "warning")


def test_pyproject_without_tool_curate_is_skipped(tmp_path):
    write(tmp_path, "pyproject.toml", "[project]\nname = 'x'\n")
    settings, where = load_project_settings(tmp_path)
    assert (settings.rules, where) == (None, None)


def test_pyproject_unknown_key_is_an_error(tmp_path):
    write(tmp_path, "pyproject.toml", "[tool.curate]\nrulez = 'strict'\n")
    with pytest.raises(ConfigError) as err:
        load_project_settings(tmp_path)
    assert "pyproject.toml" in str(err.value) and "rulez" in str(err.value)


def test_the_rules_example_in_docs_schema_loads(tmp_path):
    import re

    text = (Path(__file__).parent.parent / "docs" / "schema.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```yaml\n(.*?)```", text, re.S)
    ruleset = load_ruleset(str(write(tmp_path, "example.yaml", block)))
    by_id = {r.id: r for r in ruleset.rules}
    assert by_id["special-tokens"].params.extra_tokens == ["<|my_sep|>"]
    assert by_id["tool-call-id"].params.strict is True


def test_every_mistake_of_a_rules_file_is_reported_at_once_with_did_you_mean(tmp_path):
    path = write(
        tmp_path,
        "typos.yaml",
        """
        extends: defualt
        colr: red
        rules:
          missing-asistant: {severity: warning}
          near-duplicate:
            check: dedup.near
            params: {threshhold: 0.8}
          worse: {check: schema.weigth}
        """,
    )
    with pytest.raises(ConfigError) as err:
        load_ruleset(str(path))
    lines = str(err.value).splitlines()
    assert lines == [
        f"{path}:1: unknown rule set 'defualt' (did you mean default?); built-in sets: default, fast, openai, semantic, strict",
        f"{path}:2: unknown key 'colr'",
        f"{path}:4: rule missing-asistant has no 'check'",
        f"{path}:7: rule near-duplicate: parameter unknown key 'threshhold' (did you mean threshold?)",
        f"{path}:8: rule worse: unknown check 'schema.weigth' (did you mean schema.weight?)",
    ]


def test_a_typo_beside_extends_still_follows_extends(tmp_path):
    path = write(tmp_path, "t.yaml", "extends: default\nrulez: {}\nrules:\n  missing-asistant: {severity: warning}\n")
    with pytest.raises(ConfigError) as err:
        load_ruleset(str(path))
    text = str(err.value)
    assert "unknown key 'rulez' (did you mean rules?)" in text
    assert "rule missing-asistant has no 'check' (did you mean missing-assistant?)" in text


def test_select_typo_and_explain_typo_suggest_the_name(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from curate.cli import app

    registry = load_registry()
    ruleset = load_ruleset("default", registry)
    with pytest.raises(ConfigError, match=r"'shcema' matches no rule, check or family \(did you mean schema\?\)"):
        check_tokens(["shcema"], ruleset.rules, registry)
    result = CliRunner().invoke(app, ["rules", "explain", "near-dupe"])
    assert result.exit_code == 2
    assert "did you mean near-duplicate?" in result.stderr
