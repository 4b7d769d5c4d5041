"""`curate review --serve`: the review UI reaches a browser through textual-serve, for real.

The server is started as a user would; the page is fetched over HTTP, and the websocket the
page's terminal uses is opened by an aiohttp client that reads what the app draws.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).parent))

from review_data import write_dataset  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, limit: float = 60) -> None:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError("the server never listened")


async def screen_text(port: int, until: bytes, limit: float = 90) -> bytes:
    out = b""
    url = f"http://127.0.0.1:{port}/ws?width=120&height=35"
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        end = time.monotonic() + limit
        while time.monotonic() < end and until not in out:
            try:
                msg = await asyncio.wait_for(ws.receive(), timeout=2)
            except asyncio.TimeoutError:
                continue
            if msg.type == aiohttp.WSMsgType.BINARY:
                out += msg.data
            elif msg.type == aiohttp.WSMsgType.TEXT:
                out += msg.data.encode()
            else:
                break
    return out


def test_review_is_served_to_a_browser(tmp_path):
    path = write_dataset(tmp_path)
    port = free_port()
    env = {**os.environ, "CURATE_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "curate", "review", str(path), "--serve", "--port", str(port), "-s", "schema"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    try:
        wait_for_port(port, proc)
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30).read().decode()
        assert "textual.js" in page and "/ws" in page
        drawn = asyncio.run(screen_text(port, until=b"missing-assistant"))
        assert b"shown" in drawn and b"missing-assistant" in drawn  # the list of flagged records, drawn
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    assert b"Traceback" not in proc.stderr.read()
