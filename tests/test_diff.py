"""`curate diff`: two versions of a dataset made here (files, folders, git commits), compared.

v2 of the dataset drops two records, edits one, adds one holding a planted email, and adds a
new exact-duplicate pair. Every figure of the diff is checked against what the versions were
made to differ by; the planted value never appears in any output.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.diff.compare import _by_content
from curate.diff.revisions import Spec, parse_spec

PLANTED = "jane.roe.1987@gmail.com"
TOPICS = [
    "bake sourdough bread at home",
    "fix a flat bicycle tyre",
    "learn the basics of python lists",
    "plant tomatoes in spring",
    "write a polite email to a landlord",
]


def rec(i: int, question: str | None = None, answer: str | None = None, **extra: object) -> dict:
    q = question or f"How do I {TOPICS[i % len(TOPICS)]}? Question number {i} about step {i * 7}."
    a = answer or f"Here is a careful answer for item {i}: prepare, proceed with step {i * 3}, then check result {i}."
    return {**extra, "messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}


def versions(ids: bool = False) -> tuple[list[dict], list[dict]]:
    """(v1, v2): v2 = v1 without records 5 and 6, record 12 edited, one record with PII added after
    record 20, and a new question added twice at the end (an exact-duplicate cluster)."""
    extra = (lambda i: {"id": f"r{i}"}) if ids else (lambda i: {})
    old = [rec(i, **extra(i)) for i in range(30)]
    new = [r for i, r in enumerate(old) if i not in (5, 6)]
    new[10] = rec(12, answer="A rewritten answer for twelve, with more detail about the whole thing.", **extra(12))
    pii = f"My email is {PLANTED}, how do I reset my password on the portal?"
    new.insert(
        19, rec(100, question=pii, answer="Open settings, choose reset password and follow the link.", **extra(100))
    )
    dup = dict(question="What is the capital of France and why is it famous?", answer="Paris: art, food, the tower.")
    new += [rec(200, **dup, **extra(200)), rec(200, **dup, **extra(201))]
    return old, new


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))
    result = CliRunner().invoke(app, ["diff", *args, "--jobs", "1"], env={"COLUMNS": "200"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def diff_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> dict:
    code, out, err = run(tmp_path, monkeypatch, *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def two_files(tmp_path: Path) -> tuple[str, str]:
    old, new = versions()
    write_jsonl(tmp_path / "v1.jsonl", old)
    write_jsonl(tmp_path / "v2.jsonl", new)
    return "v1.jsonl", "v2.jsonl"


def test_what_changed_between_two_files(tmp_path, monkeypatch, two_files):
    doc = diff_json(tmp_path, monkeypatch, *two_files, "--target", "openai/gpt-4o-mini")
    assert doc["records"] == {"added": 3, "removed": 2, "changed": 1, "unchanged": 27, "matched_by": "content hash"}
    assert (doc["old"]["records"], doc["new"]["records"]) == (30, 31)
    tok = doc["tokens"]
    assert tok["delta"]["total"] == tok["new"]["total"] - tok["old"]["total"]
    # the total moves by exactly what was added, removed and edited
    assert tok["delta"]["total"] == tok["in_added"] - tok["in_removed"] + tok["in_changed"]
    assert tok["in_added"] > 0 and tok["in_removed"] > 0
    cost = doc["cost"]
    assert (
        cost["model"] == "openai/gpt-4o-mini"
        and cost["new"] > 0
        and cost["delta"] == round(cost["new"] - cost["old"], 6)
    )
    assert {r["label"]: (r["old"], r["new"]) for r in doc["languages"]} == {"en": (30, 31)}
    categories = {r["label"]: (r["old"], r["new"], r["delta"]) for r in doc["categories"]}
    assert categories["how do"] == (30, 28, -2) and categories["what is"] == (0, 2, 2)
    exact = doc["duplicates"]["exact"]
    assert (exact["old"], exact["new"], exact["new_clusters"], exact["gone"]) == (0, 1, 1, 0)
    assert exact["listed"] == [{"size": 2, "records": ["v2.jsonl:30", "v2.jsonl:31"]}]
    email = next(r for r in doc["pii"]["by_entity"] if r["entity"] == "EMAIL_ADDRESS")
    assert (email["old"], email["new"], email["added"], email["removed"]) == (0, 1, 1, 0)
    assert doc["pii"]["records_with_pii"] == {"old": 0, "new": 1}
    new_rules = {r["rule"]: (r["new"], r["resolved"]) for r in doc["findings"]["by_rule"]}
    assert new_rules["personal-data"] == (1, 0) and new_rules["exact-duplicate"] == (1, 0)


def test_markdown_for_a_pull_request(tmp_path, monkeypatch, two_files):
    code, out, _ = run(tmp_path, monkeypatch, *two_files)
    assert code == 0
    assert out.startswith("## curate diff: `v1.jsonl` → `v2.jsonl`\n")
    assert "| records | 30 | 31 | +1 |" in out
    assert "3 added, 2 removed, 1 changed, 27 unchanged" in out
    assert "| `EMAIL_ADDRESS` | 0 | 1 | +1 | 0 |" in out
    assert "| exact | 2 | `v2.jsonl`: 30, 31 |" in out
    assert max(len(line) for line in out.splitlines()) <= 80  # readable raw, as a PR comment's source


@pytest.mark.parametrize("fmt", ["markdown", "json"])
def test_the_planted_value_never_appears(tmp_path, monkeypatch, two_files, fmt):
    code, out, err = run(tmp_path, monkeypatch, *two_files, "--format", fmt, "-o", "out/diff.txt")
    assert code == 0
    written = (tmp_path / "out" / "diff.txt").read_text()
    assert "EMAIL_ADDRESS" in written  # the entity is counted ...
    for text in (out, err, written):
        assert PLANTED not in text and "jane.roe" not in text  # ... its value is not shown
    assert out == "" and "wrote out/diff.txt" in err
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["diff.txt"]  # no temporary file left


def test_a_broken_line_is_no_record(tmp_path, monkeypatch, two_files):
    with open(tmp_path / "v2.jsonl", "a") as f:
        f.write('{"messages": [broken\n')
    doc = diff_json(tmp_path, monkeypatch, *two_files)
    assert doc["records"]["added"] == 3 and doc["new"]["records"] == 31
    assert {r["rule"]: r["new"] for r in doc["findings"]["by_rule"]}["invalid-json"] == 1


def test_ids_name_records_so_an_edit_is_a_change(tmp_path, monkeypatch):
    old, new = versions(ids=True)
    new = new[::-1]  # order does not matter when records have ids
    write_jsonl(tmp_path / "v1.jsonl", old)
    write_jsonl(tmp_path / "v2.jsonl", new)
    (tmp_path / "ids.yaml").write_text("extends: default\nsettings: {id_field: id}\n")
    doc = diff_json(tmp_path, monkeypatch, "v1.jsonl", "v2.jsonl", "--rules", "ids.yaml")
    assert doc["records"] == {"added": 3, "removed": 2, "changed": 1, "unchanged": 27, "matched_by": "id field 'id'"}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("abcd", "abcd", (0, 0, 0, 4)),
        ("abcd", "aXcd", (0, 0, 1, 3)),  # edited in place
        ("abcd", "abXcd", (1, 0, 0, 4)),  # inserted
        ("abcd", "acd", (0, 1, 0, 3)),  # removed
        ("abcd", "XYbcd", (2, 1, 0, 3)),  # one replaced by two: not an edit in place
        ("abcdef", "aXcYeZ", (0, 0, 3, 3)),  # three edited in place
        ("abcd", "dcba", (0, 0, 0, 4)),  # reordered: no record changed
        ("aab", "ab", (0, 1, 0, 2)),  # one of two copies removed
        ("xbyb", "xZyb", (0, 0, 1, 3)),  # one of two identical records edited: the copy that stayed is unchanged
        ("abcdef", "fbcdea", (0, 0, 0, 6)),  # records swapped far apart: moved, not changed
        ("abcdef", "aXcdeb", (1, 1, 0, 5)),  # b moved to the end: X is new where b was, f went at the end
        ("", "ab", (2, 0, 0, 0)),
        ("ab", "", (0, 2, 0, 0)),
    ],
)
def test_records_pair_by_content_between_the_same_neighbours(old, new, expected):
    counts, rows = _by_content(list(old), list(new))
    assert (counts["added"], counts["removed"], counts["changed"], counts["unchanged"]) == expected
    assert len(rows["changed_old"]) == len(rows["changed_new"]) == counts["changed"]


def test_warm_run_replays_and_gives_the_same_diff(tmp_path, monkeypatch, two_files):
    first = diff_json(tmp_path, monkeypatch, *two_files)
    second = diff_json(tmp_path, monkeypatch, *two_files)
    assert first == second
    uncached = diff_json(tmp_path, monkeypatch, *two_files, "--no-cache")
    assert uncached == first


def test_new_without_records_exits_2(tmp_path, monkeypatch, two_files):
    (tmp_path / "empty.jsonl").write_text("")
    code, out, err = run(tmp_path, monkeypatch, "v1.jsonl", "empty.jsonl")
    assert code == 2 and out == "" and "nothing was compared" in err
    doc = diff_json(tmp_path, monkeypatch, "empty.jsonl", "v2.jsonl")  # an empty OLD: everything is new
    assert doc["records"]["added"] == 31 and doc["old"]["records"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["v1.jsonl"], "give NEW, or --rev"),
        (["v1.jsonl", "missing.jsonl"], "missing.jsonl: no such file or directory"),
        (["v1.jsonl", "v2.jsonl", "--format", "html"], "--format must be one of markdown, json"),
        (["v1.jsonl", "-"], "not stdin"),
        (["v1.jsonl@HEAD", "v2.jsonl"], "not inside a git repository"),
    ],
)
def test_usage_errors_exit_2_with_a_message(tmp_path, monkeypatch, two_files, args, message):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    code, out, err = run(tmp_path, monkeypatch, *args)
    assert code == 2 and message in err and "Traceback" not in err


# -- git revisions ------------------------------------------------------------------------------
def git(repo: Path, *args: str) -> str:
    cmd = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@localhost", "-c", "commit.gpgsign=false"]
    return subprocess.run([*cmd, *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with two commits: data/train.jsonl as v1, then as v2 (and data/extra.jsonl added)."""
    old, new = versions()
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    write_jsonl(root / "data" / "train.jsonl", old)
    git(root, "add", ".")
    git(root, "commit", "-qm", "v1")
    write_jsonl(root / "data" / "train.jsonl", new)
    write_jsonl(root / "data" / "extra.jsonl", [rec(i) for i in range(300, 305)])
    git(root, "add", ".")
    git(root, "commit", "-qm", "v2")
    return root


