"""Running the stand-in: in a background thread, in a subprocess (its own GIL), or as
``python -m inhouse.testing.standin_upstream``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from inhouse.testing.standin_upstream.server import StandinTiming, StandinUpstream

__all__ = ["StandinProcess", "main", "spawn_standin", "standin_in_thread"]

_READY = "standin upstream listening on "


@contextlib.contextmanager
def standin_in_thread(
    timing: StandinTiming | None = None, **options: Any
) -> Iterator[StandinUpstream]:
    """Run a :class:`StandinUpstream` in a background thread with its own event loop; stop it
    on exit. Shares the GIL with the caller: for exact timings under load use
    :func:`spawn_standin`."""
    upstream = StandinUpstream(timing, **options)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(upstream.start())
        except BaseException as err:  # reported to the caller below
            failure.append(err)
            started.set()
            return
        started.set()
        loop.run_forever()
        loop.run_until_complete(upstream.aclose())
        loop.close()

    thread = threading.Thread(target=run, name="standin-upstream", daemon=True)
    thread.start()
    started.wait(10)
    if failure:
        thread.join(5)
        raise failure[0]
    try:
        yield upstream
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@dataclass
class StandinProcess:
    """A stand-in running in its own process (see :func:`spawn_standin`)."""

    url: str
    process: subprocess.Popen[str]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


@contextlib.contextmanager
def spawn_standin(
    timing: StandinTiming | None = None,
    *,
    model: str = "standin-model",
    host: str = "127.0.0.1",
    port: int = 0,
    root: str | None = None,
    startup_timeout: float = 30.0,
) -> Iterator[StandinProcess]:
    """Run the stand-in in a subprocess (its own interpreter and GIL) and stop it on exit;
    ``root`` as for :class:`StandinUpstream`."""
    timing = timing or StandinTiming()
    command = [
        sys.executable, "-m", "inhouse.testing.standin_upstream", "--host", host,
        "--port", str(port), "--ttft-ms", repr(timing.ttft_ms), "--tpot-ms", repr(timing.tpot_ms),
        "--tokens", str(timing.tokens), "--model", model,
    ]  # fmt: skip
    if root is not None:
        command += ["--root", root]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        # PYTHONSAFEPATH: `-m` would put the current folder (a program's checkout, maybe)
        # first on sys.path, and an `inhouse` package lying there would run as the stand-in
        text=True, env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONSAFEPATH": "1"},
    )  # fmt: skip
    handle = StandinProcess(url="", process=process)
    try:
        handle.url = _wait_ready(process, startup_timeout)
        yield handle
    finally:
        handle.stop()


def _wait_ready(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    lines: list[str] = []
    found: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith(_READY):
                found.append(line[len(_READY) :].strip())
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if not found:
        process.kill()
        process.wait()
        raise RuntimeError(f"the stand-in upstream did not start: {''.join(lines)[-2000:]}")
    return found[0]


async def _serve(upstream: StandinUpstream) -> None:
    await upstream.start()
    print(f"{_READY}{upstream.url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await upstream.aclose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m inhouse.testing.standin_upstream",
        description="A stand-in OpenAI-compatible upstream with injected TTFT and per-token delay "
        "(not a model).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    parser.add_argument("--ttft-ms", type=float, default=200.0)
    parser.add_argument("--tpot-ms", type=float, default=20.0)
    parser.add_argument("--tokens", type=int, default=16, help="tokens per answer")
    parser.add_argument("--model", default="standin-model")
    parser.add_argument(
        "--root",
        help="the model file it says it serves, named in /v1/models as vLLM does (what ties "
        "the model to its weights for a digest)",
    )
    args = parser.parse_args(argv)
    timing = StandinTiming(ttft_ms=args.ttft_ms, tpot_ms=args.tpot_ms, tokens=args.tokens)
    upstream = StandinUpstream(
        timing, model=args.model, host=args.host, port=args.port, root=args.root
    )
    asyncio.run(_serve(upstream))
