"""``inhouse bench``: the serving benchmark of any OpenAI-compatible server (no program needed).
:class:`BenchSettings` is what a person asks for; :func:`run_bench` applies the rules (which
options go together, the load mode they make, how many warm-up requests, where the prompts come
from), runs the load generator, and says when the run measured nothing
(:attr:`BenchRun.failure`).

    run = run_bench(BenchSettings("http://127.0.0.1:8080", "llama3", concurrency=8))
    run.result.summary.ttft.p50
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from inhouse.errors import InvalidInput, RuntimeBadResponse
from inhouse.trials.load import (
    LoadMode,
    LoadResult,
    PhaseProgress,
    Progress,
    Prompt,
    read_prompts,
    run_in_fast_loop,
    run_load,
)
from inhouse.trials.metrics import SLO
from inhouse.trials.target import Target

__all__ = ["DEFAULT_PROMPT", "BenchRun", "BenchSettings", "run_bench"]

DEFAULT_PROMPT = "Explain in two sentences what a large language model is."


@dataclass(frozen=True)
class BenchSettings:
    """A benchmark as a person asks for it (``inhouse bench``'s options)."""

    url: str
    model: str
    #: measured requests (warm-up not counted)
    requests: int = 100
    #: requests in flight at once (default: 1, sequential)
    concurrency: int | None = None
    #: send at this many requests per second instead
    rate: float | None = None
    #: with ``rate``: Poisson arrivals, seeded with ``seed``
    poisson: bool = False
    seed: int = 0
    #: unmeasured requests first (default: the concurrency; 1 in rate modes)
    warmup: int | None = None
    prompt: str | None = None
    #: JSONL file of prompts, cycled through (:func:`inhouse.trials.target.read_prompts`)
    input_file: Path | None = None
    max_tokens: int = 128
    #: the sampling temperature every request asks for (None: none is sent, the server's default)
    temperature: float | None = None
    #: "chat" (/v1/chat/completions) or "completions" (/v1/completions)
    api: str = "chat"
    slo_ttft_ms: float | None = None
    slo_tpot_ms: float | None = None
    slo_e2e_ms: float | None = None
    #: the environment variable holding the API key
    api_key_env: str | None = None
    timeout: float = 600.0


@dataclass(frozen=True)
class BenchRun:
    result: LoadResult

    @property
    def failure(self) -> RuntimeBadResponse | None:
        """Every request failed: the run measured nothing, and says what the first error was."""
        summary = self.result.summary
        if summary.completed:
            return None
        return RuntimeBadResponse(
            f"all {summary.requests} requests to {self.result.target.endpoint} failed; "
            f"the first: {summary.errors[0][1]}"
        )


def run_bench(settings: BenchSettings, *, progress: PhaseProgress | None = None) -> BenchRun:
    """Run the benchmark ``settings`` describe; ``progress`` hears of each measured request."""
    _check(settings)
    mode = _mode(settings)
    warmup = settings.warmup
    if warmup is None:
        warmup = 1 if mode.rated else mode.concurrency
    target = _target(settings)
    prompts: list[Prompt] = (
        read_prompts(settings.input_file)
        if settings.input_file
        else [settings.prompt or DEFAULT_PROMPT]
    )
    slo = SLO(ttft_ms=settings.slo_ttft_ms, tpot_ms=settings.slo_tpot_ms,
              e2e_ms=settings.slo_e2e_ms)  # fmt: skip
    tick: Progress | None = None
    if progress is not None:
        phase = f"benchmark (after {warmup} warm-up)" if warmup else "benchmark"
        progress(phase, 0, settings.requests)

        def tick(done: int, total: int) -> None:
            progress(phase, done, total)

    result = run_in_fast_loop(
        run_load(
            target, prompts, mode, warmup=warmup, slo=slo if slo else None, progress=tick,
            requests=settings.requests,
        )
    )  # fmt: skip
    return BenchRun(result)


def _check(settings: BenchSettings) -> None:
    """Refuse options that do not go together, naming them as the command line does."""
    if settings.concurrency is not None and settings.rate is not None:
        raise InvalidInput("give --concurrency or --rate, not both")
    if settings.poisson and settings.rate is None:
        raise InvalidInput("--poisson needs --rate")
    if settings.prompt is not None and settings.input_file is not None:
        raise InvalidInput("give --prompt or --input, not both")
    if settings.api not in ("chat", "completions"):
        raise InvalidInput(f"--api is chat or completions, not {settings.api!r}")
    if settings.max_tokens < 1:
        raise InvalidInput("--max-tokens must be at least 1")
    if settings.temperature is not None and not (
        math.isfinite(settings.temperature) and settings.temperature >= 0
    ):
        raise InvalidInput(f"--temperature must be 0 or more, not {settings.temperature:g}")


def _mode(settings: BenchSettings) -> LoadMode:
    if settings.rate is not None:
        if settings.poisson:
            return LoadMode.poisson(settings.rate, seed=settings.seed)
        return LoadMode.constant_rate(settings.rate)
    if settings.concurrency is None or settings.concurrency == 1:
        return LoadMode.sequential()
    return LoadMode.fixed(settings.concurrency)


def _target(settings: BenchSettings) -> Target:
    api_key = None
    if settings.api_key_env:
        api_key = os.environ.get(settings.api_key_env)
        if not api_key:
            raise InvalidInput(f"--api-key-env names {settings.api_key_env}, which is not set")
    return Target(
        url=settings.url,
        model=settings.model,
        api="chat" if settings.api == "chat" else "completions",
        max_tokens=settings.max_tokens,
        api_key=api_key,
        timeout=settings.timeout,
        extra_body={} if settings.temperature is None else {"temperature": settings.temperature},
    )
