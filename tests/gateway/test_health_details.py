"""``/healthz`` answers anyone who reaches the gateway (a load balancer's probe needs no key):
its status and counts, each model's nodes by their runtime's name, healthy or not. What it
showed anyone too, each node's address, the runtime's own error text and Redis's host, is a
rollout lead's to read, with their own key (``inhouse gateway status --key``): another
person's key, or an agent's, is refused, never shown them. The runtime is the stand-in
upstream, closed once the gateway routes it (its node says why it is down); Redis is a port
nothing listens on."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.gateway.keys import issue_key
from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream
from tests.gateway.harness import (
    auth,
    error_of,
    in_process,
    key_for,
    one_runtime,
    weights_root,
)
from tests.gateway.test_keys_vouched import pilot  # noqa: F401  (the fixture)
from tests.pilot.gateway_days import Pilot
from tests.runtimes.standin import free_port

runner = CliRunner()
FAST = StandinTiming(ttft_ms=0, tpot_ms=0, tokens=4)


def test_healthz_shows_nobody_without_a_lead_s_key_where_nodes_are_or_what_they_said(
    _isolated: Path,
) -> None:
    async def run() -> dict[str, Any]:
        standin = StandinUpstream(FAST, model="tiny", root=weights_root(_isolated))
        await standin.__aenter__()
        program = one_runtime(_isolated, standin.url)
        with (_isolated / "inhouse.toml").open("a", encoding="utf-8") as config:
            config.write('\n[policy.agents.triager]\ntools = ["read_file"]\n')
        lead = key_for(program)
        agent = key_for(program, agent="triager")
        program.close()
        async with in_process(_isolated) as (gateway, client):
            await standin.aclose()  # the runtime goes down: its node says why, and where
            await gateway.upstream.check_health(gateway.router.nodes())
            url = str(client.base_url)
            answers = {
                "address": standin.url.split("//")[1].rstrip("/"),
                "public": await client.get("/healthz"),
                "lead": await client.get("/healthz", headers=auth(lead)),
                "agent": await client.get("/healthz", headers=auth(agent)),
                "wrong": await client.get("/healthz", headers=auth("ih_" + "x" * 40)),
            }
            # the CLI's blocking client, off this loop, which serves the gateway meanwhile
            answers["cli"] = await asyncio.to_thread(
                runner.invoke, app, ["gateway", "status", "--url", url]
            )
            answers["cli lead"] = await asyncio.to_thread(
                runner.invoke, app, ["gateway", "status", "--url", url, "--key", lead]
            )
            answers["cli agent"] = await asyncio.to_thread(
                runner.invoke, app, ["gateway", "status", "--url", url, "--key", agent]
            )  # typed: INHOUSE_GATEWAY_KEY's is test_review53_status.py's
            for name, args in (("cli json", []), ("cli lead json", ["--key", lead])):
                answers[name] = await asyncio.to_thread(
                    runner.invoke, app, ["gateway", "status", "--url", url, "--json", *args]
                )
            answers["detail"] = gateway.health()["models"]["tiny"]["nodes"][0]["detail"]
        return answers

    answers = asyncio.run(run())
    address = answers["address"]
    public = answers["public"]
    assert public.status_code == 200
    report = public.json()
    # what a load balancer needs: the status and the counts
    assert report["status"] == "degraded" and report["keys"] == 2, report
    (node,) = report["models"]["tiny"]["nodes"]
    assert node == {"runtime": "local", "healthy": False, "in_flight": 0}
    assert report["models"]["tiny"]["problem_count"] >= 0
    # the forgery was to ask: the node's address and the runtime's error text were there
    assert answers["detail"], "the runtime's error text is what the public answer leaves out"
    assert address not in public.text and answers["detail"] not in public.text
    # the rollout lead's own key reads them
    lead = answers["lead"]
    assert lead.status_code == 200, lead.text
    (node,) = lead.json()["models"]["tiny"]["nodes"]
    assert address in node["url"] and node["detail"]
    assert "problems" in lead.json()["models"]["tiny"]
    # an agent's key (even one in the lead's name) is refused, and shown none of it
    refused = answers["agent"]
    assert refused.status_code == 403
    assert "rollout lead's own key" in error_of(refused)["message"]
    assert address not in refused.text
    assert answers["wrong"].status_code == 401 and address not in answers["wrong"].text
    # the CLI: the public health without a key; a lead's key shows where, and why it is down
    cli = answers["cli"]
    assert cli.exit_code == 0, cli.stdout + cli.stderr
    assert "local DOWN" in cli.stdout and address not in cli.stdout
    cli = answers["cli lead"]
    assert cli.exit_code == 0, cli.stdout + cli.stderr
    assert f"localathttp://{address}" in "".join(cli.stdout.split())
    cli = answers["cli agent"]
    assert cli.exit_code != 0 and address not in cli.stdout + cli.stderr
    assert "refused the key" in " ".join(cli.stderr.split())
    # `--json` prints the answer as it came, and docs/json.md names every field of it, the
    # public one's and a lead's (it was described nowhere: a script guessed at its keys)
    public_json, lead_json = (json.loads(answers[n].stdout) for n in ("cli json", "cli lead json"))
    assert _field_names(public_json) == _field_names(report)
    assert _field_names(lead_json) == _field_names(lead.json())
    section = _json_doc_section("inhouse gateway status --json")
    for shown in (public_json, lead_json):
        for field in _field_names(shown):
            assert f'"{field}"' in section, f"docs/json.md does not describe {field!r}"


def _json_doc_section(command: str) -> str:
    """docs/json.md's section for ``command``: from its heading to the next."""
    doc = (Path(__file__).parents[2] / "docs" / "json.md").read_text(encoding="utf-8")
    start = doc.index(f"## `{command}`")
    end = doc.find("\n## ", start + 1)
    return doc[start : end if end >= 0 else None]


