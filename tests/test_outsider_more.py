"""The outsider, again: paths through plays 1 to 4 that tests/test_outsider.py's walk does not try.

Same lena as there (tests/test_outsider.py: one laptop, one account at the organisation's
identity provider, full control of her machine, the program folder, its database file and the
Python API; she leads the program and owns its plays). Where a walk needs one real colleague
beside her (a pilot needs members the sign-in tells apart), that colleague only does what a
passive member does: signs in once, and maybe answers a survey as they really feel. Every
"yes" the walk counts on is hers.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from inhouse.identity.signin import nonce_for
from inhouse.program import Program, Provenance
from inhouse.program.evaluation import context_for, run_checks
from inhouse.program.events import EventKind
from inhouse.testing.standin_idp import StandinIdP
from tests.test_engine import COLLECTOR
from tests.test_outsider import (  # noqa: F401
    _alias,
    _her_token,
    _waive,
    clock,
    lena,
    lend_her_account,
)
from tests.test_sign_in import _sign_in

pytestmark = pytest.mark.own_sign_in


def _judge(program: Program, check: str) -> tuple[str, str]:
    refs = [ref for play in program.playbook.plays for ref in play.exit if ref.check == check]
    (checked,) = run_checks(refs[:1], context_for(program.state(), program.clock()))
    return checked.result.outcome.value, checked.result.reason


def _judge_trigger(program: Program, check: str) -> tuple[str, str]:
    refs = [ref for play in program.playbook.plays for ref in play.trigger if ref.check == check]
    (checked,) = run_checks(refs[:1], context_for(program.state(), program.clock()))
    return checked.result.outcome.value, checked.result.reason


def _list(lead: Program, *people: str) -> None:
    """The lead lists ``people`` in the pilot, as `inhouse pilot add` records it."""
    for person in people:
        lead.record_fact(
            None,
            "pilot.member",
            {"person": person, "track": "support", "action": "added"},
            provenance=Provenance.MEASURED,
            collector="inhouse pilot",
        )


def _answer(person: Program, name: str, *, keen: bool, survey: str = "ellis-1") -> None:
    """``name``'s answer to the survey, signed with their key (the fact `inhouse survey answer`
    records, written through the API without its eligibility test)."""
    person.record_fact(
        None,
        "survey.response",
        {"person": name, "would_resist_losing": keen, "survey": survey,
         "answer": "very" if keen else "not", "benefit": ""},
        provenance=Provenance.MEASURED,
        collector="inhouse survey",
    )  # fmt: skip


# -- play 4: her one account, lent to the pilot's "members" in turn --------------------------------


@pytest.mark.usefixtures("log_before_team_reading")
def test_her_account_lent_to_pilot_aliases_answers_no_survey(
    lena: Program,  # noqa: F811
    idp: StandinIdP,
) -> None:
    """The pilot holds one real colleague, bob (signed in with his own account, who says he
    would not miss the tool), and three aliases of lena's, listed beside him. lena opens the
    survey, then lends her one account to each alias in turn (she revokes the key that signed
    in from a second key of hers, the alias signs in with the freed account and answers "very
    disappointed", she revokes the alias's key) and takes it back. A released member is counted
    as gone from the pilot, with the answer they gave while signed in (so that revoking a
    detractor's key after reading their answer drops nothing); but these three were never
    anyone but lena: their answers are hers, and the pilot's only voice is bob's."""
    _waive(lena, "scaling-before-proving")
    bob = _alias(lena, "bob", "support")
    _sign_in(bob, idp, "u-bob")
    aliases = {name: _alias(lena, name, team) for name, team in
               (("pia", "legal"), ("dan", "finance"), ("eve", "sales"))}  # fmt: skip
    for name in ("bob", *aliases):
        lena.change_roles(None, name, add=["pilot-user"])
    _list(lena, "bob", *aliases)
    lena.record_fact(
        None,
        "survey.opened",
        {"survey": "ellis-1", "closes": (lena.clock() + timedelta(days=14)).isoformat()},
        provenance=Provenance.MEASURED,
        collector="inhouse survey",
    )
    _answer(bob, "bob", keen=False)
    names = {alias.key.key_id: name for name, alias in aliases.items()}
    back = lend_her_account(
        lena,
        idp,
        lambda _: aliases.values(),
        lambda alias: _answer(alias, names[alias.key.key_id], keen=True),
    )
    outcome, reason = _judge(back, "pilot-would-resist-losing")
    assert outcome == "fail", reason
    # bob's own answer is not counted either here: no use of his is signed by a gateway
    # (tests/test_outsider_18.py); the aliases' are not counted as lena's
    assert "dan, eve, pia, released since, signed in with an account lena held" in reason, reason
    assert "would be very disappointed" not in reason, reason
    # a program whose play 4 exited on such answers (before they had to come from an account
    # of their own) keeps its exit, and the reason says what today's rule asks
    context = context_for(back.state(), back.clock())
    mark = (back.clock(), back.state().head_seq)  # after the answers it exited on
    exited = replace(context, exited={**context.exited, "pilot": mark})
    refs = [ref for ref in back.playbook.play("pilot").exit
            if ref.check == "pilot-would-resist-losing"]  # fmt: skip
    (kept,) = run_checks(refs, exited)
    assert kept.result.outcome.value == "pass", kept.result.reason
    assert "note: play 4 exited before a member's answer had to come from an account of " \
        "their own, which dan, eve, pia's did not" in kept.result.reason  # fmt: skip


# -- play 2: a colleague's sign-in, collected by a web page on the client she registered ----------


@pytest.mark.xfail(
    strict=True,
    reason=(
        "hole not closed: the rollout lead registers inhouse's client at the identity provider "
        "(`sign-in setup --client-id`), so she can give that registration a web redirect of "
        "her own beside the loopback one and collect colleagues' ID tokens on a page of hers "
        "(any SSO sign-in, even a silent prompt=none one), each asked with the nonce of a key "
        "she holds. Nothing in the token tells that flow from `inhouse sign-in login` on the "
        "colleague's machine; closing it needs the client registered by someone other than "
        "the lead (the IdP's admin), on the record, or the provider's word on its redirects"
    ),
)
def test_a_colleague_signed_in_on_her_web_page_asks_for_nobody(
    lena: Program,  # noqa: F811
    idp: StandinIdP,
) -> None:
    """bob, a real colleague, signs in to some page of lena's with the organisation's SSO (as
    people do every day): the page, a redirect lena added to the client she registered for
    inhouse, asked the provider for a token whose nonce names a key lena made for "bob" on a
    machine she names. She binds it: the program sees bob, signed in from his own machine, ask
    for access. It should not count him, or say whose registration his sign-in went through."""
    from tests.test_engine import prove

    prove(lena)
    lena.offer_handoff(None, 1, to="lena")
    lena.accept_handoff(None, 1)
    bob = _alias(lena, "bob", "ops")
    claims = idp.claims("u-bob", nonce=nonce_for(lena.state().program_id, bob.key.key_id),
                        email="u-bob@acme.example")  # fmt: skip
    bob.bind_sign_in(idp.mint(claims))
    bob.request_access(reason="ops wants it")
    outcome, reason = _judge_trigger(lena, "access-requested")
    assert outcome != "pass", reason


# -- plays 1 and 2: quality checks of her own that pass any answer ---------------------------------


def test_quality_checks_that_pass_an_empty_answer_prove_no_quality(
    lena: Program,  # noqa: F811
    idp: StandinIdP,
) -> None:
    """Play 1's "at acceptable quality" rests on the trial's quality checks, which lena writes.
    Checks an empty answer passes (a pattern anything matches, a `not-contains` alone) pass
    whatever the model says, so the colleague's honest rerun of them reproduces nothing of its
    quality. `inhouse prove` records how many inputs the candidate passed that an empty answer
    fails (`proved`); 0 fails value-proven. Her verdict typed through the API without it is her
    word, as before; omar's rerun, measured on his machine by his own CLI, says 0, and
    trial-reproduced fails, saying why. The honest rerun, whose checks an empty answer fails,
    still reproduces it."""
    from tests.test_engine import measured, prove, reproduce

    prove(lena)  # typed through the API: no `proved`, so her word, as before
    assert _judge_trigger(lena, "value-proven")[0] == "pass"
    verdict = lena.state().facts[-1].payload
    measured(lena, "trial.verdict", **{**verdict, "proved": 0})
    outcome, reason = _judge_trigger(lena, "value-proven")
    assert outcome == "fail" and "pass an empty answer on every input" in reason, reason
    measured(lena, "trial.verdict", **{**verdict, "proved": 9})
    assert _judge_trigger(lena, "value-proven")[0] == "pass"
    omar = _alias(lena, "omar", "support")
    _sign_in(omar, idp, "u-omar")
    reproduce(omar, proved=0)
    outcome, reason = _judge(lena, "trial-reproduced")
    assert outcome == "fail", reason
    assert "omar's rerun of trial triage passed 90.0 % of 10 inputs" in reason, reason
    assert "the trial's quality checks pass whatever the model says" in reason, reason
    reproduce(omar, proved=9)
    assert _judge(lena, "trial-reproduced")[0] == "pass"


# -- play 2: an exit appended around the API, kept by a check she makes raise ----------------------


def test_an_exit_appended_around_the_api_is_set_aside_though_a_check_errs(
    lena: Program,  # noqa: F811
    idp: StandinIdP,
) -> None:
    """A play's exit appended around the API is re-judged as the fold meets it, and set aside
    where its checks did not hold then; a check that could not be judged (an error) sets no
    exit aside. lena makes one raise: her own trial.rerun, appended without its `trial` field,
    so trial-reproduced errs. She starts play 2 around the API, offers its handoff
    to omar with nothing behind it, and omar's key (hers to use once she lends it her account;
    a colleague's here) accepts it. The other exit checks fail outright (no lock, nobody's
    verify): the exit did not hold, whatever the one check that erred would have said, so it
    is no first exit (else every leniency kept for programs whose play exited, by the rules it
    exited on, opens), and status says so."""
    from tests.test_engine import prove, reproduce

    prove(lena)
    lena.offer_handoff(None, 1, to="lena")
    lena.accept_handoff(None, 1)
    omar = _alias(lena, "omar", "support")
    lena.change_roles(None, "omar", add=["play-owner"])
    _sign_in(omar, idp, "u-omar")
    # her own rerun, which counts for nothing here
    append_without(lena, "trial.rerun", reproduce(lena).payload, "trial")
    append_play_two_exit_set_aside(lena, omar)


def append_without(her: Program, kind: str, payload: dict[str, Any], field: str) -> None:
    """A ``kind`` fact of lena's, signed, appended around the API without ``field``: one a
    check reading it raises on."""
    data = her._fact_data(kind, payload, Provenance.MEASURED, COLLECTOR[kind], None, None)
    del data["payload"][field]
    her._append(EventKind.FACT_RECORDED, "lena", data)


def append_play_two_exit_set_aside(her: Program, omar: Program) -> None:
    """Play 2's start, handoff to omar, his acceptance and the exit, appended around the API:
    the fold keeps no such exit as the play's first, and says it did not hold then."""
    hashed = {"play": "baseline", "evidence_hash": "x" * 64}
    her._append(
        EventKind.PLAY_STARTED, "lena", {"play": "baseline", "owner": "lena", "waivers": []}
    )
    her._append(EventKind.HANDOFF_OFFERED, "lena", {**hashed, "to": "omar", "comment": ""})
    omar._append(EventKind.HANDOFF_ACCEPTED, "omar", {**hashed, "comment": ""})
    omar._append(EventKind.PLAY_EXITED, "omar", hashed)
    state = her.state()
    assert state.tampered is None, state.tampered
    assert "baseline" not in state.first_exited
    said = [w for w in state.unmet_exits if "records play 2 (baseline) as exited" in w]
    assert said and "did not hold then" in said[0], state.unmet_exits
