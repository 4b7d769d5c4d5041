"""Which files of a directory are datasets, and which are skipped and why (never silently).

A file given by name is always read (its kind is then decided by its bytes). In a directory, a file is
a dataset by its name: JSON Lines, JSON, Parquet, Arrow, CSV/TSV, any of those compressed (gzip, zstd,
bzip2, xz). Every other file is listed as skipped with its reason; hidden files and folders (`.git`,
`.gitattributes`) are left out without a word. A Hugging Face hub-cache repository folder
(`datasets--org--name`, with `snapshots/` and `blobs/`) is read through its current snapshot only, so
its blobs are not read twice; the metadata `datasets` writes beside its Arrow files is not data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from curate.io.containers import SUFFIXES as CONTAINER_SUFFIXES
from curate.io.tables import TABLE_SUFFIXES, TEXT_TABLE_SUFFIXES, inner_suffix

JSON_SUFFIXES = (".jsonl", ".json", ".ndjson", ".jsonlines")
DATA_SUFFIXES = frozenset((*JSON_SUFFIXES, *TABLE_SUFFIXES, *TEXT_TABLE_SUFFIXES))
# what Hugging Face `datasets` writes beside the data of a `save_to_disk` folder or a cache entry
HF_METADATA = frozenset(("dataset_info.json", "state.json", "dataset_dict.json"))


@dataclass(slots=True)
class Inputs:
    files: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)


def is_dataset_name(path: Path) -> bool:
    return inner_suffix(str(path)) in DATA_SUFFIXES and (
        path.suffix.lower() in DATA_SUFFIXES or path.suffix.lower() in CONTAINER_SUFFIXES
    )


def list_directory(root: Path) -> Inputs:
    """The dataset files under `root` (recursively, sorted) and the other files with why they are skipped."""
    out = Inputs()
    base = _hub_snapshot(root) or root
    for f in sorted(base.rglob("*")):
        rel = f.relative_to(base).parts
        if any(part.startswith(".") for part in rel) or not f.is_file():
            continue
        if f.name in HF_METADATA:
            out.skipped.append((str(f), "Hugging Face datasets metadata, not records"))
        elif is_dataset_name(f):
            out.files.append(str(f))
        else:
            suffix = "".join(f.suffixes[-2:]) or "no suffix"
            out.skipped.append((str(f), f"unsupported kind ({suffix}); give the file by name to read it anyway"))
    return out


def _hub_snapshot(root: Path) -> Path | None:
    """The snapshot a hub-cache repository folder points at (`refs/main`), or its only snapshot."""
    snapshots = root / "snapshots"
    if not (snapshots.is_dir() and (root / "blobs").is_dir()):
        return None
    ref = root / "refs" / "main"
    try:
        with open(ref, "rb") as f:  # a ref is a 40-character hash: never read more than a line
            revision = f.read(256).decode("utf-8").strip() if ref.is_file() else ""
    except (OSError, UnicodeDecodeError):  # no ref (or a broken one): the only snapshot, or all of them
        revision = ""
    if revision and "/" not in revision and revision not in (".", "..") and (snapshots / revision).is_dir():
        return snapshots / revision
    found = [p for p in snapshots.iterdir() if p.is_dir()]
    return found[0] if len(found) == 1 else snapshots
