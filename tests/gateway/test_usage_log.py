"""The usage log: spooled before the answer ends, written in batches, never lost, never doubled.
Includes the crash test: under load, ``kill -9`` the gateway; after a restart every request that
got a complete answer is in the usage log exactly once."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from inhouse.db import open_store
from inhouse.db.schema import gateway_usage
from inhouse.gateway import usage as usage_module
from inhouse.gateway.rollup import gateway_mac_key
from inhouse.gateway.usage import Spool, UsageRecord, UsageWriter, insert_usage, new_request_id
from inhouse.location import database_url
from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream, spawn_standin
from inhouse.usage.authentic import Seal, authentic_rows
from tests.gateway.harness import (
    auth,
    chat,
    in_process,
    key_for,
    one_runtime,
    served,
    usage_rows,
    wait_for,
    weights_root,
)


def _record(**fields: Any) -> UsageRecord:
    base: dict[str, Any] = {
        "request_id": new_request_id(), "at": UsageRecord.now(), "person": "lena",
        "key_id": "k_1", "endpoint": "chat/completions", "model": "tiny", "status": 200,
    }  # fmt: skip
    return UsageRecord(**{**base, **fields})


def _program(folder: Path, url: str, **gateway: Any) -> Any:
    return one_runtime(folder, url, gateway=gateway)


def test_a_database_outage_does_not_fail_requests_and_loses_nothing(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = usage_module.insert_usage

    def outage(*args: Any, **kwargs: Any) -> int:
        raise ConnectionError("database is down")

    async def run() -> None:
        async with StandinUpstream(
            StandinTiming(0, 0, 2), model="tiny", root=weights_root(_isolated)
        ) as upstream:
            program = _program(_isolated, upstream.url)
            key = key_for(program)
            async with in_process(_isolated) as (gateway, client):
                monkeypatch.setattr(usage_module, "insert_usage", outage)
                ids = []
                for _ in range(5):
                    reply = await client.post("/v1/chat/completions", json=chat("tiny"),
                                              headers=auth(key))  # fmt: skip
                    assert reply.status_code == 200
                    ids.append(reply.headers["x-inhouse-request-id"])
                await gateway.usage.flush()
                assert gateway.usage.backlog == 5
                # /healthz says the writer fails, never its error's text (the log has it)
                health = await client.get("/healthz")
                assert health.json()["usage"]["failing"] is True
                assert "database is down" not in health.text
                assert "database is down" in caplog.text
                assert usage_rows(program) == []
                spooled = b"".join(
                    p.read_bytes() for p in gateway.usage.spool.folder.glob("*.jsonl")
                )
                assert all(i.encode() in spooled for i in ids)
                monkeypatch.setattr(usage_module, "insert_usage", real)
                await gateway.usage.flush()
                assert gateway.usage.backlog == 0
            assert sorted(r["request_id"] for r in usage_rows(program)) == sorted(ids)
            assert list((_isolated / ".inhouse/gateway/spool").glob("*.jsonl")) == []

    asyncio.run(run())


def test_replay_is_idempotent_and_skips_a_line_cut_short(_isolated: Path) -> None:
    store = open_store(f"sqlite:///{_isolated / 'u.db'}")
    records = [_record() for _ in range(4)]
    insert_usage(store, records[:2])  # written to the database just before a crash
    folder = _isolated / "spool"
    folder.mkdir()
    segment = folder / "20260101T000000000000-1-000001.jsonl"
    segment.write_bytes(b"".join(r.line() for r in records) + b'{"request_id": "req_cut')

    async def run() -> None:
        writer = UsageWriter(store, Spool(folder), flush_seconds=10)
        assert await writer.start() == 4
        await writer.stop()

    asyncio.run(run())
    with store.engine.connect() as conn:
        ids = [row[0] for row in conn.execute(select(gateway_usage.c.request_id)).all()]
    assert sorted(ids) == sorted(r.request_id for r in records)
    assert not segment.exists()
    store.close()


def test_records_replayed_after_a_crash_keep_their_mac(_isolated: Path, on_database: str) -> None:
    """Sealed as they were answered, spooled, never written (the process died): the replay
    writes them with the MACs they were spooled with, which verify. A line with no MAC (a
    gateway that did not seal rows yet, or a file someone put in a spool folder that
    inhouse.toml can point anywhere) is written as it is, never sealed on replay: it counts
    nowhere."""
    store = open_store(on_database)
    key = gateway_mac_key(_isolated)
    folder = _isolated / "spool"

    async def crash() -> list[UsageRecord]:
        writer = UsageWriter(store, Spool(folder), mac_key=key, flush_seconds=60)
        await writer.start()
        made = [_record(tokens_in=n, prompt_id="triage@1") for n in range(3)]
        for record in made:
            writer.record(record)
        assert writer._task is not None
        writer._task.cancel()  # the process dies: nothing reaches the database
        writer.spool.close()
        return made

    async def restart() -> None:
        writer = UsageWriter(store, Spool(folder), mac_key=key, flush_seconds=60)
        assert await writer.start() == 4
        await writer.stop()

    made = asyncio.run(crash())
    assert all(record.mac for record in made)
    before = _record()  # no MAC: not sealed when it was answered
    segment = folder / "20260101T000000000000-1-000001.jsonl"
    segment.write_bytes(before.line())
    asyncio.run(restart())
    found = authentic_rows(store, Seal(key))
    assert [(r.request_id, r.why) for r in found.rejected] == [(before.request_id, "no MAC")]
    macs = {row.request_id: row.mac for row in found.rows}
    assert macs == {record.request_id: record.mac for record in made}
    store.close()


def test_a_flush_waits_for_the_batch_the_flusher_is_writing(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A caller's flush (the gateway's, before it answers a read of the log; a test's) returns
    only once what was recorded before it is written, even when the background flusher took
    that batch a moment earlier and is still writing it; and stopping the writer then neither
    cuts that write short nor leaves its spool segment behind."""
    store = open_store(f"sqlite:///{_isolated / 'u.db'}")
    real = usage_module.insert_usage
    writing = threading.Event()

    def slow(store_: Any, *batch: list[UsageRecord]) -> None:
        writing.set()
        time.sleep(0.3)  # the flusher's write still in flight when the caller flushes
        real(store_, *batch)

    monkeypatch.setattr(usage_module, "insert_usage", slow)
    records = [_record() for _ in range(3)]

    def written() -> list[str]:
        with store.engine.connect() as conn:
            return sorted(r[0] for r in conn.execute(select(gateway_usage.c.request_id)))

    async def run() -> tuple[list[str], list[str]]:
        writer = UsageWriter(store, Spool(_isolated / "spool"), flush_seconds=0.01)
        await writer.start()
        for record in records:
            writer.record(record)
        await asyncio.to_thread(writing.wait, 5)  # the flusher has taken the batch
        await writer.flush()
        after_flush = written()
        writer.record(last := _record())
        records.append(last)
        await writer.stop()
        return after_flush, written()

    after_flush, after_stop = asyncio.run(run())
    assert after_flush == sorted(r.request_id for r in records[:3])
    assert after_stop == sorted(r.request_id for r in records)
    assert list((_isolated / "spool").glob("*.jsonl")) == []
    store.close()


