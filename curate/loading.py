"""Bounded reading of files curate did not write (rules, pyproject, decisions, baselines), and
confinement of the paths they name.

Every such file may come from someone hostile: it may be huge, not a regular file (a FIFO,
/dev/zero), or not UTF-8. These helpers read at most a fixed number of bytes from a regular
file and turn every failure into a ConfigError naming the file (and the line, where one exists).
A path such a file gives is taken relative to a folder curate chose (the cache, the project) and
must stay inside it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Annotated

from pydantic import AfterValidator

from curate.yamlfile import ConfigError

# Limits per kind of file: far above anything real, far below what exhausts memory.
RULES_LIMIT = 1 << 20  # rule files, model tables (PyYAML reads ~4 s of CPU per MB; real ones are < 50 KB)
PYPROJECT_LIMIT = 4 << 20  # pyproject.toml (tomllib is faster; monorepos keep long files)
DECISIONS_LIMIT = 256 << 20  # a decisions file grows with reviewed records (fix/edit decisions hold records)
BASELINE_LIMIT = 256 << 20  # ~1M accepted findings


def read_bytes_bounded(path: str | Path, limit: int, what: str = "file") -> bytes:
    """At most `limit` bytes of a regular file; anything else (too big, a FIFO, a device) is refused."""
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise ConfigError(f"cannot read {what}: {exc.strerror or exc}", p) from None
    with os.fdopen(fd, "rb") as fh:
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ConfigError(f"cannot read {what}: not a regular file", p)
            data = fh.read(limit + 1)
        except OSError as exc:
            raise ConfigError(f"cannot read {what}: {exc.strerror or exc}", p) from None
    if len(data) > limit:
        raise ConfigError(f"{what} is larger than {limit >> 20} MB; refusing to read it", p)
    return data


def decode_utf8(data: bytes, path: str | Path, what: str = "file") -> str:
    """UTF-8 text; invalid bytes are an error naming their line (never silently replaced)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{what} is not valid UTF-8 (byte 0x{data[exc.start]:02x})", path, line) from None


def read_text_bounded(path: str | Path, limit: int, what: str = "file") -> str:
    return decode_utf8(read_bytes_bounded(path, limit, what), path, what)


def json_line_of(text: str, loc: tuple[object, ...]) -> int | None:
    """The line where the value at `loc` (keys and list indexes, as in a pydantic error) starts in
    JSON `text`, or of the deepest part of it found. A tolerant linear scan, for messages only."""
    stack: list[list[object]] = []  # [container kind, current key or index]
    line, best, i, n = 1, 1, 0, len(text)

    def element() -> None:
        nonlocal best
        if stack and stack[-1][0] == "[":
            stack[-1][1] = int(stack[-1][1]) + 1  # type: ignore[call-overload]
            path = tuple(part for _, part in stack)
            if path == loc[: len(path)]:
                best = line

    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
        elif ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            k = j + 1
            while k < n and text[k] in " \t\r\n":
                k += 1
            if stack and stack[-1][0] == "{" and k < n and text[k] == ":":
                stack[-1][1] = text[i + 1 : j]
                path = tuple(part for _, part in stack)
                if path == loc[: len(path)]:
                    best = line
            else:
                element()
            i = j
        elif ch in "[{":
            element()
            stack.append([ch, -1 if ch == "[" else None])
        elif ch in "]}":
            if stack:
                stack.pop()
        elif ch not in " \t\r,:" and (i == 0 or text[i - 1] in "[, \t\r\n"):
            element()  # the first character of a scalar
        i += 1
    return best


def relative_inside(value: str) -> str:
    """A pydantic validator for a path a repository file gives: relative, without `..`, so that
    joined to the folder curate chose it stays inside that folder."""
    pure = PurePosixPath(value.replace("\\", "/"))
    if not value.strip() or pure.is_absolute() or ".." in pure.parts or PureWindowsPath(value).drive:
        raise ValueError(
            f"{value!r} must be a relative path inside the folder it belongs to (no leading / and no '..'):"
            " a repository file may not make curate write elsewhere"
        )
    return value


def within(root: Path, relative: str) -> Path | None:
    """`root / relative` when it stays inside `root` with symlinks resolved, else None."""
    try:
        relative_inside(relative)
    except ValueError:
        return None
    target = root / relative
    try:
        target.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):
        return None
    return target


InsideFolder = Annotated[str, AfterValidator(relative_inside)]
