"""Paths from repository files (rule parameters, [tool.curate]) cannot make curate write outside
the cache folder and the project."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.config import load_ruleset
from curate.registry import load_registry
from curate.run.engine import Engine, EngineOptions
from curate.yamlfile import ConfigError

TEXT = "the quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat"


@pytest.fixture(autouse=True)
def _here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "project").mkdir()
    (tmp_path / "cache").mkdir()
    monkeypatch.chdir(tmp_path / "project")
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))


def near_rules(tmp_path: Path, cache_dir: str) -> Path:
    path = tmp_path / "project" / "rules.yaml"
    path.write_text(
        f"rules:\n  near-duplicate:\n    check: dedup.near\n    params:\n      cache_dir: {json.dumps(cache_dir)}\n",
        encoding="utf-8",
    )
    return path


def dataset(tmp_path: Path) -> str:
    path = tmp_path / "project" / "data.jsonl"
    records = [
        {"messages": [{"role": "user", "content": f"{TEXT} {i % 3}"}, {"role": "assistant", "content": TEXT}]}
        for i in range(6)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return str(path)


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("cache_dir", ["/tmp/curate-planted", "../outside", "sub/../../outside", "C:\\temp", ""])
def test_cache_dir_outside_the_cache_is_a_load_error_naming_the_line(tmp_path: Path, cache_dir: str) -> None:
    path = near_rules(tmp_path, cache_dir)
    with pytest.raises(ConfigError) as err:
        load_ruleset(str(path))
    assert err.value.line == 5 and "cache_dir" in str(err.value)
    assert not Path("/tmp/curate-planted").exists() and not (tmp_path / "outside").exists()


def test_cache_dir_inside_the_cache_is_where_signatures_go(tmp_path: Path) -> None:
    ruleset = load_ruleset(str(near_rules(tmp_path, "dedup-mine")))
    before = files_under(tmp_path / "project")
    Engine(ruleset.rules, options=EngineOptions(jobs=1)).run([dataset(tmp_path)])
    assert files_under(tmp_path / "cache" / "dedup-mine"), "signatures were cached in the named folder"
    assert files_under(tmp_path / "project") - before == {tmp_path / "project" / "data.jsonl"}


def test_a_symlink_out_of_the_cache_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    os.symlink(outside, tmp_path / "cache" / "link")
    ruleset = load_ruleset(str(near_rules(tmp_path, "link/sub")))
    report = Engine(ruleset.rules, options=EngineOptions(jobs=1)).run([dataset(tmp_path)])
    assert report.records == 6
    assert not files_under(outside), "nothing written through the symlink"


PATH_WORDS = ("dir", "file", "folder", "output", "path")
NOT_FILESYSTEM = {("quality.field", "path"), ("quality.pattern", "fields")}  # JSON pointers into a record


def test_every_path_valued_rule_parameter_is_confined() -> None:
    """A new parameter that names a folder or file must use `InsideFolder` (or be listed as not one)."""
    from curate.loading import relative_inside

    checked = []
    for check_id, cls in load_registry().checks.items():
        for name, info in cls.Params.model_fields.items():
            if not any(w in name for w in PATH_WORDS) or (check_id, name) in NOT_FILESYSTEM:
                continue
            validators = [m.func for m in info.metadata if hasattr(m, "func")]
            inner = [
                m.func
                for arg in getattr(info.annotation, "__args__", ())
                for m in getattr(arg, "__metadata__", ())
                if hasattr(m, "func")
            ]
            assert relative_inside in validators + inner, f"{check_id}.{name} is a path a rules file sets: confine it"
            checked.append(f"{check_id}.{name}")
    assert "dedup.near.cache_dir" in checked


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stderr


@pytest.mark.parametrize("pattern", ["/etc/*.json", "../*.jsonl", "data/../../x.jsonl"])
def test_project_datasets_stay_inside_the_project(tmp_path: Path, pattern: str) -> None:
    (tmp_path / "x.jsonl").write_text("{}\n", encoding="utf-8")
    (tmp_path / "project" / "pyproject.toml").write_text(f"[tool.curate]\ndatasets = [{json.dumps(pattern)}]\n")
    code, err = run("check", "--select", "schema", "--no-cache")
    assert code == 2 and "datasets" in err and "pyproject.toml:2" in err


def test_project_dataset_symlinked_outside_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_text("{}\n", encoding="utf-8")
    os.symlink(tmp_path / "x.jsonl", tmp_path / "project" / "data.jsonl")
    (tmp_path / "project" / "pyproject.toml").write_text('[tool.curate]\ndatasets = ["*.jsonl"]\n')
    code, err = run("check", "--select", "schema", "--no-cache")
    assert code == 2 and "leads outside the project" in err
