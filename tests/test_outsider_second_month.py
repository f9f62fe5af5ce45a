"""The outsider, a second month: the IT lead of a 200-person firm walks plays 4, 5 and 6 and the
dashboard from README.md and docs/ alone, in a demo program on SQLite, as a team of six (lena
leads; omar, pia, vic, sam and kim joined with keys and machines of their own), plays 1-3 passed
over on waivers as a lead grants them on the record. What cost them time, each pinned here:

- pia's `inhouse pilot enablement`, her first day in the pilot, told her to "fetch your gateway
  key (`inhouse keys fetch`) and send one request with it"; the fetch said "no gateway key is
  waiting for pia": nobody had told her (nor lena, reading `status`) that a lead grants one first
  (`inhouse keys issue pia`). `pilot step done first-request` sent her to the same fetch;
- lena's `inhouse play start 5`, once sam had taken the support queue on, told her to make
  herself the queue's owner ("`inhouse support owner lena`"), and said nothing of sam, who held
  the role and starts the play with his own key;
- pia, named legal's champion, read `status` and the dashboard for what to do next: play 5's
  `champions-named` said only "no champion for teams it, sales, support", leaving legal out and
  never asking for her acceptance (`inhouse pilot champions --accept`), which it names only once
  every team has a champion; docs/pilot.md says it "fails naming who has not";
- lena's `inhouse pilot adoption --record` on her laptop enrolled the gateway's key there and
  said "what it signs counts as the gateway's own measurement", while `status` warned that
  nothing it signs counts (her machine is no host of the gateway's own);
- `inhouse finding add … --source T-99` (a typo for T-9) kept a ticket the queue never held as
  the finding's source, without a word.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clitools import cli
from tests.test_cli import invite, own_machine

TEAMS = {"omar": "support", "pia": "legal", "vic": "sales", "sam": "it", "kim": "legal"}

TRACK = """\
title: {team}
role: {team}
description: The {team} track.
steps:
  - id: first-request
    type: first-answered-request
  - id: pair
    type: attested
    title: Sat with a champion
"""


def _said(out: str) -> str:
    return " ".join(out.split())


def _waive(*options: str) -> None:
    cli("waiver", "grant", *options, "--reason", "other", "--note", "walk", "--expires", "30d")


@pytest.fixture
def team(_isolated: Path, tmp_path: Path) -> dict[str, dict[str, str]]:
    """A demo program whose play 4 runs on waivers, every colleague joined on a machine of their
    own: the env of each one's shell."""
    cli("init", "Acme", "--lead", "lena", "--demo")
    keys = tmp_path / "keys"
    envs: dict[str, dict[str, str]] = {}
    for name, team in TEAMS.items():
        envs[name] = own_machine(name, keys)
        cli("join", invite(name, "--team", team), env=envs[name])
    for name in ("omar", "pia", "vic"):
        cli("access", "request", env=envs[name])
    _waive("botched-handoff", "--play", "pilot")
    _waive("calendar-driven-advance", "--play", "pilot")
    cli("play", "start", "4")
    return envs


def _pilot(envs: dict[str, dict[str, str]], work: Path) -> None:
    """Every colleague on the pilot, on their team's track, each saying their team."""
    (work / "enablement").mkdir()
    for team in set(TEAMS.values()):
        (work / "enablement" / f"{team}.yaml").write_text(TRACK.format(team=team), "utf-8")
    _waive("scaling-before-proving")
    for name, team in TEAMS.items():
        cli("pilot", "add", name, "--track", team)
        cli("pilot", "team", team, env=envs[name])


