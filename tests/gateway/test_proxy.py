"""The gateway in-process (on a loopback port) in front of the stand-in upstream: proxying,
streaming, keys, pinning, limits, runtime faults, the usage log. The stand-in is used where a
test needs to see exactly what reached the upstream or to make it fail; the real engine is in
test_openai_client.py."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx

from inhouse.gateway import revoke_key
from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream
from tests.gateway.harness import (
    auth,
    chat,
    digest_of,
    error_of,
    in_process,
    key_for,
    make_program,
    model_file,
    sse_events,
    usage_rows,
    weights_root,
)

FAST = StandinTiming(ttft_ms=0, tpot_ms=0, tokens=4)


def _program(folder: Path, upstreams: dict[str, str], **options: Any) -> Any:
    weights = model_file(folder)
    runtimes = {
        name: {"family": "openai", "url": url, "model_path": str(weights)}
        for name, url in upstreams.items()
    }
    models = options.pop("models", None) or {"tiny": digest_of(weights)}
    return make_program(folder, runtimes, models, **options)


def test_chat_is_proxied_and_logged_once(_isolated: Path) -> None:
    async def run() -> None:
        async with StandinUpstream(
            FAST, model="tiny", record=True, root=weights_root(_isolated)
        ) as upstream:
            program = _program(_isolated, {"local": upstream.url})
            key = key_for(program)
            async with in_process(_isolated) as (_gateway, client):
                reply = await client.post(
                    "/v1/chat/completions",
                    json=chat("tiny"),
                    headers={**auth(key), "x-inhouse-workflow": "wf"},
                )
                assert reply.status_code == 200, reply.text
                body = reply.json()
                assert body["model"] == "tiny"
                assert body["choices"][0]["message"]["content"]
                request_id = reply.headers["x-inhouse-request-id"]
                # the client's key never reaches the upstream; the blessed id does
                assert upstream.received[-1][1]["model"] == "tiny"
            rows = usage_rows(program)
            assert [r["request_id"] for r in rows] == [request_id]
            row = rows[0]
            assert (row["person"], row["model"], row["status"]) == ("lena", "tiny", 200)
            assert (row["prompt_id"], row["workflow_id"]) == (None, "wf")
            assert row["tokens_out"] == 4 and row["tokens_in"] >= 1
            assert row["digest"] == digest_of(_isolated / "weights.gguf")
            assert row["body"] is None  # no data rules allow storing bodies
            assert row["overhead_ms"] <= row["latency_ms"]

    asyncio.run(run())


def test_stream_passes_events_through_with_done_last(_isolated: Path) -> None:
    async def run() -> None:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, {"local": upstream.url})
            key = key_for(program)
            async with in_process(_isolated) as (_, client):
                reply = await client.post(
                    "/v1/chat/completions", json=chat("tiny", stream=True), headers=auth(key)
                )
                assert reply.status_code == 200
                assert reply.headers["content-type"].startswith("text/event-stream")
                events = sse_events(reply.text)
                assert events[-1] == "[DONE]"
                chunks = [json.loads(e) for e in events[:-1]]
                text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
                assert text and all(c["model"] == "tiny" for c in chunks)
            (row,) = usage_rows(program)
            assert row["stream"] == 1 and row["tokens_out"] == 4 and row["ttft_ms"] is not None

    asyncio.run(run())


def test_bad_missing_and_revoked_keys_get_401(_isolated: Path) -> None:
    async def run() -> None:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, {"local": upstream.url})
            key = key_for(program)
            async with in_process(_isolated) as (gateway, client):
                missing = await client.post("/v1/chat/completions", json=chat("tiny"))
                assert missing.status_code == 401
                assert error_of(missing)["code"] == "missing_api_key"
                # a client's developer learns how to get a key: granted, then fetched
                assert "you fetch it with `inhouse keys fetch`" in error_of(missing)["message"]
                wrong = await client.post(
                    "/v1/chat/completions", json=chat("tiny"), headers=auth(key[:-2] + "xx")
                )
                assert wrong.status_code == 401
                assert error_of(wrong)["type"] == "authentication_error"
                ok = await client.post("/v1/chat/completions", json=chat("tiny"), headers=auth(key))
                assert ok.status_code == 200
                revoke_key(program, "lena", key[:11])
                await gateway.reload_keys()
                revoked = await client.post(
                    "/v1/chat/completions", json=chat("tiny"), headers=auth(key)
                )
                assert revoked.status_code == 401
                # its holder is told it was revoked, and nothing else: not to try again in a
                # few seconds (a key fetched a moment ago is), nor who revoked it, nor whose
                said = error_of(revoked)["message"]
                assert said.startswith("this gateway key was revoked"), said
                assert "try again" not in said and "next key refresh" not in said
                assert "lena" not in said and key[:11] not in said
                # a key nobody holds (the same prefix) hears only the unknown key's answer
                other = key[:11] + "x" * (len(key) - 11)
                unknown = await client.post(
                    "/v1/chat/completions", json=chat("tiny"), headers=auth(other)
                )
                assert unknown.status_code == 401
                assert error_of(unknown)["message"].startswith("invalid or revoked gateway key")
                assert upstream.requests_served >= 1
            assert len(usage_rows(program)) == 1  # refusals without a valid key are not usage

    asyncio.run(run())


def test_unblessed_model_is_refused_and_models_lists_only_blessed(_isolated: Path) -> None:
    async def run() -> None:
        async with StandinUpstream(
            FAST, model="tiny", record=True, root=weights_root(_isolated)
        ) as upstream:
            program = _program(_isolated, {"local": upstream.url})
            key = key_for(program)
            narrow = key_for(program, models=("other",))
            async with in_process(_isolated) as (_, client):
                reply = await client.post(
                    "/v1/chat/completions", json=chat("gpt-4o"), headers=auth(key)
                )
                assert reply.status_code == 403
                error = error_of(reply)
                assert error["code"] == "model_not_allowed" and error["param"] == "model"
                assert "tiny" in error["message"]
                listed = await client.get("/v1/models", headers=auth(key))
                assert [m["id"] for m in listed.json()["data"]] == ["tiny"]
                none = await client.get("/v1/models", headers=auth(narrow))
                assert none.json()["data"] == []
                assert (await client.post("/v1/chat/completions", json=chat("tiny"),
                                          headers=auth(narrow))).status_code == 403  # fmt: skip
            assert upstream.received == []

    asyncio.run(run())


def test_drifted_digest_is_refused_with_the_mismatch(_isolated: Path) -> None:
    async def run() -> None:
        async with StandinUpstream(
            FAST, model="tiny", record=True, root=weights_root(_isolated)
        ) as upstream:
            locked = "sha256:" + "ab" * 32
            program = _program(_isolated, {"local": upstream.url}, models={"tiny": locked})
            key = key_for(program)
            async with in_process(_isolated) as (_, client):
                reply = await client.post("/v1/chat/completions", json=chat("tiny"),
                                          headers=auth(key))  # fmt: skip
                assert reply.status_code == 503
                error = error_of(reply)
                assert error["code"] == "model_drifted"
                served = digest_of(_isolated / "weights.gguf")
                assert locked in error["message"] and served in error["message"]
            assert upstream.received == []

    asyncio.run(run())


def test_a_model_path_the_runtime_never_names_pins_nothing(_isolated: Path) -> None:
    """The forgery: inhouse.toml names a GGUF whose hash the lock holds, beside a runtime that
    lists the model under an alias and names no file. The config's word is not the runtime's:
    the model is refused, saying why and what would pin it, and nothing reaches the runtime."""

    async def run() -> None:
        async with StandinUpstream(FAST, model="tiny", record=True) as upstream:  # no root
            program = _program(_isolated, {"local": upstream.url})
            key = key_for(program)
            async with in_process(_isolated) as (_, client):
                reply = await client.post("/v1/chat/completions", json=chat("tiny"),
                                          headers=auth(key))  # fmt: skip
                assert reply.status_code == 503
                error = error_of(reply)
                assert error["code"] == "no_runtime"
                weights = _isolated / "weights.gguf"
                assert (
                    f"the configured model_path {weights} is no file runtime local names"
                    in (error["message"])
                )
                assert "use the embedded runtime" in error["message"]
            assert upstream.received == []

    asyncio.run(run())


def test_drift_found_by_the_periodic_check(_isolated: Path) -> None:
    async def run() -> None:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, {"local": upstream.url},
                               gateway={"digest_check_seconds": 0.1})  # fmt: skip
            key = key_for(program)
            async with in_process(_isolated) as (_, client):
                first = await client.post("/v1/chat/completions", json=chat("tiny"),
                                          headers=auth(key))  # fmt: skip
                assert first.status_code == 200
                model_file(_isolated, seed=1)  # other weights, same name
                for _ in range(100):
                    await asyncio.sleep(0.05)
                    later = await client.post("/v1/chat/completions", json=chat("tiny"),
                                              headers=auth(key))  # fmt: skip
                    if later.status_code != 200:
                        break
                assert later.status_code == 503
                assert error_of(later)["code"] == "model_drifted"

    asyncio.run(run())


def test_rate_limits_answer_429(_isolated: Path) -> None:
    async def run() -> None:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, {"local": upstream.url})
            per_minute = key_for(program, rpm=2)
            # room for one request's reservation (its prompt's bound, 37, and a token to answer
            # with), not two: the limit is never overshot (tests/gateway/test_fair_share.py)
            per_day = key_for(program, tokens_per_day=40)
            async with in_process(_isolated) as (_, client):
                codes = [
                    (await client.post("/v1/chat/completions", json=chat("tiny"),
                                       headers=auth(per_minute))).status_code
                    for _ in range(3)
                ]  # fmt: skip
                assert codes == [200, 200, 429]
                first = await client.post("/v1/chat/completions", json=chat("tiny"),
                                          headers=auth(per_day))  # fmt: skip
                assert first.status_code == 200  # what is left cannot hold another
                second = await client.post("/v1/chat/completions", json=chat("tiny"),
                                           headers=auth(per_day))  # fmt: skip
                assert second.status_code == 429
                assert error_of(second)["code"] == "tokens_per_day_exceeded"
            statuses = sorted(r["status"] for r in usage_rows(program))
            assert statuses == [200, 200, 200, 429, 429]

    asyncio.run(run())


def test_a_429_says_when_to_retry_in_retry_after(_isolated: Path) -> None:
    """A 429's message said "retry in 60 s", but no Retry-After header: OpenAI's clients, which
    wait for that header, retried at once (twice, by default) into the same refusal. Now the
    per-minute refusal gives the seconds until a slot frees, the daily one until midnight
    UTC."""

    async def run() -> None:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, {"local": upstream.url})
            per_minute = key_for(program, rpm=1)
            per_day = key_for(program, tokens_per_day=40)
            async with in_process(_isolated) as (_, client):

                async def ask(key: str) -> httpx.Response:
                    return await client.post(
                        "/v1/chat/completions", json=chat("tiny"), headers=auth(key)
                    )

                assert (await ask(per_minute)).status_code == 200
                refused = await ask(per_minute)
                assert refused.status_code == 429, refused.text
                assert 1 <= int(refused.headers["retry-after"]) <= 60, refused.headers
                assert (await ask(per_day)).status_code == 200
                spent = await ask(per_day)
                assert error_of(spent)["code"] == "tokens_per_day_exceeded"
                now = time.time()
                midnight = 86400 - now % 86400
                assert abs(int(spent.headers["retry-after"]) - midnight) <= 5, spent.headers

    asyncio.run(run())


def test_a_row_typed_into_the_usage_log_spends_none_of_a_keys_daily_tokens(
    _isolated: Path,
) -> None:
    """The forgery: someone with the database's password types a row under a colleague's key
    that spends their whole day's tokens, so that the gateway, seeding its daily limits from
    today's rows as it starts, refuses them until midnight. Only rows the gateway sealed spend
    a key's tokens; the typed row spends none, a sealed one does."""
    from datetime import UTC, datetime

    from inhouse.gateway.keys import list_keys
    from inhouse.gateway.usage import UsageRecord, insert_usage, new_request_id
    from tests.gateway.harness import LEAD

    async def run() -> None:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, {"local": upstream.url})
            per_day = key_for(program, tokens_per_day=40)
            (key,) = list_keys(program.store)
            typed = UsageRecord(
                request_id=new_request_id(), at=datetime.now(UTC).isoformat(), person=LEAD,
                key_id=key.id, endpoint="chat/completions", model="tiny", status=200,
                tokens_in=1000, tokens_out=1000,
            )  # fmt: skip
            insert_usage(program.store, [typed])
            async with in_process(_isolated) as (_, client):
                reply = await client.post("/v1/chat/completions", json=chat("tiny"),
                                          headers=auth(per_day))  # fmt: skip
                assert reply.status_code == 200, reply.text  # the typed row spent nothing
            # the gateway started again: its own sealed row of today spends the key's day
            async with in_process(_isolated) as (_, client):
                reply = await client.post("/v1/chat/completions", json=chat("tiny"),
                                          headers=auth(per_day))  # fmt: skip
                assert reply.status_code == 429
                assert error_of(reply)["code"] == "tokens_per_day_exceeded"

    asyncio.run(run())


