"""`curate cost`: what fine-tuning on these datasets costs, per model, before you pay for it."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from curate.cli import app
from curate.cli.common import (
    INPUT_FORMAT_HELP,
    ROLE_MAP_HELP,
    expand_inputs,
    fail,
    format_hint,
    require_records,
    say_skipped,
)
from curate.cli.trainer_options import (
    InstructionTemplateOpt,
    MaxLengthOpt,
    OverflowOpt,
    ResponseTemplateOpt,
    TokenizerOpt,
    trainer_settings,
)

if TYPE_CHECKING:
    from rich.console import Console

    from curate.targets import Model, ModelTable


@app.command()
def cost(
    paths: Annotated[list[str], typer.Argument(help="JSONL or JSON files, or directories.")],
    model: Annotated[
        Optional[list[str]],
        typer.Option(
            "--model", "-m", help="provider/model, a model name, or a provider (repeat). Default: every model."
        ),
    ] = None,
    epochs: Annotated[
        str, typer.Option("--epochs", "-e", help="auto (OpenAI cookbook heuristic) or a number.")
    ] = "auto",
    output_format: Annotated[str, typer.Option("--format", "-f", help="text | json.")] = "text",
    models_file: Annotated[
        Optional[list[str]],
        typer.Option("--models", help="Your own model/price table (YAML, same format as the built-in)."),
    ] = None,
    shots: Annotated[int, typer.Option("--shots", help="Examples per request in the few-shot alternative.", min=1)] = 5,
    gpu_price: Annotated[
        Optional[float], typer.Option("--gpu-price", help="Self-hosted: price of one GPU-hour.")
    ] = None,
    mfu: Annotated[Optional[float], typer.Option("--mfu", help="Self-hosted: model FLOPs utilisation (0-1).")] = None,
    input_format: Annotated[Optional[str], typer.Option("--input-format", help=INPUT_FORMAT_HELP)] = None,
    role_map: Annotated[Optional[list[str]], typer.Option("--role-map", help=ROLE_MAP_HELP)] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes (0: one per CPU core).", min=0)] = 0,
    tokenizer: TokenizerOpt = None,
    max_length: MaxLengthOpt = None,
    overflow: OverflowOpt = "truncate",
    response_template: ResponseTemplateOpt = None,
    instruction_template: InstructionTemplateOpt = None,
) -> None:
    """Estimate training cost per model: epochs, billed tokens, price, truncated examples, break-even.

    With --tokenizer every chosen model is priced on the folder's exact counts of what the trainer
    keeps (sequences cut at --max-length, or dropped with --overflow drop)."""
    from curate import cost as costmath
    from curate.checks.tokens._common import ENCODING_SETTING
    from curate.targets import _project_tables, load_table
    from curate.tokenizer import TokenizerError
    from curate.yamlfile import ConfigError

    if output_format not in ("text", "json"):
        fail("--format must be text or json")
    try:
        n_epochs = costmath.parse_epochs(epochs)
    except ValueError:
        fail(f"--epochs must be auto or a positive integer, not {epochs!r}")
    if mfu is not None and not 0 < mfu <= 1:
        fail("--mfu must be between 0 and 1")
    try:
        table = load_table(tuple(models_file or ()) or _project_tables())
    except ConfigError as exc:
        fail(str(exc))
    chosen = _choose(table, model or [])
    trainer, _notices = trainer_settings(
        tokenizer,
        max_length,
        overflow,
        response_template,
        target=_mistral_only(chosen) if tokenizer is None and max_length else None,
        instruction_template=instruction_template,
    )
    hint = format_hint(input_format, role_map)
    inputs = expand_inputs(paths)
    say_skipped(inputs.skipped)
    files = inputs.files
    try:
        if trainer and "tokenizer" not in trainer:  # Mistral models: mistral-common's sequences, cut
            counts = {
                enc: _count_folder(files, {**trainer, ENCODING_SETTING: enc}, hint, jobs)
                for enc in sorted({m.encoding for m in chosen})
            }
        elif trainer:
            folder_counts = _count_folder(files, trainer, hint, jobs)
            counts = {m.encoding: folder_counts for m in chosen}
        else:
            counts = _count(files, sorted({m.encoding for m in chosen}), hint, jobs, inputs.skipped)
    except TokenizerError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot read input: {exc.strerror or exc}")
    result = _compute(chosen, table, counts, n_epochs, shots, gpu_price, mfu, files)
    if trainer and "tokenizer" in trainer:
        _exact_with_folder(result, trainer)
    elif trainer:
        result["tokenizer"] = {"max_length": trainer["max_length"], "overflow": trainer["overflow"]}
    if output_format == "json":
        import orjson

        sys.stdout.buffer.write(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
        return
    from rich.console import Console

    _render(result, Console(highlight=False))


def _mistral_only(chosen: list[Model]) -> str | None:
    """A model name to stand for the chosen ones when every one is counted with mistral-common (their
    --max-length cut needs no model folder); else None, and --max-length asks for --tokenizer."""
    if chosen and all(m.encoding.startswith("mistral-") for m in chosen):
        return chosen[0].name
    return None


def _choose(table: ModelTable, wanted: list[str]) -> list[Model]:
    if not wanted:
        return list(table.models)
    out: list[Model] = []
    providers = {m.provider.lower() for m in table.models}
    for token in (t.strip() for w in wanted for t in w.split(",") if t.strip()):
        if token.lower() in providers:
            out += [m for m in table.models if m.provider.lower() == token.lower()]
            continue
        found = table.find(token)
        if found is None:
            matches = [m.name for m in table.models if token.lower() in m.name.lower()]
            hint = f"; did you mean {', '.join(matches)}?" if matches else f"; known: {', '.join(table.names())}"
            fail(f"--model {token!r} is not in the model table (or is ambiguous){hint}")
        out.append(found)
    return list({m.name: m for m in out}.values())


class _EncodingCounts:
    """Per-example counts for one encoding, the sums the break-even needs, and what was left out."""

    def __init__(self, tokens: list[int], trainable: int, left_out: dict[str, int] | None = None) -> None:
        self.tokens = tokens
        self.trainable = trainable
        self.prompt = sum(tokens) - trainable
        self.left_out = left_out or {}


LEFT_OUT_REASONS = {
    "invalid": "not a JSON object (schema errors say why)",
    "unknown": "unknown record format (see --input-format)",
    "unreadable": "no conversation text (no recognised role; see --role-map)",
    "untrainable": "no assistant text to train on (no assistant turn, empty, or weight 0)",
    "cut": "nothing left to train after the trainer's cut (labels-all-masked, dropped-by-length) or no assistant text",
}


def _priced(table: Any, cut: bool = False) -> tuple[Any, dict[str, int]]:
    """The rows `curate cost` prices: exactly the examples with trainable tokens, the ones `check`
    does not flag as missing an assistant turn or having nothing to learn; and why the rest is out.
    `cut`: the counts are the trainer's sequences, so an example trains on what survives the cut."""
    import polars as pl

    if table is None or "format" not in table.columns:
        return None, {}
    if cut and "trained_tokens" in table.columns:
        table = table.with_columns(trainable_tokens=pl.col("trained_tokens"))
    if "tokens" not in table.columns:  # no record was counted
        table = table.with_columns(tokens=pl.lit(None, pl.Int64), trainable_tokens=pl.lit(None, pl.Int64))
    fmt = pl.col("format")
    reasons = {
        "invalid": fmt == "invalid",
        "unknown": fmt == "unknown",
        "unreadable": pl.col("tokens").is_null() & ~fmt.is_in(["invalid", "unknown"]),
        "untrainable": pl.col("tokens").is_not_null() & (pl.col("trainable_tokens") <= 0),
    }
    counts = table.select(**{k: v.sum() for k, v in reasons.items()}).row(0, named=True)
    left_out = {LEFT_OUT_REASONS["cut" if cut and k == "untrainable" else k]: int(n) for k, n in counts.items() if n}
    return table.filter(pl.col("trainable_tokens") > 0).select("tokens", "trainable_tokens"), left_out


