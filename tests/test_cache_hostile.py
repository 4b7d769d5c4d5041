"""A cache folder written by someone else: nothing in it runs, nothing in it changes a report.

Every kind of stored value (whole runs, blocks, records in the result cache; the dedup signature
files) is replaced by a pickle whose `__reduce__` would create a marker file, by a truncated
entry and by an entry with one flipped byte: the run must not execute anything, must give the
report an uncached run gives, and must say so once per cache, not once per entry.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from curate.cli import app


class Planted:
    """Unpickling this creates `marker`: proof that a cache value was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch {self.marker}",))


def records(n: int) -> list[dict]:
    """English chat records (plain English: the language check decides fast) with duplicates."""
    out = []
    for i in range(n):
        answer = (
            f"Answer number {i % 25}: the purple giraffe recites Portuguese poetry on Tuesdays, and the "
            f"bill for the bakery order is due on day {i % 28 + 1} of the month, so please pay it early."
        )
        user = {"role": "user", "content": f"When is bill {i} due?"}
        out.append({"messages": [user, {"role": "assistant", "content": answer}]})
    out[3] = out[1]  # an exact duplicate
    return out


def check(data: Path, *extra: str) -> tuple[dict, list[str]]:
    """The JSON report and the warning lines of `curate check` (in process, one worker).

    Every family whose extracts take a distinct path through the caches (sealed text, keys into
    the signature files, plain numbers); PII and tokens only add time (test_cache runs them all)."""
    args = ["check", str(data), "-f", "json", "--jobs", "1", "--select", "schema,dedup,balance,quality", *extra]
    result = CliRunner().invoke(app, args)
    assert result.exit_code in (0, 1), result.output
    report = orjson.loads(result.stdout_bytes)
    report["stats"].get("dedup", {}).get("near", {}).pop("from_cache", None)
    report["stats"].get("dedup", {}).get("near", {}).pop("sketched", None)
    lines = [line for line in result.stderr_bytes.decode().splitlines() if line.strip()]
    assert not any("Traceback" in line for line in lines)
    return report, lines


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records(60)))
    return path


def _rows(cache: Path) -> list[tuple[Path, bytes, bytes]]:
    out = []
    for db in cache.rglob("*.sqlite"):
        with sqlite3.connect(db) as conn:
            out += [(db, k, v) for k, v in conn.execute("SELECT k, v FROM results")]
    return out


def _pickle(marker: Path) -> Callable[[bytes], bytes]:
    return lambda _old: pickle.dumps(Planted(marker))


