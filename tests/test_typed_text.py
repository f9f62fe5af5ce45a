"""What a person types into the support queue and the indicators, swept for bad input: each was
recorded without a word, and now is refused with a reason, nothing recorded.

- a control character in a ticket's text (an escape sequence repaints the terminal of whoever
  runs `support list`; a line break in a title splits the queue's table);
- a minutes-saved estimate for a workflow the program does not have (a typo): recorded, and
  never used, since no run carries that name;
- `sign-in login --timeout inf` (a traceback), or a wait of no seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clitools import cli

_ESCAPE = "printer \x1b[2J\x1b[31mon fire\x07"


@pytest.fixture
def program(_isolated: Path) -> Path:
    cli("init", "Acme", "--lead", "lena")
    return _isolated


def _facts(kind: str) -> list[dict[str, object]]:
    listed: list[dict[str, object]] = json.loads(cli("fact", "list", "--kind", kind, "--json"))
    return listed


def test_a_control_character_in_a_tickets_text_is_refused(program: Path) -> None:
    opening = ["support", "open", "--category", "it-broke", "--component", "gateway"]
    for extra, field in (
        ([_ESCAPE], "title"),
        (["two\nlines"], "title"),
        (["jammed", "--description", _ESCAPE], "description"),
    ):
        said = " ".join(cli(*opening, *extra, code=2).split())
        assert f"the {field} holds a control character" in said, said
    said = " ".join(cli("support", "owner", "lena", "--queue", "help\x1b[8m", code=2).split())
    assert "the queue holds a control character" in said, said
    assert _facts("ticket.opened") == [] and _facts("support.queue") == []
    # a description over several lines, with a tab, is a description
    cli(*opening, "jammed", "--description", "step 1\n\tstep 2\r\n")
    for command in (
        ["support", "comment", "T-1", _ESCAPE],
        ["support", "resolve", "T-1", "--note", _ESCAPE],
    ):
        said = " ".join(cli(*command, code=2).split())
        assert "holds a control character" in said, said
    assert _facts("ticket.commented") == [] and _facts("ticket.resolved") == []


def test_minutes_saved_for_a_workflow_the_program_lacks_is_refused(program: Path) -> None:
    said = " ".join(cli("indicators", "minutes-saved", "triagge", "5", code=2).split())
    assert "no workflow 'triagge' in this program (workflows: none yet)" in said, said
    (program / "workflows").mkdir()
    (program / "workflows" / "triage.yaml").write_text("name: triage\n")
    said = " ".join(cli("indicators", "minutes-saved", "triagge", "5", code=2).split())
    assert "(workflows: triage)" in said, said
    assert _facts("indicators.minutes_saved") == []
    assert "one run of triage saves 5 min" in cli("indicators", "minutes-saved", "triage", "5")
    assert len(_facts("indicators.minutes_saved")) == 1


@pytest.mark.parametrize("timeout", ["inf", "nan", "0", "-5", "1e9"])
def test_sign_in_login_waits_a_number_of_seconds_it_can(program: Path, timeout: str) -> None:
    """`--timeout inf` overflowed the clock the wait reads (OverflowError, a traceback after the
    address was shown); nan, zero or less gave up at once, saying so in seconds it never waited.
    Each is refused before the provider is asked."""
    from inhouse.program import Program
    from tests.people import suite_sign_in

    opened = Program.open(program)
    try:
        suite_sign_in(opened)
    finally:
        opened.close()
    said = " ".join(cli("sign-in", "login", "--no-browser", "--timeout", timeout, code=2).split())
    assert "--timeout is seconds from 1 to 86400" in said, said
    assert "open this address" not in said


def test_a_price_snapshot_is_plain_text(program: Path) -> None:
    """A price's reference, currency and source are shown in `indicators prices list` and the
    report: a control character in one is refused, nothing recorded."""
    prices = ["indicators", "prices", "set", "--input", "1", "--output", "2"]
    for option in ("--reference", "--currency", "--source"):
        given = {"--reference": "gpt", "--currency": "USD", "--source": "list price"}
        given[option] = "US\x1b[8m" if option == "--currency" else _ESCAPE
        said = " ".join(
            cli(*prices, *[w for o, v in given.items() for w in (o, v)], code=2).split()
        )
        assert f"{option} holds a control character" in said, said
    assert _facts("indicators.prices") == []


def test_findings_notes_and_comments_are_plain_text(program: Path) -> None:
    """A finding (play 6's or the pilot's), its source, a note closing it, the note on a
    minutes-saved estimate and the comment on an enablement step are printed to whoever lists
    them: a control character in one is refused by name, nothing recorded."""
    (program / "workflows").mkdir()
    (program / "workflows" / "triage.yaml").write_text("name: triage\n")
    for command, what in (
        (["finding", "add", _ESCAPE, "--target", "baseline"], "the finding"),
        (["finding", "add", "slow", "--target", "baseline", "--source", "T-1\n2"], "--source"),
        (["pilot", "finding", _ESCAPE], "the finding"),
        (["pilot", "finding", "slow", "--note", _ESCAPE], "the note"),
        (["indicators", "minutes-saved", "triage", "5", "--note", _ESCAPE], "the note"),
        (["pilot", "step", "done", "first-prompt", "--comment", _ESCAPE], "the comment"),
    ):
        said = " ".join(cli(*command, code=2).split())
        assert f"{what} holds a control character" in said, (command, said)
    for kind in ("finding.opened", "pilot.finding", "indicators.minutes_saved"):
        assert _facts(kind) == [], kind
    opened = cli("finding", "add", "slow\n\tat noon", "--target", "baseline", "--source", "pilot")
    number = opened.split("Opened finding #", 1)[1].split()[0]
    said = " ".join(cli("finding", "close", number, "--note", _ESCAPE, code=2).split())
    assert "the note holds a control character" in said, said
    assert _facts("finding.closed") == []
    cli("finding", "close", number, "--note", "fixed\nby the re-lock")
    assert len(_facts("finding.closed")) == 1


def test_handoff_waiver_and_access_words_are_plain_text(program: Path) -> None:
    """A handoff's comment, a waiver's note, an access request's reason and the comment ending
    a program are kept on the record and printed by `status`, `waiver list` and the audit: a
    control character in one is refused by name, before anything else is asked, nothing
    recorded."""
    for command, what in (
        (["handoff", "offer", "1", "--to", "lena", "--comment", _ESCAPE], "the comment"),
        (["handoff", "accept", "1", "--comment", _ESCAPE], "the comment"),
        (["handoff", "reject", "1", "--comment", _ESCAPE], "the comment"),
        (["stop", "--not-worth-it", "--comment", _ESCAPE], "the comment"),
        (["access", "request", "--reason", _ESCAPE], "the reason"),
        (["waiver", "grant", "botched-handoff", "--reason", "other", "--note", _ESCAPE,
          "--expires", "14d"], "the note"),
    ):  # fmt: skip
        said = " ".join(cli(*command, code=2).split())
        assert f"{what} holds a control character" in said, (command, said)
    assert json.loads(cli("waiver", "list", "--json")) == []
    assert _facts("access.request") == []
    granted = cli("waiver", "grant", "botched-handoff", "--reason", "other", "--note",
                  "the board asked\n\tin writing", "--expires", "14d")  # fmt: skip
    assert "granted by lena: botched-handoff" in granted
    assert len(json.loads(cli("waiver", "list", "--json"))) == 1


def test_names_teams_hypotheses_and_attestations_are_plain_text(_isolated: Path) -> None:
    """The program's name, a person's e-mail and team, the hypothesis and an attestation are
    kept on the record and printed by `status`, `person list` and the audit: a control
    character in one is refused by name, nothing written."""
    for args, what in (
        (["init", _ESCAPE, "--lead", "lena"], "the program's name"),
        (["init", "Acme", "--lead", "lena", "--team", _ESCAPE], "the team"),
        (["init", "Acme", "--lead", "lena", "--email", "lena@x.example\x1b[8m"], "the e-mail"),
    ):
        said = " ".join(cli(*args, code=2).split())
        assert f"{what} holds a control character" in said, (args, said)
    assert not (_isolated / "inhouse.toml").exists()
    cli("init", "Acme", "--lead", "lena")
    for args, what in (
        (["person", "invite", "bob", "--team", "two\nlines"], "the team"),
        (["person", "invite", "bob", "--email", _ESCAPE], "the e-mail"),
        (["hypothesis", _ESCAPE, "--replaces", "hosted chat"], "the hypothesis"),
        (["hypothesis", "answer tickets", "--replaces", _ESCAPE], "the target"),
        (["fact", "record", "team.size", "--set", "people=4", "--attest", _ESCAPE],
         "the attestation"),
    ):  # fmt: skip
        said = " ".join(cli(*args, code=2).split())
        assert f"{what} holds a control character" in said, (args, said)
    assert "bob" not in cli("person", "list")
    assert _facts("hypothesis") == [] and _facts("team.size") == []
    cli("hypothesis", "answer the help desk's tickets\nin German too", "--replaces", "hosted chat")


def test_the_team_a_member_says_or_a_lead_corrects_is_plain_text(_isolated: Path) -> None:
    """`inhouse pilot team` and `pilot correct-team` record a team the pilot's checks, its
    members table and the champions' list print, as `person invite --team` does: a control
    character in it is refused by name, nothing recorded."""
    cli("init", "Acme", "--lead", "lena")
    for args in (["pilot", "team", _ESCAPE], ["pilot", "team", "two\nlines"]):
        said = " ".join(cli(*args, code=2).split())
        assert "the team you work in holds a control character" in said, (args, said)
    assert _facts("pilot.team") == []
    cli("pilot", "team", "support")  # plain text is kept as typed
    assert [f["payload"]["team"] for f in _facts("pilot.team")] == ["support"]  # type: ignore[index]