def test_a_second_gateway_cannot_share_the_spool(_isolated: Path) -> None:
    first = Spool(_isolated / "spool")
    first.open()
    with pytest.raises(Exception, match="another gateway"):
        Spool(_isolated / "spool").open()
    first.close()


def _load(url: str, key: str, answered: list[str], stop: threading.Event, stream: bool) -> None:
    with httpx.Client(base_url=url, headers=auth(key), timeout=10, trust_env=False) as client:
        while not stop.is_set():
            try:
                if stream:
                    with client.stream("POST", "/v1/chat/completions",
                                       json=chat("tiny", stream=True)) as reply:  # fmt: skip
                        text = "".join(reply.iter_text())
                        if reply.status_code == 200 and "data: [DONE]" in text:
                            answered.append(reply.headers["x-inhouse-request-id"])
                else:
                    reply = client.post("/v1/chat/completions", json=chat("tiny"))
                    if reply.status_code == 200 and reply.json()["choices"]:
                        answered.append(reply.headers["x-inhouse-request-id"])
            except (httpx.HTTPError, json.JSONDecodeError):
                time.sleep(0.01)  # the gateway is gone: keep trying until told to stop


def test_kill_9_under_load_loses_no_answered_request(_isolated: Path) -> None:
    with spawn_standin(
        StandinTiming(ttft_ms=5, tpot_ms=2, tokens=8), model="tiny", root=weights_root(_isolated)
    ) as upstream:
        # a long flush interval and small batches: at the kill, some answers are only in the
        # spool and some batches are in the database (replay must not double them)
        program = _program(_isolated, upstream.url, flush_seconds=30, batch_size=7)
        key = key_for(program)
        program.close()
        log = _isolated / "gateway.log"
        answered: list[str] = []
        stop = threading.Event()
        with served(_isolated, log) as gateway:
            workers = [
                threading.Thread(target=_load, args=(gateway.url, key, answered, stop, i % 2 == 0))
                for i in range(6)
            ]
            for worker in workers:
                worker.start()
            wait_for(lambda: len(answered) >= 60, timeout=60, what="load")
            gateway.kill()
            stop.set()
            for worker in workers:
                worker.join(15)
            complete = list(answered)
            spooled = list((_isolated / ".inhouse/gateway/spool").glob("*.jsonl"))
            assert spooled, "the killed gateway left its spool behind"
            gateway.start()  # replays the spool on start
            store = open_store(database_url(_isolated))
            try:
                with store.engine.connect() as conn:
                    rows = conn.execute(
                        select(gateway_usage.c.request_id, func.count())
                        .group_by(gateway_usage.c.request_id)
                    ).all()  # fmt: skip
                # the replayed records keep the MACs the gateway sealed them with
                sealed = authentic_rows(store, Seal(gateway_mac_key(_isolated)))
            finally:
                store.close()
        assert sealed.rejected == [] and len(sealed.rows) == len(rows)
        counts = dict(rows)
        missing = [rid for rid in complete if rid not in counts]
        assert missing == [], f"{len(missing)} answered requests not in the usage log"
        assert all(count == 1 for count in counts.values())
        assert len(complete) >= 60


