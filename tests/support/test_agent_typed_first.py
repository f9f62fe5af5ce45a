"""An agent's registration typed as someone's word before its key is granted hides nothing from
play 5's ``agent-boundaries``: the grant still registers it (measured), and an agent with a
measured boundary is judged whether or not a registration counts. Before, the grant saw the typed
registration and recorded none, the check found no agent that counted and said "not
applicable", and a boundary widened after the grant (which the gateway's own drift review
reported) no longer failed play 5's exit."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from inhouse.program import Provenance
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.counting import build_context
from tests.gateway.harness import key_for, weights_root
from tests.gateway.toolcall_standin import ToolCallStandin
from tests.support.test_agents import _program, widen_reader_and_review


def _agents(program: Any) -> Any:
    return evaluate("agent-boundaries", build_context(program.state(), program.clock()))


@pytest.mark.parametrize("typed_first", [True, False], ids=["typed-first", "granted-only"])
def test_a_registration_typed_before_the_grant_hides_no_widened_boundary(
    _isolated: Path, typed_first: bool
) -> None:
    """The lead types ``agent.registered`` as her word (`inhouse fact record agent.registered
    --attest`) before granting the agent's key, then widens its boundary in inhouse.toml; the
    gateway's drift review reports the wider one. The control grants with nothing typed."""

    async def run() -> None:
        async with ToolCallStandin("search", {}, root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url)
            if typed_first:
                program.record_fact(None, "agent.registered", {"agent": "reader"},
                                    provenance=Provenance.ATTESTED,
                                    comment="the reader agent will use the gateway")  # fmt: skip
            key_for(program, agent="reader")  # the real grant (`inhouse keys issue --agent`)
            widen_reader_and_review(program, _isolated)
            result = _agents(program)
            # what it should say: the agent is registered (its key is granted, its boundary
            # measured) and the gateway serves a wider boundary than was granted
            assert result.outcome is Outcome.FAIL, (result.outcome, result.reason)
            assert "it serves read_file, search, shell" in result.reason
            registered = program.state().live_facts(program.clock()).of("agent.registered")
            measured = [f for f in registered if f.provenance is Provenance.MEASURED]
            assert [f.payload["agent"] for f in measured] == ["reader"]
            program.close()

    asyncio.run(run())
