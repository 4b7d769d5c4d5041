"""`--shard K/N --save-state DIR` then `curate merge DIR`: byte for byte the report of one unsharded run.

Every rule of the default set, records that span files (duplicates across files, so across
shards), CRLF lines in several blocks (reported once per file), a JSON array and a gzip file,
broken and blank lines. Hostile or incomplete state folders exit 2 with a message.
"""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from curate.check import RunContext
from curate.cli import app
from curate.config import load_ruleset
from curate.run.engine import Engine, EngineOptions
from curate.run.shards import (
    MAGIC,
    Shard,
    ShardStateError,
    merge,
    open_state,
    run_shard,
    seal_state,
    state_files,
)

EMAIL = "jane.roe@gmail.com"


def _chat(i: int, extra: str = "") -> dict:
    answer = f"Answer {i}: the heron waits by the river until the fish forget it, {extra} on day {i % 11}."
    msgs = [{"role": "user", "content": f"Question {i}?"}, {"role": "assistant", "content": answer}]
    if i % 4 == 0:
        msgs.insert(0, {"role": "system", "content": "You are a patient tutor."})
    return {"messages": msgs, "category": ["science", "history", "art"][i % 3]}


def _dataset(root: Path) -> list[str]:
    lines = [orjson.dumps(_chat(i)) for i in range(60)]
    lines[7] = orjson.dumps(
        {"messages": [{"role": "user", "content": "Who?"}, {"role": "assistant", "content": EMAIL}]}
    )
    lines[8] = orjson.dumps({"messages": [{"role": "user", "content": "no answer here"}]})
    lines[12] = lines[3]  # exact duplicate within the file
    lines[20] = orjson.dumps(_chat(5, "and then")).replace(b"heron", b"herons")  # near duplicate
    lines[25] = b"{broken"
    lines[30] = orjson.dumps({"instruction": "Say hi in French", "output": "Bonjour"})
    body = b"".join(line + (b"\r\n" if i in (2, 40, 55) else b"\n") for i, line in enumerate(lines)) + b"\n"
    first = root / "a.jsonl"
    first.write_bytes(body)
    second = root / "b.json"
    second.write_bytes(orjson.dumps([_chat(i) for i in range(100, 118)] + [_chat(3)]))  # a copy of a.jsonl's 3
    third = root / "c.jsonl.gz"
    third.write_bytes(gzip.compress(b"".join(orjson.dumps(_chat(i)) + b"\n" for i in range(200, 230))))
    return [str(first), str(second), str(third)]


def _engine(jobs: int = 1) -> Engine:
    rs = load_ruleset("default")
    options = EngineOptions(jobs=jobs, block_bytes=1024)  # many blocks per file
    return Engine(rs.rules, RunContext(use_cache=False), options, ruleset_name=rs.name)


def _sharded(paths: list[str], n: int, state: Path, jobs: int = 1) -> bytes:
    from curate.reporters.json_report import render_json

    for k in range(1, n + 1):
        run_shard(_engine(jobs), paths, Shard(k, n), state, "error", [], [])
    merged = merge(state)
    return render_json(merged.engine.conclude(merged.partial))


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], bytes]:
    from curate.reporters.json_report import render_json

    paths = _dataset(tmp_path_factory.mktemp("shards"))
    whole = render_json(_engine().run(paths))
    return paths, whole


@pytest.mark.parametrize("n", [1, 2, 3, 7, 400])  # 400: far more shards than blocks (most are empty)
def test_sharded_then_merged_equals_one_run_byte_for_byte(tmp_path: Path, data: tuple, n: int) -> None:
    paths, whole = data
    report = orjson.loads(whole)
    assert report["findings"] and report["summary"]["duplicates"]  # the comparison is not of empty reports
    assert {f["check"] for f in report["findings"]} >= {"dedup.exact", "dedup.near", "schema.crlf", "pii.entities"}
    assert _sharded(paths, n, tmp_path / "state") == whole


def test_shards_take_every_unit_once_and_share_the_work(data: tuple) -> None:
    paths, _ = data
    counts = []
    for k in range(1, 4):
        engine = _engine()
        from curate.io.reader import BLOCK_BYTES  # noqa: F401 - the engine's blocks here are 1 KB

        sizes = [Path(p).stat().st_size for p in paths]
        counts.append(engine.collect(paths, Shard(k, 3).owner(sizes)).columns.n)
    assert sum(counts) == _engine().collect(paths).columns.n
    assert all(c > 0 for c in counts)


