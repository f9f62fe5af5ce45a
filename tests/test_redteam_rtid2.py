"""Red team (rtid2): the identity seams, one person alone.

**A colleague's machine, claimed by the lead after they enrolled from it.**

lena leads; omar, whom she put in charge of plays 1 and 2, typed the trial and the lock; pia,
who asked to get in, reruns the trial and verifies the lock from laptops of her own. Evidence
from "someone other than" the judged is set aside for its machine where a judged person had
enrolled a key from that machine by the time it was recorded (exit rule 29): a machine id is its
enroller's to state, and pia's enrolments name hers in the log. So lena, reading that pia
enrolled a second key from her desktop, enrols a key of her own "from" that desktop: everything
pia measures there since is set aside as measured where a lead enrolled from. pia's three
reruns on the desktop trailed (quality 5 of 10); her one on the laptop held: the pool play 2
judges was the one draw that held, and trial-reproduced passed (or, where pia measured only at
the desktop, her honest verify and reruns were nobody's). With an envelope (a rerun made
without the log) lena needs no foresight: she enrols "from" the machine whose draws trailed,
then imports them.

A machine is whoever enrolled from it first, as :func:`~inhouse.program.playchecks._shared.
enrolled_elsewhere` already reads it for a person: a judged person's enrolment "from" a machine
its colleague had enrolled from before sets nothing of that colleague's aside. One from a
machine the lead enrolled from first still does (tests/test_redteam_rt14.py).

Exit rule 31 (:data:`~inhouse.program.checks.FIRST_ENROLLER`).

Left open (strict xfails at the end): "first" is the log's order, which the importer of an
envelope chooses. A second machine's enrolment carried in an envelope can still be claimed
before it is imported; a rollout lead's role granted to the colleague around the import of her
envelopes sets them aside as a lead's; and a second machine's reruns never imported are a whole
series nobody sees missing.

Real parts: SQLite, each person's own key, the stand-in identity provider on loopback.
"""

from __future__ import annotations

from typing import Any

import pytest

from inhouse.identity import SigningKey, fact_predicate_type, seal
from inhouse.program import checks
from inhouse.program.checks import Outcome
from inhouse.program.facts import FACT_KINDS
from tests.conftest import Clock
from tests.test_engine import HERE, measured, reproduce
from tests.test_redteam_lead_second import LOCK, _puppet_owner, team  # noqa: F401
from tests.test_redteam_lead_second import _judge as judge_two
from tests.test_sign_in import _sign_in

_TRAILED = {"pass_rate": 0.5, "passed": 5, "quality_ok": False, "proven_on": [], "proved": 5}


class _Payload:
    """Stands where :func:`~tests.test_engine.measured` records: hands back the payload."""

    def record_fact(self, actor: Any, kind: str, payload: dict[str, Any], **_: Any) -> Any:
        return payload


def _second_machine(pia: Any, idp: Any, machine: str) -> Any:
    """pia enrols a second key of hers from ``machine`` (a desktop of hers) and signs in."""
    key = SigningKey.generate()
    pia.join(str(pia.invite("pia")), key, at_machine=machine)
    desktop = pia.using(key)
    _sign_in(desktop, idp, "u-pia")
    return desktop


def _lead_claims(lena: Any, idp: Any, machine: str) -> None:
    """The forgery: lena enrols a key of hers stating ``machine`` (pia's, named in the log)."""
    key = SigningKey.generate()
    lena.join(str(lena.invite("lena")), key, at_machine=machine)
    _sign_in(lena.using(key), idp, "u-lena")


