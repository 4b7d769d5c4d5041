"""Per-message training weights: OpenAI's `weight` and LLaMA-Factory's `loss_weight`.

The OpenAI cookbook's validator crashes on `weight`; the upload accepts only 0 or 1, and only
on assistant messages (other roles are never trained on).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from curate.check import RecordCheck
from curate.checks.schema._calls import json_kind
from curate.checks.schema._scan import scan
from curate.display import shown
from curate.model import Hit, Record, Severity


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Weight(RecordCheck):
    id = "schema.weight"
    description = (
        "A message `weight` other than 0 or 1 or on a non-assistant message, or a `loss_weight` outside [0, 1]."
    )
    default_severity = Severity.ERROR
    example = (
        '{"messages": [{"role": "user", "content": "hi", "weight": 1}, '
        '{"role": "assistant", "content": "yo", "weight": 0.5}]}'
    )

    def applies(self, record: Record) -> bool:
        s = scan(record)
        return not ("weight" not in s.keys and "loss_weight" not in s.keys)

    def check(self, record: Record) -> Iterator[Hit]:
        if not self.applies(record):  # when called directly, not through the engine
            return
        s = scan(record)
        for base, msgs in s.lists:
            for i, msg in enumerate(msgs):
                if not isinstance(msg, dict) or ("weight" not in msg and "loss_weight" not in msg):
                    continue
                where = f"{base}/{i}"
                if "weight" in msg:
                    w = msg["weight"]
                    if not _number(w) or w not in (0, 1):
                        what = repr(w)[:30] if _number(w) else f"a JSON {json_kind(w)}"
                        yield Hit(
                            f"`weight` is {what}; only 0 or 1 are allowed",
                            field=f"{where}/weight",
                            fix="Use 1 to train on this message and 0 to skip it.",
                        )
                    elif msg.get("role") != "assistant":
                        yield Hit(
                            f"`weight` on a {shown(msg.get('role'), 20)} message; "
                            "only assistant messages take a weight",
                            field=f"{where}/weight",
                            fix="Remove `weight` from this message (only assistant messages are trained on).",
                        )
                if "loss_weight" in msg:
                    w = msg["loss_weight"]
                    if not _number(w) or not 0 <= w <= 1:
                        what = repr(w)[:30] if _number(w) else f"a JSON {json_kind(w)}"
                        yield Hit(
                            f"`loss_weight` is {what}; it must be a number from 0 to 1",
                            field=f"{where}/loss_weight",
                            fix="Use 0.0 to skip the message, 1.0 to train on it fully, or a fraction in between.",
                        )


CHECKS = [Weight]
