"""Benchmark contamination that survives wrapping: word n-grams shared with an `--against` record.

Data made here: hand-written benchmark questions wrapped in instructions (tests/contamination_data.py),
unrelated questions of the same topics, evaluation files as JSONL, gzip and Parquet, planted PII."""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from contamination_data import chat, hand_made_set, precision_recall, questions, wrap, write_jsonl
from test_dedup import rule, run

from curate.check import RecordRef, RunContext, RunState


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))


def _found(report) -> dict[int, dict]:
    return {f.line: f.data for f in report.findings if f.rule == "eval-contamination"}


def test_wrapped_questions_are_found_and_same_topic_questions_are_not(tmp_path: Path) -> None:
    train, evals, wrapped = hand_made_set(tmp_path)
    report = run([train], [rule("dedup.contamination")], against=(str(evals),))
    scores = precision_recall([f for f in report.findings if f.rule == "eval-contamination"], wrapped)
    # the one miss: "Solve for x: 3x + 7 = 2x - 5." has 7 words, under short_prompt (8)
    assert scores == {"true_positives": 49, "false_positives": 0, "missed": 1, "precision": 1.0, "recall": 0.98}
    found = _found(report)
    assert 11 not in found
    ngram = [d for d in found.values() if d["kind"] == "ngram"]
    assert len(ngram) > 30 and all(d["coverage"] >= 0.6 and d["span_role"] == "user" for d in ngram)
    # a near copy that also shares a span says so
    assert all("span" in d for d in found.values() if d["kind"] == "near")
    stats = report.stats["dedup"]["contamination"]
    assert stats["ngram"] == len(ngram) and stats["ngram_index"]["short_prompts"] == 4


def test_a_span_just_under_the_minimum_is_not_a_finding(tmp_path: Path) -> None:
    passage = (
        "The committee met on a cold morning in the old town hall to discuss the future of the river "
        "crossing and after three hours of debate it voted to build a new bridge of stone"
    )
    words = passage.split()
    evals = write_jsonl(tmp_path / "eval.jsonl", [{"question": passage, "answer": "a bridge"}])
    train = write_jsonl(
        tmp_path / "train.jsonl",
        [
            chat("Summarise: " + " ".join(words[4:16]) + " and then something else entirely happened"),  # 12 words
            chat("Summarise: " + " ".join(words[4:17]) + " and then something else entirely happened"),  # 13 words
            chat("Summarise: " + " ".join(words[4:24]) + " and then something else entirely happened"),  # 20 words
        ],
    )
    found = _found(run([train], [rule("dedup.contamination")], against=(str(evals),)))
    assert sorted(found) == [2, 3]
    assert (found[2]["span_words"], found[3]["span_words"]) == (13, 20)
    assert found[3]["span"] == " ".join(words[4:24])
    assert found[3]["coverage"] == round(20 / (len(words) + 2), 4)  # the answer's two words count too
    longer = _found(run([train], [rule("dedup.contamination", min_span=16)], against=(str(evals),)))
    assert sorted(longer) == [3]
    off = _found(run([train], [rule("dedup.contamination", ngram=0)], against=(str(evals),)))
    assert off == {}


def test_records_sharing_common_phrases_are_not_contaminated(tmp_path: Path) -> None:
    """Instructions, greetings and stock phrases that benchmarks and training data both use, in
    runs shorter than 13 words, never make a finding; nor does a prompt template shared by many
    evaluation records, however long."""
    template = "The following is a multiple choice question about general knowledge. Choose the single best answer."
    qs = questions()
    evals = write_jsonl(
        tmp_path / "eval.jsonl",
        [{"question": f"{template} {q['question']}", "answer": q["answer"]} for q in qs[:30]],
    )
    common = [
        f"{template} Which colour do you get when you mix blue and yellow paint together?",
        "Explain your reasoning step by step and give only the final answer at the end.",
        "Thank you for your question! Let me think about it. The answer follows from the numbers given.",
        "How many marbles does Anna have if she gives away half of them to her friends?",  # 5 words of a question
        "Please solve carefully: what is the area of the circle in square metres? Answer in French.",
    ]
    train = write_jsonl(tmp_path / "train.jsonl", [chat(c) for c in common])
    report = run([train], [rule("dedup.contamination")], against=(str(evals),))
    assert _found(report) == {}
    assert (
        report.stats["dedup"]["contamination"]["ngram_index"]["template_ngrams"] == 4
    )  # the 16-word template's 13-grams
    # the template is ignored, the question it precedes is not
    wrapped = write_jsonl(tmp_path / "wrapped.jsonl", [chat(f"{template} {qs[2]['question']}")])
    assert sorted(_found(run([wrapped], [rule("dedup.contamination")], against=(str(evals),)))) == [1]


