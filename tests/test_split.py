"""curate split: proportions kept per stratum, duplicate groups on one side, inputs untouched."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest
from test_balance_texts import mixed, write_jsonl
from typer.testing import CliRunner

from curate.cli import app
from curate.model import Finding, Severity
from curate.split import UnionFind, assign, dedup_links, split_dataset

runner = CliRunner()


def test_assign_keeps_each_stratum_share() -> None:
    labels = ["en"] * 600 + ["de"] * 300 + ["zh"] * 100
    chosen = assign(labels, list(range(1000)), 0.1, seed=3)
    assert Counter(labels[i] for i in chosen) == {"en": 60, "de": 30, "zh": 10}


def test_assign_never_splits_a_group_and_is_seeded() -> None:
    labels = ["a"] * 100
    groups = [i // 4 for i in range(100)]  # 25 groups of 4
    chosen = assign(labels, groups, 0.2, seed=1)
    assert len(chosen) == 20
    for g in range(25):
        members = {i for i in range(100) if groups[i] == g}
        assert members <= chosen or not (members & chosen)
    assert chosen == assign(labels, groups, 0.2, seed=1)
    assert chosen != assign(labels, groups, 0.2, seed=2)


def test_small_strata_share_the_rounding() -> None:
    labels = [f"c{i % 50}" for i in range(100)]  # 50 strata of 2: 0.1 * 2 rounds to 0 each
    assert len(assign(labels, list(range(100)), 0.1, seed=0)) == 10


def test_union_find() -> None:
    uf = UnionFind(5)
    uf.union(3, 1)
    uf.union(4, 3)
    assert {uf.find(i) for i in (1, 3, 4)} == {1}
    assert uf.find(0) == 0


def _finding(path: str, line: int, kept: int) -> Finding:
    data = {"cluster": f"near-{kept}", "duplicate_of": kept}
    return Finding("near", "dedup.near", Severity.WARNING, path, line, None, "near", "fp", data=data)


def test_dedup_links() -> None:
    f = _finding("a.jsonl", 5, 2)
    other = Finding("x", "schema.blank_line", Severity.WARNING, "a.jsonl", 3, None, "m", "fp", data={"duplicate_of": 1})
    assert list(dedup_links([f, other])) == [(("a.jsonl", 5), ("a.jsonl", 2))]


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_split_dataset_groups_exact_and_dedup_clusters(tmp_path: Path) -> None:
    records = mixed({"en": 40, "de": 40}, dup_every=7)
    path = write_jsonl(tmp_path / "in.jsonl", records)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    # a near-duplicate cluster the dedup rules found: lines 1, 2 and 3 (whatever their text)
    findings = [_finding(str(path), 2, 1), _finding(str(path), 3, 1)]
    out = tmp_path / "out"
    summary = split_dataset([str(path)], out, 0.25, None, 0, None, findings, ["near (dedup.near)"])
    train, val = _lines(out / "train.jsonl"), _lines(out / "val.jsonl")
    assert len(train) + len(val) == len(records) and summary.val == len(val)
    assert not set(train) & set(val)  # no exact copy on both sides
    first3 = set(_lines(path)[:3])
    assert first3 <= set(train) or first3 <= set(val)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    manifest = json.loads((out / "split.json").read_text())
    assert manifest["grouping"] == ["exact text", "near (dedup.near)"]
    assert manifest["groups"] >= 1


def test_split_refuses_to_overwrite_its_input(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "train.jsonl", mixed({"en": 5}))
    with pytest.raises(ValueError, match="input"):
        split_dataset([str(path)], tmp_path, 0.2)
    with pytest.raises(ValueError, match="between 0 and 1"):
        split_dataset([str(path)], tmp_path / "o", 1.5)


def test_cli_split_stratified_by_language(tmp_path: Path) -> None:
    records = mixed({"en": 50, "de": 30, "zh": 20}, dup_every=9)
    path = write_jsonl(tmp_path / "mix.jsonl", records)
    before = path.read_bytes()
    rules = tmp_path / "rules.yaml"  # the rule set's language rule is used (fastText keeps the test quick)
    rules.write_text(
        "rules:\n  language-mix: {check: balance.language, params: {backend: fasttext}}\n"
        "  near-duplicate: {check: dedup.near}\n",
        encoding="utf-8",
    )
    out = tmp_path / "split"
    args = ["split", str(path), "--val", "0.2", "--stratify", "language", "--seed", "5", "-r", str(rules)]
    result = runner.invoke(app, [*args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == before
    manifest = json.loads((out / "split.json").read_text())
    assert manifest["grouping"] == ["exact text", "near-duplicate (dedup.near)"]
    mix = manifest["mix"]
    assert set(mix) == {"en", "de", "zh"}
    for lang, c in mix.items():
        share = c["val"] / (c["train"] + c["val"])
        assert abs(share - 0.2) < 0.06, (lang, c)  # whole duplicate groups: a record or so either way
    train, val = _lines(out / "train.jsonl"), _lines(out / "val.jsonl")
    assert not set(train) & set(val)
    assert sorted(train + val) == sorted(_lines(path))  # every record once, bytes unchanged
    again = tmp_path / "again"
    runner.invoke(app, [*args, "-o", str(again)])
    assert (again / "val.jsonl").read_bytes() == (out / "val.jsonl").read_bytes()


def test_cli_split_by_category_field(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "mix.jsonl", mixed({"en": 50, "de": 50}))
    out = tmp_path / "s"
    args = [
        "split",
        str(path),
        "--val",
        "0.1",
        "--stratify",
        "category",
        "--category-field",
        "metadata.category",
        "-o",
        str(out),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    mix = json.loads((out / "split.json").read_text())["mix"]
    assert sum(v["val"] for v in mix.values()) == 10
    assert all(v["val"] in (2, 3) for v in mix.values())  # 25 per category: 2.5 each, rounded
    assert set(mix) == {"en-0", "en-1", "de-0", "de-1"}


@pytest.mark.parametrize("args", [["--val", "2"], ["--stratify", "colour"]])
def test_cli_split_usage_errors(tmp_path: Path, args: list[str]) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", mixed({"en": 3}))
    result = runner.invoke(app, ["split", str(path), "-o", str(tmp_path / "o"), *args])
    assert result.exit_code == 2
