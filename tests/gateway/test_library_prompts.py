"""Library prompts at the gateway: a header's NAME@LABEL recorded as the version it named then,
and as not sent (only a pinned NAME@VERSION is the client's choice of that version);
a prompt rendered server-side from the library for the official ``openai`` client on the real
llama.cpp engine, and counted for that version; the rendered text scanned like any other (the
recording stand-in upstream shows what arrived); unknown prompts and bad variables as 400s in
OpenAI's error shape."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from inhouse.gateway import Gateway
from inhouse.pilot.library import add_prompt, move_label, new_version
from inhouse.pilot.library_views import prompt_usage
from inhouse.program import Program
from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream
from tests.engine import Engine, needs_engine
from tests.gateway.harness import (
    ServedGateway,
    auth,
    chat,
    digest_of,
    error_of,
    in_process,
    key_for,
    make_program,
    model_file,
    usage_rows,
    wait_for,
    weights_root,
)
from tests.people import enrol

FAST = StandinTiming(ttft_ms=0, tpot_ms=0, tokens=3)
TRIAGE = """\
description: Sort a support ticket into a queue
variables:
  ticket: {type: string, description: the ticket's text}
  queues: {type: integer, default: 3}
messages:
  - {role: system, content: "You sort support tickets into {{ queues }} queues."}
  - {role: user, content: "Ticket: {{ ticket }}"}
"""
RULES = {"data_rules": {"default": "allow", "classes": {"email": "redact", "card": "block"}}}


def _standin_program(folder: Path, url: str) -> Program:
    weights = model_file(folder)
    runtimes = {"local": {"family": "openai", "url": url, "model_path": str(weights)}}
    return make_program(folder, runtimes, {"tiny": digest_of(weights)}, extra=RULES)


def _render(name: str, variables: dict[str, Any], **ref: Any) -> dict[str, Any]:
    return {
        "model": "tiny",
        "messages": [],
        "prompt": {"name": name, **ref, "variables": variables},
    }


def _author(program: Program) -> Program:
    """The prompts' author: ada, with a key of her own (lena, who sends the requests, is
    someone other than the author)."""
    return enrol(program, "ada", team="legal")


async def _labelled(gateway: Gateway, ref: str, version: int) -> None:
    for _ in range(200):
        found = gateway.prompts.library.prompts.get(ref.partition("@")[0])
        if found is not None and found.labels.get(ref.partition("@")[2]) == version:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the gateway never saw {ref} at v{version}")


def test_a_header_label_is_recorded_as_the_version_it_named(_isolated: Path) -> None:
    async def run() -> None:
        async with StandinUpstream(
            FAST, model="tiny", record=True, root=weights_root(_isolated)
        ) as upstream:
            program = _standin_program(_isolated, upstream.url)
            key = key_for(program)
            ada = _author(program)
            add_prompt(ada, "triage", TRIAGE, where="triage.yaml")
            move_label(ada, "triage@1", "production")
            async with in_process(_isolated) as (gateway, client):
                for ref in ("triage@production", "triage@1", "triage"):
                    reply = await client.post(
                        "/v1/chat/completions",
                        json=chat("tiny", "my own words"),
                        headers={**auth(key), "x-inhouse-prompt": ref},
                    )
                    assert reply.status_code == 200, reply.text
                # a new version moved to production takes effect on the next refresh
                new_version(
                    ada, "triage", TRIAGE.replace("You sort", "You route"), where="triage.yaml"
                )
                move_label(ada, "triage@2", "production")
                await _labelled(gateway, "triage@production", 2)
                reply = await client.post(
                    "/v1/chat/completions",
                    json=chat("tiny", "my own words"),
                    headers={**auth(key), "x-inhouse-prompt": "triage@production"},
                )
                assert reply.status_code == 200, reply.text
            # the client's own messages went through untouched
            assert all(body["messages"][0]["content"] == "my own words"
                       for _, body in upstream.received)  # fmt: skip
            rows = usage_rows(program)
            assert [r["prompt_id"] for r in rows] == ["triage@1"] * 3 + ["triage@2"]
            # the gateway sent none of them; only the client that pinned triage@1 chose it
            assert [r["prompt_sent"] for r in rows] == [0, 1, 0, 0]
            # and only the pinned one is a use of triage@1 (a name or label alone is none)
            assert [
                (u["version"], u["uses"], u["uses_by_others"]) for u in prompt_usage(program)
            ] == [(1, 1, 1)]

    asyncio.run(run())


def test_unknown_prompts_and_bad_variables_are_400s_in_openai_shape(_isolated: Path) -> None:
    async def run() -> None:
        async with StandinUpstream(
            FAST, model="tiny", record=True, root=weights_root(_isolated)
        ) as upstream:
            program = _standin_program(_isolated, upstream.url)
            key = key_for(program)
            add_prompt(_author(program), "triage", TRIAGE, where="triage.yaml")
            async with in_process(_isolated) as (_, client):

                async def refused(
                    body: dict[str, Any], header: str | None = None
                ) -> dict[str, Any]:
                    headers = {**auth(key), **({"x-inhouse-prompt": header} if header else {})}
                    reply = await client.post("/v1/chat/completions", json=body, headers=headers)
                    assert reply.status_code == 400, reply.text
                    error = error_of(reply)
                    assert error["type"] == "invalid_request_error"
                    return error

                error = await refused(chat("tiny"), header="nope@1")
                assert error["code"] == "prompt_not_found" and "'nope'" in error["message"]
                error = await refused(chat("tiny"), header="triage@9")
                assert "no version 9" in error["message"]
                error = await refused(_render("triage", {"ticket": "x"}, label="production"))
                assert (
                    error["code"] == "prompt_not_found"
                    and "no label 'production'" in error["message"]
                )
                assert error["param"] == "prompt.label"
                error = await refused(_render("triage", {}, version=1))
                assert "missing variable 'ticket'" in error["message"]
                assert error["param"] == "prompt.variables"
                error = await refused(_render("triage", {"ticket": "x", "tone": "dry"}, version=1))
                assert "unknown variable 'tone'" in error["message"]
                error = await refused(_render("triage", {"ticket": "x", "queues": "three"}))
                assert "prompt.variables.queues: must be an integer" in error["message"]
                mixed = {
                    **_render("triage", {"ticket": "x"}),
                    "messages": [{"role": "user", "content": "hi"}],
                }
                assert (await refused(mixed))["param"] == "messages"
            assert upstream.received == []  # nothing reached the runtime
            assert {r["status"] for r in usage_rows(program)} == {400}

    asyncio.run(run())


def test_rendered_text_is_scanned_a_blocked_class_never_reaches_the_runtime(
    _isolated: Path,
) -> None:
    async def run() -> None:
        async with StandinUpstream(
            FAST, model="tiny", record=True, root=weights_root(_isolated)
        ) as upstream:
            program = _standin_program(_isolated, upstream.url)
            key = key_for(program)
            add_prompt(_author(program), "triage", TRIAGE, where="triage.yaml")
            async with in_process(_isolated) as (_, client):
                card = _render("triage", {"ticket": "refund card 4111 1111 1111 1111"})
                reply = await client.post("/v1/chat/completions", json=card, headers=auth(key))
                assert reply.status_code == 451
                assert "card" in error_of(reply)["message"]
                assert upstream.received == []
                mail = _render("triage", {"ticket": "reply to anna.berg@example.com", "queues": 2})
                reply = await client.post("/v1/chat/completions", json=mail, headers=auth(key))
                assert reply.status_code == 200, reply.text
            ((_, sent),) = upstream.received
            assert "prompt" not in sent  # the runtime gets messages, not the library reference
            assert sent["messages"] == [
                {"role": "system", "content": "You sort support tickets into 2 queues."},
                {"role": "user", "content": "Ticket: reply to [REDACTED:email]"},
            ]
            rows = usage_rows(program)
            assert [(r["status"], r["prompt_id"], r["prompt_sent"]) for r in rows] == [
                (451, "triage@1", 1),
                (200, "triage@1", 1),
            ]
            # only the answered request is a use
            assert [u["uses"] for u in prompt_usage(program)] == [1]

    asyncio.run(run())


NAME = "inhouse-test-model"


@pytest.fixture
def served_library(engine: Engine, _isolated: Path) -> Iterator[tuple[ServedGateway, str, Program]]:
    folder = _isolated / "program"
    folder.mkdir()
    runtimes = {"engine": {"family": "openai", "url": engine.url, "model_path": str(engine.model)}}
    program = make_program(folder, runtimes, {NAME: digest_of(engine.model)})
    key = key_for(program)
    ada = enrol(program, "ada", team="legal")
    add_prompt(ada, "triage", TRIAGE, where="triage.yaml")
    move_label(ada, "triage@1", "production")
    gateway = ServedGateway(folder, folder / "gateway.log")
    gateway.start()
    try:
        yield gateway, key, program
    finally:
        gateway.stop()
        program.close()


@needs_engine
def test_the_openai_client_uses_a_library_prompt_by_name_on_the_real_engine(
    served_library: tuple[ServedGateway, str, Program],
) -> None:
    gateway, key, program = served_library
    with openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=key, max_retries=0) as client:
        reply = client.chat.completions.create(
            model=NAME,
            messages=[],
            max_tokens=8,
            seed=1,
            extra_body={"prompt": {"name": "triage", "label": "production",
                                   "variables": {"ticket": "The printer is jammed"}}},
        )  # fmt: skip
        assert isinstance(reply.choices[0].message.content, str)
        assert reply.usage is not None and reply.usage.prompt_tokens > 10  # the rendered text
        with pytest.raises(openai.BadRequestError) as unknown:
            client.chat.completions.create(
                model=NAME, messages=[], extra_body={"prompt": {"name": "nope"}}
            )
    assert "no prompt 'nope'" in str(unknown.value)
    wait_for(lambda: len(usage_rows(program)) == 2, what="both requests in the usage log")
    answered = [r for r in usage_rows(program) if r["status"] == 200]
    assert [(r["prompt_id"], r["prompt_sent"]) for r in answered] == [("triage@1", 1)]
    # lena used ada's prompt: a use by someone other than its author
    assert prompt_usage(program) == [
        {"prompt": "triage", "version": 1, "uses": 1, "users": 1, "uses_by_others": 1,
         "last_used": answered[0]["day"]}
    ]  # fmt: skip
