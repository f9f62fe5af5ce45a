"""A place in the pilot is access, not a label: the pilot is no bigger than the playbook's
``pilot-size`` maximum however a lead shuffles it, before play 5 exits.

The forgeries, each by the lead alone: churn a listed pilot (list someone, key them, take
them out, list the next: every key stays open, so a pilot of ten lets any number through),
or never list it (give the pilot-user role, or just a key, to one person after another). The
honest paths beside them: ``inhouse pilot remove`` takes access back, a waiver or play 5's
exit lets it stay, and a place freed by revoking is taken again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from inhouse.errors import AntiPattern
from inhouse.gateway.keys import grant_key, issue_key, list_keys, refused_keys, revoke_key
from inhouse.pilot.roster import add_member, remove_member
from inhouse.program import Program, Provenance
from inhouse.program.events import EventKind
from inhouse.program.playbook import Reach
from tests.conftest import Clock
from tests.people import enrol
from tests.pilot.test_play_four_walk import TRACK

pytestmark = pytest.mark.usefixtures("on_database")


@pytest.fixture
def lena(_isolated: Path, clock: Clock) -> Iterator[Program]:
    """A rollout lead whose program lets a pilot in early (a scaling-before-proving waiver):
    plays 1 to 5 have not exited, so access beyond the pilot is held back."""
    lead = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    (lead.folder / "enablement").mkdir(exist_ok=True)
    (lead.folder / "enablement" / "everyone.yaml").write_text(TRACK, encoding="utf-8")
    lead.grant_waiver(
        None,
        "scaling-before-proving",
        reason="time-boxed-experiment",
        note="a pilot before play 3 exits, for this test",
        expires=clock.now + timedelta(days=30),
    )
    yield lead
    lead.close()


def _keyed(lead: Program, name: str, team: str, *, roles: list[str] | None = None) -> Program:
    """``name`` enrolled on a machine of their own, holding a gateway key they fetched."""
    person = enrol(lead, name, team=team, roles=roles or [])
    issue_key(lead, None, name, holder=person)
    return person


def _listed(lead: Program, name: str, team: str) -> Program:
    """``name`` added to the pilot (`inhouse pilot add`), then keyed."""
    person = enrol(lead, name, team=team)
    add_member(lead, name, track="everyone")
    issue_key(lead, None, name, holder=person)
    return person


def _served(lead: Program, name: str) -> bool:
    """Whether the gateway serves ``name``'s keys, as a fresh fold of the log judges them."""
    fresh = Program.open(lead.folder, clock=lead.clock)
    try:
        refused = {r.key.id for r in refused_keys(fresh)}
    finally:
        fresh.close()
    mine = [k for k in list_keys(lead.store, include_revoked=False) if k.person == name]
    assert mine, f"{name} holds no active key row"
    return all(k.id not in refused for k in mine)


def _take_out_around_the_api(lead: Program, name: str) -> None:
    """What a script does with the lead's key: the role and the listing gone, the key kept."""
    person = lead.state().people[name]
    lead._append(
        EventKind.PERSON_CHANGED,
        "lena",
        {"name": name, "email": person.email, "team": person.team, "roles": []},
    )
    lead.record_fact(
        None,
        "pilot.member",
        {"person": name, "track": "everyone", "action": "removed"},
        provenance=Provenance.MEASURED,
        collector="inhouse pilot",
    )


def test_churning_a_listed_pilot_leaves_no_key_open_beyond_it(lena: Program) -> None:
    """pia is listed and keyed, then taken out around the API (the API refuses it while her key
    is open); her place goes to zoe. pia's key, granted inside the pilot, would now reach beyond
    it: every fold holds that back, the gateway refuses her key, and status says so."""
    _listed(lena, "pia", "legal")
    with pytest.raises(AntiPattern) as refused:
        lena.change_roles(None, "pia", remove=["pilot-user"])
    assert refused.value.guard == "skipping-play-five"
    assert "take pia out of the pilot" in str(refused.value)
    assert _served(lena, "pia")

    _take_out_around_the_api(lena, "pia")
    _listed(lena, "zoe", "sales")
    assert not _served(lena, "pia")
    assert _served(lena, "zoe")
    [reason] = [r.reason for r in refused_keys(lena) if r.key.person == "pia"]
    assert "pia left the pilot at event" in reason
    assert "inhouse waiver grant skipping-play-five" in reason
    assert any("take pia out of the pilot" in w for w in lena.status()["warnings"])