def test_shards_on_the_process_pool_merge_the_same(tmp_path: Path, data: tuple) -> None:
    paths, whole = data
    assert _sharded(paths, 2, tmp_path / "state", jobs=2) == whole


def test_the_shard_option_parses_strictly() -> None:
    assert Shard.parse("2/8") == Shard(2, 8)
    for bad in ("0/3", "4/3", "1/0", "a/b", "1", "1/2/3", "-1/2"):
        with pytest.raises(ValueError):
            Shard.parse(bad)


# -- the commands ------------------------------------------------------------------------------


def _cli(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def cli_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "in").mkdir()
    return _dataset(tmp_path / "in")


@pytest.mark.parametrize("n", [1, 2, 3, 5])  # 5 shards for 3 files of one block each: some shards empty
def test_check_shard_then_merge_prints_the_same_report_and_exit_code(
    tmp_path: Path, cli_data: list[str], n: int
) -> None:
    code, whole, _ = _cli(["check", *cli_data, "-f", "json", "--no-cache"])
    assert code == 1
    for k in range(1, n + 1):
        code_k, out, err = _cli(["check", *cli_data, "--shard", f"{k}/{n}", "--save-state", "st", "--no-cache"])
        assert code_k == 0 and out == "" and f"shard {k}/{n}" in err
    merged_code, merged, _ = _cli(["merge", "st", "-f", "json"])
    assert (merged_code, merged) == (code, whole)
    text = _cli(["check", *cli_data, "--no-cache"])
    assert _cli(["merge", "st"])[:2] == text[:2]
    assert _cli(["merge", "st", "--fail-on", "never", "-f", "sarif"])[0] == 0


def test_shards_with_the_caches_on_merge_to_the_same_findings(tmp_path: Path, cli_data: list[str]) -> None:
    """Result and signature caches on (the default): a shard replays what it can, its state is the same."""
    whole = orjson.loads(_cli(["check", *cli_data, "-f", "json"])[1])
    for _ in range(2):  # the second time every shard replays blocks from the cache
        for k in (1, 2):
            assert _cli(["check", *cli_data, "--shard", f"{k}/2", "--save-state", "st"])[0] == 0
        merged = orjson.loads(_cli(["merge", "st", "-f", "json"])[1])
        for report in (whole, merged):
            for key in ("from_cache", "sketched"):  # where the signatures came from: differs by design
                report["stats"].get("dedup", {}).get("near", {}).pop(key, None)
        assert merged == whole


def test_merge_refuses_missing_duplicate_and_mixed_shards(tmp_path: Path, cli_data: list[str]) -> None:
    for k in (1, 3):
        assert _cli(["check", *cli_data, "--shard", f"{k}/3", "--save-state", "st", "--no-cache"])[0] == 0
    code, out, err = _cli(["merge", "st"])
    assert code == 2 and "1 of 3 shards missing: 2/3" in err and "Traceback" not in out + err
    (tmp_path / "st" / "shard-01-of-3.curate-state").write_bytes(
        (tmp_path / "st" / "shard-1-of-3.curate-state").read_bytes()
    )
    assert "shard 1/3 is there twice" in _cli(["merge", "st"])[2]
    (tmp_path / "st" / "shard-01-of-3.curate-state").unlink()
    assert _cli(["check", *cli_data, "--shard", "1/2", "--save-state", "st", "--no-cache"])[0] == 0
    assert "different shard counts" in _cli(["merge", "st"])[2]
    assert "no shard state" in _cli(["merge", str(tmp_path / "in")])[2]
    code, _, err = _cli(["check", *cli_data, "--shard", "1/2"])
    assert code == 2 and "--save-state" in err
    code, _, err = _cli(["check", "-", "--shard", "1/2", "--save-state", "x"])
    assert code == 2 and "stdin" in err
    code, _, err = _cli(["check", *cli_data, "--shard", "1/2", "--save-state", "x", "--engine", "ray"])
    assert code == 2 and "use one" in err


def _rewrite(path: Path, change) -> None:  # noqa: ANN001
    """A state file changed by an attacker who holds the key: payload edited, sealed again (the
    fields are still validated)."""
    from curate.cache.codec import decode, encode

    body = decode(open_state(path, path.read_bytes()))
    change(body)
    path.write_bytes(seal_state(encode(body)))


