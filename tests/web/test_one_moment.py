"""Each dashboard page, and each command that prints the same data (``inhouse pilot``,
``inhouse support``, ``inhouse indicators``, ``inhouse status``), judges what it shows at one
moment: the checks' context, the costliest part of a page on a long log, is built once per
request or command. Each part of a page read the clock anew and rebuilt the context at its own
microsecond (nine times for the pilot page), so one page could judge its parts at several
moments. The dashboard's program is shared between requests, so its clock ticks on as a real
one does (each read a microsecond later: a ticking stand-in for the machine's clock); the
commands run at the machine's own clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from starlette.testclient import TestClient

from inhouse.program import Program
from inhouse.program.state import ProgramState
from tests.clitools import cli
from tests.pilot.gateway_days import Pilot, Use
from tests.web.world import signed_in


@pytest.fixture
def busy(world: Pilot) -> Pilot:
    """The dashboard's world with more for the pages to judge: a day of bob's use awaiting his
    word, an open ticket and a resolved one whose fix awaits its opener."""
    from inhouse.support.queue import open_ticket, resolve_ticket

    world.confirms = False  # bob's use on the 16th awaits his word
    world.use([Use("bob", "2026-11-16T10:00")])
    world.clock.now += timedelta(hours=1)
    open_ticket(world.people["pia"], "Summaries are empty", category="it-broke",
                component="gateway")  # fmt: skip
    open_ticket(world.people["pia"], "Slow answers", category="it-broke",
                component="gateway")  # fmt: skip
    resolve_ticket(world.people["bob"], "T-2", note="restarted the runtime")
    world.clock.now += timedelta(minutes=5)
    return world


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[datetime]]:
    """The moments the checks' context is built at, from here on (the fold's own judgments,
    at each event's time as a program is opened, aside)."""
    import inhouse.program.counting as counting

    found: list[datetime] = []
    real = counting._build

    def counted(state: ProgramState, now: datetime) -> counting.CheckContext:
        found.append(now)
        return real(state, now)

    monkeypatch.setattr(counting, "_build", counted)
    yield found


@pytest.fixture
def ticking(busy: Pilot) -> Iterator[TestClient]:
    """The dashboard over ``busy``, its program's clock ticking a microsecond a read."""
    from inhouse.web.app import create_app

    ticks = count()

    def clock() -> datetime:
        return busy.clock.now + timedelta(microseconds=next(ticks))

    served = Program.open(busy.folder, clock=clock)
    try:
        with TestClient(create_app(program=served), follow_redirects=False) as client:
            yield client
    finally:
        served.close()


def _page(client: TestClient, built: list[datetime], path: str) -> dict[str, object]:
    """``path``'s JSON twin and its HTML page, each built on one context (at one moment)."""
    data: dict[str, object] = {}
    base, _, query = path.partition("?")
    twin = ("/index" if base == "/" else base) + ".json" + (f"?{query}" if query else "")
    for each in (twin, path):
        built.clear()
        page = client.get(each)
        assert page.status_code == 200, (each, page.text[:500])
        assert len(built) == 1, (each, built)
        if each != path:
            data = page.json()
    return data


@pytest.mark.parametrize("viewer", ["lena", "bob"])
def test_the_pilot_page_builds_the_checks_context_once(
    busy: Pilot, ticking: TestClient, built: list[datetime], viewer: str
) -> None:
    """Roster, adoption (live and signed), the survey (bob, a member, may answer it: his
    eligibility is judged too), champions and findings: nine contexts a request before."""
    with signed_in(ticking, busy, viewer):
        data = _page(ticking, built, "/pilot")
    survey = data["survey"]
    assert isinstance(survey, dict) and survey["results"]["survey"] == "ellis-1"
    # bob's eligibility was asked, at the page's moment (two days of his own use: he may)
    assert survey["may_answer"] is (viewer == "bob"), survey


def test_the_support_page_builds_the_checks_context_once(
    busy: Pilot, ticking: TestClient, built: list[datetime]
) -> None:
    """The queue, every ticket with its without-builders verdict, the figures: four before."""
    with signed_in(ticking, busy, "lena"):
        data = _page(ticking, built, "/support")
    tickets = data["tickets"]
    assert isinstance(tickets, list) and [t["id"] for t in tickets] == ["T-2", "T-1"]
    assert tickets[0]["without_builders"] is not None  # T-2 is resolved: its verdict was asked


def test_a_ticket_page_builds_the_checks_context_once(
    busy: Pilot, ticking: TestClient, built: list[datetime]
) -> None:
    """The ticket, its builders and verdict, and whether the viewer may assign it: three."""
    with signed_in(ticking, busy, "lena"):
        data = _page(ticking, built, "/support/tickets/T-1")
    assert data["assign"] == {"may": True, "people": ["bob", "lena", "omar", "pia"]}, data["assign"]


def test_the_governance_page_builds_the_checks_context_once(
    busy: Pilot, ticking: TestClient, built: list[datetime]
) -> None:
    """The recorded lock and drift review, the review cadence, the agents: three before."""
    with signed_in(ticking, busy, "lena"):
        data = _page(ticking, built, "/governance")
    assert data["review"] is not None and data["agents"] == []


@pytest.mark.parametrize("path", ["/indicators", "/indicators?period=2026-11"])
def test_the_indicators_page_builds_the_checks_context_once(
    busy: Pilot, ticking: TestClient, built: list[datetime], path: str
) -> None:
    """The report, its findings, the signed usage and play 6's checks: four before."""
    with signed_in(ticking, busy, "lena"):
        data = _page(ticking, built, path)
    assert data["available"] is True and data["signed"] is not None


def test_the_other_pages_build_the_checks_context_once(
    busy: Pilot, ticking: TestClient, built: list[datetime]
) -> None:
    with signed_in(ticking, busy, "lena"):
        for path in ("/prompts", "/plays/4", "/"):
            _page(ticking, built, path)


COMMANDS = [
    ("status",),
    ("pilot", "list"),
    ("pilot", "enablement"),
    ("pilot", "champions", "--json"),
    ("pilot", "guide", "support", "--person", "bob"),
    ("pilot", "adoption"),
    ("pilot", "adoption", "--json"),
    ("support", "list", "--state", "all"),
    ("support", "list", "--state", "all", "--json"),
    ("support", "show", "T-2"),
    ("support", "show", "T-2", "--json"),
    ("support", "stats"),
    ("indicators", "report", "--json"),
    ("survey", "results"),
]


def test_the_commands_printing_the_same_build_the_checks_context_once(
    busy: Pilot, built: list[datetime]
) -> None:
    """What a command prints is judged at the one moment it read the clock: a ticket list
    built a context per ticket (``--json``), a ticket's page and the adoption report two, the
    pilot guide three. Each command runs at the machine's clock."""
    times = {}
    for command in COMMANDS:
        started = datetime.now(UTC)
        out = cli(*command, "--program", str(busy.folder), env=busy.env["bob"])
        assert out.strip(), command
        times[" ".join(command)] = len([now for now in built if now >= started])
    assert times == {name: 1 for name in times}, times
