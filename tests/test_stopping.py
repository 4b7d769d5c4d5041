"""Ctrl-C and SIGTERM during a pooled run: stop at once, end every worker, say one line.

A real `curate check --jobs 2` in a subprocess over a file of many blocks (so the pool is used);
the signal is sent once its workers exist. The 5 s bound is only a guard against a hang (the
promise is 2 s; `benchmarks/bench_stop.py` measures it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

GUARD = 5.0  # seconds: a hang guard, not the figure


def _children(pid: int) -> set[int]:
    """Every descendant process of `pid` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(b")", 1)[1].split()[1])
    out, todo = set(), [pid]
    while todo:
        p = todo.pop()
        for child, parent in parents.items():
            if parent == p and child not in out:
                out.add(child)
                todo.append(child)
    return out


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in (b"Z", b"X")


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~12 MB of chat records: six 2 MB blocks at least, so the run uses its process pool."""
    path = tmp_path_factory.mktemp("stop") / "big.jsonl"
    words = b"alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()
    lines = []
    for i in range(40_000):
        answer = b" ".join(words[(i + j) % len(words)] for j in range(40)).decode()
        rec = {"messages": [{"role": "user", "content": f"Question {i}?"}, {"role": "assistant", "content": answer}]}
        lines.append(orjson.dumps(rec))
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _start(path: Path, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CURATE_CACHE_DIR": str(tmp_path / "cache"), "PYTHONUNBUFFERED": "1"}
    args = [sys.executable, "-m", "curate", "check", str(path), "--jobs", "2", "-f", "json"]
    args += ["--select", "schema,quality", "--no-cache"]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path)


def _wait_for_workers(proc: subprocess.Popen[bytes]) -> set[int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        kids = _children(proc.pid)
        if len(kids) >= 2:
            return kids
        if proc.poll() is not None:
            pytest.fail(f"curate ended before its pool started: {proc.stderr.read().decode()[-500:]}")  # type: ignore[union-attr]
        time.sleep(0.02)
    pytest.fail("no worker processes appeared")


@pytest.mark.parametrize(
    ("signals", "code", "delay"),
    [
        ((signal.SIGINT,), 130, 0.3),
        ((signal.SIGINT, signal.SIGINT), 130, 0.3),
        ((signal.SIGTERM,), 143, 0.3),
    ],
    ids=["ctrl-c", "ctrl-c-twice", "term"],
)
def test_a_signal_stops_a_pooled_run_at_once_and_cleanly(
    big: Path, tmp_path: Path, signals: tuple[int, ...], code: int, delay: float
) -> None:
    proc = _start(big, tmp_path)
    workers = _wait_for_workers(proc)
    time.sleep(delay)  # the workers are at work on blocks now (or just starting)
    sent = time.monotonic()
    for signum in signals:
        proc.send_signal(signum)
        time.sleep(0.05)
    try:
        out, err = proc.communicate(timeout=GUARD)
    except subprocess.TimeoutExpired:
        proc.kill()
        for pid in _children(proc.pid) | workers:
            os.kill(pid, signal.SIGKILL)
        pytest.fail("curate did not stop within the guard")
    took = time.monotonic() - sent
    survivors = [pid for pid in workers if _running(pid)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert not survivors, "worker processes outlived curate"
    assert proc.returncode == code
    assert out == b""  # no partial report
    lines = err.decode().splitlines()
    assert len(lines) == 1 and "Traceback" not in err.decode(), err.decode()
    assert lines[0].startswith(f"curate: interrupted by {signal.Signals(signals[0]).name} while ")
    assert "big.jsonl" in lines[0] or "finalizing" in lines[0]
    assert took < GUARD
    assert not (tmp_path / "cache").exists()  # --no-cache: nothing written there either


_SIGNAL_IN_FORK_HOOK = """
import os, signal, sys
from curate.entry import main
fired = []
def hook():  # runs in the parent right after each fork, where Python drops a handler's exception
    if not fired:
        fired.append(1)
        os.kill(os.getpid(), {signum})
os.register_at_fork(after_in_parent=hook)
sys.argv = ["curate", "check", sys.argv[1], "--jobs", "2", "-f", "json", "--select", "schema,quality", "--no-cache"]
main()
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "term"])
def test_a_signal_while_the_pool_forks_is_not_lost(big: Path, tmp_path: Path, signum: int) -> None:
    """The signal arrives inside the fork's hooks, the moment that used to swallow it (the run then
    went on as if nothing was pressed); now it is held until the fork is done, then handled."""
    env = {**os.environ, "CURATE_CACHE_DIR": str(tmp_path / "cache")}
    script = _SIGNAL_IN_FORK_HOOK.format(signum=int(signum))
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(big)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path
    )
    try:
        out, err = proc.communicate(timeout=60)  # start-up included; a lost signal runs the whole audit
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the signal sent while forking was lost")
    text = err.decode()
    assert proc.returncode == 128 + signum, text
    assert out == b""
    assert "Exception ignored" not in text and "Traceback" not in text, text
    assert text.splitlines() == [text.splitlines()[0]]
    assert text.startswith(f"curate: interrupted by {signal.Signals(signum).name}")


_INTERRUPT_DURING_IMPORT = """
import sys
class Interrupting:  # Ctrl-C while the CLI's libraries are being imported
    def find_spec(self, name, path=None, target=None):
        if name == "curate.cli":
            raise KeyboardInterrupt
        return None
sys.meta_path.insert(0, Interrupting())
from curate.entry import main
main()
"""


def test_ctrl_c_during_start_up_prints_one_line_not_a_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _INTERRUPT_DURING_IMPORT], capture_output=True, cwd=tmp_path, timeout=60
    )
    assert proc.returncode == 130
    assert proc.stdout == b""
    assert proc.stderr.decode() == "curate: interrupted while starting; nothing was read or written\n"


def test_the_console_script_starts_through_the_guarded_entry() -> None:
    import tomllib

    scripts = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["curate"] == "curate.entry:main"