def test_a_member_without_a_gateway_key_is_told_a_lead_grants_one(
    team: dict[str, dict[str, str]], _isolated: Path
) -> None:
    """The first-request step sent pia to `inhouse keys fetch`, which finds nothing until a lead
    grants her a key: it says so, naming the grant, and once one waits it says only to fetch."""
    _pilot(team, _isolated)
    pia = team["pia"]
    before = _said(cli("pilot", "enablement", "pia", env=pia))
    assert "you hold no gateway key yet" in before, before
    assert "until a rollout lead grants you one (`inhouse keys issue pia`)" in before, before
    # the lead reads the same in every member's progress
    assert "(`inhouse keys issue omar`)" in _said(cli("pilot", "enablement"))
    refused = _said(cli("pilot", "step", "done", "first-request", env=pia, code=2))
    assert "(`inhouse keys issue pia`)" in refused, refused
    # granted: the fetch the step names now finds it, and nothing asks a lead again
    cli("keys", "issue", "pia")
    granted = _said(cli("pilot", "enablement", "pia", env=pia))
    assert "keys issue" not in granted, granted
    assert "fetch your gateway key (`inhouse keys fetch`)" in granted, granted
    shown = json.loads(cli("pilot", "enablement", "pia", "--json", env=pia))
    assert "keys issue" not in json.dumps(shown)


def test_a_lead_without_a_gateway_key_is_told_to_grant_herself_one(
    team: dict[str, dict[str, str]], _isolated: Path
) -> None:
    """sam, the IT lead, is a rollout lead too: told to wait until "a rollout lead grants you
    one", he waited on himself. He is told he grants it; and once his key is revoked, that he
    holds none now (not "yet")."""
    _pilot(team, _isolated)
    cli("person", "role", "sam", "--add", "rollout-lead")
    sam = team["sam"]
    said = _said(cli("pilot", "enablement", "sam", env=sam))
    assert "a rollout lead, you grant yourself one (`inhouse keys issue sam`)" in said, said
    assert "until a rollout lead grants you one" not in said, said
    cli("keys", "issue", "sam", env=sam)
    cli("keys", "fetch", env=sam)
    assert "keys issue" not in _said(cli("pilot", "enablement", "sam", env=sam))
    [key] = [k for k in json.loads(cli("keys", "list", "--json")) if k["person"] == "sam"]
    cli("keys", "revoke", key["id"], env=sam)
    revoked = _said(cli("pilot", "enablement", "sam", env=sam))
    assert "you hold no gateway key now (yours was revoked)" in revoked, revoked


def test_play_start_names_who_holds_the_owners_role(
    team: dict[str, dict[str, str]],
) -> None:
    """lena starts play 5 after sam took the queue on: the refusal names sam and how he starts
    it, beside the role she lacks; sam's own start then passes."""
    cli("support", "owner", "sam")
    cli("support", "owner", "--accept", env=team["sam"], input="y\n")
    _waive("calendar-driven-advance", "--play", "support")
    _waive("botched-handoff", "--play", "support")
    refused = _said(cli("play", "start", "5", code=3))
    assert "lena is not one" in refused, refused
    assert (
        "or the play goes to who holds the role: sam (`inhouse play start 5` with their own key, "
        "or a rollout lead's `inhouse play start 5 --owner sam`)"
    ) in refused, refused
    assert "Started play 5" in cli("play", "start", "5", env=team["sam"])


def test_play_start_names_no_role_holder_who_can_sign_no_more(
    team: dict[str, dict[str, str]],
) -> None:
    """sam took the queue on, then left: his key revoked, he starts nothing with it, and a play
    he owned could hand nothing on. lena's `inhouse play start 5` sends nobody to him."""
    cli("support", "owner", "sam")
    cli("support", "owner", "--accept", env=team["sam"], input="y\n")
    _waive("calendar-driven-advance", "--play", "support")
    _waive("botched-handoff", "--play", "support")
    [sam] = [p for p in json.loads(cli("person", "list", "--json")) if p["name"] == "sam"]
    for key in sam["keys"]:
        cli("person", "revoke-key", key["key_id"])  # lena, a rollout lead
    refused = _said(cli("play", "start", "5", code=3))
    assert "lena is not one" in refused, refused
    assert "sam" not in refused, refused


