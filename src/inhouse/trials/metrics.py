"""Serving metrics: what one request measured (:class:`Sample`) and what a run adds up to
(:func:`summarise` → :class:`Summary`), with the definitions the serving-benchmark tools use
(vLLM's ``benchmark_serving``, GenAI-Perf, llmperf). The definitions are written out in
``docs/bench.md``; in short, times in seconds:

* **TTFT** — from sending the request to the first chunk that carries content.
* **E2E** — from sending the request to the end of the complete answer.
* **TPOT** — ``(E2E - TTFT) / (output tokens - 1)``; undefined for a 1-token answer.
* **ITL** — the gaps between successive content chunks, every gap of every request.
* **Throughput** — completed requests, and output tokens, per second of the run's duration.
* **Goodput** — completed requests per second that met every SLO given (TTFT, TPOT, E2E).

Output tokens come from the server's ``usage`` when it reports them, else from the number of
content chunks, and are then flagged as estimated.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["PERCENTILES", "SLO", "Sample", "Stats", "Summary", "summarise"]

#: the percentiles every distribution reports
PERCENTILES: tuple[int, ...] = (50, 90, 95, 99)


@dataclass(frozen=True)
class Sample:
    """One measured request. Times are seconds; ``start``/``end`` count from the run's origin.

    ``index`` is the input's position in the prompt list, so a trial can pair the candidate's
    and the status quo's answers to the same input."""

    index: int
    ok: bool
    start: float
    end: float
    ttft: float | None = None
    e2e: float | None = None
    itl: tuple[float, ...] = ()
    input_tokens: int | None = None
    input_tokens_estimated: bool = False
    output_tokens: int = 0
    output_tokens_estimated: bool = False
    output_text: str = ""
    bytes_sent: int = 0
    host: str = ""
    #: the address the connection that carried it reached (None: it never connected)
    peer: str | None = None
    status: int | None = None
    error: str | None = None
    #: client-side wait between the request's scheduled time and its sending (rate modes)
    queued: float = 0.0
    #: why the server says the answer ended (``length``: cut at ``max_tokens``); None: unsaid
    finish_reason: str | None = None

    @property
    def tpot(self) -> float | None:
        """``(E2E - TTFT) / (output tokens - 1)``; None for failures and 1-token answers."""
        if not self.ok or self.ttft is None or self.e2e is None or self.output_tokens < 2:
            return None
        return (self.e2e - self.ttft) / (self.output_tokens - 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "ok": self.ok,
            "error": self.error,
            "status": self.status,
            "start_ms": _ms(self.start),
            "ttft_ms": _ms(self.ttft),
            "tpot_ms": _ms(self.tpot),
            "e2e_ms": _ms(self.e2e),
            "itl_ms": [_ms(gap) for gap in self.itl],
            "queued_ms": _ms(self.queued),
            "input_tokens": self.input_tokens,
            "input_tokens_estimated": self.input_tokens_estimated,
            "output_tokens": self.output_tokens,
            "output_tokens_estimated": self.output_tokens_estimated,
            "output_text": self.output_text,
            "bytes_sent": self.bytes_sent,
            "host": self.host,
        }


@dataclass(frozen=True)
class SLO:
    """Service-level objectives in milliseconds; a request meets them when it met every one
    given. A 1-token answer has no TPOT and meets a TPOT objective (as vLLM counts it)."""

    ttft_ms: float | None = None
    tpot_ms: float | None = None
    e2e_ms: float | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.ttft_ms, self.tpot_ms, self.e2e_ms))

    def met(self, sample: Sample) -> bool:
        if not sample.ok:
            return False
        checks = (
            (self.ttft_ms, sample.ttft),
            (self.tpot_ms, sample.tpot if sample.tpot is not None else 0.0),
            (self.e2e_ms, sample.e2e),
        )
        return all(
            limit is None or (value is not None and value * 1000 <= limit)
            for limit, value in checks
        )

    def to_dict(self) -> dict[str, float | None]:
        return {"ttft_ms": self.ttft_ms, "tpot_ms": self.tpot_ms, "e2e_ms": self.e2e_ms}