def _field_names(shown: Any, under: str = "") -> set[str]:
    """Every key of ``shown``, nested ones too, but not the models' names (data, not fields)."""
    found: set[str] = set()
    if isinstance(shown, dict):
        for key, value in shown.items():
            if under != "models":
                found.add(key)
            found |= _field_names(value, key)
    elif isinstance(shown, list):
        for item in shown:
            found |= _field_names(item, under)
    return found


def test_healthz_names_redis_s_host_to_a_lead_s_key_only(_isolated: Path) -> None:
    redis = f"redis://:sekret@127.0.0.1:{free_port()}/0"
    program = one_runtime(
        _isolated, f"http://127.0.0.1:{free_port()}",
        gateway={"redis_url": redis, "replicas": 2, "keys_refresh_seconds": 60},
    )  # fmt: skip
    lead = key_for(program)
    program.close()

    async def run() -> tuple[Any, Any]:
        async with in_process(_isolated) as (_, client):
            return await client.get("/healthz"), await client.get("/healthz", headers=auth(lead))

    public, detailed = asyncio.run(run())
    limits = public.json()["limits"]
    assert limits["mode"] == "share" and limits["replicas"] == 2
    assert "redis" not in limits and "127.0.0.1" not in json.dumps(limits)
    assert detailed.json()["limits"]["redis"].startswith("redis://:***@127.0.0.1:")
    # what limits say with Redis is described too (`gateway status --json` prints it)
    section = _json_doc_section("inhouse gateway status --json")
    for field in _field_names(detailed.json()):
        assert f'"{field}"' in section, f"docs/json.md does not describe {field!r}"


def test_a_pilot_member_s_own_key_reads_only_the_public_health(pilot: Pilot) -> None:  # noqa: F811
    """bob's key is a person's own, but bob leads nothing: refused."""
    _, key = issue_key(pilot.lead, None, "bob", holder=pilot.people["bob"])

    async def run() -> Any:
        async with in_process(pilot.folder, clock=pilot.clock) as (_, client):
            return await client.get("/healthz", headers=auth(key))

    refused = asyncio.run(run())
    assert refused.status_code == 403
    assert error_of(refused)["message"].startswith("bob's key reads only /healthz's public")
    assert f"127.0.0.1:{pilot.port}" not in refused.text