def test_a_file_at_two_revisions(repo, monkeypatch, tmp_path, two_files):
    expected = diff_json(tmp_path, monkeypatch, *two_files)["records"]
    by_rev = diff_json(repo, monkeypatch, "data/train.jsonl", "--rev", "HEAD~1")
    assert by_rev["records"] == expected
    assert by_rev["old"]["label"] == "data/train.jsonl@HEAD~1" and by_rev["new"]["label"] == "data/train.jsonl"
    both = diff_json(repo, monkeypatch, "data/train.jsonl@HEAD~1", "data/train.jsonl@HEAD")
    assert both["records"] == expected
    assert both["duplicates"]["exact"]["listed"][0]["records"] == [
        "data/train.jsonl@HEAD:30",
        "data/train.jsonl@HEAD:31",
    ]


def test_a_folder_and_a_file_the_old_revision_lacks(repo, monkeypatch):
    doc = diff_json(repo, monkeypatch, "data@HEAD~1", "data")
    assert doc["old"]["files"] == ["data/train.jsonl@HEAD~1"]
    assert doc["new"]["files"] == ["data/extra.jsonl", "data/train.jsonl"]
    assert doc["records"]["added"] == 3 + 5
    added = diff_json(repo, monkeypatch, "data/extra.jsonl", "--rev", "HEAD~1")
    assert added["old"]["exists"] is False and added["records"]["added"] == 5
    assert "data/extra.jsonl did not exist at HEAD~1: every record is new" in added["notices"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["data/train.jsonl", "--rev", "no-such-branch"], "unknown revision no-such-branch"),
        (["data/train.jsonl", "--rev", "--output=x"], "not a revision name"),
        (["data/train.jsonl@HEAD~9", "data/train.jsonl"], "unknown revision HEAD~9"),
        (["data/train.jsonl@HEAD~1", "data/extra.jsonl@HEAD~1"], "did not exist"),
    ],
)
def test_revision_errors_exit_2(repo, monkeypatch, args, message):
    code, _, err = run(repo, monkeypatch, *args)
    assert code == 2 and message in err and "Traceback" not in err


