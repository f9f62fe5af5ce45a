"""inhouse bench: the serving benchmark against any OpenAI-compatible server (no program needed)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from inhouse.cli._common import JsonOpt, Typer, err_console, literal, out_console, print_json

if TYPE_CHECKING:
    from inhouse.trials.load import LoadResult

app = Typer()


@app.command()
def bench(
    url: Annotated[
        str, typer.Argument(help="The server's base URL, e.g. http://127.0.0.1:8080 (or …/v1).")
    ],
    model: Annotated[str, typer.Option("--model", "-m", help="The model name to request.")],
    requests: Annotated[
        int, typer.Option("--requests", "-n", help="Measured requests (warm-up not counted).")
    ] = 100,
    concurrency: Annotated[
        int | None,
        typer.Option(
            help="Requests in flight at once (default: 1, sequential).", show_default=False
        ),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(help="Send at this many requests per second instead.", show_default=False),
    ] = None,
    poisson: Annotated[
        bool, typer.Option("--poisson", help="With --rate: Poisson arrivals (seeded).")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the Poisson arrival schedule.")] = 0,
    warmup: Annotated[
        int | None,
        typer.Option(
            help="Unmeasured requests first (default: the concurrency; 1 in rate modes).",
            show_default=False,
        ),
    ] = None,
    prompt: Annotated[
        str | None, typer.Option(help="The prompt to send (default: a short question).")
    ] = None,
    input_file: Annotated[
        Path | None,
        typer.Option(
            "--input",
            help='JSONL file of prompts: a string, or {"prompt": …} or {"messages": […]} '
            "per line; cycled through.",
            show_default=False,
        ),
    ] = None,
    max_tokens: Annotated[int, typer.Option(help="max_tokens of every request.")] = 128,
    temperature: Annotated[
        float | None,
        typer.Option(
            help="Sampling temperature of every request (default: none sent, the server's). "
            "0 makes every answer the same, so runs compare like with like.",
            show_default=False,
        ),
    ] = None,
    api: Annotated[
        str, typer.Option(help="chat (/v1/chat/completions) or completions (/v1/completions).")
    ] = "chat",
    slo_ttft_ms: Annotated[
        float | None, typer.Option(help="Goodput SLO: TTFT at most this.", show_default=False)
    ] = None,
    slo_tpot_ms: Annotated[
        float | None, typer.Option(help="Goodput SLO: TPOT at most this.", show_default=False)
    ] = None,
    slo_e2e_ms: Annotated[
        float | None, typer.Option(help="Goodput SLO: E2E at most this.", show_default=False)
    ] = None,
    api_key_env: Annotated[
        str | None,
        typer.Option(help="Environment variable holding the API key.", show_default=False),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds one request may take.")] = 600.0,
    samples: Annotated[
        bool, typer.Option("--samples", help="With --json: every request's measurements too.")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Measure TTFT, TPOT, ITL, E2E, throughput and goodput of an OpenAI-compatible server with
    streamed requests: sequential, at a fixed concurrency, or at a constant or Poisson rate.
    Definitions: docs/bench.md."""
    from inhouse.cli.render import ProgressBar
    from inhouse.trials.bench import BenchSettings, run_bench

    settings = BenchSettings(
        url=url, model=model, requests=requests, concurrency=concurrency, rate=rate,
        poisson=poisson, seed=seed, warmup=warmup, prompt=prompt, input_file=input_file,
        max_tokens=max_tokens, temperature=temperature, api=api, slo_ttft_ms=slo_ttft_ms,
        slo_tpot_ms=slo_tpot_ms, slo_e2e_ms=slo_e2e_ms, api_key_env=api_key_env, timeout=timeout,
    )  # fmt: skip
    with ProgressBar(err_console(), transient=True) as bar:
        run = run_bench(settings, progress=bar.update)
    if json:
        print_json(run.result.to_dict(samples=samples))
    else:
        _render(run.result)
    if run.failure is not None:
        raise run.failure


def _render(result: LoadResult) -> None:
    from rich.markup import escape
    from rich.table import Table

    summary = result.summary
    console = out_console()
    console.print(
        f"[bold]{escape(result.target.model)}[/] at {escape(result.target.base_url)} — "
        f"{literal(result.mode.describe())}, {literal(summary.requests)} requests after "
        f"{literal(result.warmup)} warm-up"
    )
    table = Table(title="latency (ms)", title_justify="left")
    for column in ("metric", "mean", "p50", "p90", "p95", "p99", "min", "max", "n"):
        # fold, never cut: at 80 columns a cut cell read "1016.…" for a latency
        table.add_column(column, justify="left" if column == "metric" else "right", overflow="fold")
    rows = (("TTFT", summary.ttft), ("TPOT", summary.tpot), ("ITL", summary.itl),
            ("E2E", summary.e2e))  # fmt: skip
    for name, stats in rows:
        if stats is None:
            table.add_row(literal(name), *["—"] * 7, "0")
            continue
        values = (stats.mean, stats.p50, stats.p90, stats.p95, stats.p99, stats.min, stats.max)
        table.add_row(literal(name), *(f"{v * 1000:.2f}" for v in values), literal(stats.count))
    console.print(table)
    estimated = (
        " (estimated: the server reported no usage)" if summary.output_tokens_estimated else ""
    )
    lines = [
        f"completed   {literal(summary.completed)} of {literal(summary.requests)} "
        f"({literal(summary.failed)} failed)",
        f"duration    {summary.duration:.3f} s",
        f"requests/s  {summary.request_throughput:.3f}",
        f"tokens/s    {summary.output_token_throughput:.1f} output{estimated}",
        f"tokens      {literal(summary.output_tokens)} output, {literal(summary.input_tokens)} "
        "input" + (" (input estimated)" if summary.input_tokens_estimated else ""),
    ]
    if summary.goodput is not None:
        lines.append(
            f"goodput     {summary.goodput:.3f} requests/s meeting the SLOs "
            f"({literal(summary.good)} of {literal(summary.requests)})"
        )
    for line in lines:
        console.print(line)
    if summary.errors:
        counts: dict[str, int] = {}
        for _, message in summary.errors:
            counts[message] = counts.get(message, 0) + 1
        console.print("[bold red]errors[/]")
        for message, count in sorted(counts.items(), key=lambda kv: -kv[1])[:5]:
            console.print(f"  {literal(count)}x {escape(message)}")
