"""How much the runtime adapter adds per request, against a raw httpx call to the same server.

Starts the embedded runtime (llama-cpp-python's server) on the generated test model, then sends
N chat requests (max_tokens=1, so the engine's share is small and steady) both ways, interleaved
so drift in the server hits both equally, and prints medians and the adapter's overhead.

    python benchmarks/runtime_overhead.py [--requests 300]

Needs the ``embedded`` extra. Timings are wall-clock on this machine, never asserted in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from inhouse.runtimes import ChatRequest, RuntimeConfig, make_test_model, open_runtime
from inhouse.runtimes.embedded import serve_embedded, stop_embedded

BODY = {
    "messages": [{"role": "user", "content": "Hello there"}],
    "max_tokens": 1,
    "seed": 1,
    "stream": False,
}


async def measure(url: str, requests: int) -> tuple[list[float], list[float]]:
    request = ChatRequest.model_validate(BODY)
    raw_times: list[float] = []
    adapter_times: list[float] = []
    config = RuntimeConfig(name="bench", family="openai", url=url)
    async with (
        httpx.AsyncClient(base_url=url, timeout=60, trust_env=False) as raw,
        open_runtime(config) as runtime,
    ):
        for _ in range(20):  # warm both connection pools and the server
            (await raw.post("/v1/chat/completions", json=BODY)).json()
            await runtime.chat(request)
        for _ in range(requests):
            start = time.perf_counter()
            (await raw.post("/v1/chat/completions", json=BODY)).json()
            raw_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            await runtime.chat(request)
            adapter_times.append(time.perf_counter() - start)
    return raw_times, adapter_times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["INHOUSE_RUN_DIR"] = str(Path(folder) / "run")
        model = make_test_model(Path(folder) / "inhouse-test-model.gguf")
        state = serve_embedded(model)
        try:
            raw, adapter = asyncio.run(measure(state.url, args.requests))
        finally:
            stop_embedded()
    ms = 1000.0
    raw_median = statistics.median(raw) * ms
    adapter_median = statistics.median(adapter) * ms
    paired = statistics.median(a - r for a, r in zip(adapter, raw, strict=True)) * ms
    q = statistics.quantiles
    print(f"runtime overhead benchmark: {args.requests} chat requests each way, max_tokens=1,")
    print(f"llama-cpp-python server on {state.url}, model: inhouse test model ({state.engine})")
    print(f"  raw httpx        median {raw_median:7.3f} ms   p90 {q(raw, n=10)[-1] * ms:7.3f} ms")
    print(
        f"  inhouse adapter  median {adapter_median:7.3f} ms   "
        f"p90 {q(adapter, n=10)[-1] * ms:7.3f} ms"
    )
    print(f"  overhead         median difference {adapter_median - raw_median:+.3f} ms, "
          f"median of paired differences {paired:+.3f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