def _rewrite_without_key(path: Path) -> None:
    """Edited by someone without the key: the digest recomputed the way format 1 allowed."""
    blob = bytearray(path.read_bytes())
    blob[-5] ^= 0xFF
    path.write_bytes(bytes(blob))


def _set(keys: list, value: object):  # noqa: ANN202
    def change(body: dict) -> None:
        target = body
        for k in keys[:-1]:
            target = target[k]
        target[keys[-1]] = value

    return change


class _Boom:
    def __reduce__(self) -> tuple:
        return (print, ("code ran",))


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(p.read_bytes()[:-40]),  # truncated
        lambda p: p.write_bytes(pickle.dumps(_Boom())),  # a pickle, not a state
        lambda p: p.write_bytes(p.read_bytes()[: len(MAGIC)] + b"\x00\x09" + p.read_bytes()[len(MAGIC) + 2 :]),
        lambda p: _rewrite(p, _set(["checks", 0, 1], {"os": "system"})),
        lambda p: _rewrite(p, _set(["checks", 0, 1], [1, 2])),
        lambda p: _rewrite(p, _set(["files"], [["x", [1], [2], []]])),
        lambda p: _rewrite(p, _set(["findings"], [["r", "c", 9, None, None, None, "m", "f", None, None, {}]])),
        lambda p: _rewrite(p, _set(["columns"], [["path", ["a"] * 10**4]])),
        lambda p: _rewrite(p, _set(["config", "rules", 0, 1], "os.system")),
        lambda p: _rewrite(p, _set(["config", "rules", 0, 3], {"no_such_param": 1})),
        lambda p: _rewrite(p, _set(["shard"], [1, 2])),
        lambda p: _rewrite(p, _set(["errors"], "x")),
        lambda p: _rewrite(p, _set(["findings", 0, 3], 7)),  # a path that is a number
        lambda p: _rewrite(p, _set(["files", 0, 1, 4], 12)),  # a layout that is a number
        lambda p: _rewrite(p, _set(["config", "ruleset"], [[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]])),
        lambda p: _rewrite(p, _set(["checks", 1, 1, "counts"], [["a", "not a count"]])),
        lambda p: _rewrite(p, lambda b: b.clear()),
        _rewrite_without_key,
    ],
)
def test_a_hostile_state_file_exits_2_with_a_message(tmp_path: Path, cli_data: list[str], damage) -> None:  # noqa: ANN001
    for k in (1, 2):
        assert _cli(["check", *cli_data, "--shard", f"{k}/2", "--save-state", "st", "--no-cache"])[0] == 0
    target = tmp_path / "st" / "shard-2-of-2.curate-state"
    damage(target)
    code, out, err = _cli(["merge", "st", "-f", "json"])
    assert code == 2, (out, err)
    assert "shard-2-of-2.curate-state" in err and "Traceback" not in out + err and "code ran" not in out + err


def test_state_files_are_listed_in_shard_order(tmp_path: Path) -> None:
    for k in (10, 2, 1, 3, 4, 5, 6, 7, 8, 9, 11):
        (tmp_path / f"shard-{k}-of-11.curate-state").write_bytes(b"")
    assert [p.name for p in state_files(tmp_path)][:3] == [f"shard-{k}-of-11.curate-state" for k in (1, 2, 3)]
    with pytest.raises(ShardStateError):
        state_files(tmp_path / "nowhere")


def test_a_state_file_is_sealed_and_needs_the_runs_key(
    tmp_path: Path, cli_data: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Record keys and file names are not readable in a state file; a merge with another key is
    refused with the fix named (every job must share CURATE_PII_KEY)."""
    monkeypatch.setenv("CURATE_PII_KEY", "a" * 64)
    for k in (1, 2):
        assert _cli(["check", *cli_data, "--shard", f"{k}/2", "--save-state", "st", "--no-cache"])[0] == 0
    for p in (tmp_path / "st").iterdir():
        blob = p.read_bytes()
        assert blob.startswith(MAGIC)
        for name in cli_data:
            assert Path(name).name.encode() not in blob
    assert _cli(["merge", "st", "-f", "json"])[0] in (0, 1)
    monkeypatch.setenv("CURATE_PII_KEY", "b" * 64)
    code, _, err = _cli(["merge", "st", "-f", "json"])
    assert code == 2 and "CURATE_PII_KEY" in err and "Traceback" not in err