@dataclass(frozen=True)
class Stats:
    """A distribution in seconds: count, mean, min, max and the :data:`PERCENTILES`
    (linear interpolation between closest ranks, as ``numpy.percentile``)."""

    count: int
    mean: float
    min: float
    max: float
    percentiles: dict[int, float]

    @property
    def p50(self) -> float:
        return self.percentiles[50]

    @property
    def p90(self) -> float:
        return self.percentiles[90]

    @property
    def p95(self) -> float:
        return self.percentiles[95]

    @property
    def p99(self) -> float:
        return self.percentiles[99]

    @classmethod
    def of(cls, values: Iterable[float]) -> Stats | None:
        data = np.fromiter(values, dtype=np.float64)
        if data.size == 0:
            return None
        points = np.percentile(data, PERCENTILES)
        return cls(
            count=int(data.size),
            mean=float(data.mean()),
            min=float(data.min()),
            max=float(data.max()),
            percentiles={p: float(v) for p, v in zip(PERCENTILES, points, strict=True)},
        )

    def to_dict(self) -> dict[str, float | int]:
        """In milliseconds: ``count, mean_ms, min_ms, max_ms, p50_ms, p90_ms, p95_ms, p99_ms``."""
        out: dict[str, float | int] = {
            "count": self.count,
            "mean_ms": _msf(self.mean),
            "min_ms": _msf(self.min),
            "max_ms": _msf(self.max),
        }
        for p, value in self.percentiles.items():
            out[f"p{p}_ms"] = _msf(value)
        return out


@dataclass(frozen=True)
class Summary:
    """What a run adds up to. Distributions are over completed requests only."""

    requests: int
    completed: int
    failed: int
    duration: float
    request_throughput: float
    output_token_throughput: float
    input_tokens: int
    input_tokens_estimated: bool
    output_tokens: int
    output_tokens_estimated: bool
    ttft: Stats | None
    tpot: Stats | None
    itl: Stats | None
    e2e: Stats | None
    slo: SLO | None = None
    good: int | None = None
    goodput: float | None = None
    #: (input index, message) of every failed request
    errors: list[tuple[int, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "completed": self.completed,
            "failed": self.failed,
            "duration_s": round(self.duration, 6),
            "request_throughput": self.request_throughput,
            "output_token_throughput": self.output_token_throughput,
            "input_tokens": self.input_tokens,
            "input_tokens_estimated": self.input_tokens_estimated,
            "output_tokens": self.output_tokens,
            "output_tokens_estimated": self.output_tokens_estimated,
            "ttft": _stats(self.ttft),
            "tpot": _stats(self.tpot),
            "itl": _stats(self.itl),
            "e2e": _stats(self.e2e),
            "slo": self.slo.to_dict() if self.slo else None,
            "good": self.good,
            "goodput": self.goodput,
            "errors": [{"index": index, "message": message} for index, message in self.errors],
        }


def summarise(
    samples: Sequence[Sample], *, duration: float | None = None, slo: SLO | None = None
) -> Summary:
    """Add up a run. ``duration`` is the run's wall time (from the first request sent to the
    last answer finished); by default it is taken from the samples themselves."""
    done = [s for s in samples if s.ok]
    if duration is None:
        duration = (max(s.end for s in samples) - min(s.start for s in samples)) if samples else 0.0
    per_second = 1 / duration if duration > 0 else 0.0
    output_tokens = sum(s.output_tokens for s in done)
    good = sum(1 for s in done if slo.met(s)) if slo else None
    return Summary(
        requests=len(samples),
        completed=len(done),
        failed=len(samples) - len(done),
        duration=duration,
        request_throughput=len(done) * per_second,
        output_token_throughput=output_tokens * per_second,
        input_tokens=sum(s.input_tokens or 0 for s in done),
        input_tokens_estimated=any(s.input_tokens_estimated for s in done),
        output_tokens=output_tokens,
        output_tokens_estimated=any(s.output_tokens_estimated for s in done),
        ttft=Stats.of(s.ttft for s in done if s.ttft is not None),
        tpot=Stats.of(t for s in done if (t := s.tpot) is not None),
        itl=Stats.of(gap for s in done for gap in s.itl),
        e2e=Stats.of(s.e2e for s in done if s.e2e is not None),
        slo=slo if slo else None,
        good=good,
        goodput=None if good is None else good * per_second,
        errors=[(s.index, s.error or "failed") for s in samples if not s.ok],
    )


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else _msf(seconds)


def _msf(seconds: float) -> float:
    return round(seconds * 1000, 4)


def _stats(stats: Stats | None) -> dict[str, float | int] | None:
    return None if stats is None else stats.to_dict()
