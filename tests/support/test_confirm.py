"""`inhouse support confirm` and `inhouse support dispute`: an imported step is its importer's
word for what someone else did, until the person it names confirms it with their own key (or
says it is not theirs). Through the CLI, each person acting with a key file of their own, on
the real engine; the tickets come in through the importers' own recording function."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.errors import InvalidInput, Refused
from inhouse.identity import load_key
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, Result, evaluate
from inhouse.program.evaluation import context_for
from inhouse.support.importers.mapping import (
    COLLECTOR,
    Account,
    ActorMap,
    SourceStep,
    SourceTicket,
    record_tickets,
)
from inhouse.support.queue import confirm_fix, confirm_ticket, find_ticket, open_ticket
from inhouse.support.stats import support_stats
from tests.locks import lock_payload
from tests.people import enrol, enrol_cli

runner = CliRunner()
ACTORS = {"bea-gh": "bea", "pia-gh": "pia", "lena-gh": "lena"}


def _judge(program: Program) -> Result:
    ctx = context_for(program.state(), program.clock()).with_params({"reopen_days": 14})
    return evaluate("ticket-resolved-without-builder", ctx)


def _cli(env: dict[str, str], *args: str, answer: str | None = None) -> Any:
    """``inhouse support ARGS`` as the person ``env`` names; ``confirm`` and ``confirm-fix`` ask
    before they sign, answered yes unless ``answer`` says otherwise."""
    asks = args[0] in ("confirm", "confirm-fix")
    typed = answer if answer is not None else "y\n" if asks else None
    return runner.invoke(app, ["support", *args], env=env, input=typed)


def _world(
    request: pytest.FixtureRequest, folder: Path
) -> tuple[Program, dict[str, dict[str, str]]]:
    """lena leads; omar built the baseline (he signed its lock); bea and pia use it, each with
    a key file of their own."""
    lena = Program.init(folder, "Acme", "lena")
    request.addfinalizer(lena.close)
    omar = enrol(lena, "omar", team="platform", roles=["play-owner"])
    omar.record_fact(None, "baseline.lock", lock_payload("omar"),
                     provenance=Provenance.MEASURED, collector="inhouse baseline lock")  # fmt: skip
    keys = folder.parent / "keys"
    envs = {name: enrol_cli(lena, name, keys, team="sales") for name in ("bea", "pia", "cam")}
    return lena, envs


def _source(number: int, opener: str = "bea-gh", resolver: str = "pia-gh") -> SourceTicket:
    at = datetime.now(UTC) - timedelta(hours=3)
    fix = SourceStep("ticket.resolved", f"c-{number}", at + timedelta(hours=1),
                     Account(resolver), text="fixed the lock")  # fmt: skip
    return SourceTicket(
        ticket=f"gh:acme/help#{number}", link=f"https://github.com/acme/help/issues/{number}",
        title="model answers garbage", category="it-broke", component="baseline",
        description="", opened_by=Account(opener), opened_at=at, steps=[fix],
    )  # fmt: skip


def test_confirming_and_disputing_an_import_through_the_cli(
    request: pytest.FixtureRequest, _isolated: Path
) -> None:
    lena, env = _world(request, _isolated)
    record_tickets(lena, "github", [_source(1)], ActorMap(ACTORS, []))
    t1 = "gh:acme/help#1"
    ticket = find_ticket(lena, t1)
    opened, resolved = ticket.opened.fact.id, ticket.steps[-1].fact.id

    shown = json.loads(_cli(env["bea"], "show", t1, "--json").output)
    words = [(s["step"], s["by"], s["imported_by"], s["word"]) for s in shown["steps"]]
    assert words == [("opened", "bea", "lena", "awaited"), ("resolved", "pia", "lena", "awaited")]
    text = _cli(env["bea"], "show", t1).output
    assert "imported by lena; pia confirms it: inhouse support confirm gh:acme/help#1" in text
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL
    assert (
        "only the import says bea opened it (run by lena); bea confirms with their own key: "
        "`inhouse support confirm gh:acme/help#1`" in result.reason
    )

    # cam is named by nothing on it: nothing for him to confirm, and nothing is recorded
    before = len(lena.state().facts)
    refused = _cli(env["cam"], "confirm", t1)
    assert refused.exit_code != 0
    assert "no imported opening or resolution names cam" in refused.output
    assert len(lena.state().facts) == before

    done = _cli(env["bea"], "confirm", t1, "--text", "yes, it broke for me")
    assert done.exit_code == 0, done.output
    assert f"{t1} confirmed (the import's opened #{opened}) by bea" in done.output
    again = _cli(env["bea"], "confirm", t1)
    assert again.exit_code != 0 and "you already confirmed opened" in again.output

    # the forgery: pia's comment after the import, "I never fixed this", confirms nothing
    assert _cli(env["pia"], "comment", t1, "I never fixed this, who imported that?").exit_code == 0
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL
    assert "pia confirms with their own key: `inhouse support confirm gh:acme/help#1`" in (
        result.reason
    )
    # pia says so with her own key: the import's resolution never counts, and the check says why
    denied = _cli(env["pia"], "dispute", t1, "--reason", "I never fixed this")
    assert denied.exit_code == 0, denied.output
    assert f"{t1} disputed (the import's resolved #{resolved}) by pia" in denied.output
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL
    dispute = find_ticket(lena, t1).steps[-1].fact.id
    assert (
        f"gh:acme/help#1: pia disputes that they resolved it (fact #{dispute}: I never fixed "
        "this); the import (run by lena) is not their word" in result.reason
    )
    text = _cli(env["bea"], "show", t1).output
    assert f"disputed the import's resolved #{resolved} by pia: I never fixed this" in text
    assert "imported by lena; disputed by pia" in text
    assert "imported by lena; confirmed by bea" in text
    late = _cli(env["pia"], "confirm", t1)
    assert late.exit_code != 0 and "a dispute stands" in late.output
    twice = _cli(env["pia"], "dispute", t1)
    assert twice.exit_code != 0 and "you already disputed resolved" in twice.output
    assert {r.component: r for r in support_stats(lena)}["baseline"].resolved_without_builders == 0

    # the honest counterpart: a second ticket, each person named confirms it
    record_tickets(lena, "github", [_source(1), _source(2)], ActorMap(ACTORS, []))
    for person in ("bea", "pia"):
        assert _cli(env[person], "confirm", "gh:acme/help#2").exit_code == 0
    # the resolution is pia's word that it is fixed: bea, who hit it, says so with her own key
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL
    assert "bea runs `inhouse support confirm-fix gh:acme/help#2`" in result.reason
    text = _cli(env["bea"], "show", "gh:acme/help#2").output
    assert "the fix awaits bea's word: they run `inhouse support confirm-fix gh:acme/help#2`" in (
        text
    )
    assert "pia (fix awaits bea)" in _cli(env["bea"], "list", "--state", "all").output
    refused = _cli(env["pia"], "confirm-fix", "gh:acme/help#2")
    assert refused.exit_code != 0 and "only the person who hit the problem" in refused.output
    fixed = _cli(env["bea"], "confirm-fix", "gh:acme/help#2", "--text", "works now")
    assert fixed.exit_code == 0, fixed.output
    assert "gh:acme/help#2 fix confirmed by bea" in fixed.output
    result = _judge(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert "gh:acme/help#2 resolved by pia, not one of its builders (omar)" in result.reason
    shown = json.loads(_cli(env["bea"], "show", "gh:acme/help#2", "--json").output)
    assert shown["fix_confirmed"] is True
    assert [s["word"] for s in shown["steps"]] == ["confirmed", "confirmed", None, None, None]
    assert shown["steps"][2]["covers"] == [shown["steps"][0]["fact"]]


def test_only_the_person_named_confirms_and_only_with_their_own_key(
    request: pytest.FixtureRequest, _isolated: Path
) -> None:
    """The cheapest forgeries of a confirmation, each by the lead who ran the import: signing
    one herself (the Python API), relaying one through the import's collector "as pia"
    (refused outright), or typing what pia told her as an attestation. None of them confirms;
    bea's and pia's own confirmations do."""
    lena, env = _world(request, _isolated)
    record_tickets(lena, "github", [_source(1)], ActorMap(ACTORS, []))
    t1 = "gh:acme/help#1"
    ticket = find_ticket(lena, t1)
    assert ticket.stated is not None
    word = {"ticket": t1, "steps": [s.fact.id for s in ticket.steps], "stated": ticket.stated.id}
    lena.record_fact(None, "ticket.confirmed", word, provenance=Provenance.MEASURED,
                     collector="inhouse support")  # fmt: skip
    with pytest.raises(InvalidInput, match=r"not ticket\.confirmed"):
        lena.record_fact(None, "ticket.confirmed", {**word, "text": "pia said so"},
                         provenance=Provenance.MEASURED, collector=COLLECTOR)  # fmt: skip
    lena.attest(None, "ticket.confirmed", word, "pia told me she fixed it")
    result = _judge(lena)
    assert result.outcome is not Outcome.PASS
    assert "bea confirms with their own key: `inhouse support confirm gh:acme/help#1`" in (
        result.reason
    )
    # lena's confirmation covers nothing of bea's or pia's: they still have something to confirm
    pia = lena.using(load_key(Path(env["pia"]["INHOUSE_KEY"])))
    bea = lena.using(load_key(Path(env["bea"]["INHOUSE_KEY"])))
    for person in (bea, pia):
        confirm_ticket(person, t1)
    confirm_fix(bea, t1)
    assert _judge(lena).outcome is Outcome.PASS


def test_a_ticket_opened_here_has_nothing_to_confirm(
    request: pytest.FixtureRequest, _isolated: Path
) -> None:
    lena, env = _world(request, _isolated)
    bea = lena.using(load_key(Path(env["bea"]["INHOUSE_KEY"])))
    here = open_ticket(bea, "model answers garbage", category="it-broke", component="baseline")
    with pytest.raises(Refused, match="was opened here, not imported"):
        confirm_ticket(bea, here.id)
    refused = _cli(env["bea"], "dispute", here.id)
    assert refused.exit_code != 0 and "nothing to dispute" in refused.output


def test_a_confirmation_shows_what_it_signs_and_records_nothing_without_a_yes(
    request: pytest.FixtureRequest, _isolated: Path
) -> None:
    """The only thing between an import a lead made up and play 5's exit is the word of the
    people it names: the opener's confirmation that they hit the problem, the resolver's that
    they fixed it, and the opener's that the fix worked. The forgery: lena runs the import
    (her own export file: "bea opened an it-broke ticket on the baseline, pia resolved it")
    and asks bea and pia to "just run `inhouse support confirm gh:acme/help#1`, it syncs the
    tracker", then bea `confirm-fix`: each command signed at once, showing nothing of what it
    signed for (a one-word favour, read by nobody), and the ticket counted. Each now shows the
    ticket, what the import says its person did and the resolution, and signs only on a yes;
    no answer (a script, no terminal) records nothing, and says how to answer."""
    lena, env = _world(request, _isolated)
    record_tickets(lena, "github", [_source(1)], ActorMap(ACTORS, []))
    t1 = "gh:acme/help#1"
    before = len(lena.state().facts)
    for person in ("bea", "pia"):
        unread = _cli(env[person], "confirm", t1, answer="")
        assert unread.exit_code != 0, unread.output
        assert "not confirmed, nothing recorded for " + person in unread.output
        assert "the question got no answer" in unread.output
        # what it asked about: the ticket as it stands, and what the import says they did
        assert f'{t1}: "model answers garbage" (it-broke on baseline, ' in unread.output
        said = "you opened it" if person == "bea" else "you resolved it"
        assert f"lena's import says: {said}" in unread.output
        no = _cli(env[person], "confirm", t1, answer="n\n")
        assert no.exit_code != 0 and "confirm only what you did yourself" in no.output
    assert len(lena.state().facts) == before
    assert "you resolved it, " in _cli(env["pia"], "confirm", t1, answer="").output
    assert "fixed the lock" in _cli(env["pia"], "confirm", t1, answer="").output
    assert _judge(lena).outcome is Outcome.FAIL

    # honest: each reads it and answers yes; bea reads the resolution and confirms the fix
    for person in ("bea", "pia"):
        assert _cli(env[person], "confirm", t1).exit_code == 0
    unread = _cli(env["bea"], "confirm-fix", t1, answer="")
    assert unread.exit_code != 0 and "not confirmed, nothing recorded for bea" in unread.output
    assert "resolved by pia, " in unread.output and "fixed the lock" in unread.output
    assert _judge(lena).outcome is Outcome.FAIL
    fixed = _cli(env["bea"], "confirm-fix", t1)
    assert fixed.exit_code == 0, fixed.output
    assert _judge(lena).outcome is Outcome.PASS, _judge(lena).reason


def test_a_confirmation_shows_the_comment_it_signs_too(
    request: pytest.FixtureRequest, _isolated: Path
) -> None:
    """The comment is signed with the rest (the fact's ``text``): bea, told to "just run it
    with --text 'all good, it works now'", was shown the ticket and the resolution and never
    the words her key signed beside them. Each question now shows the comment too."""
    lena, env = _world(request, _isolated)
    record_tickets(lena, "github", [_source(1)], ActorMap(ACTORS, []))
    t1 = "gh:acme/help#1"
    said = "all good, it works now\x1b[2J"
    unread = _cli(env["bea"], "confirm", t1, "--text", said, answer="")
    assert unread.exit_code != 0, unread.output
    assert "your comment: all good, it works now\\u001b[2J" in unread.output, unread.output
    assert _cli(env["pia"], "confirm", t1).exit_code == 0
    assert _cli(env["bea"], "confirm", t1).exit_code == 0
    unread = _cli(env["bea"], "confirm-fix", t1, "--text", "fixed, thanks", answer="")
    assert unread.exit_code != 0 and "resolved by pia, " in unread.output, unread.output
    assert "your comment: fixed, thanks" in unread.output, unread.output
    assert "your comment" not in _cli(env["bea"], "confirm-fix", t1, answer="").output
