"""Unsloth's `train_on_responses_only(instruction_part=..., response_part=...)`: labels from each response
marker to the next instruction marker, on a real model folder (a BPE trained here, ChatML without
{% generation %} blocks).

Two independent references: a token-by-token walk written from Unsloth's loop (unsloth_zoo
dataset_utils, default force_match=True), compared with curate's byte search on many random sequences;
and, on real records, the labelled characters of the hand-rendered ChatML text mapped to tokens.
"""

from __future__ import annotations

import json
import random
from array import array
from pathlib import Path

import pytest
from tokenizers import Tokenizer
from typer.testing import CliRunner

from curate.checks.tokens.trainer import responses_only
from curate.cli import app
from tests.model_folder import PLAIN_TEMPLATE, build
from tests.test_tokens_trainer import SAMPLES, audit, chat, findings, settings, write

RESPONSE = "<|im_start|>assistant\n"
INSTRUCTION = "<|im_start|>user\n"


@pytest.fixture(scope="module")
def plain_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("model") / "tiny-plain", template=PLAIN_TEMPLATE)


def unsloth_walk(ids: list[int], response: list[int], instruction: list[int]) -> list[bool]:
    """Unsloth's labelling loop, token by token (no optional tokens: force_match=True)."""
    n = len(ids)
    labels = [False] * n
    j = 0
    while j < n:
        if ids[j : j + len(response)] == response:
            start = j + len(response)
            j = start
            while j < n:
                if j == n - 1 or ids[j : j + len(instruction)] == instruction:
                    end = j
                    if end != n - 1:
                        j = j + len(instruction)
                    else:
                        end = n
                    for i in range(start, end):
                        labels[i] = True
                    break
                j += 1
        j += 1
    return labels


def as_mask(n: int, ranges: list[tuple[int, int]]) -> list[bool]:
    mask = [False] * n
    for a, b in ranges:
        for i in range(a, b):
            mask[i] = True
    return mask


def packed(ids: list[int]) -> bytes:
    return array("I", ids).tobytes()


@pytest.mark.parametrize("seed", range(6))
def test_byte_search_equals_unsloths_walk(seed: int) -> None:
    rng = random.Random(seed)
    response, instruction = [1, 2], [3] if seed % 2 else [3, 4]
    edge_cases = [
        [1, 2],  # marker at the very end: nothing to label
        [1, 2, 9],  # one token after it: labelled
        [1, 2, 9, 3],  # instruction marker on the last token: Unsloth labels it too
        [1, 2, 3, 4, 1, 2, 9],  # a response right after an instruction marker is skipped
        [5, 1, 2, 9, 9, 3, 4, 7, 1, 2, 8, 3, 4, 6],  # two turns
        [2, 2, 1, 1, 2, 1, 2, 3],
    ]
    sequences = edge_cases + [[rng.randrange(1, 8) for _ in range(rng.randrange(0, 40))] for _ in range(400)]
    for ids in sequences:
        expected = unsloth_walk(ids, response, instruction)
        got = as_mask(len(ids), responses_only(ids, packed(response), packed(instruction)))
        assert got == expected, ids


def labelled_reference(folder: Path, messages: list[dict]) -> tuple[int, int]:
    """(tokens, labelled tokens) from the hand-rendered ChatML: characters from the end of each assistant
    marker to the start of the next user marker (or the end) are labelled; a token is labelled when its
    characters are inside such a span."""
    text, spans, open_at = "<s>", [], None
    for m in messages:
        marker = f"<|im_start|>{m['role']}\n"
        if m["role"] == "user" and open_at is not None:
            spans.append((open_at, len(text)))
            open_at = None
        text += marker
        if m["role"] == "assistant" and open_at is None:
            open_at = len(text)
        text += m["content"] + "<|im_end|>\n"
    if open_at is not None:
        spans.append((open_at, len(text)))
    enc = Tokenizer.from_file(str(folder / "tokenizer.json")).encode(text, add_special_tokens=False)
    inside = sum(1 for a, b in enc.offsets if b > a and any(s <= a and b <= e for s, e in spans))
    return len(enc.ids), inside


