"""A dataset as it was at a git revision (`data.jsonl@HEAD~1`), read without letting the repository run code.

The repository is untrusted: its config may name programs (fsmonitor, filters, textconv, hooks).
Blobs are copied out with `git cat-file blob`, which applies no filter or textconv (never
`--filters`/`--textconv`); every git call is an argument list (no shell), with
`-c core.fsmonitor=false` and hooks pointed nowhere, and revisions that look like options refused.
The files land in a private temporary folder that the caller owns and removes.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curate.io.listing import is_dataset_name

_GIT_CONFIG = ("-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "core.untrackedCache=false")
_LFS = b"version https://git-lfs.github.com/spec/v1"
_REV = re.compile(r"[^\x00-\x20\x7f~^:?*\[\\][^\x00-\x20\x7f]{0,255}")


class RevisionError(Exception):
    """A revision that cannot be read: not a repository, unknown revision, git missing."""


@dataclass(frozen=True, slots=True)
class Spec:
    """One side of a diff: a path, and the revision it is read at (None: as it is on disk)."""

    path: str
    rev: str | None = None

    @property
    def label(self) -> str:
        return f"{self.path}@{self.rev}" if self.rev else self.path


def parse_spec(text: str, rev: str | None = None) -> Spec:
    """`PATH@REV` names a revision unless PATH@REV is itself an existing path; `rev` (--rev) wins."""
    if rev is not None:
        return Spec(text, rev)
    if "@" in text and text != "-" and not Path(text).exists():
        path, _, at = text.rpartition("@")
        if path and at:
            return Spec(path, at)
    return Spec(text)


@dataclass(frozen=True, slots=True)
class Materialized:
    """What `materialize` wrote: the path to read (None: the path did not exist at the revision)
    and the commit the revision named."""

    path: str | None
    commit: str


def _env() -> dict[str, str]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "GIT_LITERAL_PATHSPECS": "1"}
    for name in ("GIT_EXTERNAL_DIFF", "GIT_PAGER", "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(name, None)
    return env


def _git(cwd: Path, *args: str, stdout: Any = subprocess.PIPE) -> subprocess.CompletedProcess[bytes]:
    """One git command as an argument list, with the repository's code-running settings off."""
    try:
        return subprocess.run(
            ["git", "-C", str(cwd), *_GIT_CONFIG, *args],
            stdout=stdout,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=_env(),
            check=False,
        )
    except FileNotFoundError as exc:
        raise RevisionError("git is not installed: reading a revision needs it") from exc


def _error(proc: subprocess.CompletedProcess[bytes]) -> str:
    from curate.display import shown

    lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    return shown(lines[-1] if lines else "git failed", 300)


def _anchor(path: Path) -> Path:
    """The nearest existing folder at or above `path` (the path may exist only in the revision)."""
    probe = path if path.is_dir() else path.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def materialize(spec: Spec, into: Path) -> Materialized:
    """Copy the dataset files of `spec.path` at `spec.rev` into `into` (a file, or a folder of them)."""
    from curate.display import shown

    assert spec.rev is not None
    rev = spec.rev
    if not _REV.fullmatch(rev) or rev.startswith("-"):
        raise RevisionError(f"{shown(rev)}: not a revision name")
    target = Path(os.path.abspath(spec.path))
    top_proc = _git(_anchor(target), "rev-parse", "--show-toplevel")
    if top_proc.returncode:
        raise RevisionError(f"{shown(spec.label)}: {shown(spec.path)} is not inside a git repository")
    top = Path(top_proc.stdout.decode("utf-8", "surrogateescape").strip())
    commit_proc = _git(top, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if commit_proc.returncode:
        raise RevisionError(f"{shown(spec.label)}: unknown revision {shown(rev)}")
    commit = commit_proc.stdout.decode("ascii", "replace").strip()
    anchor = _anchor(target)
    try:
        real = Path(os.path.realpath(anchor)) / target.relative_to(anchor)
        rel_text = real.relative_to(os.path.realpath(top)).as_posix()
    except ValueError as exc:
        raise RevisionError(f"{shown(spec.label)}: outside the repository {shown(str(top))}") from exc
    rel_text = "" if rel_text == "." else rel_text
    args = ["ls-tree", "-r", "-z", "--full-tree", commit]
    listing = _git(top, *args, *(["--", rel_text] if rel_text else []))
    if listing.returncode:
        raise RevisionError(f"{shown(spec.label)}: {_error(listing)}")
    entries = _entries(listing.stdout, rel_text)
    if not entries:
        return Materialized(None, commit)
    single = len(entries) == 1 and entries[0][1] == rel_text
    base = into / (Path(rel_text).name or "repository")
    for blob, name in entries:
        if single:
            dest = base
        else:
            inner = name[len(rel_text) + 1 :] if rel_text else name
            if not is_dataset_name(Path(inner)) or any(part.startswith(".") for part in Path(inner).parts):
                continue
            dest = base / inner
        _copy_blob(top, blob, dest, into, spec)
    if not single and not base.exists():
        base.mkdir(parents=True)
    return Materialized(str(base), commit)


def _entries(listing: bytes, rel: str) -> list[tuple[str, str]]:
    """(blob id, path) of the regular files `ls-tree` names at or under `rel` (links and submodules left out)."""
    out = []
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, name_bytes = entry.partition(b"\t")
        mode, kind, blob = meta.decode("ascii", "replace").split(" ")
        name = name_bytes.decode("utf-8", "surrogateescape")
        if kind != "blob" or mode not in ("100644", "100755"):
            continue
        if rel and name != rel and not name.startswith(rel + "/"):
            continue
        out.append((blob, name))
    return out


def _copy_blob(top: Path, blob: str, dest: Path, root: Path, spec: Spec) -> None:
    from curate.display import shown

    if not str(os.path.abspath(dest)).startswith(str(os.path.abspath(root)) + os.sep):
        raise RevisionError(f"{shown(spec.label)}: a path in the revision leaves its folder")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest, "wb") as out:
        proc = _git(top, "cat-file", "blob", blob, stdout=out)
    if proc.returncode:
        raise RevisionError(f"{shown(spec.label)}: {_error(proc)}")
    with open(dest, "rb") as f:
        if f.read(len(_LFS)) == _LFS:
            raise RevisionError(
                f"{shown(spec.label)}: {shown(dest.name)} is a Git LFS pointer at that revision, and reading it would "
                "run git-lfs (a filter): check the revision out and compare the two copies on disk"
            )
