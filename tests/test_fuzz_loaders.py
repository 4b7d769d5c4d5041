# ruff: noqa: E501 - token tables, one format per block
"""Fuzz every loader of untrusted files with hypothesis: whatever the bytes, the only way out is a
clear error (ConfigError, which the CLI prints as exit 2 with file and line; DatasetReadError for
a dataset that cannot be read at all), never another exception.

Inputs come in three kinds per loader: any bytes; token soup of the format's own syntax (YAML
anchors, aliases, tags, flow brackets, TOML tables; so deep nesting and odd structure are
reached, not just invalid UTF-8); and well-formed documents with the right keys and wrong values.
Examples are bounded so the suite stays fast; HOSTILE_EXAMPLES says how many each test tries.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from curate.baseline import load_baseline
from curate.config import load_ruleset
from curate.decisions import load_decisions
from curate.io.reader import DatasetReadError, iter_records
from curate.pyproject import load_project_settings
from curate.registry import load_registry
from curate.userregex import UserPatternError, compile_user
from curate.yamlfile import ConfigError

HOSTILE_EXAMPLES = 100
FUZZ = settings(
    max_examples=HOSTILE_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
REGISTRY = load_registry()


@contextmanager
def file_with(name: str, data: bytes) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / name
        path.write_bytes(data)
        yield path


def only_clear_errors(load: Callable[[], Any], *allowed: type[BaseException]) -> None:
    try:
        load()
    except (ConfigError, *allowed):
        pass


def soup(tokens: list[str], max_size: int = 80) -> st.SearchStrategy[bytes]:
    """Byte strings made of a format's own tokens (and a little noise), so parsers go deep."""
    token = st.one_of(st.sampled_from(tokens), st.text(max_size=4))
    return st.lists(token, max_size=max_size).map(lambda parts: "".join(parts).encode("utf-8", "surrogatepass"))


def nested(depth: int) -> st.SearchStrategy[bytes]:
    return st.sampled_from(["[", "{a: ", "- "]).map(lambda t: (t * depth).encode())


YAML_TOKENS = [
    "\n", "  ", "- ", ": ", "{", "}", "[", "]", ", ", "&a ", "*a", "&b ", "*b", "<<: ", "? ", "!!python/object/apply:os.system ",
    "!!binary ", "!!timestamp ", "'", '"', "|\n", ">\n", "---\n", "...\n", "%YAML 1.1\n", "#", "rules", "check", "params",
    "extends", "default", "severity", "error", "enabled", "false", "roles", "settings", "version", "decisions", "key",
    "action", "drop", "fix", "record", "occurrence", "9" * 60, "1e-05", "~", "null", "\t", "\ufeff", "\x85", "\xa0",
    "dedup.near", "quality.pattern", "patterns", "'(a+)+$'", "'(?<!x)'", "cache_dir", "/tmp/x", "..", "\x1b[2J",
]  # fmt: skip
TOML_TOKENS = [
    "[tool.curate]\n", "[tool]\n", "[[tool.curate]]\n", "\n", " = ", "rules", "select", "ignore", "fail_on", "datasets",
    "models", "target", '"never"', '"pii"', "[", "]", "{", "}", ", ", '"', "'''", '"""', "9" * 60, "true", "1979-05-27",
    "inf", "nan", "#", "\\u0000", "/etc/passwd", "../x", "curate", ".", "=",
]  # fmt: skip
JSON_TOKENS = [
    "{", "}", "[", "]", ",", ":", '"findings"', '"version"', '"path"', '"rule"', '"key"', '"fingerprint"', '"x"',
    "1", "2", "-1", "1e999", "9" * 60, "true", "null", "NaN", '"\\ud800"', '"\\u0000"', " ", "\n", '"', "\\",
]  # fmt: skip

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=12),
    st.sampled_from(["default", "schema.weight", "dedup.near", "error", "drop", "accept", "../..", "/tmp", "(a+)+"]),
)  # fmt: skip
KEYS = st.sampled_from([
    "rules", "extends", "check", "params", "severity", "roles", "enabled", "settings", "id_field", "max_line_bytes",
    "patterns", "literals", "cache_dir", "threshold", "fail_on", "target", "description", "version", "decisions", "key",
    "action", "record", "reason", "occurrence", "findings", "path", "rule", "fingerprint", "missing-assistant", "x",
])  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=30,
)
documents = st.dictionaries(KEYS, values, max_size=6)


def yaml_bytes(doc: Any) -> bytes:
    return yaml.safe_dump(doc, allow_unicode=True).encode("utf-8", "surrogatepass")


