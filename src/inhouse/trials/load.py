"""The load generator: send prompts to an OpenAI-compatible server (:mod:`~inhouse.trials.target`)
as streamed requests, in one of four load modes (:mod:`~inhouse.trials.modes`), and measure each
one (:class:`~inhouse.trials.metrics.Sample`).

    result = await run_load(Target(url, model="llama3"), prompts, LoadMode.fixed(32), warmup=32)
    result.summary.ttft.p50

Modes: **sequential** (one at a time), **fixed concurrency** (N requests in flight, the next sent
as one finishes), **constant rate** and **Poisson rate** (requests sent on an arrival schedule
decided up front — evenly spaced, or with exponential gaps drawn from a seeded generator, so a
seed gives the same schedule every time — whether or not earlier ones have finished, optionally
capped at a number in flight). Warm-up requests run first, at the same concurrency, and are left
out of the results; they also open the pool's connections.

How the timings stay honest under load (measured: ``benchmarks/load_accuracy.py``):

* One shared pool of keep-alive HTTP/1.1 connections, sized to the concurrency
  (:mod:`inhouse.trials._http`; measured more accurate here than httpx or aiohttp).
* A request's start is stamped (``time.perf_counter()``) right before its bytes are written, or
  when it begins to open a new connection — not when its task was scheduled, so the load
  generator's own queueing is not charged to the server (it is kept as ``queued``).
* Each read is stamped first thing in the protocol's ``data_received``; the bytes are kept and
  server-sent events are parsed only after the whole run, each event taking the time of the read
  that completed it. Parsing adds no skew to the streams still running.
* The garbage collector is paused for the measured run (heap frozen, collection off), so a
  collection does not stall every stream at once.
* :func:`run_in_fast_loop` runs it on uvloop where installed (several times less wait per chunk
  at 256 streams than asyncio's loop, measured).
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import math
import time
import zlib
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from inhouse.errors import InvalidInput, RuntimeBadResponse, RuntimeUnavailable
from inhouse.runtimes.error_body import error_detail, error_message, snippet
from inhouse.trials._http import Answer, HttpError, StreamClient
from inhouse.trials._sse import decoded, parse_stream
from inhouse.trials.metrics import SLO, Sample, Summary, summarise
from inhouse.trials.modes import LoadMode, poisson_schedule
from inhouse.trials.target import Prompt, Target, read_prompts

__all__ = [
    "LoadMode",
    "LoadResult",
    "PhaseProgress",
    "Progress",
    "Prompt",
    "Target",
    "poisson_schedule",
    "read_prompts",
    "run_in_fast_loop",
    "run_load",
]

_T = TypeVar("_T")

#: called after each measured request: (done, total)
Progress = Callable[[int, int], None]
#: a run of several phases (a trial's two sides, a benchmark) reports (phase, done, total)
PhaseProgress = Callable[[str, int, int], None]

_CHARS_PER_TOKEN = 4  # estimate of input tokens when the server reports no usage


def run_in_fast_loop(main: Coroutine[Any, Any, _T]) -> _T:
    """Run ``main`` (e.g. :func:`run_load`) to completion in a new event loop: uvloop where it
    is installed, else asyncio's. Measured on this project's accuracy benchmark: at 256
    concurrent streams uvloop cuts the time a chunk waits in the load generator several-fold,
    which is most of what is left of its measurement error (docs/bench.md)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


@dataclass(frozen=True)
class LoadResult:
    """A finished run: the measured samples (warm-up excluded) and their summary."""

    target: Target
    mode: LoadMode
    samples: list[Sample]
    warmup: int
    duration: float
    started_at: datetime
    slo: SLO | None = None
    #: the warm-up requests, unmeasured but sent: they carried task data too (privacy)
    warmup_samples: list[Sample] = field(default_factory=list)

    @property
    def summary(self) -> Summary:
        return summarise(self.samples, duration=self.duration, slo=self.slo)

    def to_dict(self, *, samples: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "target": {"url": self.target.base_url, "model": self.target.model,
                       "api": self.target.api, "max_tokens": self.target.max_tokens},
            "mode": self.mode.to_dict(),
            "warmup": self.warmup,
            "started_at": self.started_at.isoformat(),
            "summary": self.summary.to_dict(),
        }  # fmt: skip
        if "temperature" in self.target.extra_body:
            out["target"]["temperature"] = self.target.extra_body["temperature"]
        if samples:
            out["samples"] = [s.to_dict() for s in self.samples]
        return out


