"""``inhouse workflow run --gateway``: a team runs its workflow with the tool's own command
through the real gateway (in-process, serving on loopback) to the real llama.cpp engine; each
request names the workflow (``X-Inhouse-Workflow``), the gateway's rollup signs them as its
runs (exit rule 22, ``SIGNED_RUNS``), and ``inhouse indicators report`` counts them.

A run straight to the lock's runtime (``workflow run`` without ``--gateway``) and a test run
(``workflow test``, which asks the lock's runtime directly) go through no gateway: nothing
signs them, so nothing counts them. A test run is the workflow's check, not the work it
changes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from inhouse.baseline.lock import lock_baseline
from inhouse.gateway import issue_key
from inhouse.gateway.rollup import rollup_usage, service_program
from inhouse.program import Program
from inhouse.program.counting import build_context
from inhouse.workflows import run_workflow_tests
from tests.clitools import cli
from tests.conftest import Clock
from tests.engine import Engine, needs_engine
from tests.gateway.harness import digest_of, in_process, make_program, usage_rows
from tests.indicators.test_indicators_walk import NAME, WORKFLOW
from tests.people import confirm_own_use, enrol, vouch_for_gateway_host

pytestmark = needs_engine
FLOW = "ticket-summary"


@pytest.fixture
def world(
    engine: Engine, _isolated: Path, on_database: str, clock: Clock, real_model: None
) -> Iterator[dict[str, Any]]:
    """lena's program on the engine: sam publishes the workflow (his `workflow test`, straight
    to the engine), pia, who did not, holds a gateway key of her own. The clock is now: the
    CLI runs on the real one."""
    folder = _isolated
    clock.now = datetime.now(UTC).replace(microsecond=0)
    runtimes = {"engine": {"family": "openai", "url": engine.url, "model_path": str(engine.model)}}
    rules = {"baseline": {"owner": "lena", "runtime": "engine", "models": [NAME]}}
    lena = make_program(folder, runtimes, {NAME: digest_of(engine.model)}, extra=rules,
                        clock=clock)  # fmt: skip
    (folder / "workflows").mkdir()
    (folder / "workflows" / f"{FLOW}.yaml").write_text(WORKFLOW, encoding="utf-8")
    lock_baseline(lena, None)
    for guard in ("scaling-before-proving", "skipping-play-five"):
        lena.grant_waiver(None, guard, reason="time-boxed-experiment", note="runs counted",
                          expires=clock() + timedelta(days=30))  # fmt: skip
    sam = enrol(lena, "sam", team="support", roles=["pilot-user"])
    pia = enrol(lena, "pia", team="legal", roles=["pilot-user"])
    run_workflow_tests(sam, FLOW)  # sam publishes it, through no gateway
    keys = {name: issue_key(lena, None, name, holder=who)[1]
            for name, who in (("sam", sam), ("pia", pia))}  # fmt: skip
    service_program(lena)
    vouch_for_gateway_host(pia)
    yield {"folder": folder, "lena": lena, "keys": keys, "pia": pia, "engine": engine.url}
    lena.close()


def _signed_runs(lena: Program) -> dict[str, dict[str, int]]:
    """Each person's workflow runs the gateway's key signed, summed over the days."""
    found: dict[str, dict[str, int]] = {}
    facts = build_context(lena.state(), lena.clock()).facts.of("usage.daily")
    for fact in facts:
        for person, totals in (fact.payload.get("people") or {}).items():
            for flow, ran in (totals.get("workflows") or {}).items():
                found.setdefault(person, {})[flow] = ran  # the latest stands
    return found


def _run(args: list[str], key: str, code: int = 0) -> str:
    return cli("workflow", "run", FLOW, *args, env={"INHOUSE_GATEWAY_KEY": key}, code=code)


def test_a_run_through_the_gateway_is_signed_as_the_workflow_s_runs(
    world: dict[str, Any], clock: Clock
) -> None:
    lena, keys = world["lena"], world["keys"]
    tickets = world["folder"] / "tickets.jsonl"
    tickets.write_text(
        "\n".join(json.dumps({"ticket": t}) for t in ("The printer jams.", "Refund 1234.")),
        encoding="utf-8",
    )

    async def runs() -> dict[str, Any]:
        async with in_process(world["folder"], clock=clock) as (gateway, client):
            url = str(client.base_url)
            # the forgery's cheapest cousin: a run straight to the engine names no workflow
            # to any gateway, and `workflow test` (sam's, above) neither
            direct = await asyncio.to_thread(_run, ["--var", "ticket=Printer on fire."], "")
            # and one "through a gateway" that is the engine itself: nothing signs it
            await asyncio.to_thread(
                _run, ["--var", "ticket=Toner.", "--gateway-url", world["engine"]], keys["pia"]
            )
            through = await asyncio.to_thread(
                _run, ["--input", "tickets.jsonl", "--gateway-url", url, "--json"], keys["pia"]
            )
            # a key the gateway never issued: it refuses it, and says so
            refused = await asyncio.to_thread(
                cli, "workflow", "run", FLOW, "--var", "ticket=x", "--gateway-url", url,
                env={"INHOUSE_GATEWAY_KEY": "ih_not_a_key_anyone_issued"}, code=1,
            )  # fmt: skip
            assert "HTTP 401: invalid or revoked gateway key" in " ".join(refused.split())
            await gateway.usage.flush()
            return {"direct": direct, "through": json.loads(through), "url": url}

    seen = asyncio.run(runs())
    assert "through the gateway" not in seen["direct"]
    assert seen["through"]["gateway"] == seen["url"]
    assert all(o["output"] for o in seen["through"]["outputs"])
    rows = usage_rows(lena)
    assert [(r["person"], r["workflow_id"]) for r in rows] == [("pia", FLOW), ("pia", FLOW)]

    rollup_usage(lena)
    confirm_own_use(world["pia"])  # a person's use counts on their own word too
    assert _signed_runs(lena) == {"pia": {FLOW: 2}}  # sam's test run and the direct one: none
    period = clock().strftime("%Y-%m")
    report = json.loads(cli("indicators", "report", "--period", period, "--no-record", "--json"))
    leading = {row["name"]: row["value"] for row in report["leading"]}
    assert (leading["workflow_runs"], leading["workflow_runs_by_non_authors"]) == (2, 2)


def test_through_the_gateway_needs_the_person_s_own_key(world: dict[str, Any]) -> None:
    """No key, no run: the gateway key is the person's own (INHOUSE_GATEWAY_KEY, as the pilot
    guide has them keep it), never one inhouse.toml names (a key the gateway does not know,
    it refuses: the test above)."""
    said = " ".join(_run(["--var", "ticket=x", "--gateway"], "", code=2).split())
    assert "--gateway sends the requests on your own gateway key" in said, said
    assert "INHOUSE_GATEWAY_KEY" in said