def test_the_repository_runs_no_code(repo, monkeypatch, tmp_path):
    """The repository's config names programs for fsmonitor, a smudge/clean filter and a textconv
    driver; reading a revision runs none of them (git itself would run the fsmonitor one)."""
    marker = tmp_path / "ran"
    script = tmp_path / "evil.sh"
    script.write_text(f"#!/bin/sh\necho ran >> {marker}\ncat\n")
    script.chmod(0o755)
    for key in ("core.fsmonitor", "filter.evil.smudge", "filter.evil.clean", "diff.evil.textconv"):
        git(repo, "config", key, str(script))
    (repo / ".gitattributes").write_text("*.jsonl filter=evil diff=evil\n")
    git(repo, "status", "--short")  # the trap is live: plain git runs the fsmonitor program
    assert marker.exists()
    marker.unlink()
    doc = diff_json(repo, monkeypatch, "data/train.jsonl", "--rev", "HEAD~1")
    assert doc["records"]["changed"] == 1
    assert not marker.exists()


def test_a_git_lfs_pointer_is_refused_with_the_way_round(repo, monkeypatch):
    pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:" + "ab" * 32 + "\nsize 123\n"
    (repo / "data" / "train.jsonl").write_text(pointer)
    git(repo, "commit", "-qam", "moved to LFS")
    code, _, err = run(repo, monkeypatch, "data/train.jsonl@HEAD", "data/train.jsonl@HEAD~1")
    assert code == 2 and "Git LFS pointer" in err and "Traceback" not in err


def test_spec_parsing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "odd@name.jsonl").write_text("{}\n")
    assert parse_spec("odd@name.jsonl") == Spec("odd@name.jsonl")  # an existing path is a path
    assert parse_spec("data.jsonl@HEAD~1") == Spec("data.jsonl", "HEAD~1")
    assert parse_spec("data.jsonl", "main") == Spec("data.jsonl", "main")
    assert parse_spec("@HEAD") == Spec("@HEAD") and os.path.exists("odd@name.jsonl")
