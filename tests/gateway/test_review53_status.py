"""review53: `inhouse gateway status` reads ``--key`` from INHOUSE_GATEWAY_KEY, the variable the
pilot guide has every person put their own client key in. bob, a pilot member (or a champion,
or the support owner chasing an "it broke" ticket), runs it with his key there: the gateway
refuses his key's details, as it should, and the command stopped there, showing him nothing,
where asking with no key shows anyone the public health. A key he types with ``--key`` is his
ask for the details: still refused."""

from __future__ import annotations

import asyncio
from typing import Any

from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.gateway.keys import issue_key
from tests.gateway.harness import in_process
from tests.gateway.test_keys_vouched import pilot  # noqa: F401  (the fixture)
from tests.pilot.gateway_days import Pilot

runner = CliRunner()


def test_a_member_s_key_in_the_guide_s_variable_still_shows_the_public_health(
    pilot: Pilot,  # noqa: F811
) -> None:
    _, key = issue_key(pilot.lead, None, "bob", holder=pilot.people["bob"])

    async def run() -> tuple[Any, Any]:
        async with in_process(pilot.folder, clock=pilot.clock) as (_, client):
            url = str(client.base_url)
            status = ["gateway", "status", "--url", url]
            from_guide = await asyncio.to_thread(
                runner.invoke, app, status, env={"INHOUSE_GATEWAY_KEY": key}
            )
            typed = await asyncio.to_thread(runner.invoke, app, [*status, "--key", key])
            return from_guide, typed

    from_guide, typed = asyncio.run(run())
    said = " ".join(from_guide.stderr.split())
    assert from_guide.exit_code == 0, from_guide.stdout + said
    assert "gateway at" in from_guide.stdout and "active key" in from_guide.stdout
    assert "refused INHOUSE_GATEWAY_KEY's details" in said and "public health follows" in said
    # what the gateway keeps for a lead's own key stays out of it
    assert f"127.0.0.1:{pilot.port}" not in from_guide.stdout + from_guide.stderr
    assert typed.exit_code != 0
    assert "refused the key" in " ".join(typed.stderr.split())
    assert f"127.0.0.1:{pilot.port}" not in typed.stdout + typed.stderr