def test_a_key_kept_out_of_the_pilot_is_served_once_a_waiver_puts_it_on_the_record(
    lena: Program, clock: Clock
) -> None:
    _listed(lena, "zoe", "sales")
    _listed(lena, "pia", "legal")
    _take_out_around_the_api(lena, "pia")
    assert not _served(lena, "pia")
    lena.grant_waiver(
        None,
        "skipping-play-five",
        reason="executive-decision",
        note="pia keeps her key while she moves team",
        expires=clock.now + timedelta(days=7),
    )
    assert _served(lena, "pia")
    assert not any("take pia out of the pilot" in w for w in lena.status()["warnings"])


def test_pilot_remove_takes_access_back_before_play_five(lena: Program) -> None:
    """The honest path: `inhouse pilot remove` revokes her key and withdraws a grant she has not
    fetched; nothing is held back, and her place is free for the next."""
    pia = _listed(lena, "pia", "legal")
    grant_key(lena, None, "pia")  # a second key, not fetched yet
    member, closed = remove_member(lena, "pia")
    assert member is not None and member.person == "pia"
    assert len(closed) == 2
    assert any("revoked" in c for c in closed) and any("withdrawn" in c for c in closed)
    assert [k for k in list_keys(lena.store, include_revoked=False) if k.person == "pia"] == []
    assert lena.state().unwaived_reach() == []
    from inhouse.errors import InvalidInput
    from inhouse.gateway.keys import fetch_key

    with pytest.raises(InvalidInput, match="no gateway key is waiting for pia"):
        fetch_key(pia)


def test_pilot_remove_keeps_access_a_waiver_lets_beyond_the_pilot(
    lena: Program, clock: Clock
) -> None:
    _listed(lena, "pia", "legal")
    lena.grant_waiver(
        None,
        "skipping-play-five",
        reason="executive-decision",
        note="the department starts before support is in place",
        expires=clock.now + timedelta(days=7),
    )
    _, closed = remove_member(lena, "pia")
    assert closed == []
    assert _served(lena, "pia")


def test_a_pilot_never_listed_is_no_bigger_than_its_size(lena: Program) -> None:
    """With no list, the first people let in are the pilot, up to the playbook's maximum (ten):
    the eleventh key reaches beyond it. Before, a lead could key a whole department as "the
    first people let in" with only scaling before proving asked."""
    for n in range(10):
        _keyed(lena, f"p{n}", f"team{n % 3}")
    enrol(lena, "extra", team="sales")
    assert lena.reach_of("extra") is Reach.BEYOND_PILOT
    with pytest.raises(AntiPattern) as refused:
        grant_key(lena, None, "extra")
    assert refused.value.guard == "skipping-play-five"
    # appended around the API, every fold holds it back
    lena.log_event("gateway.key.granted", {"grant": "g_extra", "person": "extra", "agent": None,
                                           "limits": {}, "waivers": []})  # fmt: skip
    fresh = Program.open(lena.folder, clock=lena.clock)
    try:
        [held] = fresh.state().unwaived_reach()
        assert held[0].action == "grant a gateway key to extra (beyond-pilot)"
    finally:
        fresh.close()


def test_pilot_users_never_listed_are_no_more_than_its_size(lena: Program) -> None:
    """The role is given through scaling before proving alone; a key for the eleventh holder
    reaches beyond the pilot."""
    for n in range(11):
        enrol(lena, f"u{n}", team=f"team{n % 3}", roles=["pilot-user"])
    assert lena.reach_of("u9") is Reach.PILOT
    assert lena.reach_of("u10") is Reach.BEYOND_PILOT
    with pytest.raises(AntiPattern) as refused:
        grant_key(lena, None, "u10")
    assert refused.value.guard == "skipping-play-five"


def test_in_a_pilot_never_listed_a_place_is_freed_by_revoking_not_by_a_label(
    lena: Program,
) -> None:
    """Taking the role from a keyed pilot user frees no place while her key is open; revoking
    it does, and the next is let in."""
    for n in range(10):
        _keyed(lena, f"u{n}", f"team{n % 3}", roles=["pilot-user"])
    lena.change_roles(None, "u0", remove=["pilot-user"])  # no list: the API does not ask
    enrol(lena, "next", team="sales", roles=["pilot-user"])
    assert lena.reach_of("next") is Reach.BEYOND_PILOT
    [key] = [k for k in list_keys(lena.store, include_revoked=False) if k.person == "u0"]
    revoke_key(lena, None, key.id)
    assert lena.reach_of("next") is Reach.PILOT