def test_a_lead_claiming_a_colleague_s_desktop_keeps_no_draw_of_hers_out_of_the_pool(
    team: Any,  # noqa: F811
) -> None:
    lena, omar, pia, idp = team
    _puppet_owner(lena, omar, pia)
    measured(pia, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    desktop = _second_machine(pia, idp, "pia-desktop-7f3a")
    _lead_claims(lena, idp, "pia-desktop-7f3a")
    for _ in range(3):
        reproduce(desktop, **_TRAILED)
    reproduce(pia)
    result = judge_two(lena, "trial-reproduced")
    assert result.outcome is Outcome.FAIL, result.reason
    assert "their 4 reruns of it judged together" in result.reason, result.reason


def _rerun_envelope(desktop: Any, machine: str, **changes: Any) -> dict[str, Any]:
    """A rerun ``desktop``'s key sealed at a checkout without the log (its outbox), as
    :func:`~tests.test_engine.reproduce`'s payload with ``changes``."""
    payload = reproduce(_Payload(), **changes)
    sealed = {"kind": "trial.rerun", "version": FACT_KINDS["trial.rerun"].version,
              "payload": payload, "provenance": "measured",
              "collector": "inhouse prove --rerun"}  # fmt: skip
    return seal(
        desktop.key,
        program_id=desktop.state().program_id,
        predicate_type=fact_predicate_type("trial.rerun", FACT_KINDS["trial.rerun"].version),
        predicate={"fact": sealed, "at": desktop.clock().isoformat(), "machine": machine},
    )


def test_draws_that_trailed_in_envelopes_stay_in_the_pool_after_the_lead_claims_their_machine(
    team: Any,  # noqa: F811
    clock: Clock,
) -> None:
    """No foresight needed: pia's desktop has no log, her reruns there are envelopes, and the
    lead who carries them enrols "from" the desktop before she imports them."""
    lena, omar, pia, idp = team
    _puppet_owner(lena, omar, pia)
    measured(pia, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    desktop = _second_machine(pia, idp, "pia-desktop-7f3a")
    envelopes = []
    for _ in range(3):
        clock.advance(minutes=20)
        envelopes.append(_rerun_envelope(desktop, "pia-desktop-7f3a", **_TRAILED))
    reproduce(pia)
    _lead_claims(lena, idp, "pia-desktop-7f3a")
    lena.import_evidence(envelopes, source="pia.json")
    result = judge_two(lena, "trial-reproduced")
    assert result.outcome is Outcome.FAIL, result.reason
    assert "their 4 reruns of it judged together" in result.reason, result.reason


def test_a_lead_claiming_a_colleague_s_only_laptop_sets_none_of_her_measures_aside(
    team: Any,  # noqa: F811
) -> None:
    """The honest exit the claim failed: pia measures only at her laptop, after lena's key
    "from" it."""
    lena, omar, pia, idp = team
    _puppet_owner(lena, omar, pia)
    laptop = sorted(lena.state().machines("pia"))[0]
    _lead_claims(lena, idp, laptop)
    measured(pia, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    reproduce(pia)
    for name in ("second-person-verified", "trial-reproduced"):
        result = judge_two(lena, name)
        assert result.outcome is Outcome.PASS, (name, result.reason)
        assert result.reason.startswith("pia "), (name, result.reason)


def test_a_colleague_who_joins_at_the_lead_s_machine_after_her_is_still_set_aside(
    team: Any,  # noqa: F811
) -> None:
    """The rule kept: pia's second key, enrolled at lena's laptop after lena, measures
    nothing of lena's work; her laptop's draw still counts alone."""
    lena, omar, pia, idp = team
    _puppet_owner(lena, omar, pia)
    at_lena = _second_machine(pia, idp, sorted(lena.state().machines("lena"))[0])
    measured(at_lena, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    result = judge_two(lena, "second-person-verified")
    assert result.outcome is Outcome.FAIL, result.reason
    assert "pia's evidence came from a machine lena enrolled" in result.reason, result.reason
    reproduce(at_lena, **_TRAILED)
    reproduce(pia)
    assert judge_two(lena, "trial-reproduced").outcome is Outcome.PASS


def test_the_rule_is_numbered() -> None:
    assert checks.EXIT_RULES >= checks.FIRST_ENROLLER == 31


@pytest.mark.xfail(
    strict=True,
    reason="hole left open: a colleague's reruns on a second machine of theirs (a key of its "
    "own, so a series of its own: rule 25 reads each key's series whole) reach the log only as "
    "the envelopes someone imports. pia reruns three times on a desktop without the log (each "
    "trailed) and once on her laptop (it held); lena, who carries the desktop's envelopes, "
    "imports none of them: the laptop's series is whole, nothing in the log says the desktop's "
    "key reran anything, and the one draw that held decides the pool. Closing it needs the "
    "rerunner's own word on every series of theirs (each rerun naming the reruns of the spec "
    "their other keys sealed, which a machine without the log cannot know; or a rerun "
    "counted only once its signer confirms the whole set from a machine with the log), or "
    "reruns of a pool recorded straight into the log: the lead's to weigh",
)
def test_a_colleague_s_second_machine_s_reruns_never_imported_leave_the_pool(
    team: Any,  # noqa: F811
    clock: Clock,
) -> None:
    lena, omar, pia, idp = team
    _puppet_owner(lena, omar, pia)
    measured(pia, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    desktop = _second_machine(pia, idp, "pia-desktop-7f3a")
    for _ in range(3):  # sealed in the desktop's outbox, handed to lena, never imported
        clock.advance(minutes=20)
        _rerun_envelope(desktop, "pia-desktop-7f3a", **_TRAILED)
    reproduce(pia)
    result = judge_two(lena, "trial-reproduced")
    assert result.outcome is Outcome.FAIL, result.reason


@pytest.mark.xfail(
    strict=True,
    reason="hole left open: play 2's second person held no rollout lead's role 'by the time "
    "they measured' (rule 17), read at the event that recorded it, and an envelope's event is "
    "its importer's to place. pia reruns three times without the log (each trailed) and once "
    "with it (it held); lena makes her a rollout lead, imports the three envelopes, and takes "
    "the role back: the three are a lead's and leave the pool, the one that held (recorded "
    "before the grant) decides it. Rule 30 closes the machine's form of this (a key 'from' "
    "her machine); the role's needs a product decision: read an imported fact's roles at its "
    "seal (the signer's clock, against a grant dated by the lead's, which the log's floor "
    "holds only where two others wrote since), or judge a pool some of whose reruns are set "
    "aside for the roles or machines the log gave their signer after them as inconclusive "
    "(as rule 25 does a gap), which also holds back an honest colleague made a lead between "
    "reruns: the lead's to weigh",
)
def test_a_lead_role_granted_around_an_import_keeps_no_draw_of_hers_out_of_the_pool(
    team: Any,  # noqa: F811
    clock: Clock,
) -> None:
    lena, omar, pia, _idp = team
    _puppet_owner(lena, omar, pia)
    measured(pia, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    envelopes = []
    for _ in range(3):
        clock.advance(minutes=20)
        envelopes.append(_rerun_envelope(pia, "pia-laptop", **_TRAILED))
    reproduce(pia)
    # the forgery: a role for a moment, around the import
    lena.change_roles(None, "pia", add=["rollout-lead"])
    lena.import_evidence(envelopes, source="pia.json")
    lena.change_roles(None, "pia", remove=["rollout-lead"])
    result = judge_two(lena, "trial-reproduced")
    assert result.outcome is Outcome.FAIL, result.reason


@pytest.mark.xfail(
    strict=True,
    reason="hole left open (rule 31's limit): a machine without the log enrols by an envelope "
    "(`inhouse join` there seals it), which names its machine and reaches the log when its "
    "carrier imports it. lena reads pia's desktop's id in the enrolment envelope, enrols a "
    "key of hers 'from' it, and only then imports pia's enrolment and her reruns: lena is the "
    "desktop's first enroller, and the three draws that trailed there leave the pool. Which "
    "enrolment came first is the importer's to order; closing it needs an order the importer "
    "cannot choose (an enrolment envelope read as enrolled from its seal, against a lead's "
    "enrolment dated by her own clock: the log's floor holds her only where two others wrote "
    "since), or a lead's enrolment from a machine a colleague's pending invitation may join "
    "from read as the colleague's: the lead's to weigh",
)
def test_a_lead_claiming_the_machine_of_an_enrolment_she_carries_keeps_no_draw_out(
    team: Any,  # noqa: F811
    clock: Clock,
) -> None:
    from inhouse.identity import ENROLMENT_TYPE
    from inhouse.program.people import parse_invitation

    lena, omar, pia, idp = team
    _puppet_owner(lena, omar, pia)
    measured(pia, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    text = parse_invitation(str(pia.invite("pia")))
    key = SigningKey.generate()
    enrolment = seal(
        key,
        program_id=text.program_id,
        predicate_type=ENROLMENT_TYPE,
        predicate={
            "name": text.name,
            "token_hash": text.token_hash,
            "join_proof": text.join_proof(key.key_id),
            "machine": "pia-desktop-7f3a",
        },
    )
    desktop = pia.using(key)
    envelopes = []
    for _ in range(3):
        clock.advance(minutes=20)
        envelopes.append(_rerun_envelope(desktop, "pia-desktop-7f3a", **_TRAILED))
    reproduce(pia)
    _lead_claims(lena, idp, "pia-desktop-7f3a")  # the forgery: first "from" it
    lena.import_evidence([enrolment], source="pia-desktop.json")
    _sign_in(desktop, idp, "u-pia")
    lena.import_evidence(envelopes, source="pia-desktop.json")
    result = judge_two(lena, "trial-reproduced")
    assert result.outcome is Outcome.FAIL, result.reason
