"""ticket-resolved-without-builder with the organisation's sign-in: revoking the key of the
colleague who filed the tickets does not take back what he hit.

A red team showed the lead revoking the key of the colleague who filed the it-broke tickets on
the hard component (the baseline, fixed only by its builder): the sign-in's binding was
released, his hits stopped counting, and the "typical" component became an easy one the lead
resolved herself. A ticket's opener is now judged signed in as they were when they filed it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from inhouse.pilot.library import add_prompt
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, Result, evaluate
from inhouse.program.evaluation import context_for
from inhouse.support.importers.mapping import Account, ActorMap, SourceTicket, record_tickets
from inhouse.support.queue import confirm_ticket, open_ticket, resolve_ticket
from inhouse.testing.standin_idp import StandinIdP, browse
from tests.conftest import Clock
from tests.locks import lock_payload
from tests.people import enrol
from tests.pilot.world import PROMPT


def _sign_in(program: Program, idp: StandinIdP, subject: str) -> None:
    idp.login(subject, email=f"{subject}@acme.example")
    program.sign_in(open_browser=browse, say=lambda _: None, timeout=30)


def _judge(program: Program) -> Result:
    ctx = context_for(program.state(), program.clock()).with_params({"reopen_days": 14})
    return evaluate("ticket-resolved-without-builder", ctx)


def _world(
    request: pytest.FixtureRequest, folder: Path, clock: Clock
) -> tuple[Program, Program, Program, Program]:
    """lena leads; omar built the baseline (he signed its lock) and the triage prompt; cam and
    una use them. Everyone signed in."""
    lena = Program.init(folder, "Acme", "lena", clock=clock)
    request.addfinalizer(lena.close)
    with StandinIdP(clock=clock) as idp:
        lena.set_up_sign_in(idp.issuer, "inhouse")
        _sign_in(lena, idp, "u-lena")
        omar = enrol(lena, "omar", team="platform", roles=["play-owner"])
        _sign_in(omar, idp, "u-omar")
        omar.record_fact(
            None,
            "baseline.lock",
            lock_payload("omar"),
            provenance=Provenance.MEASURED,
            collector="inhouse baseline lock",
        )
        add_prompt(omar, "triage", PROMPT, where="triage.yaml")
        cam = enrol(lena, "cam", team="ops")
        _sign_in(cam, idp, "u-cam")
        una = enrol(lena, "una", team="sales")
        _sign_in(una, idp, "u-una")
    return lena, omar, cam, una


def test_revoking_the_openers_key_does_not_move_the_typical_component(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    lena, omar, cam, una = _world(request, _isolated, clock)
    # what people hit: cam's baseline broke twice, only its builder omar could fix it
    for _ in range(2):
        t = open_ticket(cam, "model answers garbage", category="it-broke", component="baseline")
        clock.advance(hours=1)
        resolve_ticket(omar, t.id, note="restarted")
    _revoking_cams_key_moves_nothing(lena, cam, una, clock)


def _imported(number: int, opened: datetime) -> SourceTicket:
    """An it-broke ticket on the baseline cam opened in the help desk."""
    return SourceTicket(
        ticket=f"gh:acme/help#{number}", link=f"https://github.com/acme/help/issues/{number}",
        title="model answers garbage", category="it-broke", component="baseline",
        description="", opened_by=Account("cam-gh"), opened_at=opened, steps=[],
    )  # fmt: skip


def test_revoking_the_key_an_imported_tickets_opener_confirmed_with_does_not_either(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """The same with the tickets imported: cam opened them in the help desk, the lead's import
    names him, and he confirmed each with his own key (`inhouse support confirm`). That key is
    the one his account vouched for: revoking it afterwards takes back nothing he confirmed."""
    lena, omar, cam, una = _world(request, _isolated, clock)
    opened = clock.now - timedelta(hours=3)
    sources = [_imported(n, opened) for n in (1, 2)]
    record_tickets(lena, "github", sources, ActorMap({"cam-gh": "cam"}, []))
    clock.advance(minutes=5)
    for source in sources:
        confirm_ticket(cam, source.ticket)
        resolve_ticket(omar, source.ticket, note="restarted")
    _revoking_cams_key_moves_nothing(lena, cam, una, clock)


def _revoking_cams_key_moves_nothing(
    lena: Program, cam: Program, una: Program, clock: Clock
) -> None:
    """una's one prompt ticket, which lena (no builder of the prompt) resolves; the baseline,
    which cam hit twice, stays a typical component (one person each: a tie, the baseline first
    in the reason), before and after the lead alone revokes cam's key (one command, nobody else
    signs): without cam's hits the prompt would be typical alone."""
    odd = open_ticket(una, "triage sorts wrong", category="it-broke", component="prompt:triage")
    clock.advance(hours=1)
    resolve_ticket(lena, odd.id, note="the ticket text was empty")
    for revoked in (False, True):
        if revoked:
            lena.revoke_key(cam.key.key_id)
        result = _judge(lena)
        assert result.outcome is Outcome.FAIL, result.reason
        assert result.reason.startswith(
            "baseline drew 2 it-broke tickets from 1 of the people using it"
        ), result.reason