def test_runtime_down_gives_503_and_a_second_node_takes_over(_isolated: Path) -> None:
    async def run() -> None:
        async with (
            StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as one,
            StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as two,
        ):
            program = _program(_isolated, {"a": one.url, "b": two.url})
            key = key_for(program)
            async with in_process(_isolated) as (_gateway, client):
                for _ in range(4):
                    reply = await client.post("/v1/chat/completions", json=chat("tiny"),
                                              headers=auth(key))  # fmt: skip
                    assert reply.status_code == 200
                assert one.requests_served > 1 and two.requests_served > 1  # round-robin
                await one.aclose()
                for _ in range(4):
                    reply = await client.post("/v1/chat/completions", json=chat("tiny"),
                                              headers=auth(key))  # fmt: skip
                    assert reply.status_code == 200  # the down node is skipped
                await two.aclose()
                down = await client.post("/v1/chat/completions", json=chat("tiny"),
                                         headers=auth(key))  # fmt: skip
                assert down.status_code == 503
                error = error_of(down)
                assert error["code"] == "runtime_unavailable" and "answers" in error["message"]
                health = (await client.get("/healthz")).json()
                assert health["status"] == "degraded"

    asyncio.run(run())


def test_metrics_are_labelled_by_model_and_by_person_for_a_lead_s_key(_isolated: Path) -> None:
    """Anyone who reaches /metrics (a scraper with no key) reads each model's series, summed
    over people: who uses the tool, and how much, is a rollout lead's to read, with their own
    key; an agent's key, even in the lead's name, is refused."""

    async def run() -> None:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, {"local": upstream.url})
            key = key_for(program)
            with (_isolated / "inhouse.toml").open("a", encoding="utf-8") as config:
                config.write("\n[policy.agents.scraper]\ntools = []\n")
            agent = key_for(program, agent="scraper")
            async with in_process(_isolated) as (_, client):
                await client.post("/v1/chat/completions", json=chat("tiny"), headers=auth(key))
                public = (await client.get("/metrics")).text
                text = (await client.get("/metrics", headers=auth(key))).text
                refused = await client.get("/metrics", headers=auth(agent))
            assert "lena" not in public and "person=" not in public
            assert 'inhouse_gateway_requests_total{model="tiny",status="200"} 1.0' in public
            assert 'inhouse_gateway_tokens_total{direction="out",model="tiny"} 4.0' in public
            assert refused.status_code == 403 and "inhouse_gateway" not in refused.text
            assert "/metrics's public answer" in error_of(refused)["message"]
            assert (
                'inhouse_gateway_requests_total{model="tiny",person="lena",status="200"} 1.0'
                in text
            )
            assert 'inhouse_gateway_overhead_seconds_count{model="tiny",person="lena"} 1.0' in text
            assert (
                'inhouse_gateway_tokens_total{direction="out",model="tiny",person="lena"} 4.0'
                in text
            )

    asyncio.run(run())


def test_completions_and_embeddings_are_proxied(_isolated: Path) -> None:
    async def run() -> None:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, {"local": upstream.url})
            key = key_for(program)
            async with in_process(_isolated) as (_, client):
                done = await client.post("/v1/completions", json={"model": "tiny",
                                         "prompt": "once upon"}, headers=auth(key))  # fmt: skip
                assert done.status_code == 200 and done.json()["choices"][0]["text"]
                vectors = await client.post("/v1/embeddings", json={"model": "tiny",
                                            "input": ["a", "b"]}, headers=auth(key))  # fmt: skip
                assert vectors.status_code == 200
                assert len(vectors.json()["data"]) == 2
            assert {r["endpoint"] for r in usage_rows(program)} == {"completions", "embeddings"}

    asyncio.run(run())
