"""The pre-commit hook for real: a temporary git repository installs `curate` from this checkout
with the `pre-commit` tool, then commits a broken dataset (refused, with path:line messages), the
fixed one (accepted), and a baselined finding before and after lines are inserted above it.

pre-commit builds the hook's own virtualenv and pip-installs curate into it from a git copy of
this working tree (so uncommitted changes are what is tested). To keep the test fast and offline,
the dependencies are not installed again: PYTHONPATH points at the test interpreter's
site-packages (without curate itself), so pip finds them already satisfied.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD = [
    {"messages": [{"role": "user", "content": f"Question {i}?"}, {"role": "assistant", "content": f"Answer {i}."}]}
    for i in range(12)
]


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)


def _hook_repo(tmp: Path) -> tuple[Path, str]:
    """This working tree's package files, committed in a throwaway repository pre-commit can clone."""
    repo = tmp / "curate-hook-repo"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("curate", "rules"):
        shutil.copytree(ROOT / name, repo / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(ROOT / name, repo / name)
    for args in (("init", "-q"), ("add", "-A"), ("commit", "-q", "-m", "hook")):
        assert git(repo, *args).returncode == 0
    return repo, git(repo, "rev-parse", "HEAD").stdout.strip()


def _deps(tmp: Path) -> Path:
    """The test environment's installed packages, minus curate itself (the hook installs its own)."""
    site = Path(sysconfig.get_paths()["purelib"])
    deps = tmp / "deps"
    deps.mkdir()
    for entry in site.iterdir():
        name = entry.name.lower()
        if name.startswith(("curate", "_curate", "__editable__.curate", "__editable___curate")):
            continue
        (deps / entry.name).symlink_to(entry)
    return deps


def write(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("hook")
    hook_repo, rev = _hook_repo(tmp)
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp / "pre-commit-home"),
        "PYTHONPATH": str(_deps(tmp)),
        "CURATE_CACHE_DIR": str(tmp / "cache"),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "NO_COLOR": "1",
    }
    work = tmp / "project"
    work.mkdir()
    assert git(work, "init", "-q").returncode == 0
    (work / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hook_repo}\n    rev: {rev}\n    hooks:\n      - id: curate\n"
        "        args: [--select, schema]\n",
        encoding="utf-8",
    )
    (work / "package.json").write_text('{\n  "name": "not-a-dataset"\n}\n', encoding="utf-8")
    git(work, "add", ".pre-commit-config.yaml", "package.json")
    installed = subprocess.run(
        [sys.executable, "-m", "pre_commit", "install", "--install-hooks"],
        cwd=work, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert git(work, "commit", "-q", "-m", "set up", env=env).returncode == 0  # package.json is skipped
    return work, env


def commit(work: Path, env: dict[str, str], message: str, *paths: str) -> subprocess.CompletedProcess[str]:
    assert git(work, "add", *paths).returncode == 0
    return git(work, "commit", "-m", message, env=env)


def test_hook_refuses_a_broken_dataset_then_accepts_the_fix(project: tuple[Path, dict[str, str]]) -> None:
    work, env = project
    bad = [*GOOD[:2], {"messages": [{"role": "user", "content": "no answer"}]}, *GOOD[2:]]
    write(work / "data" / "train.jsonl", bad)
    with open(work / "data" / "train.jsonl", "ab") as f:
        f.write(b'{"messages": [oops]}\n')
    refused = commit(work, env, "bad data", "data/train.jsonl")
    out = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert "data/train.jsonl:3: error missing-assistant" in out
    assert "data/train.jsonl:14: error invalid-json" in out
    assert "Failed" in out
    # hook mode: the findings and one summary line, no tables or stats burying them
    assert "┃" not in out and "severity" not in out
    assert sum("records in" in line for line in out.splitlines()) == 1
    write(work / "data" / "train.jsonl", GOOD)
    accepted = commit(work, env, "good data", "data/train.jsonl")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "Passed" in accepted.stdout + accepted.stderr


def test_baselined_finding_is_not_reraised(project: tuple[Path, dict[str, str]]) -> None:
    work, env = project
    accepted_record = {"messages": [{"role": "user", "content": "a known issue"}]}
    write(work / "data" / "legacy.jsonl", [*GOOD, accepted_record])  # refused as it is (the test above shows how)
    made = subprocess.run(
        [sys.executable, "-m", "curate", "baseline", "data/legacy.jsonl", "--select", "schema"],
        cwd=work, env={**env, "PYTHONPATH": ""}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    done = commit(work, env, "legacy, baselined", "data/legacy.jsonl", ".curate-baseline.json")
    assert done.returncode == 0, done.stdout + done.stderr
    # lines inserted above the accepted record: still accepted
    write(work / "data" / "legacy.jsonl", [GOOD[0], GOOD[1], *GOOD, accepted_record])
    moved = commit(work, env, "more data above", "data/legacy.jsonl")
    assert moved.returncode == 0, moved.stdout + moved.stderr
    # a new problem in the same file is refused, and only it is reported
    new_problem = {"messages": [{"role": "narrator", "content": "x"}, {"role": "assistant", "content": "y"}]}
    write(work / "data" / "legacy.jsonl", [*GOOD, accepted_record, new_problem])
    refused = commit(work, env, "new problem", "data/legacy.jsonl")
    out = refused.stdout + refused.stderr
    assert refused.returncode != 0 and "data/legacy.jsonl:14: error invalid-role" in out
    assert "missing-assistant" not in out and "1 accepted" in out