def test_a_removal_by_an_older_event_kind_or_an_import_is_judged_too(lena: Program) -> None:
    """The churn again, by routes the API still writes or the fold still takes: an older
    person.added keeping pia with no role, and her removal sealed in an envelope and imported
    (`inhouse evidence import`). Each names pia, so the fold judges it."""
    from inhouse.identity import fact_predicate_type, seal
    from inhouse.program.facts import FACT_KINDS

    _listed(lena, "zoe", "sales")
    _listed(lena, "pia", "legal")
    _listed(lena, "ada", "ops")
    person = lena.state().people["pia"]
    older = {"name": "pia", "email": person.email, "team": person.team, "roles": []}
    lena._append(EventKind.PERSON_ADDED, "lena", older)
    assert not _served(lena, "pia")
    removal = {"kind": "pilot.member", "version": FACT_KINDS["pilot.member"].version,
               "provenance": Provenance.MEASURED.value, "collector": "inhouse pilot",
               "payload": {"person": "ada", "track": "everyone", "action": "removed"}}  # fmt: skip
    envelope = seal(lena.key, program_id=lena.state().program_id,
                    predicate_type=fact_predicate_type("pilot.member",
                                                       FACT_KINDS["pilot.member"].version),
                    predicate={"fact": removal, "at": lena.clock().isoformat(),
                               "machine": "lena-laptop"})  # fmt: skip
    lena.import_evidence([envelope])
    assert not _served(lena, "ada")
    assert _served(lena, "zoe")


def test_the_first_listing_keeps_the_places_of_those_let_in_before_it(lena: Program) -> None:
    """Honest: three pilot users keyed before anyone was listed, and the first people let in;
    the lead then lists with `inhouse pilot add`. Their keys stay served, and they count
    toward the pilot's size."""
    from inhouse.program.guards import pilot_list

    for n in range(3):
        _keyed(lena, f"u{n}", f"team{n}", roles=["pilot-user"])
    _listed(lena, "q", "sales")
    assert all(_served(lena, f"u{n}") for n in range(3))
    assert pilot_list(lena.state(), lena.playbook) == {"u0", "u1", "u2", "q"}
    assert not any("out of the pilot" in w for w in lena.status()["warnings"])


def test_listed_once_a_pilot_stays_listed(lena: Program) -> None:
    """Emptying the list frees places, not reach: pia, taken out as its only member, does not
    fall back into a pilot never listed, where her key would hold a place."""
    _listed(lena, "pia", "legal")
    _take_out_around_the_api(lena, "pia")
    assert lena.reach_of("pia") is Reach.BEYOND_PILOT
    assert not _served(lena, "pia")


def test_listed_again_a_member_is_served_again(lena: Program) -> None:
    _listed(lena, "zoe", "sales")
    _listed(lena, "pia", "legal")
    _take_out_around_the_api(lena, "pia")
    assert not _served(lena, "pia")
    lena.change_roles(None, "pia", add=["pilot-user"])
    add_member(lena, "pia", track="everyone")  # back, with a place
    assert _served(lena, "pia")


def test_co_leads_take_places_in_the_pilot(lena: Program) -> None:
    """A lead makes colleagues her co-leads and keys them: a rollout lead who owns no play is
    inside only with a place, as a pilot user is, so the eleventh key reaches beyond the pilot
    (before, leads took no place, and a department of co-leads skipped play five)."""
    for n in range(10):
        _keyed(lena, f"c{n}", f"team{n % 3}", roles=["rollout-lead"])
    enrol(lena, "c10", team="sales", roles=["rollout-lead"])
    assert lena.reach_of("c10") is Reach.BEYOND_PILOT
    with pytest.raises(AntiPattern) as refused:
        grant_key(lena, None, "c10")
    assert refused.value.guard == "skipping-play-five"
    assert lena.reach_of("lena") is Reach.PILOT  # the program's own lead takes no place


def test_a_listing_signed_before_its_signer_led_takes_no_place(lena: Program) -> None:
    """The forgery: mira, no lead yet, lists zed with a ``pilot.member`` fact written around
    `inhouse pilot add` (which refuses her); lena then makes mira a co-lead. A role given later
    does not reach back over it: zed, given the pilot-user role, is beyond the listed pilot,
    as play 4's checks count him out. The honest path: a lead adds him."""
    from inhouse.program.guards import pilot_list, reach_of

    mira = enrol(lena, "mira", team="ops")
    _listed(lena, "bob", "support")
    enrol(lena, "zed", team="ops")
    payload = {"person": "zed", "track": "everyone", "action": "added", "team": "ops"}
    mira.record_fact(None, "pilot.member", payload, provenance=Provenance.MEASURED,
                     collector="inhouse pilot")  # fmt: skip
    lena.change_roles(None, "mira", add=["rollout-lead"])
    lena.change_roles(None, "zed", add=["pilot-user"])
    state = lena.state()
    assert pilot_list(state, lena.playbook) == {"bob"}
    assert reach_of(lena.playbook, state, "zed") is Reach.BEYOND_PILOT
    add_member(lena, "zed", track="everyone")
    state = lena.state()
    assert pilot_list(state, lena.playbook) == {"bob", "zed"}
    assert reach_of(lena.playbook, state, "zed") is Reach.PILOT