def test_a_spool_taken_over_while_its_worker_starts_again_is_written_once(
    _isolated: Path,
) -> None:
    """Another ``serve`` on the program's spool folder (one process beside a ``serve --workers
    2``) takes over ``worker-1``'s spool in the second its supervisor starts that worker again:
    both read what it left, and both write it. Each record is stored once (the database keeps
    one row per request id), none is lost, the worker's new records included, and no segment
    is left to be replayed again."""
    store = open_store(f"sqlite:///{_isolated / 'u.db'}")
    base = _isolated / "spool"
    theirs = base / "worker-1"
    left = [_record() for _ in range(5)]
    theirs.mkdir(parents=True)
    (theirs / "20260101T000000000000-1-000001.jsonl").write_bytes(b"".join(r.line() for r in left))
    fresh = [_record() for _ in range(3)]

    async def run() -> tuple[int, int]:
        taker = UsageWriter(store, Spool(base), flush_seconds=60, leftovers=[theirs])
        owner = UsageWriter(store, Spool(theirs), flush_seconds=60)
        took, found = await asyncio.gather(taker.start(), owner.start())
        for record in fresh:
            owner.record(record)
        await asyncio.gather(taker.stop(), owner.stop())
        return took, found

    try:
        took, found = asyncio.run(run())
        assert (took, found) == (5, 5)  # both read it: neither waited for the other
        with store.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(select(gateway_usage.c.request_id))]
        assert sorted(ids) == sorted(r.request_id for r in left + fresh)
        assert not list(base.rglob("*.jsonl"))
    finally:
        store.close()