async def run_load(
    target: Target,
    prompts: Sequence[Prompt],
    mode: LoadMode,
    *,
    warmup: int = 0,
    slo: SLO | None = None,
    progress: Progress | None = None,
    requests: int | None = None,
    preflight: bool = True,
) -> LoadResult:
    """Send ``requests`` streamed requests (default: one per prompt, cycling through the prompts
    when more) after ``warmup`` unmeasured ones, and measure each.

    Raises :class:`~inhouse.errors.RuntimeUnavailable` when the server cannot be reached and
    :class:`~inhouse.errors.RuntimeBadResponse` when it does not answer like an OpenAI-compatible
    server (checked first, with ``GET /v1/models``, and by the warm-up). Failed measured requests
    do not raise: they are samples with ``ok=False`` and their error message."""
    if not prompts:
        raise InvalidInput("no prompts to send")
    total = len(prompts) if requests is None else requests
    if total < 1:
        raise InvalidInput(f"the number of requests must be at least 1, not {total}")
    if warmup < 0:
        raise InvalidInput(f"warm-up must be >= 0 requests, not {warmup}")
    parts = urlsplit(target.base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            f"{target.url!r} is not a server URL: give one like http://127.0.0.1:8080"
        )
    bodies = [json.dumps(target.body(p), separators=(",", ":")).encode() for p in prompts]
    pool = max(mode.pool_size(total), min(warmup, mode.concurrency or warmup), 1)
    headers = {"accept": "text/event-stream"}
    if target.api_key:
        headers["authorization"] = f"Bearer {target.api_key}"
    async with StreamClient(
        target.base_url,
        size=pool,
        timeout=target.timeout,
        headers=headers,
        look_behind=target.look_behind,
    ) as client:
        runner = _Runner(client, target, bodies)
        if preflight:
            await runner.preflight()
        warmed: list[Sample] = []
        if warmup:
            lanes = min(warmup, mode.concurrency or warmup)
            raws = await runner.fixed([i % len(bodies) for i in range(warmup)], lanes)
            warmed = [runner.measure(raw) for raw in raws]
            if not any(s.ok for s in warmed):
                raise RuntimeBadResponse(
                    f"every warm-up request to {target.endpoint} failed; "
                    f"the first: {warmed[0].error}"
                )
        indexes = [i % len(bodies) for i in range(total)]
        started_at = datetime.now(UTC)
        # A garbage collection during the run would stall every stream at once: collect now,
        # move what survives out of the collector's sight, and collect again only afterwards.
        gc.collect()
        gc.freeze()
        collecting = gc.isenabled()
        gc.disable()
        try:
            runner.origin = time.perf_counter()
            runner.progress = progress
            if mode.rated:
                raws = await runner.scheduled(indexes, mode.schedule(total), mode.concurrency)
            else:
                raws = await runner.fixed(indexes, mode.concurrency)
            duration = runner.finished - runner.origin
        finally:
            if collecting:
                gc.enable()
            gc.unfreeze()
    samples = [runner.measure(raw) for raw in raws]
    samples.sort(key=lambda s: s.start)
    return LoadResult(
        target=target, mode=mode, samples=samples, warmup=warmup, duration=duration,
        started_at=started_at, slo=slo, warmup_samples=warmed,
    )  # fmt: skip


#: a sample's error where its server answered, in full, with no content: the model's (empty)
#: answer, not a request that failed on the way
NO_CONTENT = "the answer carried no content token"


