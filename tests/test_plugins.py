"""Third-party checks arrive through the `curate.checks` entry points, like the built-ins.

The test installs a fake distribution (a *.dist-info with entry_points.txt) into a temporary
directory on sys.path: one good plugin, one that fails to import, one that is not a check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from curate.registry import load_registry

PLUGIN = """
from curate.check import RecordCheck
from curate.model import Hit, Severity


class Shouting(RecordCheck):
    id = "acme.shouting"
    description = "Assistant text in capitals only."
    default_severity = Severity.WARNING
    example = '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "HELLO"}]}'

    def check(self, record):
        for turn in record.conversation.turns:
            if turn.role == "assistant" and turn.text.isupper():
                yield Hit("assistant is shouting", field=turn.field, fix="Write in sentence case.")


CHECKS = [Shouting]
NOT_A_CHECK = [42]
"""


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    (site / "acme_curate.py").write_text(PLUGIN, encoding="utf-8")
    (site / "acme_broken.py").write_text("raise RuntimeError('boom at import')\n", encoding="utf-8")
    dist = site / "acme_curate-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-curate\nVersion: 1.0\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text(
        "[curate.checks]\nacme = acme_curate:CHECKS\nbroken = acme_broken:CHECKS\nodd = acme_curate:NOT_A_CHECK\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(site))
    yield site
    monkeypatch.undo()
    sys.modules.pop("acme_curate", None)
    load_registry(refresh=True)


def test_plugin_check_is_registered_and_broken_ones_are_reported(plugin_dir):
    registry = load_registry(refresh=True)
    assert "acme.shouting" in registry.checks
    assert "schema.weight" in registry.checks  # built-ins still load
    messages = [f"{e.source}: {e.message}" for e in registry.errors]
    assert any("broken" in m and "RuntimeError" in m and "boom at import" in m for m in messages), messages
    assert any("odd" in m and "not a curate Check" in m for m in messages), messages


def test_cli_runs_a_plugin_check_despite_a_broken_plugin(plugin_dir, tmp_path):
    data = tmp_path / "data.jsonl"
    data.write_text(
        '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "HELLO THERE"}]}\n'
        '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello."}]}\n',
        encoding="utf-8",
    )
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        textwrap.dedent("""
            extends: default
            rules:
              shouting: {check: acme.shouting}
        """),
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_dir), str(Path(__file__).parent.parent)])}
    proc = subprocess.run(
        [sys.executable, "-m", "curate", "check", str(data), "--rules", str(rules), "--select", "acme,schema",
         "--format", "json"],
        capture_output=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert b"Traceback" not in proc.stderr
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    shouting = [f for f in report["findings"] if f["rule"] == "shouting"]
    assert [(f["line"], f["field"], f["check"]) for f in shouting] == [(1, "/messages/1/content", "acme.shouting")]
    assert any("broken" in e and "RuntimeError" in e for e in report["errors"]), report["errors"]


def test_a_built_in_family_that_fails_to_import_is_reported_not_fatal(monkeypatch):
    """Entry point broken for one family, direct import broken for another: the rest still load."""
    from importlib import import_module
    from importlib.metadata import EntryPoint

    import curate.registry as registry_module

    broken_ep = EntryPoint("quality", "curate.checks.no_such_family:CHECKS", "curate.checks")
    monkeypatch.setattr(registry_module, "entry_points", lambda group: [broken_ep])

    def flaky_import(name: str):  # noqa: ANN202
        if name == "curate.checks.pii":
            raise ImportError("half-written module")
        return import_module(name)

    monkeypatch.setattr(registry_module, "import_module", flaky_import)
    try:
        registry = load_registry(refresh=True)
        messages = [f"{e.source}: {e.message}" for e in registry.errors]
        assert any("quality" in m and "ModuleNotFoundError" in m for m in messages), messages
        assert any("curate.checks.pii" in m and "half-written" in m for m in messages), messages
        assert "schema.weight" in registry.checks
        assert not any(c.startswith(("quality.", "pii.")) for c in registry.checks)
    finally:
        monkeypatch.undo()
        load_registry(refresh=True)
