"""The usage log's summary tables, read by the rule the gateway's signed figures count by: a
request through a gateway key fetched in a person's name by a signing key that never signed in
as them (:func:`inhouse.program.counting.not_their_fetch`) is nobody's own use.

tests/test_outsider_23.py's forgery: before zoe joins, lena (the rollout lead) invites "zoe",
joins that invitation with a key of her own, fetches zoe's gateway key with it and keeps it; the
real zoe joins, signs in and fetches a key of her own. lena then sends requests through the key
she fetched as "zoe", with carol's library prompt. The gateway's rollup and its prompt use
already count none of them as zoe's own (no ``own``, no ``used_by``); the per-day and per-month
tables its writer keeps (``usage_days``' ``active``, ``usage_people_monthly``) and the per-prompt
sums (``usage_prompts``) counted zoe active on those days, a user of carol's prompt, and its
reuse by a non-author, in ``inhouse prompts usage``, the dashboard's prompts page and, where a
day's signed figures predate ``own``, play 6's indicators.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from inhouse.gateway.keys import fetch_key, grant_key
from inhouse.gateway.rollup import COLLECTOR
from inhouse.identity import SigningKey
from inhouse.indicators import build_report
from inhouse.pilot.library_views import prompt_usage
from inhouse.program import Provenance
from inhouse.program.counting import not_their_fetch
from inhouse.usage import activity_grid, days
from tests.conftest import Clock
from tests.people import sign_in_as, vouch_for_gateway_host
from tests.pilot.world import World, make_world

pytestmark = pytest.mark.usefixtures("on_database")  # the usage log: SQLite and PostgreSQL

NOVEMBER = {"since": "2026-11-01", "until": "2026-11-30"}


@pytest.fixture
def world(_isolated: Path, clock: Clock) -> Iterator[World]:
    """lena's program: carol shares triage and vouches for the gateway's host; zoe has a key of
    her own, and lena one she fetched in zoe's name before zoe joined."""
    clock.now = datetime(2026, 11, 1, 9, tzinfo=UTC)
    made = make_world(_isolated, clock)
    made.waive()
    made.enrol("carol", "platform")
    made.lead.as_service("gateway")
    vouch_for_gateway_host(made.people["carol"])
    made.share_prompt("carol", "triage")
    lena = made.lead
    mine = SigningKey.generate()
    lena.join(str(lena.invite("zoe", team="sales")), mine, at_machine="lena-vm")
    grant_key(lena, None, "zoe")
    _, forged = fetch_key(lena.using(mine))
    lena.revoke_key(mine.key_id)
    zoe = SigningKey.generate()
    lena.join(str(lena.invite("zoe", team="sales")), zoe, at_machine="zoe-laptop")
    sign_in_as(lena.using(zoe))
    made.people["zoe"] = lena.using(zoe)
    clock.now = datetime(2026, 11, 2, 9, tzinfo=UTC)
    made.key("zoe")  # zoe's own fetch, with the key that signed in as her
    made.keys["zoe's own"], made.keys["zoe"] = made.keys["zoe"], forged
    yield made
    made.lead.close()


def _lena_as_zoe(world: World, workflow: str | None = None) -> None:
    """lena, through the key she fetched as zoe, sends carol's triage on the 3rd and 4th."""
    for day in (3, 4):
        when = datetime(2026, 11, day, 10, tzinfo=UTC)
        world.send("zoe", when, prompt="triage@1", workflow=workflow)


def _carol_publishes_the_workflow(world: World) -> None:
    """carol's signed ``workflow.spec`` of ticket-summary: she is its publisher."""
    world.people["carol"].record_fact(
        None, "workflow.spec",
        {"workflow": "ticket-summary", "content_hash": "sha256:0123456789", "author": "carol",
         "model": "tiny", "model_digest": "sha256:" + "0" * 64},
        provenance=Provenance.MEASURED, collector="inhouse workflow test",
    )  # fmt: skip


def test_the_tables_active_days_leave_out_a_key_fetched_in_their_name(world: World) -> None:
    _lena_as_zoe(world)
    state = world.lead.state()
    not_own = not_their_fetch(state)
    assert len(not_own) == 1  # the key lena fetched as zoe
    store = world.lead.store

    # the tables the writer keeps count zoe active on both days...
    assert [(d.day, d.active) for d in days(store, **NOVEMBER)] == [
        ("2026-11-03", 1), ("2026-11-04", 1),
    ]  # fmt: skip
    # ...read by the rule, nobody was: the requests and tokens still count (answered)
    read = days(store, **NOVEMBER, not_own=not_own)
    assert [(d.day, d.active, d.requests) for d in read] == [
        ("2026-11-03", 0, 1), ("2026-11-04", 0, 1),
    ]  # fmt: skip
    grid = activity_grid(store, **NOVEMBER, not_own=not_own)
    assert grid.active_between(date(2026, 11, 1), date(2026, 11, 30)) == set()

    # the honest way: zoe's own key on the 4th and the 6th is her own use
    world.send("zoe's own", datetime(2026, 11, 4, 15, tzinfo=UTC))
    world.send("zoe's own", datetime(2026, 11, 6, 10, tzinfo=UTC))
    read = days(store, **NOVEMBER, not_own=not_own)
    assert [(d.day, d.active, d.requests) for d in read] == [
        ("2026-11-03", 0, 1), ("2026-11-04", 1, 2), ("2026-11-06", 1, 1),
    ]  # fmt: skip
    grid = activity_grid(store, **NOVEMBER, not_own=not_own)
    assert grid.rolling(date(2026, 11, 3), date(2026, 11, 6), width=1) == [0, 1, 0, 1]


