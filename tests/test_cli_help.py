"""What a new user meets first: --version, help text, and options that would do nothing silently."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from curate import __version__


def run(*args: str, stdin: bytes | None = b"") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "curate", *args], capture_output=True, input=stdin, timeout=120, text=False
    )


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag):
    proc = run(flag)
    assert proc.returncode == 0
    assert proc.stdout.decode().strip() == f"curate {__version__}"


@pytest.mark.parametrize("command", ["check", "export", "review", "cost", "report", "split", "baseline"])
def test_help_shows_no_python_types(command):
    proc = run(command, "--help")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode()
    assert not re.search(r"<(str|bool|int|list\[str\]|path)[^>]*>", text), text
    assert "\\[" not in text  # rich markup escapes are not shown raw


def test_review_refuses_without_a_terminal(sample_dir):
    proc = run("review", str(sample_dir / "support_chat.jsonl"))
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert "needs a terminal" in err and "Traceback" not in err
    assert b"\x1b" not in proc.stdout  # no escape codes written to a pipe


def test_review_of_a_directory_names_a_file_to_review(sample_dir):
    proc = run("review", str(sample_dir))
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert "is a directory" in err and "curate review " in err and "no such file" not in err


def test_unknown_target_is_a_usage_error_with_a_suggestion(sample_dir):
    proc = run("check", str(sample_dir), "--target", "openai/gpt-4o-mni")
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert "unknown --target openai/gpt-4o-mni" in err
    assert "did you mean openai/gpt-4o-mini" in err
    assert "Traceback" not in err


def test_known_target_still_runs(sample_dir):
    proc = run("check", str(sample_dir), "--target", "openai/gpt-4o-mini", "--select", "schema")
    assert proc.returncode in (0, 1), proc.stderr


@pytest.mark.parametrize(("args", "env"), [(["--hook"], {}), ([], {"PRE_COMMIT": "1"})])
def test_hook_mode_prints_findings_and_one_summary_line(sample_dir, args, env):
    import os

    proc = subprocess.run(
        [sys.executable, "-m", "curate", "check", str(sample_dir / "support_chat.jsonl"), *args],
        capture_output=True,
        timeout=120,
        env={**os.environ, **env},
    )
    lines = proc.stdout.decode().splitlines()
    assert proc.returncode == 1
    findings = [line for line in lines if re.match(r".*support_chat\.jsonl:\d+: (error|warning|info) ", line)]
    assert findings
    rest = [line for line in lines if line not in findings and line.strip() and not line.startswith("notes: ")]
    assert len(rest) <= 2, rest  # one summary line (and at most a line about findings not shown)
    assert any("records in" in line for line in rest)
