"""The layers hold: import-linter's contracts in pyproject.toml pass, and they cover every module.

Contracts: the core never imports the edges (cli, tui); checks never import the engine, the run
package or the cache; the cache never imports the run package or the engine; inside the run
package, per-record work (results, runner, replay, findings, checkstate) never imports what drives
it (engine, scheduling, shards, the Ray engine).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
EDGES = {"cli", "tui", "entry", "__main__", "__init__", "data"}


def test_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_every_core_module_is_under_the_edges_contract() -> None:
    """A new top-level module must be listed, or the contract would silently not look at it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = config["tool"]["importlinter"]["contracts"][0]
    assert contract["forbidden_modules"] == ["curate.cli", "curate.tui"]
    listed = set(contract["source_modules"])
    modules = {p.stem for p in (ROOT / "curate").iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    assert {f"curate.{m}" for m in modules - EDGES} == listed
