"""dedup.near on templated and tree-shaped data: comparing only what varies (issue 17)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from dedup_data import chat
from test_dedup import rule, run

from curate.checks.dedup.varying import Varying, line_key, shared_lines, varying_texts
from curate.model import Turn

TEMPLATE = [
    "You are given an idea for a video. Write one engaging title for it.",
    "Guidance:",
    "- The title should be between thirty and seventy five characters long.",
    "- Return only the title, nothing else, no quotes and no explanation.",
    "- Prefer concrete words over vague ones; avoid clickbait and all capitals.",
]


def _words(rng: random.Random, n: int) -> str:
    return " ".join(f"w{rng.randrange(10**6)}" for _ in range(n))


def _templated(n: int, seed: int = 3) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        idea = _words(rng, 3)
        prompt = "\n".join([TEMPLATE[0], f"Idea: {idea}", *TEMPLATE[1:]])
        out.append(chat(prompt, _words(rng, 6)))
    return out


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_shared_template_dominates_unless_left_out(tmp_path):
    records = _templated(40)
    # a real near-duplicate: the same idea and title, one word of the title changed
    copy = json.loads(json.dumps(records[5]))
    title = copy["messages"][1]["content"].split()
    copy["messages"][1]["content"] = " ".join([*title[:-1], "changed"])
    records.append(copy)
    path = _write(tmp_path / "templated.jsonl", records)
    whole = run([path], [rule("dedup.near")])
    assert len(whole.findings) > 30  # every record looks like every other: the template is most of the text
    varying = run([path], [rule("dedup.near", ignore_shared_lines=0.5)])
    assert [(f.line, f.data["duplicate_of"]) for f in varying.findings] == [(41, 6)]
    assert varying.stats["dedup"]["near"]["shared_lines_ignored"] == len(TEMPLATE)


def test_lines_under_the_share_are_kept(tmp_path):
    records = _templated(40)
    path = _write(tmp_path / "templated.jsonl", records)
    v = Varying(shared_share=0.5, sample=2000)
    shared = shared_lines(str(path), "conversation", None, v)
    assert shared == {line_key(t) for t in TEMPLATE}
    # a share above 1 record in 1 never leaves anything out; case and spacing do not matter
    assert line_key("  Guidance:  ") == line_key("guidance:")
    assert not shared_lines(str(path), "conversation", None, Varying(shared_share=1.0))
    # only the first `sample` records are counted: a line in the first 10 of 40 is shared among them
    records[:10] = [chat(r["messages"][0]["content"] + "\nA line of the first ten", "x y z") for r in records[:10]]
    path = _write(tmp_path / "head.jsonl", records)
    assert line_key("A line of the first ten") in shared_lines(str(path), "conversation", None, Varying(0.5, 10))
    assert line_key("A line of the first ten") not in shared_lines(str(path), "conversation", None, Varying(0.5, 40))


def test_a_record_of_shared_lines_only_is_compared_whole():
    turn = Turn("user", "Guidance:\nReturn only the title", "/messages/0/content")
    shared = frozenset({line_key("Guidance:"), line_key("Return only the title")})
    assert varying_texts([turn], shared) == [turn.text]
    assert varying_texts([turn], frozenset({line_key("guidance:")})) == ["Return only the title"]


def test_unreadable_path_shares_nothing(tmp_path):
    assert shared_lines(str(tmp_path / "missing.jsonl"), "conversation", None, Varying(0.5)) == frozenset()
    assert shared_lines("-", "conversation", None, Varying(0.5)) == frozenset()


def _branch(first: str, answer: str, follow: str, last: str) -> dict[str, Any]:
    turns = [("user", first), ("assistant", answer), ("user", follow), ("assistant", last)]
    return {"messages": [{"role": r, "content": c} for r, c in turns]}


def test_last_exchange_compares_branches_by_what_they_add(tmp_path):
    rng = random.Random(9)
    first, answer = _words(rng, 10), _words(rng, 120)  # a long shared first exchange
    records = [_branch(first, answer, _words(rng, 5), _words(rng, 20)) for _ in range(3)]
    last = records[0]["messages"][3]["content"]
    records.append(_branch(first, answer, records[0]["messages"][2]["content"], last + " w1"))
    path = _write(tmp_path / "tree.jsonl", records)
    whole = run([path], [rule("dedup.near")])
    assert {f.line for f in whole.findings} == {2, 3, 4}  # the shared exchange makes every branch a copy
    last_only = run([path], [rule("dedup.near", turns="last")])
    assert [(f.line, f.data["duplicate_of"]) for f in last_only.findings] == [(4, 1)]
    assert last_only.stats["dedup"]["near"]["compared"] == "last exchange"


def test_options_change_the_signature_cache_file(tmp_path):
    from curate.checks.dedup.near import NearCheckParams, make_cache

    plain = make_cache(NearCheckParams())
    varying = make_cache(NearCheckParams(ignore_shared_lines=0.5))
    last = make_cache(NearCheckParams(turns="last"))
    assert plain is not None and varying is not None and last is not None
    assert len({plain.tag, varying.tag, last.tag}) == 3


def _tree(rng: random.Random) -> list[dict[str, Any]]:
    """Paths of three conversation trees: a long first exchange, several follow-ups, sibling answers."""
    out = []
    for _ in range(3):
        first, answer = _words(rng, 12), _words(rng, 150)
        follow = _words(rng, 6)
        out += [
            _branch(first, answer, follow, _words(rng, 30)),
            _branch(first, answer, follow, _words(rng, 30)),
            _branch(first, answer, _words(rng, 6), _words(rng, 30)),
        ]
    return out


def test_a_tree_shaped_file_compares_final_answers(tmp_path):
    rng = random.Random(12)
    records = _tree(rng)
    # one sibling answer that is a light edit of another: a real near-duplicate
    copy = json.loads(json.dumps(records[0]))
    words = copy["messages"][3]["content"].split()
    copy["messages"][3]["content"] = " ".join([*words[:-1], "changed"])
    records.append(copy)
    path = _write(tmp_path / "tree.jsonl", records)
    report = run([path], [rule("dedup.near")])
    assert [(f.line, f.data["duplicate_of"]) for f in report.findings] == [(10, 1)]
    assert report.stats["dedup"]["near"]["tree_shaped_files"] == 1
    # the whole conversation: every branch shares its 160-word history with its siblings
    whole = run([path], [rule("dedup.near", turns="all")])
    assert len(whole.findings) >= 6


def test_a_flat_file_is_compared_whole_by_the_usual_path(tmp_path):
    rng = random.Random(13)
    records = [_branch(_words(rng, 12), _words(rng, 40), _words(rng, 6), _words(rng, 30)) for _ in range(6)]
    path = _write(tmp_path / "flat.jsonl", records)
    from curate.checks.dedup.varying import tree_shaped

    assert not tree_shaped(str(path), 2000)
    report = run([path], [rule("dedup.near")])
    assert not report.findings and "tree_shaped_files" not in report.stats["dedup"]["near"]


def test_pairs_of_a_ranking_are_compared_by_their_answers(tmp_path):
    rng = random.Random(14)
    records = []
    for _ in range(4):
        prompt = _words(rng, 40)
        titles = [_words(rng, 7) for _ in range(4)]
        records += [
            {"prompt": prompt, "chosen": titles[a], "rejected": titles[b]}
            for a, b in ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
        ]
    # a pair copied with one word changed in each answer: a real near-duplicate
    copy = dict(records[0])
    copy["chosen"] = " ".join([*copy["chosen"].split()[:-1], "changed"])
    records.append(copy)
    path = _write(tmp_path / "ranking.jsonl", records)
    report = run([path], [rule("dedup.near")])
    assert [(f.line, f.data["duplicate_of"]) for f in report.findings] == [(25, 1)]
    whole = run([path], [rule("dedup.near", turns="all")])
    assert len(whole.findings) > 10  # the shared 40-word prompt makes every pair of one ranking alike


def test_a_short_final_answer_is_compared_with_its_conversation(tmp_path):
    rng = random.Random(15)
    records = _tree(rng)
    # two unrelated conversations that both end in the same two-word answer
    records += [_branch(_words(rng, 12), _words(rng, 60), _words(rng, 6), "Any questions?") for _ in range(2)]
    path = _write(tmp_path / "tree.jsonl", records)
    assert not run([path], [rule("dedup.near")]).findings


@pytest.mark.parametrize(
    ("question", "answer", "closes"),
    [
        ("Merci beaucoup pour cette réponse très complète.", "Je suis là pour ça, comment puis-je vous aider ?", True),
        ("Thank you for the information.", "You're welcome! If you have any other questions, feel free to ask.", True),
        ("Oh, time flies! Thank you for the information.", "Glad I could be of help, and take care.", True),
        ("What is the capital of France?", "You're welcome, but first: it is Paris.", True),  # opens as a pleasantry
        ("Merci. Comment dois-je procéder ?", "Mélangez la poudre au lait froid, puis chauffez.", False),  # asks
        ("Great, thanks! Now convert 5000 yen to pounds.", "5000 yen is about 34 pounds.", False),  # a new request
        ("What is the capital of France?", "Paris.", False),
    ],
)
def test_a_closing_reply_is_told_from_an_answer(question, answer, closes):
    from curate.checks.dedup.pleasantry import closing_reply

    said = [("user", "Hello there"), ("assistant", "Hi."), ("user", question), ("assistant", answer)]
    turns = [Turn(role, text, f"/messages/{i}/content") for i, (role, text) in enumerate(said)]
    assert closing_reply(turns, 3) is closes


def test_a_closing_final_answer_is_compared_with_its_conversation(tmp_path):
    rng = random.Random(16)
    records = _tree(rng)
    # two unrelated conversations that end in near-identical closing pleasantries (10+ words each)
    closings = [
        "I am always here for that, how else can I help you today, my friend?",
        "You are welcome, I am always here for that, how else can I help you today?",
    ]
    records += [_branch(_words(rng, 12), _words(rng, 60), "Thank you very much for this answer.", c) for c in closings]
    # siblings that differ only in their closing are alternatives, not copies
    first, answer = _words(rng, 12), _words(rng, 60)
    records += [_branch(first, answer, "Thanks a lot!", c) for c in closings]
    path = _write(tmp_path / "tree.jsonl", records)
    report = run([path], [rule("dedup.near")])
    assert report.stats["dedup"]["near"]["tree_shaped_files"] == 1
    assert not report.findings


def _kto(first: str, answer: str, follow: str, last: str, label: bool) -> dict[str, Any]:
    return {**_branch(first, answer, follow, last), "label": label}


def test_kto_answers_to_one_prompt_make_the_file_tree_shaped(tmp_path):
    from curate.checks.dedup.varying import tree_shaped

    rng = random.Random(17)
    records = []
    for _ in range(3):  # three prompts, each with a desirable and an undesirable answer
        prompt = _words(rng, 15)
        records += [{**chat(prompt, _words(rng, 40)), "label": label} for label in (True, False)]
    records += [{**chat(_words(rng, 15), _words(rng, 40)), "label": True} for _ in range(6)]
    # a long conversation given with a desirable and an undesirable last answer: a contrast, not a copy
    first, answer, follow = _words(rng, 12), _words(rng, 200), _words(rng, 8)
    records += [_kto(first, answer, follow, _words(rng, 30), label) for label in (True, False)]
    path = _write(tmp_path / "kto.jsonl", records)
    assert tree_shaped(str(path), 2000)
    assert not run([path], [rule("dedup.near")]).findings
    # the same records without KTO labels: one branch only, not a tree, and the shared history makes a copy
    plain = _write(tmp_path / "plain.jsonl", [{k: v for k, v in r.items() if k != "label"} for r in records])
    assert not tree_shaped(str(plain), 2000)
    assert [f.line for f in run([plain], [rule("dedup.near")]).findings] == [len(records)]