def _count(
    files: list[str], encodings: list[str], hint: Any, jobs: int, skipped: list[tuple[str, str]]
) -> dict[str, _EncodingCounts]:
    """One audit per encoding with only `tokens.stats`: worker processes for large files, same counts
    as `curate check`. Only trainable examples are priced; the rest is counted by reason."""
    from curate.check import RunContext
    from curate.checks.tokens._common import ENCODING_SETTING
    from curate.checks.tokens.stats import TokenStats
    from curate.config import Rule
    from curate.model import Severity
    from curate.run.engine import Engine, EngineOptions

    rule = Rule("token-stats", TokenStats.id, Severity.ERROR, TokenStats.Params(), None, "curate cost", "")
    out = {}
    for enc in encodings:
        ctx = RunContext(settings={ENCODING_SETTING: enc})
        report = Engine([rule], ctx, EngineOptions(input_format=hint, jobs=jobs)).run(files)
        require_records(report.datasets, skipped, "priced")
        error = report.stats.get("tokens", {}).get("error")
        if error:
            from curate.tokenizer import TokenizerError

            raise TokenizerError(error)
        rows, left_out = _priced(report.table)
        if rows is None:
            out[enc] = _EncodingCounts([], 0, left_out)
            continue
        out[enc] = _EncodingCounts(rows["tokens"].to_list(), int(rows["trainable_tokens"].sum()), left_out)
    return out