class _Runner:
    """Sends the requests of one run over one client and times them."""

    def __init__(self, client: StreamClient, target: Target, bodies: list[bytes]) -> None:
        self.client = client
        self.target = target
        self.bodies = bodies
        path = urlsplit(target.endpoint).path[len(client.prefix) :]
        json_type = {"content-type": "application/json"}
        self.requests = [client.prepare("POST", path, body, **json_type) for body in bodies]
        self.endpoint = target.endpoint
        self.host = target.host
        self.origin = time.perf_counter()
        self.finished = self.origin
        self.progress: Progress | None = None
        self._done = 0
        self._total = 0

    async def preflight(self) -> None:
        url = f"{self.target.base_url}/v1/models"
        path = urlsplit(url).path[len(self.client.prefix) :]
        try:
            answer = await self.client.send(
                self.client.prepare("GET", path, accept="application/json")
            )
        except TimeoutError as err:
            raise RuntimeUnavailable(f"no answer from {url} within the timeout") from err
        except HttpError as err:
            raise RuntimeUnavailable(
                f"cannot reach {self.target.base_url}: is the server running? ({err})"
            ) from err
        status = answer.status
        kind = answer.headers.get("content-type", "no content-type")
        raw = answer.body
        if status in (401, 403):
            raise RuntimeBadResponse(
                f"the server refused the request to {url} (HTTP {status}): "
                "is the API key missing or wrong?"
            )
        if status in (404, 405):
            return  # some servers serve completions without a model list
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if status >= 400 or not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise RuntimeBadResponse(
                f"{url} answered HTTP {status} with {kind}, not an OpenAI model list: "
                f"is this an OpenAI-compatible server? {snippet(raw)}"
            )

    async def fixed(self, indexes: list[int], lanes: int) -> list[_Raw]:
        """``lanes`` workers, each sending its next request as soon as its last one finished."""
        self._done, self._total = 0, len(indexes)
        queue = iter(indexes)
        samples: list[_Raw] = []

        async def lane() -> None:
            for index in queue:
                samples.append(await self.send(index, None))
                self._tick()

        await asyncio.gather(*(lane() for _ in range(max(1, min(lanes, len(indexes))))))
        return samples

    async def scheduled(self, indexes: list[int], times: list[float], cap: int) -> list[_Raw]:
        """Send request *i* at ``origin + times[i]`` whatever is still in flight (open loop),
        waiting for a free slot first when ``cap`` limits the number in flight."""
        self._done, self._total = 0, len(indexes)
        limit = asyncio.Semaphore(cap) if cap else None
        tasks: list[asyncio.Task[_Raw]] = []

        async def one(index: int, due: float) -> _Raw:
            if limit is None:
                sample = await self.send(index, due)
            else:
                async with limit:
                    sample = await self.send(index, due)
            self._tick()
            return sample

        for index, offset in zip(indexes, times, strict=True):
            due = self.origin + offset
            # sleep until due; a loop with a coarse timer (uvloop: 1 ms) may wake a little early
            while (wait := due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            tasks.append(asyncio.create_task(one(index, due)))
        return list(await asyncio.gather(*tasks))

    def _tick(self) -> None:
        self._done += 1
        self.finished = time.perf_counter()
        if self.progress is not None:
            self.progress(self._done, self._total)

    async def send(self, index: int, due: float | None) -> _Raw:
        """One request. Reads are stamped as they arrive; nothing is parsed until the run ends."""
        asked = time.perf_counter()
        reached: list[str] = []
        try:
            answer = await self.client.send(self.requests[index], reached=reached)
        except TimeoutError:
            return _Raw(index, asked, time.perf_counter(), due, None,
                        f"timed out after {self.target.timeout:g} s",
                        reached[-1] if reached else None)  # fmt: skip
        except HttpError as err:
            peer = reached[-1] if reached else None
            return _Raw(index, asked, time.perf_counter(), due, None, str(err), peer)
        return _Raw(index, answer.sent, answer.ended, due, answer, None, answer.peer)

    def measure(self, raw: _Raw) -> Sample:
        """Parse one finished request's events into a :class:`Sample` (after the run, so parsing
        never delays the timestamps of streams still running)."""
        start, end, answer = raw.start, raw.end, raw.answer
        common: dict[str, Any] = {
            "index": raw.index,
            "start": start - self.origin,
            "end": end - self.origin,
            "bytes_sent": len(self.bodies[raw.index]),
            "host": self.host,
            "peer": raw.peer,
            "status": answer.status if answer else None,
            "queued": max(0.0, start - raw.due) if raw.due is not None else 0.0,
        }
        if raw.error is not None or answer is None:
            return Sample(ok=False, error=raw.error or "no answer", **common)
        kind = answer.headers.get("content-type", "")
        try:
            reads = decoded(answer.fragments, answer.headers.get("content-encoding", ""))
        except zlib.error as err:
            return Sample(ok=False, error=f"could not decompress the answer: {err}", **common)
        if answer.status >= 400:
            body = b"".join(data for _, data in reads)
            return Sample(ok=False, error=f"HTTP {answer.status}: {error_detail(body)}", **common)
        if "text/event-stream" not in kind:
            body = b"".join(data for _, data in reads)
            error = (
                f"answered with {kind or 'no content-type'} instead of an event stream "
                f"(does the server stream?): {snippet(body)}"
            )
            return Sample(ok=False, error=error, **common)
        stream = parse_stream(reads)
        if stream.error_event is not None:
            error = f"reported an error mid-stream: {error_message(stream.error_event)}"
            return Sample(ok=False, error=error, **common)
        if stream.error is not None:
            return Sample(ok=False, error=stream.error, **common)
        if not stream.content_times:
            return Sample(ok=False, error=NO_CONTENT, **common)
        first = stream.content_times[0]
        times = stream.content_times
        usage = stream.usage or {}
        completion = usage.get("completion_tokens")
        prompt_tokens = usage.get("prompt_tokens")
        estimated_out = not isinstance(completion, int)
        estimated_in = not isinstance(prompt_tokens, int)
        return Sample(
            ok=True,
            ttft=first - start,
            e2e=end - start,
            itl=tuple(b - a for a, b in itertools.pairwise(times)),
            output_tokens=len(times) if estimated_out else int(completion),  # type: ignore[arg-type]
            output_tokens_estimated=estimated_out,
            input_tokens=(
                math.ceil(len(self.bodies[common["index"]]) / _CHARS_PER_TOKEN)
                if estimated_in
                else int(prompt_tokens)  # type: ignore[arg-type]
            ),
            input_tokens_estimated=estimated_in,
            output_text=stream.text,
            finish_reason=stream.finish_reason,
            **common,
        )


@dataclass(slots=True)
class _Raw:
    """What the run keeps of one request until it ends: perf_counter stamps and the answer."""

    index: int
    start: float
    end: float
    due: float | None
    answer: Answer | None
    error: str | None
    #: the address its (last) connection reached; None where it never connected
    peer: str | None = None