def test_multi_turn_labels_every_answer_and_masks_the_user_turns(plain_folder: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "u.jsonl", SAMPLES[:3])
    both = {"response_template": RESPONSE, "instruction_template": INSTRUCTION}
    report = audit(path, settings(plain_folder, **both))
    stats = report.stats["tokens"]
    assert stats["labels"] == "markers"
    shown = (RESPONSE.replace("\n", "\\x0a"), INSTRUCTION.replace("\n", "\\x0a"))  # stats are escaped
    assert (stats["response_template"], stats["instruction_template"]) == shown
    for i, record in enumerate(SAMPLES[:3]):
        tokens, labelled = labelled_reference(plain_folder, record["messages"])
        assert report.table["tokens"][i] == tokens
        assert report.table["trained_tokens"][i] == labelled
    # the two-answer record: TRL's single marker trains the last answer only, Unsloth's markers both
    trl = audit(path, settings(plain_folder, response_template=RESPONSE))
    assert trl.table["trained_tokens"][1] < report.table["trained_tokens"][1]
    assert trl.table["trained_tokens"][0] == report.table["trained_tokens"][0]  # one answer: the same
    assert not findings(report)


def test_cut_findings_with_markers(plain_folder: Path, tmp_path: Path) -> None:
    records = [
        SAMPLES[1],  # fits
        chat(("user", "Hello there " * 80), ("assistant", "Paris.")),  # the answer starts after the cut
        chat(("user", "Hi"), ("assistant", "Use sorted(list). " * 30), ("user", "More?"), ("assistant", "No.")),
        chat(("user", "Hi"), ("assistant", "Paris.")),  # fits
    ]
    path = write(tmp_path / "c.jsonl", records)
    both = {"response_template": RESPONSE, "instruction_template": INSTRUCTION, "max_length": 100}
    tok = Tokenizer.from_file(str(plain_folder / "tokenizer.json"))
    lengths = [labelled_reference(plain_folder, r["messages"])[0] for r in records]
    assert lengths[0] <= 100 and lengths[3] <= 100 and lengths[1] > 100 and lengths[2] > 100
    prompt = "<s><|im_start|>user\n" + "Hello there " * 80 + "<|im_end|>\n<|im_start|>assistant\n"
    assert len(tok.encode(prompt, add_special_tokens=False).ids) > 100  # record 2's answer is past the cut
    report = audit(path, settings(plain_folder, **both))
    assert findings(report) == {("labels-all-masked", 2), ("assistant-truncated", 3)}
    dropped = audit(path, settings(plain_folder, **both, overflow="drop"))
    assert findings(dropped) == {("dropped-by-length", 2), ("dropped-by-length", 3)}


def test_cli_instruction_template(plain_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path / "d.jsonl", SAMPLES[:2])
    base = ["check", path, "--select", "tokens", "--no-cache", "--tokenizer", str(plain_folder)]
    args = [*base, "--response-template", RESPONSE, "--instruction-template", INSTRUCTION]
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["stats"]["tokens"]["labels"] == "markers"
    assert any("Unsloth train_on_responses_only" in n for n in report["notices"])
    text = CliRunner().invoke(app, args)
    assert text.exit_code == 0 and "next instruction marker" in text.output
    alone = CliRunner().invoke(app, [*base, "--instruction-template", INSTRUCTION])
    assert alone.exit_code == 2 and "needs --response-template" in alone.output
    cost = CliRunner().invoke(app, ["cost", path, "-m", "fireworks", *args[5:], "--format", "json"])
    assert cost.exit_code == 0, cost.output
    assert json.loads(cost.stdout)["tokenizer"]["instruction_template"] in (INSTRUCTION, "<|im_start|>user\\x0a")
