"""A stream ends inside the read that brought the runtime's ``[DONE]`` (issue 16): the usage
record is spooled, then the last bytes are written, then the key's spend is settled and the
metrics observed, all in that one callback; no task has to wake up between the runtime's last
read and the client's last bytes. An answer whose client went away at the last write still
settles its spend."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from inhouse.errors import ClientGone
from inhouse.gateway.calls import Recorder
from inhouse.gateway.edge import Reply
from inhouse.gateway.relay import _Events
from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream
from tests.gateway.harness import (
    auth,
    chat,
    in_process,
    key_for,
    one_runtime,
    sse_events,
    usage_rows,
    weights_root,
)

# the [DONE] comes ~60 ms after the answer's head: the request's task is piping by then, so it
# arrives in a read of its own, as on any real stream
TIMING = StandinTiming(ttft_ms=20, tpot_ms=10, tokens=4)


_program = one_runtime


def _watch(monkeypatch: pytest.MonkeyPatch, steps: list[tuple[str, bool]]) -> None:
    """Note each end step, and whether it ran in a task (``False``: in a protocol callback)."""

    def wrap(owner: Any, name: str) -> None:
        original = getattr(owner, name)

        def watched(self: Any, *args: Any, **kwargs: Any) -> Any:
            call = args[0] if args else None
            if not (name == "close" and call.closed):  # a second close does nothing
                steps.append((name, asyncio.current_task() is not None))
            return original(self, *args, **kwargs)

        monkeypatch.setattr(owner, name, watched)

    wrap(Recorder, "spool")
    wrap(Recorder, "close")
    wrap(Reply, "end")


def test_a_stream_is_recorded_ended_and_settled_in_the_read_that_brought_done(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps: list[tuple[str, bool]] = []
    _watch(monkeypatch, steps)

    async def run() -> None:
        async with StandinUpstream(TIMING, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url)
            key = key_for(program, tokens_per_day=10_000)
            async with in_process(_isolated) as (gateway, client):
                reply = await client.post(
                    "/v1/chat/completions", json=chat("tiny", stream=True), headers=auth(key)
                )
                assert reply.status_code == 200, reply.text
                assert sse_events(reply.text)[-1] == "[DONE]"
                # what the answer cost is spent against the key, none of it still reserved
                assert not gateway.limiter._reserved
                assert sum(gateway.limiter._tokens.values()) > 4
                metrics = gateway.metrics.render(people=True).decode()
                served = 'inhouse_gateway_requests_total{model="tiny",person="lena",status="200"}'
                assert f"{served} 1.0" in metrics
            (row,) = usage_rows(program)
            assert row["tokens_out"] == 4 and row["status"] == 200
            # the runtime's time is not the gateway's: the stand-in took ~50 ms of it
            assert 0 <= row["overhead_ms"] < row["latency_ms"] - 40
            program.close()

    asyncio.run(run())
    assert steps == [("spool", False), ("end", False), ("close", False)]


def test_a_stream_ended_by_the_runtime_s_error_event_is_still_recorded_then_ended(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ``[DONE]`` to end in a read: the request's task ends it, in the same order."""
    steps: list[tuple[str, bool]] = []
    _watch(monkeypatch, steps)
    original = _Events.__call__

    def error_instead_of_done(self: _Events, chunk: bytes) -> bool:
        if b"[DONE]" in chunk:
            error = json.dumps({"error": {"message": "out of memory", "code": 500}})
            chunk = chunk.replace(b"data: [DONE]", f"data: {error}".encode())
            original(self, chunk)
            return True  # the piping ends here, no [DONE] seen
        return original(self, chunk)

    monkeypatch.setattr(_Events, "__call__", error_instead_of_done)

    async def run() -> None:
        async with StandinUpstream(TIMING, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url)
            key = key_for(program)
            async with in_process(_isolated) as (_, client):
                reply = await client.post(
                    "/v1/chat/completions", json=chat("tiny", stream=True), headers=auth(key)
                )
                events = sse_events(reply.text)
                assert "[DONE]" not in events and "out of memory" in events[-1]
            (row,) = usage_rows(program)
            assert row["status"] == 502
            program.close()

    asyncio.run(run())
    assert steps == [("spool", True), ("end", True), ("close", True)]


def test_a_client_gone_at_the_last_write_still_has_its_spend_settled(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last write fails (the client left between the runtime's last read and it): the
    record was spooled first, and the tokens reserved for the answer are released and spent,
    not left reserved for the rest of the key's day."""

    def gone(self: Reply, data: bytes = b"") -> None:
        raise ClientGone("the client went away during its answer")

    monkeypatch.setattr(Reply, "end", gone)

    async def run() -> None:
        async with StandinUpstream(TIMING, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url)
            key = key_for(program, tokens_per_day=10_000)
            async with in_process(_isolated) as (gateway, client):
                with contextlib.suppress(httpx.HTTPError):
                    await client.post(
                        "/v1/chat/completions", json=chat("tiny", stream=True), headers=auth(key)
                    )
                await asyncio.sleep(0.1)  # the request's task ends after its client's read
                assert not gateway.limiter._reserved
                assert sum(gateway.limiter._tokens.values()) > 4
            (row,) = usage_rows(program)
            assert row["tokens_out"] == 4
            program.close()

    asyncio.run(run())


def test_a_failure_settling_after_the_answer_ended_is_logged_not_written_into_it(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The spend is settled after the last bytes: should it fail, the answer the client has is
    left whole (no error event after its end) and the failure is in the gateway's log."""

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("limiter broke")

    async def run() -> None:
        async with StandinUpstream(TIMING, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url)
            key = key_for(program)
            async with in_process(_isolated) as (gateway, client):
                monkeypatch.setattr(gateway.limiter, "settle", broken)
                reply = await client.post(
                    "/v1/chat/completions", json=chat("tiny", stream=True), headers=auth(key)
                )
                assert reply.status_code == 200
                assert sse_events(reply.text)[-1] == "[DONE]"
                # the connection still serves the next request
                again = await client.post("/v1/chat/completions", json=chat("tiny"),
                                          headers=auth(key))  # fmt: skip
                assert again.status_code == 200, again.text
            rows = usage_rows(program)
            assert [r["status"] for r in rows] == [200, 200]
            program.close()

    with caplog.at_level("ERROR", logger="inhouse.gateway"):
        asyncio.run(run())
    assert "failed settling request" in caplog.text and "limiter broke" in caplog.text
