"""Export writes exactly what the decisions say, never touches its input, and quarantines drops."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

from review_data import LINES, open_session, write_dataset  # noqa: E402

from curate.cli import app  # noqa: E402
from curate.decisions import Decision, DecisionLog, decisions_path, load_decisions  # noqa: E402
from curate.export import duplicate_drops, export_dataset  # noqa: E402
from curate.model import content_key  # noqa: E402


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def decide_everything(path: Path) -> None:
    s = open_session(path)
    for pos, idx in enumerate(s.view):
        item = s.items[idx]
        s.goto(pos)
        if item.line == 2:
            s.apply_fix(s.fix_proposal())  # human -> user
        elif item.line == 4:
            s.edit(
                '{"messages": [{"role": "user", "content": "Is the API down?"}, '
                '{"role": "assistant", "content": "No."}]}'
            )
        elif item.line in (6, 7):
            s.drop()


def test_export_is_exactly_the_decisions(tmp_path: Path) -> None:
    path = write_dataset(tmp_path)
    before = sha(path)
    decide_everything(path)
    log = load_decisions(path)
    result = export_dataset(path, log)
    assert sha(path) == before  # the input is never modified
    out = tmp_path / "chat.curated.jsonl"
    assert result.out == str(out)
    changed = {d.key: d for d in log.decisions if d.action in ("fix", "edit")}
    assert all(d.patch and d.record is None for d in changed.values())  # only the patch was stored
    expected = []
    for n, raw in enumerate(LINES, start=1):
        if n in (5, 6, 7):  # blank line, two drops
            continue
        if n == 4:
            edit = changed[next(k for k in changed if k.startswith("raw:"))]
            expected.append(json.dumps(edit.new_record(None), ensure_ascii=False))
            continue
        data = json.loads(raw)
        key = content_key(data)
        expected.append(json.dumps(changed[key].new_record(data), ensure_ascii=False) if key in changed else raw)
    assert out.read_text(encoding="utf-8") == "\n".join(expected) + "\n"
    assert json.loads(out.read_text().splitlines()[1])["messages"][0]["role"] == "user"
    assert (result.written, result.fixed, result.edited, result.dropped, result.blank) == (6, 1, 1, 2, 1)
    quarantine = [json.loads(x) for x in (tmp_path / "chat.quarantine.jsonl").read_text().splitlines()]
    assert [q["line"] for q in quarantine] == [6, 7]
    assert "missing-assistant" in quarantine[0]["reasons"][0]
    assert quarantine[1]["record"] == json.loads(LINES[6])


def test_only_the_dropped_copy_of_identical_records_goes(tmp_path: Path) -> None:
    path = write_dataset(tmp_path)
    decide_everything(path)
    export_dataset(path, load_decisions(path), out=tmp_path / "o.jsonl")
    lines = (tmp_path / "o.jsonl").read_text().splitlines()
    assert lines.count(LINES[0]) == 1  # line 1 kept, its copy at line 7 dropped


def test_unreviewed_unparseable_lines_are_quarantined_not_written(tmp_path: Path) -> None:
    path = write_dataset(tmp_path)
    result = export_dataset(path, DecisionLog(decisions_path(path)))
    written = (tmp_path / "chat.curated.jsonl").read_text().splitlines()
    assert all(json.loads(line) for line in written)
    assert result.unparseable == 1 and result.written == 7
    q = json.loads((tmp_path / "chat.quarantine.jsonl").read_text())
    assert q["line"] == 4 and q["raw"] == LINES[3] and q["reasons"][0].startswith("unparseable")


def test_drop_of_every_copy_without_occurrence(tmp_path: Path) -> None:
    path = write_dataset(tmp_path)
    log = DecisionLog(decisions_path(path), [Decision(content_key(json.loads(LINES[0])), "drop", reason="spam")])
    result = export_dataset(path, log, out=tmp_path / "o.jsonl")
    assert result.dropped == 2


def test_refuses_to_overwrite_the_input(tmp_path: Path) -> None:
    path = write_dataset(tmp_path)
    with pytest.raises(ValueError, match="never overwrites its input"):
        export_dataset(path, DecisionLog(decisions_path(path)), out=path)


def test_json_array_input_becomes_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "arr.json"
    path.write_text(json.dumps([{"instruction": "a", "output": "b"}, {"instruction": "c", "output": "d"}], indent=2))
    result = export_dataset(path, DecisionLog(decisions_path(path)))
    rows = [json.loads(x) for x in (tmp_path / "arr.curated.jsonl").read_text().splitlines()]
    assert rows == [{"instruction": "a", "output": "b"}, {"instruction": "c", "output": "d"}]
    assert result.normalised == 2


def test_duplicate_drops_reads_dedup_findings(tmp_path: Path) -> None:
    s = open_session(write_dataset(tmp_path))
    findings = [f for i in s.items for f in i.findings]
    assert duplicate_drops(findings) == {7: "exact-duplicate: duplicate of line 1"}


def test_cli_export(tmp_path: Path) -> None:
    path = write_dataset(tmp_path)
    decide_everything(path)
    out = tmp_path / "clean.jsonl"
    result = CliRunner().invoke(app, ["export", str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote 6 records to {out}" in result.output
    assert "1 fixed, 1 edited, 2 dropped in review" in result.output
    assert "line 6: dropped: missing-assistant" in result.output
    assert len(out.read_text().splitlines()) == 6


def test_cli_export_drop_duplicates(tmp_path: Path) -> None:
    path = write_dataset(tmp_path)
    out = tmp_path / "dedup.jsonl"
    result = CliRunner().invoke(app, ["export", str(path), "-o", str(out), "--drop-duplicates"])
    assert result.exit_code == 0, result.output
    assert "1 dropped as duplicates" in result.output
    assert out.read_text().splitlines().count(LINES[0]) == 1


def test_cli_scrub_pii(tmp_path: Path) -> None:
    path = tmp_path / "pii.jsonl"
    path.write_text(
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": "mail me at jane.doe@acme-mail.org"},
                    {"role": "assistant", "content": "ok"},
                ]
            }
        )
        + "\n"
    )
    out = tmp_path / "o.jsonl"
    result = CliRunner().invoke(app, ["export", str(path), "-o", str(out), "--scrub-pii", "--pii-mode", "placeholder"])
    try:
        import curate.checks.pii.scrub  # noqa: F401
    except ImportError:
        assert result.exit_code == 2
        assert "needs the PII scrubber" in result.output
    else:
        assert result.exit_code == 0, result.output
        assert "jane.doe@acme-mail.org" not in out.read_text()
        assert "scrubbed" in result.output


def test_cli_export_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["export", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2


def _dup_corpus(path: Path) -> list[dict]:
    """Exact copies, near copies, a prompt with two different answers and a canned answer: only the
    copies (exact and near) may be dropped."""
    import random

    from dedup_data import chat, replace_words, sentence, vocabulary

    rng = random.Random(7)
    vocab = vocabulary(rng, 800)
    rows: list[dict] = []
    for i in range(12):
        rows.append(chat(sentence(rng, vocab, 30) + f" {i}", sentence(rng, vocab, 60)))
    rows.append(rows[0])  # exact copy of line 1
    rows.append(rows[0])  # and another
    base = rows[3]["messages"]
    near = replace_words(rng, vocab, base[1]["content"], 0.02)
    rows.append(chat(base[0]["content"], near))  # near copy of line 4
    rows.append(chat(rows[5]["messages"][0]["content"], sentence(rng, vocab, 60)))  # same prompt, other answer
    canned = "Thank you for reaching out, I am always happy to help with anything else you need today."
    rows.append(chat(sentence(rng, vocab, 30), canned))
    rows.append(chat(sentence(rng, vocab, 30), canned))
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows


def test_drop_duplicates_drops_only_non_kept_members_of_copy_clusters(tmp_path: Path) -> None:
    from curate.config import load_ruleset
    from curate.run.engine import Engine, EngineOptions

    path = tmp_path / "dups.jsonl"
    _dup_corpus(path)
    out = tmp_path / "o.jsonl"
    result = CliRunner().invoke(app, ["export", str(path), "-o", str(out), "--drop-duplicates"])
    assert result.exit_code == 0, result.output
    ruleset = load_ruleset("default")
    rules = [r for r in ruleset.rules if r.check.startswith("dedup.")]
    findings = Engine(rules, None, EngineOptions()).run([str(path)]).findings
    assert {f.check for f in findings} >= {"dedup.exact", "dedup.near", "dedup.prompt"}  # all kinds are present
    quarantined = [json.loads(x) for x in (tmp_path / "dups.quarantine.jsonl").read_text().splitlines()]
    dropped = {q["line"] for q in quarantined}
    assert dropped == {13, 14, 15}
    kept_lines = set(range(1, 19)) - dropped
    for line in dropped:  # every dropped line carries a copy finding and is not the kept member
        mine = [f for f in findings if f.line == line and f.check in ("dedup.exact", "dedup.near")]
        assert mine, line
        assert all(f.data["duplicate_of"] != line and f.data["duplicate_of"] in kept_lines for f in mine)
    prompt_only = {f.line for f in findings if f.check == "dedup.prompt"} - dropped
    assert prompt_only and prompt_only <= kept_lines  # conflicts and canned answers stay for a reviewer
    assert len(out.read_text().splitlines()) == 18 - len(dropped)


class _F:
    def __init__(self, check: str, line: int, of: int, path: str = "d.jsonl", **extra: object) -> None:
        self.check, self.line, self.path, self.rule = check, line, path, check.replace("dedup.", "") + "-duplicate"
        self.data = {"duplicate_of": of, **extra}


def test_duplicate_drops_ignores_other_findings_and_never_empties_a_cluster() -> None:
    findings = [
        _F("dedup.exact", 2, 1),
        _F("dedup.near", 1, 2),  # near keeps line 2, exact keeps line 1: one of them must stay
        _F("dedup.prompt", 5, 4),
        _F("dedup.contamination", 6, 1),
        _F("dedup.near", 7, 7),  # names itself: the kept member
        _F("dedup.near", 8, 3, duplicate_of_path="other.jsonl"),
    ]
    drops = duplicate_drops(findings)  # type: ignore[arg-type]
    assert drops == {2: "exact-duplicate: duplicate of line 1"}


def test_pii_mode_implies_scrub_pii(tmp_path: Path) -> None:
    path = tmp_path / "pii.jsonl"
    path.write_text(json.dumps({"messages": [{"role": "user", "content": "mail jane.doe@acme-mail.org"}]}) + "\n")
    out = tmp_path / "o.jsonl"
    result = CliRunner().invoke(app, ["export", str(path), "-o", str(out), "--pii-mode", "mask"])
    assert result.exit_code == 0, result.output
    assert "implies --scrub-pii" in result.output
    assert "jane.doe@acme-mail.org" not in out.read_text()