# --- rule files -------------------------------------------------------------------------------


def load_rules_bytes(data: bytes) -> None:
    with file_with("rules.yaml", data) as path:
        only_clear_errors(lambda: load_ruleset(str(path), REGISTRY))


@FUZZ
@given(st.one_of(st.binary(max_size=600), soup(YAML_TOKENS), nested(5_000)))
def test_rule_file_any_bytes(data: bytes) -> None:
    load_rules_bytes(data)


@FUZZ
@given(documents, st.dictionaries(st.from_regex(r"[a-z]{1,8}(-[a-z]{1,8})?", fullmatch=True), values, max_size=4))
def test_rule_file_right_keys_wrong_values(doc: dict[str, Any], rules: dict[str, Any]) -> None:
    doc = {**doc, "rules": {**rules, **(doc.get("rules") if isinstance(doc.get("rules"), dict) else {})}}
    load_rules_bytes(yaml_bytes(doc))


@FUZZ
@given(
    st.sampled_from(sorted(REGISTRY.checks)),
    st.dictionaries(st.sampled_from(sorted({f for c in REGISTRY.checks.values() for f in c.Params.model_fields})), values, max_size=4),
)  # fmt: skip
def test_rule_file_real_checks_random_params(check: str, params: dict[str, Any]) -> None:
    load_rules_bytes(yaml_bytes({"rules": {"fuzzed-rule": {"check": check, "params": params}}}))


# --- decisions, baselines, pyproject ----------------------------------------------------------


def load_decisions_bytes(data: bytes) -> None:
    with file_with("data.decisions.yaml", data) as path:
        only_clear_errors(lambda: load_decisions(path.parent / "data.jsonl"))


@FUZZ
@given(st.one_of(st.binary(max_size=600), soup(YAML_TOKENS), nested(5_000)))
def test_decisions_any_bytes(data: bytes) -> None:
    load_decisions_bytes(data)


@FUZZ
@given(st.lists(st.dictionaries(KEYS, values, max_size=7), max_size=5), st.sampled_from([None, 1, 2, "1", [1]]))
def test_decisions_right_keys_wrong_values(items: list[dict[str, Any]], version: Any) -> None:
    load_decisions_bytes(yaml_bytes({"version": version, "dataset": "data", "decisions": items}))
    # the layout `save` writes, read by the fast reader: one `name: value` per line
    lines = [f"version: {json.dumps(version)}", "decisions:"]
    for item in items:
        for i, (k, v) in enumerate(item.items()):
            lines.append(f"{'- ' if i == 0 else '  '}{k}: {json.dumps(v, default=str)}")
    load_decisions_bytes("\n".join(lines).encode("utf-8", "surrogatepass"))


def load_baseline_bytes(data: bytes) -> None:
    with file_with(".curate-baseline.json", data) as path:
        only_clear_errors(lambda: load_baseline(path))


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=600), soup(JSON_TOKENS), st.sampled_from(["[", '{"a":']).map(lambda t: (t * 5_000).encode())
    )
)
def test_baseline_any_bytes(data: bytes) -> None:
    load_baseline_bytes(data)


@FUZZ
@given(documents, st.lists(st.dictionaries(KEYS, values, max_size=5), max_size=4))
def test_baseline_right_keys_wrong_values(doc: dict[str, Any], findings: list[Any]) -> None:
    load_baseline_bytes(json.dumps({**doc, "findings": findings}, default=str).encode("utf-8", "surrogatepass"))


def load_pyproject_bytes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "pyproject.toml").write_bytes(data)
        only_clear_errors(lambda: load_project_settings(Path(d)))


@FUZZ
@given(st.one_of(st.binary(max_size=600), soup(TOML_TOKENS), nested(5_000).map(lambda b: b"[tool.curate]\nx = " + b)))
def test_pyproject_any_bytes(data: bytes) -> None:
    load_pyproject_bytes(data)


@FUZZ
@given(
    st.dictionaries(KEYS | st.sampled_from(["select", "ignore", "datasets", "models", "against"]), values, max_size=6)
)
def test_pyproject_right_keys_wrong_values(section: dict[str, Any]) -> None:
    lines = ["[tool.curate]"]
    for k, v in section.items():
        lines.append(f"{k} = {json.dumps(v, default=str)}")  # JSON is mostly valid TOML; when not, an error
    load_pyproject_bytes("\n".join(lines).encode("utf-8", "surrogatepass"))


