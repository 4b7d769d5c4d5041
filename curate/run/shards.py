"""`--shard K/N`: a deterministic slice of the input, its saved state, and `curate merge`.

Slicing. The input files' bytes, end to end in the order given, are cut into N equal ranges; a
unit of work (a block of ~2 MB of whole lines, a slice of a table, a JSON document) belongs to
the shard whose range holds its last byte. Every shard reads past the units of the others (for
JSON Lines that is counting newlines, cheap) and computes only its own, so the N shards together
compute every unit exactly once, on any machines, with no coordinator.

State. A shard writes `shard-K-of-N.curate-state` into DIR: the run's configuration (rules with
their parameters, target, settings, files and sizes), what it collected (`engine.Partial`: per-file
tallies, record findings, the stats table, check failures) and each dataset check's observed
state (`checkstate`). The format is data only: a magic line, a version, a random nonce, a keyed
BLAKE2b MAC, and the payload encoded by the cache's msgpack codec (`curate.cache.codec`, plain
values and numeric arrays, never objects), sealed. The key is the PII hashing key (`pii_key`:
$CURATE_PII_KEY, which every job of a sharded run shares, else this machine's `pii.key`): record
keys (`id:<value>`) and file names are unreadable, and a state changed without the key is refused.
Authentic states are still validated: every field is checked for type and shape, dataset-check
state is loaded into fresh checks that decide what each value may be, and anything that does not
fit is a `ShardStateError` (exit 2 naming the file), never a traceback.

Merge. `merge` loads the states in shard order, checks they are one complete set made with the
same configuration, merges partials and check states (`DatasetCheck.merge`, in order), then
concludes: the same report as one unsharded run (tests/test_shards.py, byte for byte).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from curate import __version__
from curate.check import RunContext
from curate.config import Rule
from curate.io.reader import FileStats, ReadOptions
from curate.model import Severity
from curate.run.checkstate import StateError, dump_state, load_state
from curate.run.engine import Columns, Engine, EngineOptions, FileTally, Partial
from curate.run.findings import ErrorLog

STATE_FORMAT = 2  # 1: digest only, payload in clear; 2: sealed and MACed with the PII key
MAGIC = b"curate shard state\n"
SUFFIX = ".curate-state"
_NAME = re.compile(r"^shard-(\d{1,6})-of-(\d{1,6})\.curate-state$")
MAX_SHARDS = 100_000


class ShardStateError(ValueError):
    """A state folder or file that cannot be merged: the message says which and why (exit 2)."""


@dataclass(frozen=True, slots=True)
class Shard:
    """The K-th (1-based) of N slices."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        m = re.fullmatch(r"\s*(\d{1,6})\s*/\s*(\d{1,6})\s*", text)
        if not m:
            raise ValueError(f"--shard must be K/N (e.g. 2/8), not {text!r:.40}")
        k, n = int(m.group(1)), int(m.group(2))
        if not 1 <= n <= MAX_SHARDS or not 1 <= k <= n:
            raise ValueError(f"--shard {k}/{n}: K must be 1..N and N 1..{MAX_SHARDS:,}")
        return cls(k, n)

    @property
    def file_name(self) -> str:
        return f"shard-{self.index}-of-{self.count}{SUFFIX}"

    def owner(self, sizes: list[int]) -> Callable[[int, int], bool]:
        """`owns(file_index, end)`: does the unit of that file ending at byte `end` belong to this shard?"""
        bases = [0]
        for size in sizes:
            bases.append(bases[-1] + size)
        total = bases[-1]
        k, n = self.index - 1, self.count

        def owns(file_index: int, end: int) -> bool:
            if total == 0:
                return k == 0
            last = min(max(bases[file_index] + end - 1, 0), total - 1)  # the unit's last byte, globally
            return last * n // total == k

        return owns


# -- saving ------------------------------------------------------------------------------------


