"""The outsider, round 23: plays 4 to 6, the rollout lead alone, through a gateway key she
fetched in a colleague's name.

tests/pilot/world.py's program (lena leads; bob and pia, signed in with accounts of their own,
are the pilot; carol shares the library's ``triage`` prompt and vouches for the gateway's host),
with requests sent through the real gateway. lena does not hold the gateway host's key.

The forgery's core is tests/pilot/test_key_fetched_by_alias.py's: before zoe joins, lena
invites "zoe", joins that invitation with a key of her own making, has a gateway key granted
to zoe and fetches it with that key, then revokes it and invites zoe again, for real. The real
zoe joins on her laptop and signs in, and never fetches a gateway key. The gateway serves the
key lena holds as zoe's, and its rows say zoe. The checks count the gateway's figures only for
people who fetched a key of their own (:func:`inhouse.program.counting._for_key_holders`):
zoe's usage days, her adoption row and her name among a prompt version's ``people`` are trimmed.

What the walk found: ``prompt.usage`` also says, since the gateway signs each person's own last
use of a version (``used_by``), who used it through a key of their own, and that is what
findings-fed-back and pilot-enabled read; the trim left it alone. lena published a fix to
pia's finding on the triage prompt, sent it through the key she holds in zoe's name, and the
finding closed "confirmed by" zoe, who never saw it (closed: ``used_by`` is trimmed to the
people who held a key of their own on the day it names for them). And the trim is per person
and day, not per key: once the real zoe fetched a key of her own (whether she uses it or not),
every request lena sent through the key she fetched in zoe's name was zoe's own use (her days
in ``usage.daily``, her active days in the adoption report, her use of a prompt), so zoe was
in real use, independent, heard in a survey (closed: the gateway counts a request through a
key whose fetch was not its person's as nobody's own use, as an agent's).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from inhouse.gateway.keys import fetch_key, grant_key
from inhouse.identity import SigningKey
from inhouse.indicators.findings import open_finding
from inhouse.pilot.library import new_version
from inhouse.program import Provenance
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.counting import build_context
from inhouse.program.evaluation import context_for
from inhouse.program.facts import Fact, own_requests, prompt_users
from tests.conftest import Clock
from tests.people import sign_in_as, vouch_for_gateway_host
from tests.pilot.world import PROMPT, World, make_world

pytestmark = pytest.mark.usefixtures("on_database")  # the usage log: SQLite and PostgreSQL

#: the fix lena publishes for pia's finding: a real change to what the model is sent
FIX = PROMPT.replace("Ticket:", "Ticket (with its floor):")


@pytest.fixture
def world(_isolated: Path, clock: Clock) -> Iterator[World]:
    """lena's program: carol shares triage and vouches for the gateway's host; pia is a
    colleague signed in with her own account. Play 5 is taken as done (skipping play five
    waived): what is at stake here is play 6."""
    clock.now = datetime(2026, 11, 1, 9, tzinfo=UTC)
    made = make_world(_isolated, clock)
    made.waive()
    made.lead.grant_waiver(
        None, "skipping-play-five", reason="time-boxed-experiment",
        note="play 5's walk is not this test's", expires=clock() + timedelta(days=120),
    )  # fmt: skip
    made.enrol("carol", "platform")
    made.lead.as_service("gateway")
    vouch_for_gateway_host(made.people["carol"])
    made.share_prompt("carol", "triage")
    made.enrol("pia", "legal")
    yield made
    made.lead.close()


def _key_fetched_in_zoes_name(world: World) -> None:
    """The forgery's core: lena invites "zoe", joins it with a key of hers from a VM of hers,
    fetches zoe's gateway key with it (she keeps it), and revokes that signing key; the real
    zoe then joins on her own laptop and signs in, and fetches nothing."""
    lena = world.lead
    mine = SigningKey.generate()
    lena.join(str(lena.invite("zoe", team="sales")), mine, at_machine="lena-vm")
    grant_key(lena, None, "zoe")
    _, world.keys["zoe"] = fetch_key(lena.using(mine))
    lena.revoke_key(mine.key_id)
    zoe = SigningKey.generate()
    lena.join(str(lena.invite("zoe", team="sales")), zoe, at_machine="zoe-laptop")
    sign_in_as(lena.using(zoe))
    world.people["zoe"] = lena.using(zoe)


def _signed_use(world: World) -> Fact:
    """The gateway's latest signed ``prompt.usage``, as the checks count it."""
    ctx = build_context(world.lead.state(), world.lead.clock())
    return [f for f in ctx.facts.of("prompt.usage") if f.by == "gateway"][-1]


