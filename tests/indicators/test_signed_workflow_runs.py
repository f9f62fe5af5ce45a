"""Play 6's leading ``workflow_runs`` and ``workflow_runs_by_non_authors`` count the runs the
gateway's key signed (the ``workflows`` of each day's ``usage.daily``), the same runs exit rule
22 (``SIGNED_RUNS``) counts for the work changed: not the usage log's summary tables, which
anyone with the database's password writes. The dashboard no longer marks them unsigned."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inhouse.gateway.usage import UsageRecord, insert_usage, new_request_id
from inhouse.indicators import build_report
from inhouse.program import Provenance
from tests.conftest import Clock
from tests.people import vouch_for_gateway_host
from tests.pilot.world import World, make_world

pytestmark = pytest.mark.usefixtures("on_database")  # the usage log: SQLite and PostgreSQL

FLOW = "ticket-summary"


@pytest.fixture
def world(_isolated: Path, clock: Clock) -> Iterator[World]:
    """carol publishes the workflow; bob, who did not, has a gateway key of his own."""
    clock.now = datetime(2026, 11, 1, 9, tzinfo=UTC)
    made = make_world(_isolated, clock)
    made.waive()
    for name, team in (("carol", "platform"), ("bob", "support")):
        made.enrol(name, team)
        made.key(name)
    made.lead.as_service("gateway")
    vouch_for_gateway_host(made.people["bob"])
    made.people["carol"].record_fact(
        None, "workflow.spec",
        {"workflow": FLOW, "content_hash": "sha256:0123456789", "author": "carol",
         "model": "tiny", "model_digest": "sha256:" + "0" * 64},
        provenance=Provenance.MEASURED, collector="inhouse workflow test",
    )  # fmt: skip
    yield made
    made.lead.close()


def _runs(world: World) -> tuple[object, object, dict[str, str]]:
    world.clock.now = datetime(2026, 12, 2, 9, tzinfo=UTC)
    report = build_report(world.lead, "2026-11")
    said = {row["name"]: row["definition"] for row in report.to_dict()["leading"]}
    return report.value("workflow_runs"), report.value("workflow_runs_by_non_authors"), said


def test_runs_typed_into_the_summary_tables_are_no_runs(world: World) -> None:
    # the honest way: bob runs carol's workflow through the gateway twice, and it signs them
    for hour in (10, 11):
        world.send("bob", datetime(2026, 11, 3, hour, tzinfo=UTC), workflow=FLOW)
    world.clock.now = datetime(2026, 11, 3, 23, tzinfo=UTC)
    world.sign()
    runs, others, said = _runs(world)
    assert (runs, others) == (2, 2)
    # the forgery: with the database's password, 500 runs of the workflow by bob, typed
    insert_usage(world.lead.store, [
        UsageRecord(request_id=new_request_id(), at="2026-11-04T11:00:00+00:00", person="bob",
                    key_id="k_bob", endpoint="chat/completions", model="tiny", status=200,
                    tokens_in=40, tokens_out=60, workflow_id=FLOW)
        for _ in range(500)
    ])  # fmt: skip
    world.clock.now = datetime(2026, 11, 4, 23, tzinfo=UTC)
    world.sign()  # the gateway's key signs only the rows it sealed
    runs, others, said = _runs(world)
    assert (runs, others) == (2, 2)
    assert "as the gateway's key signed them" in said["workflow_runs"]
    assert "may lower the count, never raise it" in " ".join(
        said["workflow_runs_by_non_authors"].split()
    )


def test_the_dashboard_marks_the_signed_runs_as_signed(world: World) -> None:
    from inhouse.web.pages import indicators_page

    world.send("bob", datetime(2026, 11, 3, 10, tzinfo=UTC), workflow=FLOW)
    world.clock.now = datetime(2026, 11, 3, 23, tzinfo=UTC)
    world.sign()
    world.clock.now = datetime(2026, 12, 2, 9, tzinfo=UTC)
    page = indicators_page(world.lead, "2026-11")
    unsigned = set(page["unsigned"]["leading"])
    assert not unsigned & {"workflow_runs", "workflow_runs_by_non_authors"}
    assert "prompt_uses" in unsigned
    leading = {row["name"]: row["value"] for row in page["report"]["leading"]}
    assert (leading["workflow_runs"], leading["workflow_runs_by_non_authors"]) == (1, 1)


@pytest.mark.xfail(
    strict=True,
    reason="limit left open, no one-person hole: a run is any answered request that names the "
    "workflow (X-Inhouse-Workflow), whatever it asks. bob sends 'hello' three times naming "
    "carol's workflow through his own key: the gateway signs three runs, which count in "
    "workflow_runs, workflow_runs_by_non_authors and (exit rule 22) play 6's work changed. "
    "Only bob can make them count for himself: a rollout lead's own runs change no work (exit "
    "rule 23), what the gateway's operator seals or relabels in bob's name counts only up to "
    "the runs bob confirmed of the day (exit rule 32), as do requests sent with a key in his "
    "name. His word, signed, as a survey answer is: closing it needs the "
    "gateway to count a run only where the request is the workflow's own rendered prompt, "
    "which the owner chose not to build",
)
def test_a_request_that_only_names_the_workflow_is_no_run(world: World) -> None:
    for hour in (10, 11, 12):
        world.send("bob", datetime(2026, 11, 3, hour, tzinfo=UTC), text="hello", workflow=FLOW)
    world.clock.now = datetime(2026, 11, 3, 23, tzinfo=UTC)
    world.sign()
    assert _runs(world)[:2] == (0, 0)