def run_shard(
    engine: Engine,
    paths: list[str],
    shard: Shard,
    directory: Path,
    fail_on: str,
    skipped: list[tuple[str, str]],
    notices: list[str],
) -> tuple[Path, int]:
    """Check this shard's slice of `paths` and save its state; returns (state file, records checked)."""
    import os

    sizes = [os.path.getsize(p) for p in paths]
    config = config_of(engine, paths, sizes, fail_on, skipped, notices)
    partial = engine.collect(paths, shard.owner(sizes))
    return save_state(directory, shard, engine, partial, config), partial.columns.n


def config_of(
    engine: Engine, paths: list[str], sizes: list[int], fail_on: str, skipped: list[tuple[str, str]], notices: list[str]
) -> dict[str, Any]:
    """What merge needs to rebuild the run, and what every shard of one run must agree on."""
    from curate.cache.keys import run_fingerprint

    ctx = engine.ctx
    classes = [engine.registry.checks[r.check] for r in engine.rules]
    plain_ctx = RunContext(target=ctx.target, settings=dict(ctx.settings))
    options = engine.options
    return {
        "curate": __version__,
        "fingerprint": run_fingerprint(engine.rules, classes, plain_ctx, options.read, repr(options.input_format), ()),
        "input_format_repr": repr(options.input_format),
        "ruleset": engine.ruleset_name,
        "fail_on": fail_on,
        "rules": [
            [r.id, r.check, int(r.severity), r.params.model_dump(mode="json"), sorted(r.roles) if r.roles else None]
            + [r.source, r.description]
            for r in engine.rules
        ],
        "target": ctx.target,
        "against": list(ctx.against),
        "settings": dict(ctx.settings),
        "ctx_notices": list(ctx.notices),
        "read": [options.read.max_line_bytes, options.read.id_field],
        "block_bytes": options.block_bytes,
        "paths": [[p, s] for p, s in zip(paths, sizes, strict=True)],
        "skipped": [[p, why] for p, why in skipped],  # files a directory listing skipped, and why
        "notices": list(notices),  # the command's own (trainer settings)
    }


def save_state(directory: Path, shard: Shard, engine: Engine, partial: Partial, config: dict[str, Any]) -> Path:
    """Write this shard's state file into `directory` (atomically); returns its path."""
    from curate.cache.codec import Unencodable, encode
    from curate.cache.result import finding_row
    from curate.io.atomic import write_bytes_atomic

    body = {
        "format": STATE_FORMAT,
        "shard": [shard.index, shard.count],
        "config": config,
        "files": [
            [t.path, _stats_row(t.read), _stats_row(t.seen), [[k, v] for k, v in t.formats.items()]]
            for t in partial.files
        ],
        "findings": [finding_row(f) for f in partial.findings],
        "columns": [[name, values] for name, values in partial.columns.cols.items()],
        "records": partial.columns.n,
        "errors": [[c, m] for c, m in partial.errors.entries],
        "error_counts": [[c, n] for c, n in partial.errors.counts.items()],
        "checks": [[rule.id, dump_state(check)] for rule, check in engine.dataset_checks],
    }
    try:
        payload = encode(body)
    except (Unencodable, StateError) as exc:
        raise ShardStateError(f"cannot save the shard state: {exc}") from exc
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / shard.file_name
    write_bytes_atomic(path, seal_state(payload))
    return path


_NONCE = 16
_MAC = 32
_HEAD = len(MAGIC) + 2 + _NONCE + _MAC


def _keys(nonce: bytes) -> tuple[bytes, bytes]:
    """(sealing secret, MAC key) for one file, from the PII key and the file's own nonce."""
    from curate.privacy import pii_key

    root = hashlib.blake2b(pii_key(), digest_size=32, person=b"curate-shard").digest()
    return hashlib.blake2b(nonce, key=root, digest_size=32, person=b"seal").digest(), hashlib.blake2b(
        nonce, key=root, digest_size=32, person=b"mac"
    ).digest()


def seal_state(payload: bytes) -> bytes:
    """A state file's bytes: header, nonce, MAC over nonce and sealed payload, sealed payload."""
    import secrets

    from curate.cache.seal import seal

    nonce = secrets.token_bytes(_NONCE)
    secret, mac_key = _keys(nonce)
    sealed = seal(payload, secret)
    mac = hashlib.blake2b(nonce + sealed, key=mac_key, digest_size=_MAC).digest()
    return MAGIC + STATE_FORMAT.to_bytes(2, "big") + nonce + mac + sealed