def test_a_named_champion_is_asked_to_accept_while_teams_still_lack_one(
    team: dict[str, dict[str, str]], _isolated: Path
) -> None:
    """pia, named legal's champion, is named in champions-named's reason as not having accepted,
    while other teams still lack a champion; once she accepts, the reason drops her."""
    _pilot(team, _isolated)
    cli("support", "owner", "sam")
    cli("support", "owner", "--accept", env=team["sam"], input="y\n")
    _waive("calendar-driven-advance", "--play", "support")
    _waive("botched-handoff", "--play", "support")
    cli("play", "start", "5", env=team["sam"])
    cli("pilot", "champions", "--name", "pia", "--team", "legal")

    def reason() -> str:
        status = json.loads(cli("status", "--json"))
        (check,) = [c for c in status["plays"][4]["exit"] if c["check"] == "champions-named"]
        assert check["outcome"] == "fail"
        return str(check["reason"])

    waiting = reason()
    assert waiting.startswith("no champion for teams it, sales, support"), waiting
    assert (
        "named, not yet accepted: pia (legal): each runs `inhouse pilot champions --accept` with "
        "their own key"
    ) in waiting, waiting
    cli("pilot", "champions", "--accept", env=team["pia"], input="y\n")
    accepted = reason()
    assert "not yet accepted" not in accepted, accepted
    assert accepted.startswith("no champion for teams it, sales, support"), accepted


def test_a_lead_enrolling_the_gateways_key_on_her_own_machine_is_not_told_it_counts(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lena ran `inhouse pilot adoption --record` on her laptop (the README lists it among
    play 4's commands, with no host): it enrolled the gateway's key there and said "what it
    signs counts as the gateway's own measurement, and this machine is the gateway's host",
    while `status` warned that nothing that key signs counts. The enrolment now says what
    status says, and what to do; on a host of its own it still says it counts."""
    from inhouse.program.people import PeopleMixin
    from tests.conftest import ENROL_SERVICE_HERE

    monkeypatch.setattr(PeopleMixin, "enrol_service", ENROL_SERVICE_HERE)  # on lena's machine
    cli("init", "Acme", "--lead", "lena")
    said = _said(cli("pilot", "adoption", "--record"))
    assert "Enrolled the gateway's own key" in said, said
    assert "counts as the gateway's own measurement" not in said, said
    assert "was enrolled from the same machine as lena" in said, said
    assert "a rollout lead's: nothing it signs counts" in said, said
    assert "Run the gateway on a host of its own" in said, said
    status = " ".join(json.loads(cli("status", "--json"))["warnings"])
    assert "a rollout lead's: nothing it signs counts" in status


def test_a_finding_whose_source_names_no_ticket_is_refused(
    team: dict[str, dict[str, str]],
) -> None:
    """`inhouse finding add … --source T-99` (a typo for the ticket it came from) was recorded
    without a word, the queue holding no T-99. A source naming a ticket names one the queue
    holds; nothing is recorded otherwise; other sources stay free text."""
    cli("support", "open", "Summaries are empty", "--category", "it-broke", "--component",
        "gateway", env=team["pia"])  # fmt: skip
    before = json.loads(cli("finding", "list", "--json"))
    refused = _said(
        cli("finding", "add", "Too long", "--target", "baseline", "--source", "T-99", code=2)
    )
    assert "--source T-99: no ticket 'T-99' in the support queue (tickets: T-1)" in refused
    assert "nothing recorded" in refused, refused
    assert json.loads(cli("finding", "list", "--json")) == before
    # an outside tracker's ticket of the same look is no typo: the refusal names how to say it
    outside = _said(
        cli("finding", "add", "Too long", "--target", "baseline", "--source", "t-1234", code=2)
    )
    assert 'another tracker\'s ticket with its name: --source "jira t-1234"' in outside, outside
    assert json.loads(cli("finding", "list", "--json")) == before
    cli("finding", "add", "Too long", "--target", "baseline", "--source", "jira t-1234")
    assert json.loads(cli("finding", "list", "--json"))[-1]["source"] == "jira t-1234"
    cli("finding", "add", "Too long", "--target", "baseline", "--source", "T-1")
    cli("finding", "add", "Too slow", "--target", "baseline", "--source", "the pilot")
    sources = [f.get("source") for f in json.loads(cli("finding", "list", "--json"))]
    assert sources[-2:] == ["T-1", "the pilot"], sources
