"""Every dataset check's state merges: observing all records equals observing two halves and merging.

This is what a process pool, `--shard` runs and Ray rely on. Extracts come from the real per-record
work (record checks first, so `record.stats` is filled as in a run); each check is bound with the
default rule set's parameters (or its defaults when no default rule uses it).
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from curate.check import DatasetCheck, RecordRef, RunContext, RunState
from curate.config import Rule, load_ruleset
from curate.registry import load_registry

SYSTEM = "You are a patient tutor for the Kettlewell school."


def _records() -> list[bytes]:
    words = [
        "river",
        "stone",
        "lantern",
        "orchard",
        "velvet",
        "harbor",
        "maple",
        "cinder",
        "quartz",
        "meadow",
        "saffron",
    ]
    out = []
    for i in range(90):
        body = " ".join(words[(i * 3 + j) % len(words)] for j in range(24 + i % 7))
        messages = [
            {"role": "user", "content": f"Tell me about item {i % 30}?"},
            {"role": "assistant", "content": body},
        ]
        if i % 3 == 0:
            messages.insert(0, {"role": "system", "content": SYSTEM})
        rec: dict[str, Any] = {"messages": messages, "category": ["science", "history", "art"][i % 3]}
        out.append(orjson.dumps(rec))
    out[10] = out[4]  # exact duplicate
    out[20] = out[5].replace(b"river", b"rivers", 1)  # near duplicate
    out[30] = orjson.dumps(
        {"instruction": "Say hello in French", "output": "Bonjour tout le monde, comment allez-vous"}
    )
    out[40] = orjson.dumps({"messages": [{"role": "user", "content": "Write to jane.roe@example.com please"}]})
    out[50] = b"{broken"
    out[60] = orjson.dumps({"prompt": "Hola, como estas hoy amigo", "completion": "Muy bien, gracias por preguntar"})
    return out


def _bindings() -> list[Rule]:
    """One rule per dataset check: the default set's, else the check with default parameters."""
    registry = load_registry()
    rules = {r.check: r for r in load_ruleset("default").rules}
    out = []
    for check_id, cls in sorted(registry.checks.items()):
        if not issubclass(cls, DatasetCheck):
            continue
        rule = rules.get(check_id)
        if rule is None:
            rule = Rule(
                f"merge-{check_id.replace('.', '-').replace('_', '-')}",
                check_id,
                cls.default_severity,
                cls.Params(),
                None,
                "test",
                "",
            )
        out.append(rule)
    return out


RULES = _bindings()


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[RecordRef], dict[str, list[Any]], dict]:
    """Per rule: every record's extract (None for a skipped record), and the refs and stats table."""
    from curate.io.reader import ReadOptions, iter_raw
    from curate.run.results import SKIP_MARK
    from curate.run.runner import Runner

    path = tmp_path_factory.mktemp("merge") / "mixed.jsonl"
    path.write_bytes(b"\n".join(_records()) + b"\n")
    record_rules = [r for r in load_ruleset("default").rules if r.check not in {b.check for b in RULES}]
    runner = Runner(record_rules + RULES, RunContext(), ReadOptions(), None)
    results = runner.run_unit(str(path), list(iter_raw(str(path), ReadOptions()))).records
    assert not any(r.failures for r in results), [r.failures for r in results]
    refs = [RecordRef(str(path), r.line, r.key, r.format, r.stats) for r in results]
    per_rule = {}
    dataset_rules = [rule for rule, _ in runner.dataset_checks]
    for i, rule in enumerate(dataset_rules):
        per_rule[rule.id] = [None if r.extracts[i] is SKIP_MARK else ("value", r.extracts[i]) for r in results]
    columns: dict[str, list[Any]] = {}
    for n, ref in enumerate(refs):
        row = {"path": ref.path, "line": ref.line, "key": ref.key, "format": ref.format, **ref.stats}
        for name, value in row.items():
            columns.setdefault(name, [None] * n).append(value)
        for col in columns.values():
            if len(col) < n + 1:
                col.append(None)
    return refs, per_rule, columns


def _run(
    rule: Rule, parts: list[range], refs: list[RecordRef], values: list[Any], columns: dict, saved: bool = False
) -> tuple:
    """Observe each part on its own check, merge them in order, finalize. `saved`: each part's state
    goes through a shard's state format first (plain data, encoded, decoded, loaded into a fresh check)."""
    from curate.cache.codec import decode, encode
    from curate.run.checkstate import dump_state, load_state

    cls = load_registry().checks[rule.check]
    checks = []
    for part in parts:
        check = cls(rule.params, RunContext(), rule.roles)
        for i in part:
            if values[i] is not None:
                check.observe(refs[i], values[i][1])
        if saved:
            fresh = cls(rule.params, RunContext(), rule.roles)
            load_state(fresh, decode(encode(dump_state(check))))
            check = fresh
        checks.append(check)
    first = checks[0]
    for other in checks[1:]:
        first.merge(other)
    state = RunState(columns, len(refs), [], RunContext())
    hits = [
        (h.message, h.field, h.line, h.key, h.path, h.identity, orjson.dumps(h.data, option=orjson.OPT_SORT_KEYS))
        for h in first.finalize(state)
    ]
    return hits, orjson.dumps(first.summary(), option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=repr)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.check)
def test_observe_all_equals_observe_halves_then_merge(rule: Rule, extracted: tuple) -> None:
    refs, per_rule, columns = extracted
    values = per_rule[rule.id]
    assert any(v is not None for v in values), "the check looked at no record: the test proves nothing"
    n = len(refs)
    whole = _run(rule, [range(n)], refs, values, columns)
    halves = _run(rule, [range(n // 2), range(n // 2, n)], refs, values, columns)
    uneven = _run(rule, [range(7), range(7, n)], refs, values, columns)
    assert halves == whole
    assert uneven == whole


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.check)
def test_state_saved_as_data_and_loaded_merges_the_same(rule: Rule, extracted: tuple) -> None:
    """What `--shard K/N --save-state` writes and `curate merge` reads: equal to one process."""
    refs, per_rule, columns = extracted
    values = per_rule[rule.id]
    n = len(refs)
    whole = _run(rule, [range(n)], refs, values, columns)
    assert _run(rule, [range(n)], refs, values, columns, saved=True) == whole
    assert (
        _run(rule, [range(n // 3), range(n // 3, n // 2), range(n // 2, n)], refs, values, columns, saved=True) == whole
    )