def open_state(path: Path, blob: bytes) -> bytes:
    """The payload of a state file's bytes, or ShardStateError naming the file and why."""
    import hmac

    from curate.cache.seal import unseal

    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 2:
        raise ShardStateError(f"{path}: not a curate shard state")
    version = int.from_bytes(blob[len(MAGIC) : len(MAGIC) + 2], "big")
    if version != STATE_FORMAT:
        raise ShardStateError(f"{path}: shard state format {version}; this curate reads format {STATE_FORMAT}")
    if len(blob) < _HEAD:
        raise ShardStateError(f"{path}: damaged (truncated)")
    start = len(MAGIC) + 2
    nonce, mac, sealed = blob[start : start + _NONCE], blob[start + _NONCE : _HEAD], blob[_HEAD:]
    secret, mac_key = _keys(nonce)
    if not hmac.compare_digest(hashlib.blake2b(nonce + sealed, key=mac_key, digest_size=_MAC).digest(), mac):
        raise ShardStateError(
            f"{path}: damaged, or written with another key: every job of a sharded run and the merge must "
            "share one CURATE_PII_KEY (docs/cluster.md)"
        )
    payload = unseal(sealed, secret)
    if payload is None:
        raise ShardStateError(f"{path}: damaged (does not unseal)")
    return payload


_STATS_FIELDS = tuple(f.name for f in fields(FileStats) if f.name != "extra")


def _stats_row(stats: FileStats) -> list[Any]:
    return [getattr(stats, name) for name in _STATS_FIELDS]


# -- loading and merging -----------------------------------------------------------------------


@dataclass(slots=True)
class Merged:
    """A merged set of shards: the report and what the command needs around it."""

    engine: Engine
    partial: Partial
    config: dict[str, Any]

    @property
    def paths(self) -> list[str]:
        return [p for p, _ in self.config["paths"]]

    @property
    def skipped(self) -> list[tuple[str, str]]:
        return [(str(p), str(why)) for p, why in self.config["skipped"]]

    @property
    def notices(self) -> list[str]:
        return [str(n) for n in self.config["notices"]]

    @property
    def fail_on(self) -> str:
        return str(self.config["fail_on"])


def state_files(directory: Path) -> list[Path]:
    """The state files of one complete set, in shard order; ShardStateError for a missing,
    duplicate or mixed set."""
    if not directory.is_dir():
        raise ShardStateError(f"{directory}: not a folder of shard states")
    found: dict[int, list[tuple[int, Path]]] = {}
    for path in sorted(directory.iterdir()):
        if not path.name.endswith(SUFFIX):
            continue
        m = _NAME.match(path.name)
        if not m:
            raise ShardStateError(f"{path}: not named shard-K-of-N{SUFFIX}")
        k, n = int(m.group(1)), int(m.group(2))
        found.setdefault(n, []).append((k, path))
    if not found:
        raise ShardStateError(f"{directory}: no shard state (*{SUFFIX}); run `curate check --shard K/N --save-state`")
    if len(found) > 1:
        raise ShardStateError(f"{directory}: states of different shard counts ({', '.join(map(str, sorted(found)))})")
    ((n, shards),) = found.items()
    counts = Counter(k for k, _ in shards)
    duplicate = sorted(k for k, c in counts.items() if c > 1)
    if duplicate:
        raise ShardStateError(f"{directory}: shard {duplicate[0]}/{n} is there twice")
    missing = [k for k in range(1, n + 1) if k not in counts]
    if missing:
        listed = ", ".join(f"{k}/{n}" for k in missing[:10]) + (" ..." if len(missing) > 10 else "")
        raise ShardStateError(f"{directory}: {len(missing)} of {n} shards missing: {listed}")
    extra = sorted(k for k in counts if not 1 <= k <= n)
    if extra:
        raise ShardStateError(f"{directory}: shard {extra[0]}/{n} is out of range")
    return [path for _, path in sorted(shards)]


