"""No schema check raises, whatever shape a record has: bad input is a finding, never a crash."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curate.check import RecordCheck
from curate.config import load_ruleset
from curate.model import Record
from curate.registry import load_registry

KEYS = [
    "messages", "role", "content", "name", "weight", "loss_weight", "tool_calls", "tool_call_id", "function_call",
    "id", "type", "function", "arguments", "tools", "functions", "text", "value", "from", "conversations",
    "chosen", "rejected", "prompt", "completion", "instruction", "input", "output", "history", "system",
    "preferred_output", "non_preferred_output", "chosen_messages", "rejected_messages", "parameters", "label",
]  # fmt: skip
WORDS = ["user", "assistant", "tool", "system", "human", "gpt", "function_call", "observation", "text",
         "tool_call", "reasoning", "f", "get weather", "{}", '{"name": "f", "arguments": {}}', "[INST]",
         "<|im_end|>", "", " ", "c1", "[1]", "{bad"]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 3),
    st.floats(allow_nan=False),
    st.sampled_from(WORDS),
    st.text(max_size=8),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)),
    max_leaves=25,
)
records = st.dictionaries(st.sampled_from(KEYS), values, max_size=5)


def schema_checks() -> list[RecordCheck]:
    registry = load_registry()
    out = []
    for name in ("default", "openai"):
        for rule in load_ruleset(name).rules:
            cls = registry.checks[rule.check]
            if rule.check.startswith("schema.") and issubclass(cls, RecordCheck):
                out.append(cls(rule.params, None, rule.roles))
    return out


CHECKS = schema_checks()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records)
def test_no_schema_check_raises_on_any_record_shape(data):
    for fmt in (None, "openai_chat", "openai_preference", "prompt_completion", "sharegpt", "preference", "alpaca"):
        record = Record("fuzz.jsonl", 1, data)
        record.format_hint = fmt
        for check in CHECKS:
            for hit in check.check(record):
                assert hit.message and hit.fix, (check.id, hit)
