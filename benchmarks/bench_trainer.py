"""Tokens/s of the open-model path (`--tokenizer`): chat template rendering + `tokenizers` + label mask.

    .venv/bin/python benchmarks/bench_trainer.py             # 100,000 records
    .venv/bin/python benchmarks/bench_trainer.py --n 20000 --skip-cli

The model folder is built here: a byte-level BPE (8,000 tokens) trained with `tokenizers` on the
benchmark's own words, and Qwen2.5's chat template with {% generation %} blocks (tests/model_folder.py).
Three figures, all on the same records (~2.5 KB chat records, benchmarks/bench_tokens.py):
1. one process, in-process: render only, tokenize only, and the whole per-record path, per CPU-second;
2. the tiktoken path on the same records, for the ratio;
3. `curate check --select tokens --tokenizer ... --max-length 1024` end to end (2 workers, no cache).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _measure import load_average, measure  # noqa: E402
from bench_tokens import WORDS, make_records  # noqa: E402


def build_folder(root: Path) -> Path:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    from tests.model_folder import QWEN_TEMPLATE, SPECIALS

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=8000, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    corpus = [" ".join(WORDS[i:] + WORDS[:i]) for i in range(len(WORDS))] * 50
    tok.train_from_iterator(corpus, trainer=trainer)
    folder = root / "bench-model"
    folder.mkdir()
    tok.save(str(folder / "tokenizer.json"))
    config = {"bos_token": None, "eos_token": "<|im_end|>", "chat_template": QWEN_TEMPLATE}
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def in_process(folder: Path, records: list[dict]) -> None:
    from curate.checks.tokens.counting import counter
    from curate.checks.tokens.trainer import TrainerCounter, TrainerSettings, messages
    from curate.hf_tokenizer import load_folder
    from curate.model import Record

    model = load_folder(str(folder))
    convs = [Record("bench", i + 1, r).conversation for i, r in enumerate(records)]
    template = model.template(False)

    cpu = time.process_time()
    texts = [template.render(messages(c.turns)).text for c in convs]
    render_s = time.process_time() - cpu

    cpu = time.process_time()
    tokens = sum(len(model.encode(t).ids) for t in texts)
    encode_s = time.process_time() - cpu

    trainer = TrainerCounter(model, TrainerSettings(1024, "truncate", "generation", None))
    cpu = time.process_time()
    total = sum(trainer.measure(c)[0] for c in convs)
    whole_s = time.process_time() - cpu
    assert total == tokens, (total, tokens)

    tk = counter("o200k_base")
    cpu = time.process_time()
    tk_tokens = sum(tk.conversation(c).tokens for c in convs)
    tk_s = time.process_time() - cpu

    n = len(convs)
    print(f"{n:,} records, {tokens:,} tokens with the folder ({tokens / n:,.0f} per record); load {load_average():.1f}")
    print(f"  render only:       {n / render_s:>9,.0f} records/CPU-s")
    print(f"  tokenize only:     {n / encode_s:>9,.0f} records/CPU-s  {tokens / encode_s:>12,.0f} tokens/CPU-s")
    print(f"  whole path + mask: {n / whole_s:>9,.0f} records/CPU-s  {tokens / whole_s:>12,.0f} tokens/CPU-s")
    print(f"  tiktoken path:     {n / tk_s:>9,.0f} records/CPU-s  {tk_tokens / tk_s:>12,.0f} tokens/CPU-s (o200k)")
    print(f"  folder path costs {whole_s / tk_s:.1f}x the tiktoken path per record")


def cli(folder: Path, records: list[dict], root: Path) -> None:
    data = root / "data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    base = [sys.executable, "-m", "curate", "check", str(data), "--select", "tokens", "--no-cache", "-f", "json"]
    for name, extra in (("tiktoken", []), ("--tokenizer", ["--tokenizer", str(folder), "--max-length", "1024"])):
        load = load_average()
        m = measure(base + extra)
        report = json.loads(m.stdout)
        total = report["stats"]["tokens"]["tokens_per_example"]["total"]
        print(
            f"  curate check {name:12} {m.wall:6.1f} s wall, {m.cpu:6.1f} CPU-s, {total / m.wall:>10,.0f} tokens/s, "
            f"peak {m.tree_peak_mb:,.0f} MB (load {load:.1f})"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--skip-cli", action="store_true")
    args = ap.parse_args()
    records = make_records(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = build_folder(root)
        in_process(folder, records)
        if not args.skip_cli:
            cli(folder, records, root)


if __name__ == "__main__":
    main()
