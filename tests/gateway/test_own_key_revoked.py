"""A gateway serving when a rollout lead revokes its own key (`inhouse person revoke-key`): it
learns it from the log (at once through Redis's news, else at its next keys refresh), seals no
usage row with that key again and answers every request 503, naming the key and the file to
delete; ``/healthz`` says why (503: a balancer takes it out). A row sealed with a revoked key
counts for nothing (inhouse.usage.authentic), so answering would be use nobody could count.

The real gateway in-process in front of the real llama.cpp engine (the project's test model),
on SQLite and PostgreSQL, with and without Redis.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app as cli
from inhouse.gateway.rollup import SERVICE, gateway_seal
from inhouse.program import Program
from inhouse.usage.authentic import authentic_rows
from tests.engine import Engine, needs_engine
from tests.gateway.conftest import REDIS
from tests.gateway.harness import (
    LEAD,
    auth,
    chat,
    digest_of,
    error_of,
    in_process,
    key_for,
    make_program,
    usage_rows,
)

pytestmark = [needs_engine, pytest.mark.postgres]

NAME = "inhouse-test-model"
KEY_FILE = f".inhouse/keys/{SERVICE}.key"


def _program(folder: Path, engine: Engine, *, shared: bool, prefix: str) -> Program:
    # with Redis the keys are re-read once a minute: only the news can stop it within a second
    gateway = (
        {"redis_url": REDIS, "redis_prefix": prefix, "keys_refresh_seconds": 60} if shared else {}
    )
    runtimes = {"engine": {"family": "openai", "url": engine.url, "model_path": str(engine.model)}}
    return make_program(folder, runtimes, {NAME: digest_of(engine.model)}, gateway=gateway)


async def _ask(client: httpx.AsyncClient, key: str) -> httpx.Response:
    body = chat(NAME, "Say hello", max_tokens=4, seed=1)
    return await client.post("/v1/chat/completions", json=body, headers=auth(key))


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
@pytest.mark.parametrize("shared", [False, True], ids=["no-redis", "redis"])
def test_a_gateway_whose_own_key_is_revoked_while_serving_answers_nothing_more(
    _isolated: Path, on_database: str, engine: Engine, prefix: str, shared: bool
) -> None:
    program = _program(_isolated, engine, shared=shared, prefix=prefix)
    own = program.as_service(SERVICE).key.key_id  # the lead enrols the gateway's key
    key = key_for(program)

    answered: list[str] = []

    async def run() -> None:
        async with in_process(_isolated) as (gateway, client):
            if shared:  # subscribed before the news is sent
                assert gateway.listener is not None
                deadline = time.monotonic() + 30  # how long "never" is, under load
                while not gateway.listener.listening:
                    assert time.monotonic() < deadline, "the gateway never subscribed"
                    await asyncio.sleep(0.02)
            first = await _ask(client, key)
            assert first.status_code == 200
            answered.append(first.headers["x-inhouse-request-id"])
            await gateway.usage.flush()
            # the lead revokes the gateway's key, as a leaked key is (the command she runs)
            done = CliRunner().invoke(cli, ["person", "revoke-key", own])
            assert done.exit_code == 0, done.output
            said = " ".join(done.output.split())
            if shared:
                assert "Told the running gateway replicas (Redis): they stop answering now" in said
            assert f"delete {KEY_FILE} on the gateway's host" in said
            revoked = time.monotonic()
            while (reply := await _ask(client, key)).status_code != 503:
                assert reply.status_code == 200, reply.text
                answered.append(reply.headers["x-inhouse-request-id"])
                assert time.monotonic() - revoked < 1.0, "still answered a second later"
                await asyncio.sleep(0.02)
            error = error_of(reply)
            assert error["type"] == "server_error" and error["code"] == "service_key_revoked"
            message = " ".join(error["message"].split())
            assert f"this gateway's own key {own} was revoked in the program's log" in message
            assert "nothing was sent to a model" in message
            assert f"delete {KEY_FILE} on the gateway's host and restart" in message
            # one key on every replica's host: one that made its own would seal rows nobody
            # counts
            assert "copy that new file to each (mode 0600) before restarting them" in message
            # nothing is served, nor vouched for with the revoked key
            assert (await client.get("/v1/models", headers=auth(key))).status_code == 503
            nonce = {"x-inhouse-nonce": "ab" * 16}
            assert (await client.get("/inhouse/identity", headers=nonce)).status_code == 503
            # /healthz says why: anyone reads that it refuses, and the code; a lead, the log's
            # words
            public = await client.get("/healthz")
            assert public.status_code == 503
            assert public.json()["status"] == "refusing"
            code = "service_key_revoked"
            assert public.json()["service_key"] == {
                "key_id": own, "revoked": code, "problem_code": code,
                "unenrolled": None, "unenrolled_code": None,  # it was enrolled, then revoked
            }  # fmt: skip
            details = await client.get("/healthz", headers=auth(key))
            assert details.status_code == 503
            words = " ".join(details.json()["service_key"]["revoked"].split())
            assert f"holds key {own}, which was revoked for {SERVICE} by {LEAD} at event" in words
            # no row sealed from the moment it knew: the refusals are not recorded, and the
            # writer holds no key to seal with
            assert gateway.revoked is not None and gateway.usage.mac_key is None
            await gateway.usage.flush()

    asyncio.run(run())
    # the requests answered before it knew (sealed with the key since revoked), nothing after
    rows = usage_rows(program)
    assert [(row["request_id"], row["status"]) for row in rows] == [
        (request_id, 200) for request_id in answered
    ]
    # and those rows count for nothing now
    seal = gateway_seal(program, make=False)
    assert seal is not None and seal.revoked is not None
    found = authentic_rows(program.store, seal)
    assert found.rows == []
    why = {r.request_id: r.why for r in found.rejected}
    assert why[answered[0]] == "sealed with a revoked key"
    # one under way as it learnt of it is written without a seal
    assert set(why.values()) <= {"sealed with a revoked key", "no MAC"}
    if on_database.startswith("postgresql"):
        assert program.store.engine.url.drivername.startswith("postgresql")
    program.close()


def test_gateway_status_says_it_refuses_and_why(_isolated: Path, engine: Engine) -> None:
    """`inhouse gateway status` reads the refusing gateway's /healthz (a 503) and says what to
    do, the log's words to a rollout lead's key."""
    program = _program(_isolated, engine, shared=False, prefix="")
    own = program.as_service(SERVICE).key.key_id
    key = key_for(program)

    async def run() -> None:
        async with in_process(_isolated) as (gateway, client):
            program.revoke_key(own)
            deadline = time.monotonic() + 30  # how long "never" is, under load
            while gateway.revoked is None:
                assert time.monotonic() < deadline, "the gateway never read the revocation"
                await asyncio.sleep(0.05)
            url = str(client.base_url)
            # one at a time, off the loop the gateway answers on (the runner swaps stdout)
            public = await asyncio.to_thread(
                CliRunner().invoke, cli, ["gateway", "status", "--url", url]
            )
            lead = await asyncio.to_thread(
                CliRunner().invoke, cli, ["gateway", "status", "--url", url, "--key", key]
            )
            said = " ".join(public.output.split())
            assert public.exit_code == 0, said
            assert "refusing, 1 active key" in said
            assert f"refusing every request (503): its own key {own} was revoked" in said
            assert "a rollout lead's own key shows who revoked it" in said
            told = " ".join(lead.output.split())
            assert lead.exit_code == 0, told
            assert f"which was revoked for {SERVICE} by {LEAD} at event" in told

    asyncio.run(run())
    program.close()