def read_state(path: Path) -> dict[str, Any]:
    """One state file, decoded and checked for shape; ShardStateError naming the file otherwise."""
    from curate.cache.codec import decode

    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise ShardStateError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    payload = open_state(path, blob)
    try:
        body = decode(payload)
    except Exception as exc:  # noqa: BLE001 - msgpack's errors are many; all mean the same here
        raise ShardStateError(f"{path}: damaged ({type(exc).__name__})") from exc
    if not isinstance(body, dict) or body.get("format") != STATE_FORMAT:
        raise ShardStateError(f"{path}: not a curate shard state")
    return body


def merge(directory: Path, suppress: Any = frozenset(), registry: Any = None) -> Merged:
    """Every shard of `directory` merged into one partial and one set of dataset checks."""
    paths = state_files(directory)
    engine: Engine | None = None
    partial: Partial | None = None
    config: dict[str, Any] = {}
    for index, path in enumerate(paths, start=1):
        body = read_state(path)
        try:
            _shard(body, index, len(paths))
            if engine is None:
                config = body["config"]
                engine = _engine(config, suppress, registry)
            elif body["config"] != config:
                raise ShardStateError(
                    "made with other inputs, rules or settings than shard 1 (run every shard with the same command)"
                )
            part = _partial(body, len(config["paths"]))
            states = _check_states(body, engine)
            if partial is None:
                partial = part
                for (_, check), state in zip(engine.dataset_checks, states, strict=True):
                    load_state(check, state)
            else:
                partial.merge(part)
                from curate.run.runner import bind

                _, others = bind(engine.rules, engine.registry, engine.ctx)
                for (_, mine), (_, other), state in zip(engine.dataset_checks, others, states, strict=True):
                    load_state(other, state)
                    mine.merge(other)  # type: ignore[attr-defined]
        except ShardStateError as exc:
            raise ShardStateError(f"{path}: {exc}") from exc
        except (StateError, ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            raise ShardStateError(f"{path}: does not fit this run ({type(exc).__name__}: {exc})"[:400]) from exc
        except Exception as exc:  # noqa: BLE001 - anything else a crafted file provokes (RecursionError ...)
            raise ShardStateError(f"{path}: does not fit this run ({type(exc).__name__})") from exc
    assert engine is not None and partial is not None
    return Merged(engine, partial, config)


def _shard(body: dict[str, Any], index: int, count: int) -> Shard:
    k, n = body["shard"]
    if (k, n) != (index, count):
        raise ShardStateError(f"holds shard {k}/{n}, its name says {index}/{count}")
    return Shard(k, n)


def _engine(config: dict[str, Any], suppress: Any, registry: Any) -> Engine:
    from curate.registry import load_registry

    registry = registry or load_registry()
    if config.get("curate") != __version__:
        raise ShardStateError(f"made by curate {str(config.get('curate'))[:40]}; this is curate {__version__}")
    rules = []
    for row in config["rules"]:
        rule_id, check_id, severity, params, roles, source, description = row
        cls = registry.checks.get(check_id)
        if cls is None:
            raise ShardStateError(f"rule {str(rule_id)[:80]} uses check {str(check_id)[:80]}, which is not installed")
        try:
            parsed = cls.Params.model_validate(params)
        except Exception as exc:  # noqa: BLE001 - pydantic's ValidationError: the parameters do not fit
            raise ShardStateError(f"rule {str(rule_id)[:80]}: parameters do not fit {check_id}") from exc
        if not all(isinstance(v, str) for v in (rule_id, source, description)):
            raise ShardStateError("malformed rule")
        rules.append(
            Rule(
                rule_id, check_id, Severity(severity), parsed, frozenset(roles) if roles else None, source, description
            )
        )
    files = [p for p, _ in config["paths"]]
    if not all(isinstance(p, str) for p in files) or not all(isinstance(n, str) for n in config["notices"]):
        raise ShardStateError("malformed configuration")
    ctx = RunContext(
        target=config["target"],
        against=tuple(config["against"]),
        paths=tuple(files),
        settings=dict(_pairs_or_dict(config["settings"])),
        notices=tuple(config["ctx_notices"]),
        use_cache=False,
    )
    read = ReadOptions(*config["read"])
    options = EngineOptions(read=read, suppress=suppress, jobs=1, block_bytes=int(config["block_bytes"]))
    engine = Engine(rules, ctx, options, registry=registry, ruleset_name=str(config["ruleset"]))
    from curate.cache.keys import run_fingerprint

    classes = [registry.checks[r.check] for r in rules]
    plain_ctx = RunContext(target=ctx.target, settings=dict(ctx.settings))
    fingerprint = run_fingerprint(rules, classes, plain_ctx, read, str(config["input_format_repr"]), ())
    if fingerprint != config["fingerprint"]:
        raise ShardStateError("made by another build of curate or its libraries (run shards and merge alike)")
    return engine


def _pairs_or_dict(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ShardStateError("malformed settings")
    return value


def _partial(body: dict[str, Any], nfiles: int) -> Partial:
    from curate.cache.result import finding_from_row

    partial = Partial()
    files = body["files"]
    if not isinstance(files, list) or len(files) != nfiles:
        raise ShardStateError("its files are not the run's files")
    for path, read, seen, formats in files:
        formats_counter: Counter[str] = Counter()
        for fmt, n in formats:
            if not isinstance(fmt, str) or not isinstance(n, int) or n < 0:
                raise ShardStateError("malformed format counts")
            formats_counter[fmt] = n
        partial.files.append(FileTally(str(path), _stats(read), _stats(seen), formats_counter))
    partial.findings = [_finding(finding_from_row(row)) for row in body["findings"]]
    columns = Columns()
    n = body["records"]
    if not isinstance(n, int) or n < 0:
        raise ShardStateError("malformed record count")
    for name, values in body["columns"]:
        if not isinstance(name, str) or not isinstance(values, list) or len(values) != n:
            raise ShardStateError("malformed stats table")
        columns.cols[name] = values
    columns.n = n
    partial.columns = columns
    errors = ErrorLog()
    for check, message in body["errors"]:
        if not isinstance(check, str) or not (message is None or isinstance(message, str)):
            raise ShardStateError("malformed error list")
        errors.entries.append((check, message))
    for check, count in body["error_counts"]:
        errors.counts[str(check)] = int(count)
    partial.errors = errors
    return partial


def _finding(f: Any) -> Any:
    """A finding from a state file, every field of the type the report expects."""
    texts = (f.rule, f.check, f.message, f.fingerprint)
    optional = (f.path, f.field, f.key, f.fix)
    if not all(isinstance(v, str) for v in texts) or not all(v is None or isinstance(v, str) for v in optional):
        raise ShardStateError("malformed finding")
    if f.line is not None and (isinstance(f.line, bool) or not isinstance(f.line, int)):
        raise ShardStateError("malformed finding")
    return f


def _stats(row: Any) -> FileStats:
    if not isinstance(row, list) or len(row) != len(_STATS_FIELDS):
        raise ShardStateError("malformed file statistics")
    stats = FileStats(**dict(zip(_STATS_FIELDS, row, strict=True)))
    ints = (stats.lines, stats.records, stats.crlf_lines, stats.bytes_read)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in ints):
        raise ShardStateError("malformed file statistics")
    first = stats.first_crlf_line
    texts_ok = isinstance(stats.layout, str) and isinstance(stats.container, str)
    if not texts_ok or not (stats.skipped is None or isinstance(stats.skipped, str)):
        raise ShardStateError("malformed file statistics")
    if first is not None and (isinstance(first, bool) or not isinstance(first, int)):
        raise ShardStateError("malformed file statistics")
    return stats


def _check_states(body: dict[str, Any], engine: Engine) -> list[Any]:
    states = body["checks"]
    ids = [rule.id for rule, _ in engine.dataset_checks]
    if not isinstance(states, list) or [s[0] for s in states] != ids:
        raise ShardStateError("its dataset checks are not the run's")
    return [s[1] for s in states]
