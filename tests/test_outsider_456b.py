"""The outsider at plays 4 to 6, round 456b: what a new rollout lead reads on the way.

A lead who invites the pilot as README's play 4 showed (`inhouse person invite pia --role
pilot-user`, no ``--team``) adds them, and `pilot add` told them the member's team counts "once
they say" it: but the roster named no team, so nothing the member says could count, and the
command that fixes it (`inhouse pilot correct-team`) was named nowhere on the way. And
`pilot correct-team` told the lead a team counts "once PERSON says so" when PERSON had said so
already. Both now say where the team stands and who does what next; no check changed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.pilot.evidence import PilotEvidence
from inhouse.pilot.roster import members, state_team
from inhouse.program import Program, Provenance
from tests.clitools import cli
from tests.conftest import Clock
from tests.people import lead_env
from tests.pilot.world import World, make_world

runner = CliRunner()


@pytest.fixture
def world(_isolated: Path, clock: Clock) -> World:
    return make_world(_isolated, clock)


def _said(output: str) -> str:
    return " ".join(output.split())


def test_adding_a_member_invited_without_a_team_names_the_correction(world: World) -> None:
    """pia was invited without ``--team`` and says she works in legal: the roster names no
    team, so her word alone counts for nothing, and `pilot add` says the lead sets it."""
    world.waive()
    world.clock.now = datetime.now(UTC)  # the CLI signs on the wall clock
    pia = world.enrol("pia", "")
    state_team(pia, "legal")
    added = runner.invoke(
        app, ["pilot", "add", "pia", "--track", "legal"], env=lead_env(world.lead)
    )
    assert added.exit_code == 0, added.output
    said = _said(added.stdout)
    assert "The roster names no team for pia (they say legal)" in said, said
    assert "`inhouse pilot correct-team pia TEAM`" in said, said
    assert "once they say, with their own key" not in said  # her word alone is not enough
    # the member's word still does not set the roster's side: nothing was recorded for it
    (member,) = members(PilotEvidence(world.lead))
    assert (member.team, member.confirmed) == ("", False)


def test_correcting_a_team_the_member_already_said_says_it_counts(world: World) -> None:
    """The lead corrects bob's roster team to the one bob already said: it counts now, and the
    reply says so rather than asking bob to say it again; for carol, who said another team,
    the reply asks her to say the corrected one."""
    world.waive()
    world.clock.now = datetime.now(UTC)
    bob = world.enrol("bob", "")
    carol = world.enrol("carol", "")
    state_team(bob, "support")
    state_team(carol, "legal")
    env = lead_env(world.lead)
    for name in ("bob", "carol"):
        assert (
            runner.invoke(app, ["pilot", "add", name, "--track", "support"], env=env).exit_code == 0
        )
    fixed = runner.invoke(app, ["pilot", "correct-team", "bob", "support"], env=env)
    assert fixed.exit_code == 0, fixed.output
    said = _said(fixed.stdout)
    assert "bob already says, with their own key, that they work in support: it counts" in said
    assert "It counts once bob says so" not in said
    other = runner.invoke(app, ["pilot", "correct-team", "carol", "finance"], env=env)
    said = _said(other.stdout)
    assert "(they said legal: they say it again): `inhouse pilot team finance`" in said, said
    confirmed = {m.person: m.confirmed for m in members(PilotEvidence(world.lead))}
    assert confirmed == {"bob": True, "carol": False}


def test_prices_in_another_currency_than_the_trials_costs_are_named_when_set(
    _isolated: Path,
) -> None:
    """README's play 6 gave `prices set --reference … --input 0.15 --output 0.60` (USD by
    default) for a program whose trial counted its local cost in EUR; the first the lead heard
    of it was a report, after the period, whose spend avoided was empty. `prices set` says so
    when it records them; prices in the trial's currency draw no warning."""
    cli("init", "Acme", "--lead", "lena")
    lena = Program.open(_isolated)
    try:
        lena.record_fact(
            None, "trial.verdict",
            {"trial": "tickets", "verdict": "proven", "proven_on": ["cheaper"], "quality_ok": True,
             "economics": {"status_quo": "manual", "currency": "EUR",
                           "local": {"currency": "EUR", "watts": 65.0, "price_per_kwh": 0.3,
                                     "hardware_price": 1800.0, "lifetime_hours": 26280.0,
                                     "utilisation": 0.4}}},
            provenance=Provenance.MEASURED, collector="inhouse prove",
        )  # fmt: skip
    finally:
        lena.close()
    usd = " ".join(
        cli("indicators", "prices", "set", "--reference", "hosted-mini", "--input", "0.15",
            "--output", "0.6", "--source", "the price list").split()
    )  # fmt: skip
    assert "warning: play 1's trial counts local cost in EUR, these prices are in USD" in usd
    assert "`--currency EUR`" in usd
    eur = cli("indicators", "prices", "set", "--reference", "hosted-mini", "--input", "0.14",
              "--output", "0.55", "--currency", "eur", "--source", "the price list")  # fmt: skip
    assert "warning" not in eur, eur


def test_naming_a_champion_who_already_said_their_team_asks_nothing_more_of_it(
    world: World,
) -> None:
    """`pilot champions --name pia --team support` told the lead pia counts once she "has
    said" her team, naming `inhouse pilot team support`, when she had said it: only her
    acceptance is left. Where she has not, the command is still named."""
    world.waive()
    world.clock.now = datetime.now(UTC)
    pia = world.enrol("pia", "support")
    world.enrol("bob", "support")
    state_team(pia, "support")
    env = lead_env(world.lead)
    for name in ("pia", "bob"):
        added = runner.invoke(app, ["pilot", "add", name, "--track", "support"], env=env)
        assert added.exit_code == 0, added.output
    named = runner.invoke(
        app, ["pilot", "champions", "--name", "pia", "--team", "support"], env=env
    )
    said = _said(named.stdout)
    assert named.exit_code == 0, named.output
    assert "they already said, with their own key, that they work in support" in said, said
    assert "`inhouse pilot team support`" not in said
    other = runner.invoke(
        app, ["pilot", "champions", "--name", "bob", "--team", "support"], env=env
    )
    assert "(`inhouse pilot team support`)" in _said(other.stdout), other.output


def test_a_gateway_key_on_the_leads_machine_is_named_without_a_riddle(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reason read "the gateway service's key, which lena enrolled from a machine lena
    enrolled from": true of every key lena enrols. What sets the key aside is that lena's own
    key was enrolled from that machine before; the reason says so. The check is unchanged: the
    review is still not counted."""
    from inhouse.program.checks import Outcome
    from inhouse.program.people import PeopleMixin
    from tests.conftest import ENROL_SERVICE_HERE
    from tests.support.test_drift import gateway_review, judge, locked_program

    monkeypatch.setattr(PeopleMixin, "enrol_service", ENROL_SERVICE_HERE)
    program = locked_program(_isolated, clock)
    gateway_review(program)
    result = judge(program, "versions-pinned")
    assert result.outcome is Outcome.INCONCLUSIVE
    assert (
        "which lena enrolled from a machine lena's own key was enrolled from before"
    ) in result.reason, result.reason
    assert "a machine lena enrolled from:" not in result.reason
