"""The load generator: send prompts to an OpenAI-compatible server as streamed requests, in one
of four load modes, and measure each one (:class:`~inhouse.trials.metrics.Sample`).

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
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import numpy as np

from inhouse.errors import InvalidInput, RuntimeBadResponse, RuntimeUnavailable
from inhouse.trials._http import Answer, HttpError, StreamClient
from inhouse.trials.metrics import SLO, Sample, Summary, summarise

__all__ = [
    "LoadMode",
    "LoadResult",
    "Progress",
    "Prompt",
    "Target",
    "poisson_schedule",
    "read_prompts",
    "run_in_fast_loop",
    "run_load",
]

_T = TypeVar("_T")

#: a prompt is the text of one user message, or a full list of chat messages
Prompt = str | Sequence[Mapping[str, Any]]
#: called after each measured request: (done, total)
Progress = Callable[[int, int], None]

_CHARS_PER_TOKEN = 4  # estimate of input tokens when the server reports no usage


@dataclass(frozen=True)
class Target:
    """Where to send requests. ``url`` is the server's base URL, with or without ``/v1``."""

    url: str
    model: str
    api: Literal["chat", "completions"] = "chat"
    max_tokens: int | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 600.0
    #: more fields for every request body (temperature, seed…)
    extra_body: Mapping[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        url = self.url.strip().rstrip("/")
        for suffix in ("/chat/completions", "/completions"):
            if url.endswith(suffix):
                url = url[: -len(suffix)]
        return url[:-3] if url.endswith("/v1") else url

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/v1/{'chat/completions' if self.api == 'chat' else 'completions'}"

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    def body(self, prompt: Prompt) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model}
        if self.api == "chat":
            body["messages"] = (
                [{"role": "user", "content": prompt}]
                if isinstance(prompt, str)
                else [dict(m) for m in prompt]
            )
        elif isinstance(prompt, str):
            body["prompt"] = prompt
        else:
            raise InvalidInput("the completions API takes text prompts, not chat messages")
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        body.update(self.extra_body)
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
        return body


@dataclass(frozen=True)
class LoadMode:
    """How requests are sent. Build one with the class methods."""

    kind: Literal["sequential", "concurrency", "rate", "poisson"]
    #: requests in flight (concurrency modes); the cap in rate modes (0 = no cap)
    concurrency: int = 1
    #: requests per second (rate modes)
    rate: float = 0.0
    #: seed of the Poisson arrival schedule
    seed: int = 0

    @classmethod
    def sequential(cls) -> LoadMode:
        return cls("sequential", concurrency=1)

    @classmethod
    def fixed(cls, concurrency: int) -> LoadMode:
        if concurrency < 1:
            raise InvalidInput(f"concurrency must be at least 1, not {concurrency}")
        return cls("concurrency", concurrency=concurrency)

    @classmethod
    def constant_rate(cls, rate: float, *, max_concurrency: int = 0) -> LoadMode:
        return cls._rated("rate", rate, max_concurrency, 0)

    @classmethod
    def poisson(cls, rate: float, *, seed: int = 0, max_concurrency: int = 0) -> LoadMode:
        return cls._rated("poisson", rate, max_concurrency, seed)

    @classmethod
    def _rated(cls, kind: Literal["rate", "poisson"], rate: float, cap: int, seed: int) -> LoadMode:
        if not (rate > 0 and math.isfinite(rate)):
            raise InvalidInput(f"the request rate must be a positive number, not {rate}")
        if cap < 0:
            raise InvalidInput(f"the concurrency cap must be >= 0, not {cap}")
        return cls(kind, concurrency=cap, rate=rate, seed=seed)

    @property
    def rated(self) -> bool:
        return self.kind in ("rate", "poisson")

    def schedule(self, count: int) -> list[float]:
        """Send times (seconds from the start) of ``count`` requests in a rate mode."""
        if self.kind == "rate":
            return [i / self.rate for i in range(count)]
        if self.kind == "poisson":
            return poisson_schedule(self.rate, count, seed=self.seed)
        raise ValueError(f"{self.kind} mode has no arrival schedule")

    def pool_size(self, count: int) -> int:
        if self.rated:
            return min(self.concurrency or count, count)
        return min(self.concurrency, count)

    def describe(self) -> str:
        if self.kind == "sequential":
            return "sequential"
        if self.kind == "concurrency":
            return f"{self.concurrency} concurrent"
        cap = f", at most {self.concurrency} in flight" if self.concurrency else ""
        spacing = f"Poisson, seed {self.seed}" if self.kind == "poisson" else "evenly spaced"
        return f"{self.rate:g} requests/s ({spacing}{cap})"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "concurrency": self.concurrency, "rate": self.rate,
                "seed": self.seed}  # fmt: skip


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


