"""Every command over the hostile corpus: no planted value and no raw control byte in any output.

The corpus (tests/hostile_corpus.py) plants emails, card numbers (dotted, spaced, dashed, plain),
SSNs, phone numbers, GitHub and OpenAI keys and IBANs, and terminal escapes (OSC title, clear
screen, bidi override, C1 CSI), in text, object keys, roles, names, ids, system prompts, metadata,
tool definitions and arguments, category fields, an unknown format, an invalid line and a file name.
Every command runs over it; stdout, stderr and every file written (reports, baseline, decisions,
split summary, cache folders) are searched. Only the exported dataset and the quarantine (records
as they were, by design) may hold record text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate.cli import app
from tests.hostile_corpus import RAW_CONTROL_BYTES, VALUES, Corpus, write_corpus

FORMATS = (["-f", "text", "--all", "--verbose"], ["-f", "json"], ["-f", "sarif"], ["-f", "junit"], ["--hook"])


def _partials(value: str) -> list[re.Pattern[bytes]]:
    """What of a value must not appear either: its first 12 digits in any grouping, a token's body."""
    digits = re.sub(r"\D", "", value)
    out = [re.compile(re.escape(value.encode()), re.IGNORECASE)]
    if len(digits) >= 12 and not value.startswith(("sk-", "ghp_")):
        out.append(re.compile(r"\D?".join(digits[:12]).encode()))
    for prefix in ("ghp_", "sk-proj-"):
        if value.startswith(prefix):
            out.append(re.compile(re.escape(value[len(prefix) : len(prefix) + 16].encode()), re.IGNORECASE))
    if "@" in value:
        out.append(re.compile(re.escape(value.split("@")[0].encode()), re.IGNORECASE))
    return out


PATTERNS = {name: _partials(v) for name, v in VALUES.items()}


def assert_clean(blob: bytes, where: str, allow: tuple[str, ...] = (), controls: bool = True) -> None:
    for name, patterns in PATTERNS.items():
        if name in allow:
            continue
        for rx in patterns:
            assert not rx.search(blob), f"{where} shows the planted {name} ({rx.pattern[:12]!r}...)"
    for raw in RAW_CONTROL_BYTES if controls else ():
        assert raw not in blob, f"{where} carries a raw control byte {raw!r}"


def _is_text(blob: bytes) -> bool:
    try:
        blob.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in blob


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return write_corpus(tmp_path_factory.mktemp("hostile"))


@pytest.fixture
def here(corpus: Corpus, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = corpus.rules.parent
    monkeypatch.chdir(folder)
    monkeypatch.setenv("CURATE_CACHE_DIR", str(folder / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder / "xdg"))
    monkeypatch.delenv("CURATE_PII_KEY", raising=False)
    return folder


def run(*args: str) -> tuple[int, bytes]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout_bytes + b"\n" + result.stderr_bytes


def test_the_corpus_plants_every_place(corpus: Corpus) -> None:
    text = corpus.files[0].read_text(encoding="utf-8")
    assert all(v in text for v in VALUES.values() if v != VALUES["email_file"])
    assert VALUES["email_file"] in corpus.files[1].name and "\x1b" in corpus.files[1].name
    wanted = {"user text", "derived category", "message key", "top-level key", "metadata key", "role", "name"}
    wanted |= {"ids", "tools", "category field", "unknown format", "invalid json", "duplicate", "file name"}
    assert wanted <= set(corpus.places)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda a: " ".join(a))
def test_check_in_every_format_shows_nothing_raw(corpus: Corpus, here: Path, fmt: list[str]) -> None:
    files = [str(p.name) for p in corpus.files]
    code, out = run("check", *files, "--rules", corpus.rules.name, *fmt)
    assert code == 1, out[-2000:]
    assert_clean(out, f"check {' '.join(fmt)}")
    if fmt[-1] == "json":  # the findings really quote the places (masked): the test greps something real
        doc = json.loads(out.split(b"\n\n")[0] if b"\n\n" in out else out)
        messages = " ".join(f["message"] for f in doc["findings"])
        for expected in ("unrecognised message key 'ghp_***'", "unrecognised role 'sk-proj-***", "j***@g***.com"):
            assert expected in messages
        assert "\\x1b" in json.dumps(doc["datasets"])  # the file name's escape is shown, not obeyed
        assert doc["stats"]["balance"]["system_prompts"]["top"]
        assert doc["stats"]["balance"]["openings"]["top"]


def test_report_files_show_nothing_raw(corpus: Corpus, here: Path) -> None:
    code, out = run("report", corpus.files[1].name, "--rules", corpus.rules.name, "--out", "rep")
    assert code == 0, out[-2000:]
    assert_clean(out, "report output")
    for name in ("report.json", "report.md", "report.html"):
        blob = (here / "rep" / name).read_bytes()
        assert len(blob) > 1000
        assert_clean(blob, name)