def test_unsigned_prompt_use_names_no_user_through_a_key_fetched_in_their_name(
    world: World,
) -> None:
    """`inhouse prompts usage` (and the dashboard's live prompt use) read the per-prompt sums:
    lena's two requests as "zoe" made zoe a user of carol's prompt, and two uses by others."""
    from inhouse.web.pages import prompts_page

    _lena_as_zoe(world)
    (row,) = prompt_usage(world.lead)
    assert (row["prompt"], row["version"], row["uses"]) == ("triage", 1, 2)  # answered
    assert (row["users"], row["uses_by_others"]) == (0, 0)  # nobody's own use
    (shown,) = prompts_page(world.lead)["usage"]
    assert (shown["users"], shown["uses_by_others"]) == (0, 0)

    # what the gateway signs says the same
    world.clock.now = datetime(2026, 11, 4, 23, tzinfo=UTC)
    world.sign()
    signed = [f for f in world.lead.state().facts if f.kind == "prompt.usage"][-1].payload
    assert (signed["uses"], signed["users"], signed["uses_by_others"]) == (2, 0, 0)

    # the honest way: zoe sends it through her own key
    world.send("zoe's own", datetime(2026, 11, 5, 10, tzinfo=UTC), prompt="triage@1")
    (row,) = prompt_usage(world.lead)
    assert (row["uses"], row["users"], row["uses_by_others"]) == (3, 1, 1)


def _indicators(world: World) -> dict[str, float | int | None]:
    world.clock.now = datetime(2026, 12, 2, 9, tzinfo=UTC)
    report = build_report(world.lead, "2026-11")
    names = ("active_users", "dau", "prompt_uses", "prompt_uses_by_non_authors", "prompts_reused",
             "workflow_runs", "workflow_runs_by_non_authors")  # fmt: skip
    return {name: report.value(name) for name in names}


def test_indicators_count_no_one_active_nor_reusing_through_a_key_fetched_in_their_name(
    world: World,
) -> None:
    """A day the gateway signed before its rollup counted ``own`` falls back to the summary
    tables' active days (docs/indicators.md); so do prompt reuse and non-author uses, which no
    signed figure carries. lena's requests as "zoe" made zoe active on the 3rd and carol's
    prompt reused by a non-author, and carol's workflow run by one."""
    _carol_publishes_the_workflow(world)
    _lena_as_zoe(world, workflow="ticket-summary")
    world.clock.now = datetime(2026, 11, 4, 23, tzinfo=UTC)
    world.sign()
    # the 3rd, as an older gateway signed it: zoe's totals, no ``own``
    world.lead.as_service("gateway").record_fact(
        None, "usage.daily",
        {"day": "2026-11-03", "people": {"zoe": {"requests": 1, "tokens_in": 5, "tokens_out": 5}}},
        provenance=Provenance.MEASURED, collector=COLLECTOR,
    )  # fmt: skip
    figures = _indicators(world)
    # the workflow's runs are the signed ones (exit rule 22's): the 3rd, signed as before the
    # rollup counted runs, carries none, and the 4th's one is nobody's own use
    assert figures == {
        "active_users": 0, "dau": 0, "prompt_uses": 2, "prompt_uses_by_non_authors": 0,
        "prompts_reused": 0, "workflow_runs": 1, "workflow_runs_by_non_authors": 0,
    }  # fmt: skip

    # the honest way: zoe uses carol's prompt and workflow through her own key
    world.send("zoe's own", datetime(2026, 11, 5, 10, tzinfo=UTC), prompt="triage@1",
               workflow="ticket-summary")  # fmt: skip
    world.clock.now = datetime(2026, 11, 5, 23, tzinfo=UTC)
    world.sign()
    figures = _indicators(world)
    assert figures["active_users"] == 1 and figures["prompts_reused"] == 1
    assert figures["dau"] == pytest.approx(1 / 30, abs=1e-3)
    assert (figures["prompt_uses"], figures["prompt_uses_by_non_authors"]) == (3, 1)
    # (the 3rd, its runs changed from what was signed, is signed again with its run)
    assert (figures["workflow_runs"], figures["workflow_runs_by_non_authors"]) == (3, 1)


def test_a_person_with_use_of_their_own_the_same_day_stays_active(world: World) -> None:
    """The rule leaves out the key's requests, not the person: zoe's own request on a day lena
    also used the key she fetched as zoe keeps zoe active that day, and a user of the prompt."""
    world.send("zoe", datetime(2026, 11, 3, 9, tzinfo=UTC), prompt="triage@1")
    world.send("zoe's own", datetime(2026, 11, 3, 10, tzinfo=UTC), prompt="triage@1")
    not_own = not_their_fetch(world.lead.state())
    (day,) = days(world.lead.store, **NOVEMBER, not_own=not_own)
    assert (day.active, day.requests) == (1, 2)
    (row,) = prompt_usage(world.lead)
    assert (row["uses"], row["users"], row["uses_by_others"]) == (2, 1, 1)


def test_a_redaction_through_a_key_fetched_in_their_name_is_not_theirs(world: World) -> None:
    """The enablement step "read a redaction" looks for a request of the member's own the data
    rules redacted: lena's, through the key she fetched as zoe, is not zoe's."""
    from inhouse.pilot.evidence import PilotEvidence

    world.send("zoe", datetime(2026, 11, 3, 10, tzinfo=UTC), text="write to ann@example.com")
    assert PilotEvidence(world.lead).redacted("zoe") == []

    # the honest way: zoe's own request is redacted
    world.send("zoe's own", datetime(2026, 11, 3, 11, tzinfo=UTC), text="write to ann@example.com")
    (found,) = PilotEvidence(world.lead).redacted("zoe")
    assert found.actions == ("redact:email",)
