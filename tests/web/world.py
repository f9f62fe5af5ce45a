"""The program the dashboard tests look at: lena leads it and owns play 1, whose exit is met
and whose handoff she offered (to herself: play 2 is the same person's by design); bob and pia
are pilot members who used the tool through the **real gateway** (a stand-in upstream answers,
as in tests/pilot) on two days, so the survey that is open lets them answer; omar is enrolled
with a key nobody here holds. Everyone signs in with their own key (``sign_in``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from inhouse.identity import SigningKey
from inhouse.pilot.survey import open_survey
from inhouse.pilot.tracks import TRACKS_DIR
from inhouse.program import Program, Provenance
from inhouse.web.login import sign_in
from tests.conftest import Clock
from tests.pilot.gateway_days import Pilot, Use, at, start_pilot

MEMBERS = {"bob": ("support", "support"), "pia": ("legal", "legal")}
#: the members' tracks: a lead adds a member only to a track that exists (``pilot add``), so
#: without them the pilot page showed each member's enablement as "0 of 0 steps"
TRACKS = {
    "support": "title: Support\nrole: support\nsteps:\n  - id: first-request\n"
    "    type: first-answered-request\n  - id: pair-with-a-champion\n    type: attested\n"
    "    title: Spent half an hour with your team's champion\n",
    "legal": "title: Legal\nrole: legal\nsteps:\n  - id: first-request\n"
    "    type: first-answered-request\n",
}


def make_world(folder: Path, clock: Clock) -> Pilot:
    (folder / TRACKS_DIR).mkdir(exist_ok=True)
    for name, text in TRACKS.items():
        (folder / TRACKS_DIR / f"{name}.yaml").write_text(text, encoding="utf-8")
    pilot = start_pilot(folder, clock, MEMBERS)
    pilot.signs = True  # the gateway's host signs their days: what their answers count on
    pilot.use(Use(p, f"2026-11-{d}T10:00") for p in MEMBERS for d in (10, 12))
    clock.now = at("2026-11-16T09:00")
    open_survey(pilot.lead, at("2026-11-30T17:00"))
    pilot.lead.record_fact(
        None,
        "trial.verdict",
        {"trial": "tickets", "verdict": "proven", "proven_on": ["cheaper"], "quality_ok": True},
        provenance=Provenance.MEASURED,
        collector="inhouse prove",
    )
    pilot.lead.offer_handoff(None, 1, to="lena", comment="the trial report")
    return pilot


def dashboard_program(pilot: Pilot) -> Program:
    """The program as the dashboard's process opens it: no key of anyone's."""
    return Program.open(pilot.folder, clock=pilot.clock)


def key_of(pilot: Pilot, name: str) -> SigningKey:
    return pilot.people[name].key if name != "lena" else pilot.lead.key


def challenge(client: httpx.Client, key: SigningKey) -> dict[str, str]:
    """The delegation statement the dashboard asks ``key`` to sign: its sign-in request
    fetched and signed with ``key`` first, as ``inhouse web login`` does."""
    from inhouse.identity.delegation import sign_sign_in_request

    request = client.get("/login/challenge.json", params={"key_id": key.key_id}).json()["request"]
    reply = client.post("/login/challenge.json", json=sign_sign_in_request(key, request))
    assert reply.status_code == 200, reply.text
    statement: dict[str, str] = reply.json()["statement"]
    return statement


@contextmanager
def signed_in(client: httpx.Client, pilot: Pilot, name: str) -> Iterator[httpx.Client]:
    """``client`` with ``name``'s session: signed in with their key, the link opened in a
    browser of their own (the client's session cookie dropped first: a browser signed in as
    someone else is not turned into theirs by a link)."""
    from inhouse.web.app import COOKIE

    link = sign_in(str(client.base_url), key_of(pilot, name), client=client, now=pilot.clock())
    client.cookies.delete(COOKIE)
    reply = client.get(link, follow_redirects=False)
    assert reply.status_code == 303, reply.text
    yield client


def approve_waiting(client: httpx.Client, pilot: Pilot, name: str, reply: httpx.Response) -> str:
    """Approve, with ``name``'s own key (``inhouse web approve``), the decision a form's
    ``reply`` left waiting; returns the page the dashboard goes back to."""
    from inhouse.web.login import approve

    where = reply.headers["location"]
    assert reply.status_code == 303 and where.startswith("/approvals/"), (where, reply.text)
    page = client.get(where)
    assert page.status_code == 200 and "inhouse web approve" in page.text, page.text
    code = where.rsplit("/", 1)[1]
    shown: list[list[str]] = []

    def agree(lines: list[str]) -> bool:
        shown.append(lines)
        return True

    answer = approve(str(client.base_url), code, key_of(pilot, name), confirm=agree,
                     client=client, now=pilot.clock())  # fmt: skip
    assert answer["recorded"] is True and shown, answer
    return str(answer["back"])
