"""Settings from a repository's [tool.curate] that switch checks off are run notices, never silent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate.cli import app

RECORD = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello there"}]}


@pytest.fixture(autouse=True)
def _here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "data.jsonl").write_text(json.dumps(RECORD) + "\n", encoding="utf-8")


def notices(tmp_path: Path, settings: str, *args: str) -> tuple[int, list[str]]:
    if settings:
        (tmp_path / "pyproject.toml").write_text(f"[tool.curate]\n{settings}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["check", "data.jsonl", "-f", "json", "--no-cache", *args])
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout)["notices"]


def test_families_ignored_by_pyproject_are_named(tmp_path: Path) -> None:
    _, found = notices(tmp_path, 'ignore = ["pii", "schema"]')
    assert len(found) == 1
    assert found[0].startswith("pii, schema ignored by [tool.curate] in pyproject.toml")


def test_single_rules_ignored_are_named_by_id(tmp_path: Path) -> None:
    _, found = notices(tmp_path, 'ignore = ["too-few-examples", "dedup"]')
    assert found and found[0].startswith("dedup, too-few-examples ignored by [tool.curate]")


def test_select_in_pyproject_names_every_family_left_out(tmp_path: Path) -> None:
    _, found = notices(tmp_path, 'select = ["schema", "tokens"]')
    assert found and found[0].startswith("balance, dedup, pii, quality ignored by [tool.curate]")


def test_a_laxer_fail_on_is_a_notice_and_the_exit_code_is_unchanged_by_it(tmp_path: Path) -> None:
    code, found = notices(tmp_path, 'fail_on = "never"')
    assert any("fail_on = never set by [tool.curate]" in n for n in found)
    assert code == 0


@pytest.mark.parametrize("args", [("--ignore", "pii"), ("--select", "schema")])
def test_the_command_line_overriding_the_project_gives_no_notice(tmp_path: Path, args: tuple[str, ...]) -> None:
    _, found = notices(tmp_path, 'ignore = ["pii", "schema"]', *args)
    assert not any("[tool.curate]" in n for n in found)


def test_no_project_settings_no_notice(tmp_path: Path) -> None:
    _, found = notices(tmp_path, "")
    assert not any("[tool.curate]" in n for n in found)