def load_models_bytes(data: bytes) -> None:
    from curate.targets import _parse

    with file_with("models.yaml", data) as path:
        only_clear_errors(lambda: _parse(path))


@FUZZ
@given(st.one_of(st.binary(max_size=400), soup(YAML_TOKENS + ["models", "provider", "model", "encoding"])))
def test_model_table_any_bytes(data: bytes) -> None:
    load_models_bytes(data)


def load_keymap_bytes(data: bytes) -> None:
    from curate.tui.keys import KeymapError, load_keymap

    with file_with("keys.yaml", data) as path:
        only_clear_errors(lambda: load_keymap(str(path)), KeymapError)


@FUZZ
@given(st.one_of(st.binary(max_size=400), soup(YAML_TOKENS + ["accept", "drop", "a,enter"]), nested(5_000)))
def test_review_keymap_any_bytes(data: bytes) -> None:
    load_keymap_bytes(data)


# --- regexes and datasets ---------------------------------------------------------------------

REGEX_TOKENS = [
    "(", ")", "(?:", "(?<!", "(?=", "(?P<n>", "(?P=n)", "\\1", "[", "]", "[^", "-", "*", "+", "?", "{2}", "{1000}",
    "{2,}", "|", "^", "$", ".", "\\w", "\\W", "\\d", "\\s", "\\b", "\\p{L}", "\\", "a", "é", "(?i)", "(?x)", "++",
]  # fmt: skip


@FUZZ
@given(st.one_of(st.text(max_size=40), soup(REGEX_TOKENS, 30).map(lambda b: b.decode("utf-8", "replace"))))
def test_user_regex_compiles_or_says_why(pattern: str) -> None:
    try:
        compiled = compile_user(pattern)
    except UserPatternError:
        return
    compiled.search("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab é ١٢ x")  # matching never raises either


MAGIC = [
    b"",
    b"\x1f\x8b\x08",
    b"\x28\xb5\x2f\xfd",
    b"BZh9",
    b"\xfd7zXZ\x00",
    b"PAR1",
    b"ARROW1",
    b"\xff\xff\xff\xff",
    b"\xef\xbb\xbf",
]


def compressed(data: bytes, how: str, cut: int) -> bytes:
    """`data` really compressed, then cut short (a truncated download)."""
    import bz2
    import gzip
    import lzma

    import zstandard

    packed = {
        "gzip": gzip.compress,
        "bzip2": bz2.compress,
        "xz": lzma.compress,
        "zstd": lambda b: zstandard.ZstdCompressor().compress(b),
    }[how](data)
    return packed[: max(1, len(packed) - cut)] if cut else packed


jsonl_text = st.lists(documents.map(lambda d: json.dumps(d, default=str)), max_size=5).map(
    lambda ls: "\n".join(ls).encode()
)


@FUZZ
@given(
    st.one_of(
        st.tuples(st.sampled_from(MAGIC), st.binary(max_size=800)).map(lambda t: t[0] + t[1]),
        soup(JSON_TOKENS + ['"messages"', '"role"', '"content"', '"user"', '"assistant"', "\r\n", "\ufeff", ",", ";"]),
        jsonl_text,
        st.tuples(jsonl_text, st.sampled_from(["gzip", "bzip2", "xz", "zstd"]), st.integers(0, 20)).map(
            lambda t: compressed(*t)
        ),
    ),
    st.sampled_from(["data.jsonl", "data.json", "data.csv", "data.tsv", "data.jsonl.gz", "data.parquet", "data.arrow"]),
)
@example(b"(\xb5/\xfd\x00\x00\x00\x00\x00\x00\x00\x01", "data.jsonl")  # a corrupt zstd frame: ZstdError escaped
def test_dataset_reader_any_bytes(data: bytes, name: str) -> None:
    """The dataset reader: every malformed record is a record with problems, never an exception;
    a file that cannot be read at all is a DatasetReadError (exit 2 with its path)."""
    with file_with(name, data) as path:
        try:
            records = list(iter_records(str(path)))
        except DatasetReadError:
            return
        assert all(r.line is None or r.line >= 1 for r in records)


def test_fuzzers_try_what_the_docs_say() -> None:
    """docs/security.md quotes how many hostile inputs a run tries: keep it true."""
    fuzzers = [v for k, v in globals().items() if k.startswith("test_") and hasattr(v, "hypothesis")]
    assert len(fuzzers) == 13
    doc = (Path(__file__).resolve().parent.parent / "docs" / "security.md").read_text(encoding="utf-8")
    assert f"{len(fuzzers) * HOSTILE_EXAMPLES:,} hostile inputs" in doc