def read_prompts(path: Path) -> list[Prompt]:
    """Prompts from a JSONL file: per line a JSON string, ``{"prompt": "…"}`` or
    ``{"messages": [{"role": …, "content": …}, …]}``. Blank lines are skipped; a bad line raises
    :class:`~inhouse.errors.InvalidInput` naming it."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise InvalidInput(f"cannot read {path}: {err.strerror or err}") from None
    prompts: list[Prompt] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            item = json.loads(line)
        except ValueError as err:
            raise InvalidInput(f"{where}: not JSON ({err})") from None
        if isinstance(item, dict) and "prompt" in item:
            item = item["prompt"]
        elif isinstance(item, dict) and "messages" in item:
            messages = item["messages"]
            if not (
                isinstance(messages, list)
                and messages
                and all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages)
            ):
                raise InvalidInput(f"{where}: messages must be a list of {{role, content}} objects")
            prompts.append(messages)
            continue
        if not isinstance(item, str) or not item:
            raise InvalidInput(
                f'{where}: expected a string, {{"prompt": "..."}} or {{"messages": [...]}}'
            )
        prompts.append(item)
    if not prompts:
        raise InvalidInput(f"{path} holds no prompts")
    return prompts


def poisson_schedule(rate: float, count: int, *, seed: int = 0) -> list[float]:
    """Arrival times of a Poisson process at ``rate``/s: the first at 0, then exponential gaps
    with mean ``1/rate`` drawn from a generator seeded with ``seed`` (same seed, same times)."""
    gaps = np.random.default_rng(seed).exponential(1 / rate, size=max(count - 1, 0))
    return [0.0, *np.cumsum(gaps).tolist()][:count]


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
        target.base_url, size=pool, timeout=target.timeout, headers=headers
    ) as client:
        runner = _Runner(client, target, bodies)
        if preflight:
            await runner.preflight()
        if warmup:
            lanes = min(warmup, mode.concurrency or warmup)
            raws = await runner.fixed([i % len(bodies) for i in range(warmup)], lanes)
            done = [runner.measure(raw) for raw in raws]
            if not any(s.ok for s in done):
                raise RuntimeBadResponse(
                    f"every warm-up request to {target.endpoint} failed; the first: {done[0].error}"
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
        started_at=started_at, slo=slo,
    )  # fmt: skip


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
                f"is this an OpenAI-compatible server? {_snippet(raw)}"
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
        try:
            answer = await self.client.send(self.requests[index])
        except TimeoutError:
            return _Raw(index, asked, time.perf_counter(), due, None,
                        f"timed out after {self.target.timeout:g} s")  # fmt: skip
        except HttpError as err:
            return _Raw(index, asked, time.perf_counter(), due, None, str(err))
        return _Raw(index, answer.sent, answer.ended, due, answer, None)

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
            "status": answer.status if answer else None,
            "queued": max(0.0, start - raw.due) if raw.due is not None else 0.0,
        }
        if raw.error is not None or answer is None:
            return Sample(ok=False, error=raw.error or "no answer", **common)
        kind = answer.headers.get("content-type", "")
        try:
            reads = _decoded(answer.fragments, answer.headers.get("content-encoding", ""))
        except zlib.error as err:
            return Sample(ok=False, error=f"could not decompress the answer: {err}", **common)
        if answer.status >= 400:
            body = b"".join(data for _, data in reads)
            return Sample(ok=False, error=f"HTTP {answer.status}: {_error_detail(body)}", **common)
        if "text/event-stream" not in kind:
            body = b"".join(data for _, data in reads)
            error = (
                f"answered with {kind or 'no content-type'} instead of an event stream "
                f"(does the server stream?): {_snippet(body)}"
            )
            return Sample(ok=False, error=error, **common)
        stream = _parse_stream(reads)
        if stream.error is not None:
            return Sample(ok=False, error=stream.error, **common)
        if not stream.content_times:
            return Sample(ok=False, error="the answer carried no content token", **common)
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


def _decoded(fragments: list[tuple[float, bytes]], encoding: str) -> list[tuple[float, bytes]]:
    """The body fragments decompressed (gzip/deflate), each keeping its read time. inhouse asks
    for no compression; this is for servers that compress anyway."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return fragments
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise zlib.error(f"unsupported content-encoding {encoding!r}")
    inflate = zlib.decompressobj(wbits=47 if "gzip" in encoding else 15)
    return [(stamp, inflate.decompress(data)) for stamp, data in fragments]


