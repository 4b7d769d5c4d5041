"""`--engine ray`: Ray is an optional extra, so without it the command says how to get it (exit 2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from curate.cli.common import fail

if TYPE_CHECKING:
    from curate.check import RunContext
    from curate.config import Rule
    from curate.run.engine import Engine, EngineOptions


def ray_engine(rules: list[Rule], ctx: RunContext, options: EngineOptions, ruleset: str, address: str | None) -> Engine:
    try:
        from curate.run.ray_engine import RayEngine
    except ModuleNotFoundError as exc:
        if exc.name != "ray" and not (exc.name or "").startswith("ray."):
            raise
        fail("--engine ray needs Ray, which is not installed: pip install 'curate[ray]'")
    return RayEngine(rules, ctx, options, ruleset_name=ruleset, address=address)
