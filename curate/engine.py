"""Compatibility: the engine lives in `curate.run` now (results, runner, scheduling, engine).

Kept so that plugins and scripts written against `curate.engine` go on working; new code imports
from `curate.run.engine`, `curate.run.findings` and `curate.run.results`.
"""

from curate.run.engine import Engine, EngineOptions, Progress
from curate.run.findings import MAX_CHECK_ERRORS, MAX_MESSAGE, describe_failure, make_finding
from curate.run.results import SKIP_MARK, BlockResult, RecordResult

__all__ = [
    "MAX_CHECK_ERRORS",
    "MAX_MESSAGE",
    "SKIP_MARK",
    "BlockResult",
    "Engine",
    "EngineOptions",
    "Progress",
    "RecordResult",
    "describe_failure",
    "make_finding",
]