@pytest.mark.parametrize(
    "args",
    [
        ["cost", "hostile.jsonl"],
        ["split", "hostile.jsonl", "-o", "split", "--stratify", "category", "--category-field", "metadata.category"],
        ["baseline", "hostile.jsonl", "--rules", "hostile-rules.yaml"],
        ["rules", "explain", "category-mix"],
    ],
    ids=lambda a: a[0],
)
def test_other_commands_show_nothing_raw(here: Path, args: list[str]) -> None:
    code, out = run(*args)
    assert code in (0, 1), out[-2000:]
    assert_clean(out, args[0])


@pytest.mark.parametrize("fmt", ["markdown", "json"])
def test_diff_shows_nothing_raw(corpus: Corpus, here: Path, fmt: str) -> None:
    """A clean file against the hostile one (everything added: categories, places, entities are
    quoted), and the hostile file against the hostile-named one (its name in the title)."""
    (here / "clean.jsonl").write_text(json.dumps({"messages": [{"role": "user", "content": "hi"}]}) + "\n")
    for old, new in (("clean.jsonl", corpus.files[0].name), (corpus.files[0].name, corpus.files[1].name)):
        code, out = run("diff", old, new, "--rules", corpus.rules.name, "-f", fmt, "-o", f"diff.{fmt}")
        assert code == 0, out[-2000:]
        assert_clean(out, f"diff {fmt} output")
        blob = (here / f"diff.{fmt}").read_bytes()
        assert_clean(blob, f"diff.{fmt}")
        if old == "clean.jsonl":  # the values are counted, so the test greps something real
            assert b"EMAIL_ADDRESS" in blob and b"CREDIT_CARD" in blob and b"GITHUB_TOKEN" in blob
        else:
            assert b"x1b[2J" in blob  # the file name's escape, shown not obeyed


def test_export_with_quarantine_shows_nothing_raw(corpus: Corpus, here: Path) -> None:
    code, out = run(
        "export", "hostile.jsonl", "-o", "exported.jsonl", "--quarantine", "quarantined.jsonl",
        "--drop-duplicates", "--scrub-pii", "--verbose",
    )  # fmt: skip
    assert code == 0, out[-2000:]
    assert_clean(out, "export output")
    quarantined = [json.loads(line) for line in (here / "quarantined.jsonl").read_text(encoding="utf-8").splitlines()]
    assert quarantined and all(q["reasons"] for q in quarantined)
    for q in quarantined:  # the records are kept as they were (by design); their reasons are curate's words
        assert_clean(json.dumps(q["reasons"], ensure_ascii=False).encode(), "a quarantine reason")


def test_review_decisions_hold_nothing_raw(corpus: Corpus, here: Path) -> None:
    from curate.config import load_ruleset
    from curate.review import ReviewSession

    session = ReviewSession.open(here / "hostile.jsonl", load_ruleset(str(corpus.rules)).rules)
    assert session.items
    # accept and drop (their reasons quote finding messages); what fix and edit decisions store of a
    # record is the decisions file's own concern (only what changed), tested with the export
    decided = 0
    for _ in range(min(len(session.view), 12)):
        if session.current is None:
            break
        session.drop() if decided % 2 else session.accept()
        decided += 1
        session.move(1)
    assert decided
    for item in session.items:
        for f in item.findings + item.original:
            assert_clean(f.message.encode() + (f.field or "").encode() + json.dumps(f.data).encode(), "review item")
    decisions = list(here.glob("*.decisions.*"))
    assert decisions
    for p in decisions:
        assert_clean(p.read_bytes(), p.name)


def test_every_file_written_holds_nothing_raw(corpus: Corpus, here: Path) -> None:
    """Runs last in this module: the caches, baseline, split summary and decisions left by the others."""
    for args in (["check", "hostile.jsonl", "--rules", "hostile-rules.yaml", "-f", "json"],):
        run(*args)  # a second run replays from the cache
    inputs = {p.resolve() for p in corpus.files}
    datasets = {"exported.jsonl", "quarantined.jsonl", "train.jsonl", "val.jsonl"}  # records as written, by design
    written = [p for p in here.rglob("*") if p.is_file() and p.resolve() not in inputs and p.name not in datasets]
    names = {p.name for p in written}
    assert ".curate-baseline.json" in names and any(n.endswith(".sqlite") for n in names), names
    for p in written:
        # cache entries are sealed whole (record keys, file names, findings); binary files, the cache's,
        # hold 0x1b bytes as numbers: only text files are searched for controls
        blob = p.read_bytes()
        assert_clean(blob, f"file {p.relative_to(here)}", controls=_is_text(blob))
        assert_clean(str(p.relative_to(here)).encode(), "a written file's name")
