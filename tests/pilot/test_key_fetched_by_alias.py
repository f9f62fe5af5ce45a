"""A gateway key is a person's own once the key that fetched it signed in as them: with the
organisation's sign-in set up, a ``gateway.key.issued`` signed in a colleague's name by a key
that never signed in as that colleague (or signed in with an account that is not theirs now)
holds no days for anyone, and the gateway's figures do not count for them on its strength.

The forgery, the lead's alone: before zoe ever joins, lena invites "zoe", joins that invitation
herself with a key of her own making (on a VM of hers), grants zoe a gateway key and fetches it
with that key (the log holds ``gateway.key.issued`` "signed by zoe"), revokes her key and
invites zoe again, for real. The real zoe joins on her own laptop and signs in but never
fetches a key; the gateway's host (lena's) then signs "zoe's" use, and use beyond the pilot or
zoe's independence rested on a key she never fetched.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from inhouse.gateway.keys import fetch_key, grant_key
from inhouse.gateway.rollup import service_program
from inhouse.identity import SigningKey
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.counting import build_context
from inhouse.program.evaluation import context_for, run_checks
from tests.conftest import Clock
from tests.people import (
    confirm_own_use,
    enrol,
    hold_gateway_key,
    sign_in_as,
    suite_sign_in,
    vouch_for_gateway_host,
)

ROLLUP = "inhouse gateway rollup"


def _waive(lead: Program, *guards: str) -> None:
    for guard in guards:
        lead.grant_waiver(None, guard, reason="executive-decision", note="stands in for plays",
                          expires=lead.clock() + timedelta(days=366))  # fmt: skip


def _as_of_exit(lead: Program, play: str, when: datetime) -> Any:
    """The context every check sees, with ``play`` first exited at ``when`` (stands in for the
    walk to play 5's handoff, which the rule does not depend on)."""
    ctx = build_context(lead.state(), lead.clock())
    return replace(ctx, exited={**ctx.exited, play: (when, lead.state().head_seq)})


def _usage(lead: Program, day: str, *people: str) -> None:
    """The gateway's signed daily usage (the lead runs its host: its word, the known limit)."""
    service_program(lead).record_fact(
        None, "usage.daily",
        {"day": day, "people": {p: {"requests": 7, "tokens_in": 700, "tokens_out": 300}
                                for p in people}},
        provenance=Provenance.MEASURED, collector=ROLLUP,
    )  # fmt: skip


def _lead_fetches_in_the_name_of(
    lead: Program, name: str, team: str, *, account: str | None = None
) -> SigningKey:
    """The forgery's core: lead invites ``name``, joins that invitation with a key of her own,
    fetches ``name``'s gateway key with it (signing in first as ``account`` where given), and
    revokes that key so ``name`` can be invited again."""
    text = lead.invite(name, team=team)
    mine = SigningKey.generate()
    lead.join(str(text), mine, at_machine="lena-vm")
    alias = lead.using(mine)
    if account is not None:
        sign_in_as(alias, account)
    grant_key(lead, None, name)
    fetch_key(alias)  # signed by "name", with the lead's key
    lead.revoke_key(mine.key_id)
    return mine


def _real_zoe_joins(lead: Program) -> SigningKey:
    """zoe joins with a fresh invitation on her own laptop and signs in; she fetches nothing."""
    zoe_key = SigningKey.generate()
    lead.join(str(lead.invite("zoe", team="sales")), zoe_key, at_machine="zoe-laptop")
    sign_in_as(lead.using(zoe_key))
    return zoe_key


def _beyond_the_pilot(lena: Program, zoe: Program | None = None) -> tuple[Outcome, str]:
    """play 5 exits; the gateway (the lead's host) signs zoe's use two days later (and ``zoe``,
    where given, confirms it with her own key)."""
    exit_at = lena.clock() + timedelta(days=1)
    lena.clock.now += timedelta(days=3)  # type: ignore[attr-defined]
    _usage(lena, (lena.clock() - timedelta(days=1)).date().isoformat(), "zoe")
    if zoe is not None:
        confirm_own_use(zoe)
    result = evaluate("use-beyond-pilot", _as_of_exit(lena, "support", exit_at))
    return result.outcome, result.reason


def _program(folder: Path, clock: Clock) -> Program:
    """lena's program, plays 1-5 waived; pia uses the gateway and vouches for its host."""
    clock.now = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
    lena = Program.init(folder, "Acme", "lena", team="platform", clock=clock)
    _waive(lena, "scaling-before-proving", "skipping-play-five")
    pia = enrol(lena, "pia", team="ops", roles=["pilot-user"])
    service_program(lena)
    vouch_for_gateway_host(pia)
    return lena


def test_a_gateway_key_the_lead_fetched_under_a_colleagues_name_makes_no_use_beyond_the_pilot(
    _isolated: Path, clock: Clock
) -> None:
    """use-beyond-pilot does not pass on zoe, who signed in and never fetched a gateway key:
    the fetch in her name was signed by a key that never signed in, and the usage the gateway
    signs for her is said to be nobody's own key's."""
    lena = _program(_isolated, clock)
    forged = _lead_fetches_in_the_name_of(lena, "zoe", team="sales")
    zoe_key = _real_zoe_joins(lena)
    issued = next(e for e in lena.events() if e.kind == "gateway.key.issued")
    assert (issued.actor, issued.signer) == ("zoe", forged.key_id)

    outcome, reason = _beyond_the_pilot(lena)
    assert outcome is not Outcome.PASS, reason
    keyless = [u.why for u in build_context(lena.state(), lena.clock()).uncounted
               if u.fact.kind == "usage.daily"]  # fmt: skip
    assert keyless and keyless[0].startswith("not counted for zoe, who held no gateway key of")

    # control: zoe fetches a key of her own, with the key that signed in as her: it counts
    grant_key(lena, None, "zoe")
    fetch_key(lena.using(zoe_key))
    outcome, reason = _beyond_the_pilot(lena, lena.using(zoe_key))
    assert outcome is Outcome.PASS, reason
    lena.close()


def test_a_fetch_by_a_key_signed_in_as_the_colleague_with_another_account_counts_nothing(
    _isolated: Path, clock: Clock
) -> None:
    """The same forgery with the lead's alias signed in as zoe, with an account that is not the
    one zoe signs in with (the binding is released when the alias's key is revoked): a fetch
    counts under the account its person holds now, so it is not zoe's."""
    lena = _program(_isolated, clock)
    _lead_fetches_in_the_name_of(lena, "zoe", team="sales", account="u-lenas-spare")
    _real_zoe_joins(lena)
    assert lena.state().signed_in["zoe"].subject == "u-zoe"

    outcome, reason = _beyond_the_pilot(lena)
    assert outcome is not Outcome.PASS, reason
    lena.close()


def test_a_gateway_key_the_lead_fetched_under_a_members_name_makes_her_no_independent_user(
    _isolated: Path, clock: Clock
) -> None:
    """The same forgery at play 4's exit: pilot-independent-use does not pass on zoe, a pilot
    member who signed in and never fetched a gateway key, on the gateway's adoption report (the
    lead's host) that calls her independent."""
    clock.now = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    _waive(lena, "scaling-before-proving")
    pia = enrol(lena, "pia", team="ops")
    service_program(lena)
    vouch_for_gateway_host(pia)

    _lead_fetches_in_the_name_of(lena, "zoe", team="sales")
    _real_zoe_joins(lena)
    lena.change_roles(None, "zoe", add=["pilot-user"])
    lena.record_fact(None, "pilot.member", {"person": "zoe", "track": "support",
                                            "action": "added"},
                     provenance=Provenance.MEASURED, collector="inhouse pilot")  # fmt: skip

    clock.now = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
    service_program(lena).record_fact(
        None, "pilot.adoption",
        {"as_of": "2026-10-20", "window_days": 28, "min_days": 3,
         "members": [{"person": "zoe", "active_days": 12, "independent": True}]},
        provenance=Provenance.MEASURED, collector="inhouse pilot adoption",
    )  # fmt: skip
    refs = [r for r in lena.playbook.play("pilot").exit if r.check == "pilot-independent-use"]
    (checked,) = run_checks(refs, context_for(lena.state(), lena.clock()))
    assert checked.result.outcome is not Outcome.PASS, checked.result.reason
    lena.close()


def test_a_key_fetched_before_the_sign_in_counts_once_the_same_key_signs_in(
    _isolated: Path, clock: Clock
) -> None:
    """An honest program that set up the sign-in late: bob fetched his gateway key before it
    existed. His use counts for him once the key that fetched it signs in as him, and from
    the day he fetched it; until then, with the sign-in set up, it is nobody's."""
    clock.now = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    bob = enrol(lena, "bob", team="ops", signed_in=False)
    hold_gateway_key(lena, bob)  # 1 September, no sign-in yet
    assert lena.state().sign_in is None

    clock.now = datetime(2026, 9, 10, 9, 0, tzinfo=UTC)
    assert suite_sign_in(lena)  # lena sets it up and signs in
    pia = enrol(lena, "pia", team="ops")
    service_program(lena)
    vouch_for_gateway_host(pia)
    _usage(lena, "2026-09-05", "bob")
    confirm_own_use(bob)  # his own word on the day, which counts once his key signs in too

    def counted() -> list[str]:
        ctx = build_context(lena.state(), lena.clock())
        return [p for f in ctx.facts.of("usage.daily") for p in f.payload["people"]]

    assert counted() == []  # bob's key has not signed in: nobody is told apart from lena
    sign_in_as(bob)
    assert counted() == ["bob"]
    lena.close()