def _count_folder(files: list[str], settings: dict[str, Any], input_format: Any, jobs: int) -> _EncodingCounts:
    """Exact counts with the model folder, on what the trainer keeps (the cost check's view)."""
    from curate.check import RunContext
    from curate.checks.tokens.cost import CostEstimate
    from curate.config import Rule
    from curate.model import Severity
    from curate.run.engine import Engine, EngineOptions

    rule = Rule("cost-estimate", CostEstimate.id, Severity.INFO, CostEstimate.Params(), None, "curate cost", "")
    engine = Engine([rule], RunContext(settings=dict(settings)), EngineOptions(input_format=input_format, jobs=jobs))
    report = engine.run(files)
    state = engine.dataset_checks[0][1]
    assert isinstance(state, CostEstimate)
    _, left_out = _priced(report.table, cut=True)
    return _EncodingCounts(list(state.tokens), state.trainable, left_out)


def _exact_with_folder(result: dict[str, Any], settings: dict[str, Any]) -> None:
    """Estimates made with the folder are exact and say what they were counted with."""
    from curate.checks.tokens.folder import folder_label

    label = folder_label(settings)
    for est in result["estimates"]:
        est["exact"] = True
        est["encoding"] = label
    stats = next(iter(result["token_stats"].values()), {})
    result["token_stats"] = {label: stats}
    result["tokenizer"] = {
        k: settings.get(k) for k in ("max_length", "overflow", "response_template", "instruction_template")
    }


def _compute(
    chosen: list[Model],
    table: ModelTable,
    counts: dict[str, _EncodingCounts],
    epochs: int | None,
    shots: int,
    gpu_price: float | None,
    mfu: float | None,
    files: list[str],
) -> dict[str, Any]:
    from curate import cost as costmath

    estimates, hosted, breaks = [], [], []
    for m in chosen:
        acc = counts[m.encoding]
        est = costmath.estimate(m, acc.tokens, epochs)
        estimates.append(est.to_json())
        n = len(acc.tokens)
        if n:
            mean = sum(acc.tokens) / n
            be = costmath.break_even(m, est.cost, shots, mean, acc.prompt / n, acc.trainable / n)
            breaks.append(be.to_json())
        if table.self_hosted and m.parameters:
            for method in ("lora", "full"):
                sh = costmath.self_hosted(m, est.trained_tokens, table.self_hosted, method, mfu, gpu_price)
                if sh:
                    hosted.append(sh.to_json())
    hw = table.self_hosted
    assumptions = None
    if hw:
        assumptions = {
            "gpu": hw.gpu,
            "peak_tflops": hw.peak_tflops,
            "mfu_lora": mfu if mfu is not None else hw.mfu_lora,
            "mfu_full": mfu if mfu is not None else hw.mfu_full,
            "gpu_hour_price": gpu_price if gpu_price is not None else hw.gpu_hour_price,
            "flops": "full: 6 x parameters x trained tokens; LoRA: 4 x parameters x trained tokens",
            "source": hw.source,
            "date": hw.date,
        }
    return {
        "files": files,
        "examples": max((len(c.tokens) for c in counts.values()), default=0),
        "left_out": next((c.left_out for c in counts.values() if c.left_out), {}),
        "epochs": "auto" if epochs is None else epochs,
        "token_stats": {enc: costmath.describe(c.tokens) for enc, c in counts.items()},
        "estimates": estimates,
        "self_hosted": {"assumptions": assumptions, "estimates": hosted},
        "break_even": breaks,
        "model_tables": list(table.files),
    }