def test_a_fix_sent_through_a_key_she_fetched_in_a_colleagues_name_confirms_nothing(
    world: World,
) -> None:
    """pia finds triage ignores the floor a ticket names; lena publishes triage@2 closing it and
    sends it through the gateway key she fetched as "zoe". The gateway's signed use names zoe
    as its own-key user; the checks count none of it: zoe held no gateway key of her own."""
    _key_fetched_in_zoes_name(world)
    world.clock.now = datetime(2026, 11, 3, 9, tzinfo=UTC)
    found = open_finding(world.people["pia"], "triage ignores the floor", target="prompt:triage")
    new_version(world.lead, "triage", FIX, where="triage.yaml", closes=[found.id])
    world.send("zoe", datetime(2026, 11, 4, 10, tzinfo=UTC), prompt="triage@2")
    world.clock.now = datetime(2026, 11, 4, 23, tzinfo=UTC)
    world.sign()

    raw = [f for f in world.lead.state().facts if f.kind == "prompt.usage"][-1]
    assert raw.payload["people"] == ["zoe"]  # the key's person, as the gateway serves it...
    assert raw.payload["used_by"] == {}  # ...but no use of her own: lena fetched that key
    result = evaluate("findings-fed-back", context_for(world.lead.state(), world.lead.clock()))
    assert result.outcome is Outcome.FAIL, result.reason
    assert "confirmed by" not in result.reason

    # the same figure as a gateway that says zoe used it herself (an older gateway, or its
    # host's typing): the checks hold used_by to the days zoe held a key of her own, as its
    # people, and she held none
    world.lead.as_service("gateway").record_fact(
        None, "prompt.usage", {**raw.payload, "used_by": {"zoe": "2026-11-04"}},
        provenance=Provenance.MEASURED, collector="inhouse pilot adoption",
    )  # fmt: skip
    used = _signed_use(world)
    assert used.payload["people"] == []  # trimmed before this round
    assert prompt_users(used, "2026-11-01") == []  # and now what the checks read, too
    result = evaluate("findings-fed-back", context_for(world.lead.state(), world.lead.clock()))
    assert result.outcome is Outcome.FAIL, result.reason
    assert "confirmed by" not in result.reason

    # the honest way: pia (who opened it) takes the fix into her own hands, with a key she
    # fetched herself
    world.key("pia")
    world.send("pia", datetime(2026, 11, 5, 10, tzinfo=UTC), prompt="triage@2")
    world.clock.now = datetime(2026, 11, 5, 23, tzinfo=UTC)
    world.sign()
    assert prompt_users(_signed_use(world), "2026-11-01") == ["pia"]
    result = evaluate("findings-fed-back", context_for(world.lead.state(), world.lead.clock()))
    assert result.outcome is Outcome.PASS, result.reason
    assert "confirmed by pia's use through the gateway" in result.reason


def _counted_days(world: World, person: str) -> dict[str, int]:
    """``person``'s own-key requests per day, as the checks count the gateway's signed days."""
    ctx = build_context(world.lead.state(), world.lead.clock())
    found: dict[str, int] = {}
    for fact in ctx.facts.of("usage.daily"):
        if (own := own_requests(fact, person)) is not None:
            found[str(fact.payload["day"])] = own
    return found


