"""An imported ticket step is its importer's word, and counts where a support owner or a rollout
lead ran the import. Judged by the roles they held when they imported it: a support owner who
hands the queue on (`inhouse support owner` names the next, a lead takes the role) does not
take back what they brought in, and a lead cannot drop an import she dislikes (a reopening
that undoes a resolution) by taking its importer's role away."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from inhouse.program.checks import evaluate
from inhouse.program.evaluation import context_for
from inhouse.support.importers.mapping import (
    Account,
    ActorMap,
    SourceStep,
    SourceTicket,
    record_tickets,
)
from inhouse.support.queue import accept_owner, list_tickets, name_owner
from tests.conftest import Clock
from tests.people import enrol
from tests.support.test_ticket_word_order import _program


def test_an_import_counts_by_its_runners_roles_when_they_ran_it(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    lena, _ = _program(request, _isolated, clock)
    sam = enrol(lena, "sam", team="ops")
    enrol(lena, "cam", team="sales")
    name_owner(lena, "sam")
    accept_owner(sam)
    at = clock.now - timedelta(hours=2)
    source = SourceTicket(
        ticket="gh:acme/help#1", link="https://github.com/acme/help/issues/1",
        title="model answers garbage", category="it-broke", component="baseline",
        description="", opened_by=Account("cam-gh"), opened_at=at,
        steps=[SourceStep("ticket.resolved", "c-1", at + timedelta(minutes=30),
                          Account("cam-gh"), text="restarted it"),
               SourceStep("ticket.reopened", "c-2", at + timedelta(hours=1),
                          Account("cam-gh"), text="broke again")],
    )  # fmt: skip
    record_tickets(sam, "github", [source], ActorMap({"cam-gh": "cam"}, []))

    def seen() -> tuple[list[tuple[str, str, list[str]]], str]:
        tickets = [
            (t.id, t.state, [s.kind for s in t.steps]) for t in list_tickets(lena, state="all")
        ]
        ctx = context_for(lena.state(), lena.clock()).with_params({"reopen_days": 14})
        return tickets, evaluate("ticket-resolved-without-builder", ctx).reason

    before = seen()
    assert before[0] == [("gh:acme/help#1", "open", ["opened", "resolved", "reopened"])]
    # the queue handed on: sam no longer owns it, and what he imported stays as it was
    lena.change_roles(None, "sam", remove=["support-owner"])
    assert "support-owner" not in lena.state().people["sam"].roles
    assert seen() == before
    assert before[1].startswith("baseline drew 1 it-broke ticket"), before[1]