def _render(result: dict[str, Any], console: Console) -> None:
    from rich.text import Text

    from curate.checks.tokens.render import money, short

    n = result["examples"]
    console.print(Text(f"{n:,} examples in {len(result['files'])} file(s); epochs: {result['epochs']}", style="bold"))
    if result["left_out"]:
        out = result["left_out"]
        why = "; ".join(f"{k} {v:,}" for k, v in out.items())
        console.print(
            Text(f"  left out {sum(out.values()):,} records not priced: {why}", style="yellow"), soft_wrap=True
        )
    trainer = result.get("tokenizer")
    if trainer:
        cut = f"cut at {trainer['max_length']:,} tokens" if trainer.get("max_length") else "no --max-length"
        how = "dropped when longer" if trainer.get("overflow") == "drop" else cut
        console.print(Text(f"  exact counts of what the trainer keeps ({how})", style="dim"))
    for enc, d in result["token_stats"].items():
        if d.get("count"):
            console.print(
                Text(
                    f"  {enc}: {short(d['total'])} tokens; per example median {d['median']:,.0f}, "
                    f"p95 {d['p95']:,.0f}, p99 {d['p99']:,.0f}, max {d['max']:,}",
                    style="dim",
                )
            )
    console.print()
    rows, estimated = [], False
    for e in result["estimates"]:
        estimated |= not e["exact"]
        approx = "" if e["exact"] else "~"
        _provider_row(rows, e["provider"], 6)
        rows.append(
            (
                "  " + e["model"],
                str(e["epochs"]),
                approx + short(e["tokens_per_epoch"]),
                approx + short(e["trained_tokens"]),
                money(e["price_per_million"], e["currency"]),
                money(e["cost"], e["currency"]),
                f"{e['truncated_examples']:,}",
            )
        )
    t = _table("managed fine-tuning", ("model", "epochs", "per epoch", "trained", "$/1M", "cost", "cut"), rows)
    console.print(t)
    console.print(Text("cut = examples longer than the model's limit: truncated, and billed at the limit", style="dim"))
    if estimated:
        enc = ", ".join(sorted({e["encoding"] for e in result["estimates"] if not e["exact"]}))
        console.print(
            Text(
                f"~ estimate: the model's own tokenizer is not a tiktoken encoding; counted with {enc}", style="yellow"
            ),
            soft_wrap=True,
        )
    _render_self_hosted(result["self_hosted"], console)
    _render_break_even(result["break_even"], console)
    sources = sorted({(e["price_source"], e["price_date"]) for e in result["estimates"] if e["price_source"]})
    if sources:
        console.print(
            Text("training prices: " + "; ".join(f"{u} ({d})" for u, d in sources), style="dim"), soft_wrap=True
        )


def _provider_row(rows: list[tuple[str, ...]], provider: str, width: int) -> None:
    """A provider's name on its own row above its models (rows arrive grouped by provider)."""
    if provider not in {r[0] for r in rows}:
        rows.append((provider, *[""] * width))


def _table(title: str, columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> Any:
    """A borderless table whose number columns never shrink (only the first, the model, folds)."""
    from rich import box
    from rich.table import Table

    t = Table(
        title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False
    )
    for i, col in enumerate(columns):
        if i == 0:
            t.add_column(col, overflow="fold", min_width=min(25, max(len(r[0]) for r in rows)))
        else:
            width = max([len(col), *(len(r[i]) for r in rows)])
            t.add_column(col, justify="right", no_wrap=True, min_width=width)
    for r in rows:
        header = all(not c for c in r[1:])  # a provider's name above its models
        t.add_row(*r, style="bold" if header else None)
    return t


def _render_self_hosted(hosted: dict[str, Any], console: Console) -> None:
    from rich.text import Text

    from curate.checks.tokens.render import money

    if not hosted["estimates"]:
        return
    a = hosted["assumptions"]
    rows, seen = [], set()
    for s in hosted["estimates"]:
        same = (s["parameters"], s["method"], s["trained_tokens"])  # one open model offered by several providers
        if same in seen:
            continue
        seen.add(same)
        rows.append(
            (
                s["model"].split("/", 1)[-1],
                f"{s['parameters'] / 1e9:.1f}B",
                s["method"],
                f"{s['flops'] / 1e15:,.1f}",
                f"{s['gpu_hours']:,.2f}",
                money(s["cost"]),
            )
        )
    console.print()
    console.print(
        _table("self-hosted (open models)", ("model", "params", "method", "PFLOPs", "GPU-hours", "cost"), rows)
    )
    console.print(
        Text(
            f"assumptions: {a['gpu']} at {a['peak_tflops']:g} TFLOPS (BF16 dense), MFU {a['mfu_lora']:.0%} LoRA / "
            f"{a['mfu_full']:.0%} full, {money(a['gpu_hour_price'])} per GPU-hour; {a['flops']}. "
            "Excludes setup, evaluation and idle time. Change with --gpu-price / --mfu.",
            style="dim",
        ),
        soft_wrap=True,
    )


def _render_break_even(breaks: list[dict[str, Any]], console: Console) -> None:
    from rich.text import Text

    from curate.checks.tokens.render import money

    rows: list[tuple[str, ...]] = []
    for b in breaks:
        if b["saving_per_request"] is None:
            continue
        provider, _, name = b["model"].partition("/")
        _provider_row(rows, provider, 3)
        rows.append(
            (
                "  " + name,
                f"{b['fewshot_tokens_per_request']:,.0f}",
                money(b["saving_per_request"]),
                f"{b['requests']:,}" if b["requests"] else "never",
            )
        )
    if not rows:
        return
    console.print()
    title = f"break-even against {breaks[0]['shots']}-shot prompting"
    console.print(_table(title, ("model", "extra tokens/request", "saving/request", "requests"), rows))
    console.print(
        Text(
            "requests until fine-tuning pays for itself. saving = the examples' tokens at the base model's input "
            "price, minus what the fine-tuned model's higher rates add to a typical request (this dataset's mean "
            "prompt and answer); inference prices in the model table",
            style="dim",
        ),
        soft_wrap=True,
    )