@dataclass
class _Stream:
    content_times: list[float] = field(default_factory=list)
    text: str = ""
    usage: dict[str, Any] | None = None
    error: str | None = None


def _parse_stream(reads: list[tuple[float, bytes]]) -> _Stream:
    """Server-sent events out of timed reads: each event gets the time of the read that
    completed it; the times of events carrying content are kept."""
    out = _Stream()
    parts: list[str] = []
    pending = b""
    for stamp, data in reads:
        pending = (pending + data).replace(b"\r\n", b"\n")
        if b"\n\n" not in pending:
            continue
        *events, pending = pending.split(b"\n\n")
        for event in events:
            payload = _event_data(event)
            if payload is None or payload == "[DONE]":
                continue
            try:
                message = json.loads(payload)
            except ValueError:
                out.error = f"sent an event that is not JSON: {payload[:200]!r}"
                return out
            if not isinstance(message, dict):
                continue
            if "error" in message and not message.get("choices"):
                out.error = f"reported an error mid-stream: {_error_text(message)}"
                return out
            if isinstance(message.get("usage"), dict):
                out.usage = message["usage"]
            generated, text = _content(message)
            if generated:
                out.content_times.append(stamp)
                parts.append(text)
    out.text = "".join(parts)
    return out


def _event_data(event: bytes) -> str | None:
    lines = [
        line[5:].lstrip() if line.startswith("data:") else None
        for line in event.decode("utf-8", errors="replace").split("\n")
    ]
    data = [line for line in lines if line is not None]
    return "\n".join(data) if data else None


def _content(message: dict[str, Any]) -> tuple[bool, str]:
    """Whether one streamed event carries generated tokens, and the answer text it adds: chat
    ``delta.content`` or a completion's ``text``. Reasoning (``reasoning_content``) is generated
    output too, so it counts for the timings, but it is not part of the answer's text."""
    choices = message.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return False, ""
    choice = choices[0]
    delta = choice.get("delta")
    if isinstance(delta, dict):
        content = delta.get("content")
        if isinstance(content, str) and content:
            return True, content
        reasoning = delta.get("reasoning_content", delta.get("reasoning"))
        return isinstance(reasoning, str) and bool(reasoning), ""
    text = choice.get("text")
    return (True, text) if isinstance(text, str) and text else (False, "")


def _error_text(message: dict[str, Any]) -> str:
    error = message.get("error")
    if isinstance(error, dict) and "message" in error:
        return str(error["message"])
    return str(error)[:300]


def _error_detail(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return _snippet(body) if body else "(empty body)"
    if isinstance(data, dict) and ("error" in data or "detail" in data):
        return _error_text({"error": data.get("error", data.get("detail"))})
    return _snippet(body)


def _snippet(body: bytes, limit: int = 200) -> str:
    text = body.decode("utf-8", errors="replace").strip()
    return repr(text[:limit] + ("…" if len(text) > limit else ""))