def _truncate(old: bytes) -> bytes:
    return old[: len(old) // 2]


def _flip(old: bytes) -> bytes:
    i = len(old) - 3
    return old[:i] + bytes([old[i] ^ 0x40]) + old[i + 1 :]


def _damage_everything(cache: Path, damage: Callable[[bytes], bytes]) -> int:
    """Every result-cache row (runs, blocks, records) and every signature file; returns rows hit."""
    rows = _rows(cache)
    for db, k, v in rows:
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE results SET v = ? WHERE k = ?", (damage(bytes(v)), k))
    files = list(cache.rglob("*.dedup"))
    for f in files:
        f.write_bytes(damage(f.read_bytes()))
    assert files
    return len(rows)


@pytest.mark.parametrize("kind", ["pickle", "truncated", "flipped"])
def test_a_damaged_cache_runs_nothing_changes_nothing_and_warns_once(tmp_path: Path, data: Path, kind: str) -> None:
    marker = tmp_path / "executed"
    uncached, _ = check(data, "--no-cache")
    assert uncached["findings"]
    check(data)  # fills both caches
    lengths = {len(k) for _, k, _ in _rows(tmp_path / "cache")}
    assert lengths == {16, 20}  # record entries (16-byte keys), block and run entries (20)
    damage = {"pickle": _pickle(marker), "truncated": _truncate, "flipped": _flip}[kind]
    assert _damage_everything(tmp_path / "cache", damage) > 60
    report, warnings = check(data)
    assert not marker.exists()
    assert report == uncached
    assert len([w for w in warnings if "result cache" in w and "damaged" in w]) == 1
    assert len([w for w in warnings if "signature cache" in w and "damaged" in w]) == 1
    assert len(warnings) == 2, warnings
    again, warnings = check(data)  # the damaged entries were replaced: a clean replay
    assert again == uncached and warnings == []


def test_an_old_pickle_cache_folder_is_never_read(tmp_path: Path, data: Path) -> None:
    """Format 1 kept pickles under v1/: nothing reads that folder any more."""
    marker = tmp_path / "executed"
    old = tmp_path / "cache" / "v1"
    old.mkdir(parents=True)
    with sqlite3.connect(old / "0123456789abcdef01234567.sqlite") as conn:
        conn.execute("CREATE TABLE results (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID")
        conn.execute("INSERT INTO results VALUES (?, ?)", (b"k" * 20, pickle.dumps(Planted(marker))))
    report, warnings = check(data)
    assert not marker.exists() and report["findings"] and warnings == []


def test_no_cache_reads_and_writes_no_cache_at_all(tmp_path: Path, data: Path) -> None:
    report, warnings = check(data, "--no-cache")
    assert report["findings"] and warnings == []
    assert not (tmp_path / "cache").exists()
    check(data)
    marker = tmp_path / "executed"
    _damage_everything(tmp_path / "cache", _pickle(marker))
    before = _contents(tmp_path / "cache")
    again, warnings = check(data, "--no-cache")
    assert again == report and warnings == [] and not marker.exists()  # not even looked at
    assert _contents(tmp_path / "cache") == before


def _contents(cache: Path) -> tuple:
    """What the caches hold: result rows, and every other file's bytes (SQLite's own files vary
    with checkpoints of connections other tests leave to the garbage collector)."""
    import gc

    gc.collect()
    files = {p: p.read_bytes() for p in cache.rglob("*") if p.is_file() and ".sqlite" not in p.name}
    return sorted(_rows(cache)), files


def test_the_key_is_private_and_a_foreign_key_is_replaced(tmp_path: Path, data: Path) -> None:
    from curate.io.cachedir import KEY_FILE

    uncached, _ = check(data, "--no-cache")
    check(data)
    keys = sorted((tmp_path / "cache").rglob(KEY_FILE))
    assert keys and all(k.stat().st_mode & 0o777 == 0o600 for k in keys)
    result_key = next(k for k in keys if k.parent.name.startswith("v"))
    result_key.chmod(0o644)  # readable by others: no longer a secret
    report, warnings = check(data)
    assert report == uncached
    assert any("key replaced" in w for w in warnings)
    assert result_key.stat().st_mode & 0o777 == 0o600


def test_no_cache_does_not_create_the_pii_key_either(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The PII value hashes need a key; under --no-cache it is a one-run key, not `pii.key`."""
    from curate import privacy

    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(privacy.KEY_ENV, raising=False)
    monkeypatch.setattr(privacy, "_key_cache", None)  # as in a fresh process
    data = tmp_path / "pii.jsonl"
    user = {"role": "user", "content": "Write to me at jane.roe@fastmail.fm please."}
    data.write_bytes(orjson.dumps({"messages": [user, {"role": "assistant", "content": "I will."}]}) + b"\n")
    args = ["check", str(data), "-f", "json", "--jobs", "1", "--select", "pii", "--no-cache"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output  # a warning: below the default fail level
    hashes = [f["data"].get("value_hash") for f in orjson.loads(result.stdout_bytes)["findings"] if f.get("data")]
    assert any(hashes)  # the values were hashed ...
    assert not (tmp_path / "cache").exists()  # ... without a key file
    run_key = os.environ.pop(privacy.KEY_ENV)  # the one-run key, for the workers
    assert len(run_key) == 64


def test_no_cache_reads_an_existing_pii_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The key is not a cache: with one in place, uncached and cached runs hash values alike."""
    from curate import privacy

    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(privacy.KEY_ENV, raising=False)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "pii.key").write_bytes(b"k" * 64)
    monkeypatch.setattr(privacy, "_key_cache", None)
    privacy.use_run_key()
    assert privacy.pii_key() == b"k" * 64 and privacy.KEY_ENV not in os.environ