def _parquet(path: Path, rows: list[dict[str, str]]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


@pytest.mark.parametrize("kind", ["parquet", "gzip", "chat-jsonl"])
def test_any_input_kind_is_a_benchmark(tmp_path: Path, kind: str) -> None:
    qs = questions()[:20]
    if kind == "parquet":
        evals = _parquet(
            tmp_path / "test-00000-of-00001.parquet", [{"question": q["question"], "answer": q["answer"]} for q in qs]
        )
    elif kind == "gzip":
        evals = tmp_path / "eval.jsonl.gz"
        evals.write_bytes(gzip.compress("".join(json.dumps({"prompt": q["question"]}) + "\n" for q in qs).encode()))
    else:
        evals = write_jsonl(tmp_path / "eval.jsonl", [chat(q["question"], q["answer"]) for q in qs])
    train = write_jsonl(
        tmp_path / "train.jsonl",
        [chat("hello there, how are you today?")] + [chat(wrap(q["question"], i)) for i, q in enumerate(qs[5:9])],
    )
    report = run([train], [rule("dedup.contamination")], against=(str(evals),))
    found = _found(report)
    assert {line: d["duplicate_of"] for line, d in found.items()} == {2: 6, 3: 7, 4: 8, 5: 9}
    messages = [f.message for f in report.findings]
    if kind == "parquet":
        assert all("test-00000-of-00001.parquet:row " in m for m in messages), messages
    else:
        assert all(f"{evals.name}:" in m and ":row" not in m for m in messages), messages


def test_spans_in_other_scripts_are_quoted_as_written(tmp_path: Path) -> None:
    question = (
        "Un boulanger prépare vingt-quatre croissants chaque matin et les vend par boîtes de six. "
        "Combien de boîtes vend-il en une semaine complète ?"
    )
    evals = write_jsonl(tmp_path / "eval.jsonl", [{"question": question, "answer": "28"}])
    train = write_jsonl(tmp_path / "train.jsonl", [chat("RÉPONDS EN ANGLAIS : " + question.upper())])
    (data,) = _found(run([train], [rule("dedup.contamination")], against=(str(evals),))).values()
    # the span runs from its first word to its last ("?" is a word of its own: no word, not shown)
    assert (
        data["kind"] == "ngram" and data["span"] == question.removesuffix(" ?") and data["coverage"] == 0.96
    )  # 24 of 25 words: the answer is not held


def _planted_questions(seed: int) -> tuple[list[str], list[str]]:
    """Evaluation questions holding a personal value or secret each, and the values."""
    from curate.checks.pii.synth import TEMPLATES, faker, planted

    rng, fake = random.Random(seed), faker(seed)
    texts, values = [], []
    for entity in [e for e in TEMPLATES if e not in ("PERSON", "LOCATION")]:
        p = planted(entity, fake, rng)
        while entity == "PHONE_NUMBER" and len(p.text[p.spans[0][0] : p.spans[0][1]].split()) < 3:
            p = planted(entity, fake, rng)  # a number in parts, so a span can start inside it
        s, e, _ = p.spans[0]
        values.append(p.text[s:e])
        texts.append(
            f"A customer wrote this to the support desk today: {p.text} What should the agent answer, "
            "and how quickly should the support team follow up with this customer?"
        )
    return texts, values


def test_personal_values_in_a_matched_span_never_appear_raw(tmp_path: Path) -> None:
    texts, values = _planted_questions(5)
    train = [chat(wrap(t, i)) for i, t in enumerate(texts)]
    # a span that starts inside a value: the words after its first part only
    # a span that starts inside a value: a record holding an evaluation question from a number's second part on
    number = next(v for v in values if len(v.split()) >= 3 and v[-1].isdigit())
    tail = "after five please, because the delivery of the new fridge to my flat was cancelled twice this week."
    texts.append(f"Call me back on {number} {tail}")
    train.append(chat("Reply to this. " + number.split(" ", 1)[1] + " " + tail))
    evals = write_jsonl(tmp_path / "eval.jsonl", [{"question": t, "answer": "Apologise."} for t in texts])
    train_path = write_jsonl(tmp_path / "train.jsonl", train)
    env = {**os.environ, "CURATE_CACHE_DIR": str(tmp_path / "cache"), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    base = [sys.executable, "-m", "curate"]
    outputs = {}
    for fmt in ("text", "json", "sarif", "junit"):
        cmd = [*base, "check", str(train_path), "--against", str(evals), "-s", "dedup", "-f", fmt]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 1, proc.stderr[-2000:]
        outputs[fmt] = proc.stdout + proc.stderr
    out = tmp_path / "report"
    cmd = [*base, "report", str(train_path), "--against", str(evals), "-s", "dedup", "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    for name in ("report.json", "report.md", "report.html"):
        outputs[name] = (out / name).read_text(encoding="utf-8")
    report = json.loads(outputs["json"])
    hits = [f for f in report["findings"] if f["rule"] == "eval-contamination"]
    assert sorted(f["line"] for f in hits) == list(range(1, len(train) + 1)), outputs["text"]
    assert all(f["data"].get("span") for f in hits)
    assert any("*" in f["data"]["span"] for f in hits)  # the masks are there ...
    for where, blob in outputs.items():
        for v in values:
            core = v.split("\n")[1] if "PRIVATE KEY" in v else v
            assert v not in blob and core not in blob, f"{where} shows a planted value raw"  # ... the values not
    assert all(p.is_file() for p in (out / "report.html", out / "report.md"))


def test_observe_halves_then_merge_equals_observe_all(tmp_path: Path) -> None:
    """What worker processes, --shard runs and Ray rely on, through the shard state format too."""
    from curate.cache.codec import decode, encode
    from curate.io.reader import iter_records
    from curate.registry import load_registry
    from curate.run.checkstate import dump_state, load_state

    train, evals, _ = hand_made_set(tmp_path)
    records = [r for r in iter_records(str(train)) if r.ok]
    ctx = RunContext(against=(str(evals),), paths=(str(train),), use_cache=False)
    binding = rule("dedup.contamination")
    cls = load_registry().checks["dedup.contamination"]

    def finalized(parts: list[range], saved: bool) -> list[tuple]:
        checks = []
        for part in parts:
            check = cls(binding.params, ctx, None)
            for i in part:
                r = records[i]
                check.observe(RecordRef(r.path, r.line, r.key, r.format, {}), check.extract(r))
            if saved:
                fresh = cls(binding.params, ctx, None)
                load_state(fresh, decode(encode(dump_state(check))))
                check = fresh
            checks.append(check)
        for other in checks[1:]:
            checks[0].merge(other)
        hits = checks[0].finalize(RunState({}, len(records), [], ctx))
        return sorted((h.line, h.message, json.dumps(h.data, sort_keys=True)) for h in hits)

    whole = finalized([range(len(records))], False)
    assert len(whole) == 49
    assert finalized([range(37), range(37, len(records))], False) == whole
    assert finalized([range(20), range(20, 70), range(70, len(records))], True) == whole


def test_cached_runs_and_worker_processes_give_the_same_findings(tmp_path: Path) -> None:
    from curate.cache import ResultCache
    from curate.run.engine import Engine, EngineOptions

    train, evals, _ = hand_made_set(tmp_path)
    against = (str(evals),)
    rules = [rule("dedup.contamination"), rule("dedup.near")]
    plain = run([train], rules, against=against)

    def key(report) -> list[tuple]:
        return sorted((f.rule, f.line, f.message, json.dumps(f.data, sort_keys=True)) for f in report.findings)

    for jobs in (1, 2):
        cache = ResultCache()
        engine = Engine(rules, RunContext(against=against), EngineOptions(jobs=jobs, cache=cache, block_bytes=2048))
        first = engine.run([str(train)])
        again = Engine(rules, RunContext(against=against), EngineOptions(jobs=jobs, cache=cache, block_bytes=2048))
        second = again.run([str(train)])
        assert key(first) == key(plain) == key(second)
    assert any(f.data["kind"] == "ngram" for f in plain.findings)


def test_check_shards_then_merge_give_the_report_of_one_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--shard K/N --save-state` then `curate merge`: the merge machine indexes the evaluation file again."""
    from typer.testing import CliRunner

    from curate.cli import app

    monkeypatch.chdir(tmp_path)
    train, evals, _ = hand_made_set(tmp_path)
    lines = train.read_text(encoding="utf-8").splitlines(keepends=True)
    parts = [tmp_path / f"{name}.jsonl" for name in "abcd"]  # four files: each shard gets wrapped and other ones
    for part, first in zip(parts, (0, 50, 25, 75), strict=True):
        part.write_text("".join(lines[first : first + 25]), encoding="utf-8")
    base = ["check", *map(str, parts), "--against", str(evals), "-s", "dedup", "--no-cache"]
    whole = CliRunner().invoke(app, [*base, "-f", "json"])
    assert whole.exit_code == 1
    for k in (1, 2):
        shard = CliRunner().invoke(app, [*base, "--shard", f"{k}/2", "--save-state", "st"])
        assert shard.exit_code == 0 and f"shard {k}/2: " in shard.stderr and ": 0 records" not in shard.stderr
    merged = CliRunner().invoke(app, ["merge", "st", "-f", "json"])
    assert (merged.exit_code, merged.stdout) == (1, whole.stdout)
    found = [f for f in json.loads(whole.stdout)["findings"] if f["rule"] == "eval-contamination"]
    assert len(found) == 49 and {f["path"] for f in found} == {str(parts[0]), str(parts[2])}
    assert sum(f["data"]["kind"] == "ngram" for f in found) > 30