def test_a_key_she_fetched_in_a_colleagues_name_is_not_theirs_once_they_fetch_one(
    world: World,
) -> None:
    """The same forgery, after the real zoe fetches a gateway key of her own (as any colleague
    let in does, whether she uses it or not): the checks hold the gateway's figures to the days
    zoe held a key of her own, which she now does, so the requests lena sends through the key
    she fetched as zoe were zoe's "own" use on three days (zoe in real use beyond the pilot,
    independent in the pilot, heard in its survey). The gateway tells the keys apart: requests
    through a key whose fetch was signed by a key that never signed in as its person are not
    that person's own (the totals still count them: they were answered)."""
    _key_fetched_in_zoes_name(world)
    forged = world.keys.pop("zoe")
    world.clock.now = datetime(2026, 11, 2, 9, tzinfo=UTC)
    world.key("zoe")  # zoe's own fetch, with the key that signed in as her
    world.keys["zoe's own"], world.keys["zoe"] = world.keys["zoe"], forged
    for day in (3, 4, 5):
        world.send("zoe", datetime(2026, 11, day, 10, tzinfo=UTC))  # lena, with the forged key
    world.clock.now = datetime(2026, 11, 5, 23, tzinfo=UTC)
    world.sign()
    assert _counted_days(world, "zoe") == {"2026-11-03": 0, "2026-11-04": 0, "2026-11-05": 0}
    raw = [f for f in world.lead.state().facts if f.kind == "usage.daily"][-1]
    assert raw.payload["people"]["zoe"]["requests"] == 1  # answered: the totals count it

    # the honest way: zoe's own key, on a day of her own, is her own use
    world.send("zoe's own", datetime(2026, 11, 6, 10, tzinfo=UTC))
    world.clock.now = datetime(2026, 11, 6, 23, tzinfo=UTC)
    world.sign()
    assert _counted_days(world, "zoe")["2026-11-06"] == 1


def test_the_tables_local_views_read_count_her_use_as_the_gateways_rollup_does(
    world: World,
) -> None:
    """The same forgery, zoe in the pilot: the gateway's rollup counts the requests lena sends
    through the key she fetched as zoe as nobody's own use, but the usage log's summary tables
    (what `inhouse survey answer`'s pre-check, the adoption report without the gateway's key,
    the pilot's evidence and the dashboard read) counted them as zoe's: the pre-check told
    zoe she could answer on two days of use play 4's check does not count."""
    from inhouse.gateway.rollup import gateway_seal
    from inhouse.pilot.adoption import adoption_report
    from inhouse.pilot.enablement import progress
    from inhouse.pilot.evidence import PilotEvidence
    from inhouse.pilot.roster import add_member
    from inhouse.pilot.survey import eligibility

    _key_fetched_in_zoes_name(world)
    forged = world.keys.pop("zoe")
    world.clock.now = datetime(2026, 11, 2, 9, tzinfo=UTC)
    world.key("zoe")  # zoe's own fetch, with the key that signed in as her
    world.keys["zoe's own"], world.keys["zoe"] = world.keys["zoe"], forged
    add_member(world.lead, "zoe", track="legal")
    for day in (3, 4):
        world.send("zoe", datetime(2026, 11, day, 10, tzinfo=UTC))  # lena, with the forged key
    world.clock.now = datetime(2026, 11, 4, 23, tzinfo=UTC)
    world.sign()
    assert _counted_days(world, "zoe") == {"2026-11-03": 0, "2026-11-04": 0}  # the rollup's

    zoe = world.people["zoe"]
    said = eligibility(zoe)
    assert said.active_days == 0 and not said.eligible, said.reason
    assert "zoe used it on 0 days" in said.reason
    local = {m.person: m for m in adoption_report(world.lead).members}["zoe"]
    signed = adoption_report(world.lead, mac_key=gateway_seal(world.lead))
    assert local.active_days == 0 and local.last_active is None
    assert {m.person: m for m in signed.members}["zoe"].active_days == 0  # they agree
    assert PilotEvidence(world.lead).answered_days("zoe") == []
    # and her first step says what is true: no agent key was ever granted her
    (track,) = progress(zoe, "zoe")
    assert track.steps[0].detail.startswith(
        "the gateway signed requests of yours only through a key not your own (an agent's, or "
        "one fetched in your name by a key that never signed in as you), on 2026-11-03, "
        "2026-11-04"
    ), track.steps[0].detail

    # the honest way: zoe's own key on two days of her own is her own use, everywhere
    for day in (5, 6):
        world.send("zoe's own", datetime(2026, 11, day, 10, tzinfo=UTC))
    world.clock.now = datetime(2026, 11, 6, 23, tzinfo=UTC)
    world.sign()
    said = eligibility(zoe)
    assert said.active_days == 2 and said.eligible, said.reason
    local = {m.person: m for m in adoption_report(world.lead).members}["zoe"]
    assert local.active_days == 2 and str(local.last_active) == "2026-11-06"
    assert PilotEvidence(world.lead).answered_days("zoe") == ["2026-11-05", "2026-11-06"]
