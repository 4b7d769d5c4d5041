"""dedup checks on planted duplicates with known ground truth, chaining, scopes, prompts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dedup_data import chat, planted

from curate.check import RunContext
from curate.config import Rule
from curate.model import Severity
from curate.registry import load_registry
from curate.run.engine import Engine, EngineOptions

RULE_IDS = {
    "dedup.exact": "exact-duplicate",
    "dedup.near": "near-duplicate",
    "dedup.prompt": "prompt-answer-conflict",
    "dedup.contamination": "eval-contamination",
}


def rule(check: str, **params: Any) -> Rule:
    cls = load_registry().checks[check]
    roles = params.pop("roles", None)
    return Rule(RULE_IDS[check], check, cls.default_severity, cls.Params.model_validate(params), roles, "test", "")


def run(paths: list[Path], rules: list[Rule], against: tuple[str, ...] = (), jobs: int = 1):
    engine = Engine(rules, RunContext(against=against), EngineOptions(jobs=jobs))
    return engine.run([str(p) for p in paths])


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_planted_duplicates_recall_and_precision(tmp_path):
    data = planted()
    path = data.write(tmp_path / "train.jsonl")
    report = run([path], [rule("dedup.exact"), rule("dedup.near")])
    found = {f.line: f.data["duplicate_of"] for f in report.findings}
    correct = {line for line, orig in found.items() if data.truth.get(line) == orig}
    recall = len(correct) / len(data.truth)
    precision = len(correct) / len(found)
    missed = {data.kind[line] for line in data.truth if line not in correct}
    assert recall >= 0.97, (recall, missed)
    assert precision >= 0.98, [(line, data.kind[line]) for line in found if line not in correct]
    by_rule = {f.line: f.rule for f in report.findings}
    # exact copies (also across formats) are dedup.exact's, edited ones dedup.near's
    for line, kind in data.kind.items():
        if kind in ("exact", "exact-whitespace-case", "alpaca"):
            assert by_rule.get(line) == "exact-duplicate", (line, kind)
        if kind in ("words-2%", "words-5%", "typos", "punctuation-case") and line in correct:
            assert by_rule[line] == "near-duplicate"
    near = report.stats["dedup"]["near"]
    hist = near["nearest_similarity"]
    assert sum(hist["counts"]) + hist["no_candidate"] == near["records"] == len(data.lines)
    assert near["false_candidates"] >= 0 and near["verified_pairs"] >= 45


def test_every_finding_names_cluster_kept_line_and_similarity(tmp_path):
    data = planted(seed=3, originals=130)
    path = data.write(tmp_path / "t.jsonl")
    report = run([path], [rule("dedup.exact"), rule("dedup.near", threshold=0.6)])
    assert report.findings
    kept_lines = set()
    for f in report.findings:
        assert {"cluster", "duplicate_of", "similarity"} <= set(f.data)
        assert f.data["duplicate_of"] != f.line
        kept_lines.add(f.data["duplicate_of"])
        if f.rule == "near-duplicate":
            assert 0.6 <= f.data["similarity"] < 1.0 or f.data["similarity"] == 1.0
    flagged = {f.line for f in report.findings}
    assert not kept_lines & flagged, "a kept record is never itself reported as a duplicate"
    near = sorted((f for f in report.findings if f.rule == "near-duplicate"), key=lambda f: f.data["review_order"])
    sims = [f.data["similarity"] for f in near]
    assert sims == sorted(sims), "review order puts the pairs nearest the threshold first"
    assert [f.data["review_order"] for f in near] == list(range(len(near)))


def segments(n: int, size: int = 60, seed: int = 5) -> list[str]:
    import random

    rng = random.Random(seed)
    return [" ".join(f"w{rng.randrange(10**6)}" for _ in range(size)) for _ in range(n)]


def test_no_chaining_a_b_c(tmp_path):
    s = segments(7)
    a, b, c = (" ".join(s[i : i + 5]) for i in (0, 1, 2))  # J(a,b)=J(b,c)=4/6, J(a,c)=3/7
    path = write_jsonl(tmp_path / "abc.jsonl", [chat("q", a), chat("q", b), chat("q", c)])
    report = run([path], [rule("dedup.near", threshold=0.6)])
    found = {f.line: f.data for f in report.findings}
    assert set(found) == {2}
    assert found[2]["duplicate_of"] == 1
    assert found[2]["similarity"] == pytest.approx(4 / 6, abs=0.02)
    # with the middle record kept, both ends are its duplicates: still no a~c claim
    report = run([path], [rule("dedup.near", threshold=0.6, keep="last")])
    found = {f.line: f.data["duplicate_of"] for f in report.findings}
    assert found == {2: 3}


def test_keep_longest_policy(tmp_path):
    s = segments(6, seed=9)
    short, long = " ".join(s[:5]), " ".join(s[:6])
    path = write_jsonl(tmp_path / "k.jsonl", [chat("q", short), chat("q", long)])
    report = run([path], [rule("dedup.near", threshold=0.6, keep="longest")])
    assert [(f.line, f.data["duplicate_of"]) for f in report.findings] == [(1, 2)]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {2}),  # whitespace, case and NFC are normalised away
        ({"ignore_case": False}, set()),
        ({"unicode": "none"}, set()),
    ],
)
def test_exact_normalisation_is_configurable(tmp_path, params, expected):
    first = chat("Café menu?", "We serve   coffee.")
    second = chat("CAFE\u0301 menu?", "we serve coffee.")
    path = write_jsonl(tmp_path / "e.jsonl", [first, second])
    report = run([path], [rule("dedup.exact", **params)])
    assert {f.line for f in report.findings} == expected


def test_text_scope_assistant_only(tmp_path):
    answer = " ".join(segments(1, size=80)[0].split())
    records = [chat("first question about one thing", answer), chat("a totally different question", answer)]
    path = write_jsonl(tmp_path / "s.jsonl", records)
    assert not run([path], [rule("dedup.exact")]).findings
    assert [f.line for f in run([path], [rule("dedup.exact", text="assistant")]).findings] == [2]
    assert [f.line for f in run([path], [rule("dedup.near", text="user", min_words=2)]).findings] == []


def test_system_prompt_ignored_by_default_but_counted_with_all(tmp_path):
    system = " ".join(segments(1, size=300, seed=11)[0].split())
    records = [
        chat(f"question {i} " + segments(1, 10, seed=i)[0], f"answer {i} " + segments(1, 10, seed=100 + i)[0], system)
        for i in range(2)
    ]
    path = write_jsonl(tmp_path / "sys.jsonl", records)
    assert not run([path], [rule("dedup.near")]).findings
    assert [f.line for f in run([path], [rule("dedup.near", text="all")]).findings] == [2]


def test_prompt_conflicts_and_repeated_answers(tmp_path):
    canned = "I am sorry but I cannot help with that request today."
    records = [
        chat("What is 2+2?", "4"),
        chat("what is 2+2?", "5"),
        chat("What is 2+2?", "4"),  # an exact copy, not a conflict of its own
        chat("Tell me a joke", canned),
        chat("Write a poem", canned),
        chat("Explain taxes", canned),
        chat("Say hi", "ok"),
        chat("Say bye", "ok"),
        chat("Say what", "ok"),
    ]
    path = write_jsonl(tmp_path / "p.jsonl", records)
    report = run([path], [rule("dedup.prompt")])
    got = {(f.line, f.data["kind"], f.data["duplicate_of"]) for f in report.findings}
    assert got == {(2, "conflicting_answers", 1), (5, "repeated_answer", 4), (6, "repeated_answer", 4)}
    assert all(f.field == "/messages/1/content" for f in report.findings)


def test_duplicates_across_files_name_the_other_file(tmp_path):
    rec = chat("q " + segments(1, 20)[0], "a " + segments(1, 40, seed=2)[0])
    one = write_jsonl(tmp_path / "one.jsonl", [rec])
    two = write_jsonl(tmp_path / "two.jsonl", [chat("x", "y"), rec])
    report = run([one, two], [rule("dedup.exact")])
    (f,) = report.findings
    assert (f.path, f.line, f.data["duplicate_of"], f.data["duplicate_of_path"]) == (str(two), 2, 1, str(one))


def test_bad_and_empty_records_do_not_crash(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"messages": []}\nnot json\n{"text": ""}\n[1,2]\n{"messages": [{"role": "user"}]}\n', encoding="utf-8"
    )
    report = run([path], [rule("dedup.exact"), rule("dedup.near"), rule("dedup.prompt")])
    assert not report.errors


def test_parallel_engine_gives_the_same_findings(tmp_path):
    data = planted(seed=11, originals=125)
    path = data.write(tmp_path / "par.jsonl")
    rules = [rule("dedup.exact"), rule("dedup.near", cache=False)]
    inline = run([path], rules)
    pooled = run([path], rules, jobs=2)
    key = lambda r: sorted((f.rule, f.line, json.dumps(f.data, sort_keys=True)) for f in r.findings)  # noqa: E731
    assert key(inline) == key(pooled) and key(inline)


def test_default_severities():
    reg = load_registry().checks
    assert reg["dedup.contamination"].default_severity == Severity.ERROR
    assert reg["dedup.near"].default_severity == Severity.WARNING


def test_kto_pairs_are_not_conflicts(tmp_path):
    records = [
        {**chat("Name a colour", "Blue is a colour"), "label": True},
        {**chat("Name a colour", "A dog"), "label": False},
    ]
    path = write_jsonl(tmp_path / "kto.jsonl", records)
    assert not run([path], [rule("dedup.prompt")]).findings


def test_lightly_edited_answer_is_not_a_conflict(tmp_path):
    answer = " ".join(segments(1, size=100, seed=4)[0].split())
    edited = answer.replace(answer.split()[10], "changed", 1)
    other = " ".join(segments(1, size=100, seed=5)[0].split())
    records = [chat("Same question", answer), chat("Same question", edited), chat("Same question", other)]
    path = write_jsonl(tmp_path / "light.jsonl", records)
    report = run([path], [rule("dedup.prompt")])
    assert [(f.line, f.data["kind"]) for f in report.findings] == [(3, "conflicting_answers")]


def test_same_prompt_with_other_tools_is_not_a_conflict(tmp_path):
    tool = lambda name: [{"type": "function", "function": {"name": name, "parameters": {}}}]  # noqa: E731
    records = [
        {**chat("Book me a flight", "I can only compute mortgages, sorry about that"), "tools": tool("mortgage")},
        {**chat("Book me a flight", "I can only compute BMI values, sorry about that"), "tools": tool("bmi")},
    ]
    path = write_jsonl(tmp_path / "tools.jsonl", records)
    assert not run([path], [rule("dedup.prompt")]).findings


def test_shards_merge_to_the_same_findings(tmp_path):
    from curate.check import RecordRef, RunState
    from curate.checks.dedup import CHECKS
    from curate.io.reader import iter_records

    path = planted(seed=13, originals=125).write(tmp_path / "shard.jsonl")
    records = [r for r in iter_records(str(path)) if r.ok]
    state = RunState({}, len(records), [], RunContext())
    for cls in CHECKS:
        if cls.id == "dedup.contamination":
            continue
        whole, left, right = cls(), cls(), cls()
        for i, r in enumerate(records):
            ref = RecordRef(r.path, r.line, r.key, r.format, {})
            whole.observe(ref, whole.extract(r))
            (left if i < len(records) // 2 else right).observe(ref, left.extract(r))
        left.merge(right)
        one = sorted((h.line, json.dumps(h.data, sort_keys=True)) for h in whole.finalize(state))
        two = sorted((h.line, json.dumps(h.data, sort_keys=True)) for h in left.finalize(state))
        assert one == two and one, cls.id


def _thread(question: str, answer: str, thanks: str, closing: str) -> dict[str, Any]:
    turns = [("user", question), ("assistant", answer), ("user", thanks), ("assistant", closing)]
    return {"messages": [{"role": r, "content": c} for r, c in turns]}


def test_closing_pleasantries_in_later_turns_are_not_canned_answers(tmp_path):
    welcome = "You're welcome! If you have any other questions, feel free to ask."
    records = [
        _thread("Convert 100 USD to EUR", "100 USD is about 92 EUR today.", "Thanks!", welcome),
        _thread("How far is Paris from London?", "About 344 km as the crow flies.", "Great, thank you!", welcome),
        _thread("What is my BMI at 70 kg and 1.75 m?", "Your BMI is 22.9, in the normal range.", "thx", welcome),
        # the same reply given as the answer to real questions is still a canned answer
        chat("Tell me a joke about cats", welcome),
        chat("Write a poem about the sea", welcome),
        chat("Explain how taxes work", welcome),
    ]
    path = write_jsonl(tmp_path / "p.jsonl", records)
    report = run([path], [rule("dedup.prompt")])
    assert {(f.line, f.data["kind"]) for f in report.findings} == {(5, "repeated_answer"), (6, "repeated_answer")}


def _pair(prompt: str, chosen: str, rejected: str) -> dict[str, Any]:
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected}


TITLES = ["Embeddings from theory to practice", "Three embedding models to know", "Why embeddings matter today"]


def test_ranking_pairs_of_one_prompt_are_neither_copies_nor_conflicts(tmp_path):
    ask = "Write an engaging title for a video about text embedding models, under 75 characters please."
    a, b, c = TITLES
    # all pairs of a ranking a > b > c: a is chosen twice (other rejected sides), b chosen once and rejected once
    records = [_pair(ask, a, b), _pair(ask, a, c), _pair(ask, b, c)]
    path = write_jsonl(tmp_path / "ranking.jsonl", records)
    report = run([path], [rule("dedup.exact"), rule("dedup.prompt")])
    assert not report.findings
    # the same pair twice is still a copy
    path = write_jsonl(tmp_path / "copy.jsonl", [*records, _pair(ask, a, c)])
    report = run([path], [rule("dedup.exact"), rule("dedup.prompt")])
    assert [(f.rule, f.line, f.data["duplicate_of"]) for f in report.findings] == [("exact-duplicate", 4, 2)]


def test_a_pair_preferred_both_ways_round_is_a_conflict(tmp_path):
    ask = "Write an engaging title for a video about text embedding models."
    a, b, c = TITLES
    records = [_pair(ask, a, b), _pair(ask, a, c), _pair(ask, b, a)]
    path = write_jsonl(tmp_path / "reversed.jsonl", records)
    report = run([path], [rule("dedup.prompt")])
    assert [(f.line, f.data["kind"], f.data["duplicate_of"]) for f in report.findings] == [
        (3, "reversed_preference", 1)
    ]


def _path(*turns: str) -> dict[str, Any]:
    roles = ["user", "assistant"] * len(turns)
    return {"messages": [{"role": r, "content": t} for r, t in zip(roles, turns, strict=False)]}


def _tree_records() -> list[dict[str, Any]]:
    """Paths of three OpenAssistant-like trees: each root has sibling answers, and the first
    exchange of each root is continued by two different follow-up questions."""
    out = []
    for root in ("Explain photosynthesis", "How do magnets work?", "What is a prime number?"):
        first = f"A first careful answer about: {root}"
        out += [
            _path(root, first, "Can you go deeper?", f"Deeper detail one on {root}"),
            _path(root, first, "Can you go deeper?", f"Another deeper explanation of {root} entirely"),
            _path(root, first, "Give an example", f"An example for {root}"),
            _path(root, f"A second, different sibling answer on {root}"),
            _path(root, f"A third sibling reply, written by someone else, on {root}"),
        ]
    return out


def test_sibling_answers_of_a_tree_shaped_set_are_not_conflicts(tmp_path):
    path = write_jsonl(tmp_path / "tree.jsonl", _tree_records())
    report = run([path], [rule("dedup.prompt")])
    assert not report.findings
    # per root: the first exchange followed by two questions, and the deeper question given two answers
    assert report.stats["dedup"]["prompt"]["tree_branches"] == 6
    assert report.stats["dedup"]["prompt"]["sibling_prompts"] == 6
    assert any("tree-shaped" in n and "tree_siblings" in n for n in report.notices)
    # asked for, they are reported as before
    report = run([path], [rule("dedup.prompt", tree_siblings=True)])
    assert {f.data["kind"] for f in report.findings} == {"conflicting_answers"}
    assert len(report.findings) == 6  # per root: one sibling of the deeper answer, one of the first answer


def test_a_conversation_cut_into_growing_records_is_not_a_tree(tmp_path):
    """One conversation saved after every turn shares its exchanges but never branches: conflicts stay."""
    records = []
    for q in ("Explain photosynthesis", "How do magnets work?", "What is a prime number?", "Why is the sky blue?"):
        records += [
            _path(q, f"An answer on {q}"),
            _path(q, f"An answer on {q}", "And then?", f"More on {q}"),
            _path(q, f"An answer on {q}", "And then?", f"More on {q}", "Last point?", f"The last point on {q}"),
        ]
    records.append(_path("Explain photosynthesis", "Plants make sugar from light, water and carbon dioxide."))
    path = write_jsonl(tmp_path / "growing.jsonl", records)
    report = run([path], [rule("dedup.prompt")])
    assert report.stats["dedup"]["prompt"]["tree_branches"] == 0
    assert [(f.line, f.data["kind"]) for f in report.findings] == [(13, "conflicting_answers")]


def test_a_tree_that_branches_only_at_its_answers_is_tree_shaped(tmp_path):
    """OpenAssistant paths where every follow-up question is unique still give the deeper question
    several answers: a shared exchange, then other answers."""
    records = [r for r in _tree_records() if r["messages"][2:3] != [{"role": "user", "content": "Give an example"}]]
    path = write_jsonl(tmp_path / "tree.jsonl", records)
    report = run([path], [rule("dedup.prompt")])
    assert report.stats["dedup"]["prompt"]["tree_branches"] == 3
    assert not report.findings
    # two such branches are not enough by default
    report = run([path], [rule("dedup.prompt", tree_min_branches=4)])
    assert len(report.findings) == 6
