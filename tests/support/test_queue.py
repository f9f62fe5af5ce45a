"""The support queue through the real CLI and API, and play 5's ticket check on what it records.

Everyone acts with their own key: lena leads and locked the baseline (she built it, and owns
play 1, so she configured the gateway), omar is enrolled, sam owns the queue, cam champions the
support team, zoe reports what broke. The builders come from the log, the resolver is the
signer, and the reopen window moves with the clock seam."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from inhouse.baseline.lock import LockedModel, lock_fact_payload, read_lock, write_lock
from inhouse.cli.app import app
from inhouse.errors import InvalidInput, NotAllowed, UnknownPerson
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, Result
from inhouse.program.evaluation import context_for, run_checks
from inhouse.support.builders import builders_of
from inhouse.support.queue import (
    accept_owner,
    assign_ticket,
    comment_on_ticket,
    confirm_fix,
    find_ticket,
    list_tickets,
    name_owner,
    open_ticket,
    queue_of,
    reopen_ticket,
    resolve_ticket,
)
from tests.conftest import Clock
from tests.gateway.harness import make_program
from tests.people import enrol, enrol_cli, lead_env

runner = CliRunner()
WORKFLOW = """\
name: ticket-summary
description: Summarise a support ticket in one line
owner: omar
frequency: daily
model: tiny
prompt:
  user: "Ticket: {{ ticket }}"
variables:
  ticket: {type: string}
tests:
  - vars: {ticket: The printer jams.}
    checks:
      - {type: length, min: 1, max: 2000}
"""


def _program(folder: Path, clock: Clock | None = None) -> Program:
    """lena's program: a lock blessing `tiny`, its baseline.lock fact signed by lena (what
    `inhouse baseline lock` records), and a workflow spec on disk."""
    runtimes = {"local": {"family": "openai", "url": "http://127.0.0.1:9"}}
    kwargs: dict[str, Any] = {"clock": clock} if clock is not None else {}
    lena = make_program(folder, runtimes, {"tiny": "sha256:" + "a" * 64}, **kwargs)
    lock = read_lock(folder)
    assert lock is not None
    lena.record_fact(None, "baseline.lock", lock_fact_payload(lock),
                     provenance=Provenance.MEASURED, collector="inhouse baseline lock")  # fmt: skip
    (folder / "workflows").mkdir()
    (folder / "workflows" / "ticket-summary.yaml").write_text(WORKFLOW, encoding="utf-8")
    return lena


def _judge(program: Program) -> dict[str, Result]:
    """Play 5's queue and ticket exit checks as `status` runs them (playbook params included,
    a check that did not pass beside uncounted evidence is inconclusive)."""
    state = program.state()
    refs = [ref for ref in program.playbook.play("support").exit
            if ref.check in ("support-queue-owned", "ticket-resolved-without-builder")]  # fmt: skip
    return {c.ref.check: c.result for c in run_checks(refs, context_for(state, program.clock()))}


def _cli(env: dict[str, str], *args: str, answer: str | None = None) -> Any:
    return runner.invoke(app, ["support", *args], env=env, input=answer)


def test_the_queue_through_the_cli(_isolated: Path) -> None:
    lena = _program(_isolated)
    lead = lead_env(lena)
    keys = _isolated.parent / "keys"
    zoe = enrol_cli(lena, "zoe", keys, team="legal")
    sam = enrol_cli(lena, "sam", keys, team="it")
    cam = enrol_cli(lena, "cam", keys, team="support")

    assert _judge(lena)["support-queue-owned"].outcome is Outcome.FAIL
    refused = _cli(zoe, "owner", "zoe")
    assert refused.exit_code != 0 and "only a rollout lead" in refused.output
    done = _cli(lead, "owner", "sam", "--queue", "#llm-help")
    assert done.exit_code == 0, done.output
    assert "support-owner" in lena.state().people["sam"].roles
    assert "sam takes it on with `inhouse support owner --accept`" in done.output
    result = _judge(lena)["support-queue-owned"]
    assert result.outcome is Outcome.FAIL and "owned by sam on lena's word" in result.reason
    # only the person named takes it on, for themself
    assert "is not named owner" in _cli(zoe, "owner", "--accept").output
    assert "takes no PERSON" in _cli(sam, "owner", "sam", "--accept").output
    # it shows what sam's key signs and takes it on only on a typed yes: asked to "just run
    # it", he reads the queue and who named him first; no answer, or a no, records nothing
    before = len(lena.state().facts)
    for answer, why in ((None, "the question got no answer"), ("n\n", "take on only a queue")):
        unread = _cli(sam, "owner", "--accept", answer=answer)
        assert unread.exit_code == 3, unread.output
        assert f"not taken on, nothing recorded for sam: {why}" in " ".join(unread.output.split())
        assert "you, sam, take on the support queue #llm-help as its owner" in unread.output
        assert "named its owner by lena at " in unread.output
    assert len(lena.state().facts) == before
    took = _cli(sam, "owner", "--accept", answer="y\n")
    assert took.exit_code == 0 and "sam took on the support queue #llm-help" in took.output
    result = _judge(lena)["support-queue-owned"]
    assert result.outcome is Outcome.PASS and "owned by sam" in result.reason

    # refusals name what is wrong and store nothing
    before = len(lena.state().facts)
    for args, says in (
        (["--category", "it-broke", "--component", "workflow:nope"], "no workflow 'nope'"),
        (["--category", "it-broke", "--component", "model:big"], "no model 'big'"),
        (["--category", "it-broke", "--component", "printer"], "no component 'printer'"),
        (["--category", "oops", "--component", "gateway"], "no ticket category 'oops'"),
    ):
        bad = _cli(zoe, "open", "It broke", *args)
        assert bad.exit_code != 0 and says in bad.output, bad.output
    assert len(lena.state().facts) == before

    flow = ("--component", "workflow:ticket-summary", "--description", "since Monday")
    opened = _cli(zoe, "open", "Summaries come back empty", "--category", "it-broke", *flow)
    assert opened.exit_code == 0 and "Opened T-1" in opened.output, opened.output
    gateway = _cli(zoe, "open", "502 from the gateway", "--category", "it-broke",
                   "--component", "gateway")  # fmt: skip
    assert "Opened T-2" in gateway.output
    not_owner = _cli(zoe, "assign", "T-2", "cam")
    assert not_owner.exit_code != 0 and "only the queue's owner (sam)" in not_owner.output
    assert _cli(sam, "assign", "T-2", "cam").exit_code == 0
    assert _cli(cam, "comment", "T-2", "the runtime was down").exit_code == 0
    resolved = _cli(cam, "resolve", "T-2", "--note", "restarted the runtime")
    assert "T-2 resolved by cam" in resolved.output
    again = _cli(cam, "resolve", "T-2", "--note", "twice")
    assert again.exit_code != 0 and "already resolved by cam" in again.output
    assert _cli(cam, "reopen", "T-1", "--reason", "x").exit_code != 0  # T-1 is open

    listed = json.loads(_cli(zoe, "list", "--json", "--state", "all").output)
    assert [(t["id"], t["state"]) for t in listed] == [("T-1", "open"), ("T-2", "resolved")]
    assert json.loads(_cli(zoe, "list", "--json").output)[0]["id"] == "T-1"
    shown = json.loads(_cli(zoe, "show", "T-2", "--json").output)
    assert shown["builders"] == ["lena"]  # owner of play 1 and the lock's signer
    steps = [(s["step"], s["by"]) for s in shown["steps"]]
    assert steps == [("opened", "zoe"), ("assigned", "sam"), ("commented", "cam"),
                     ("resolved", "cam")]  # fmt: skip
    assert shown["assignee"] == "cam" and shown["resolved_by"] == "cam"
    text = _cli(zoe, "show", "T-2").output
    assert "builders (from the log): lena" in text and "resolved by cam" in text
    assert "Queue #llm-help, owned by sam" in _cli(zoe, "list").output

    # workflow:ticket-summary and gateway drew one it-broke ticket each: both are typical
    result = _judge(lena)["ticket-resolved-without-builder"]
    assert result.outcome is Outcome.FAIL
    assert "workflow:ticket-summary drew 1 it-broke ticket" in result.reason
    assert "T-1 is still open" in result.reason or "nobody built" in result.reason


@pytest.fixture
def world(_isolated: Path, clock: Clock) -> dict[str, Program]:
    lena = _program(_isolated, clock)
    people = {"lena": lena}
    people["zoe"] = enrol(lena, "zoe", team="legal")
    people["sam"] = enrol(lena, "sam", team="it")
    people["cam"] = enrol(lena, "cam", team="support", roles=["champion"])
    name_owner(lena, "sam")
    accept_owner(people["sam"])
    return people


def test_only_someone_outside_the_builders_counts(world: dict[str, Program], clock: Clock) -> None:
    lena, zoe, cam = world["lena"], world["zoe"], world["cam"]
    assert builders_of(lena, "baseline") == ["lena"]
    assert builders_of(lena, "model:tiny") == ["lena"]

    # the builder resolving her own it-broke ticket does not count
    first = open_ticket(zoe, "install fails", category="it-broke", component="baseline")
    resolve_ticket(lena, first.id, note="fixed the script")
    result = _judge(lena)["ticket-resolved-without-builder"]
    assert result.outcome is Outcome.FAIL and "T-1 resolved by lena, a builder" in result.reason

    # an easy how-to, resolved by the champion, does not stand in for it
    easy = open_ticket(zoe, "where is the guide?", category="how-to", component="baseline")
    resolve_ticket(cam, easy.id, note="here")
    assert _judge(lena)["ticket-resolved-without-builder"].outcome is Outcome.FAIL

    # the champion resolving an it-broke one counts
    clock.advance(hours=1)
    second = open_ticket(zoe, "install fails again", category="it-broke", component="baseline")
    clock.advance(hours=3)
    resolve_ticket(cam, second.id, note="the digest changed upstream; re-pulled")
    result = _judge(lena)["ticket-resolved-without-builder"]
    assert result.outcome is Outcome.FAIL and "zoe runs `inhouse support confirm-fix T-3`" in (
        result.reason
    )
    confirm_fix(zoe, second.id)  # zoe, who hit it, says it is fixed
    result = _judge(lena)["ticket-resolved-without-builder"]
    assert result.outcome is Outcome.PASS and "T-3 resolved by cam" in result.reason

    # reopened within the window: it stops counting, and stays out once resolved again
    clock.advance(days=2)
    reopen_ticket(zoe, second.id, reason="fails on my laptop")
    result = _judge(lena)["ticket-resolved-without-builder"]
    assert result.outcome is Outcome.FAIL and "T-3 reopened 2 days after cam" in result.reason
    resolve_ticket(cam, second.id, note="also cleared the cache")
    assert _judge(lena)["ticket-resolved-without-builder"].outcome is Outcome.FAIL

    # a builder commenting spoils a ticket the champion then resolves
    third = open_ticket(zoe, "install hangs", category="it-broke", component="baseline")
    comment_on_ticket(lena, third.id, "try --no-cache")
    resolve_ticket(cam, third.id, note="it was the proxy")
    result = _judge(lena)["ticket-resolved-without-builder"]
    assert result.outcome is Outcome.FAIL and "lena, a builder, took part" in result.reason

    # a clean one, reopened after the window, resolved again: counts
    fourth = open_ticket(zoe, "install slow", category="it-broke", component="baseline")
    resolve_ticket(cam, fourth.id, note="mirror")
    clock.advance(days=20)
    reopen_ticket(zoe, fourth.id, reason="slow again")
    assert _judge(lena)["ticket-resolved-without-builder"].outcome is Outcome.FAIL  # open now
    resolve_ticket(cam, fourth.id, note="mirror again")
    confirm_fix(zoe, fourth.id)
    result = _judge(lena)["ticket-resolved-without-builder"]
    assert result.outcome is Outcome.PASS and "T-5 resolved by cam" in result.reason


def test_forgeries_do_not_count(world: dict[str, Program]) -> None:
    lena, zoe, cam = world["lena"], world["zoe"], world["cam"]
    broke = open_ticket(zoe, "install fails", category="it-broke", component="baseline")

    # zoe typing a ticket.resolved attestation for cam: shown, not counted, inconclusive
    zoe.attest(None, "ticket.resolved", {"ticket": broke.id, "resolver": "cam", "note": "cam did"},
               "cam fixed it on Tuesday")  # fmt: skip
    assert find_ticket(lena, broke.id).state == "open"
    result = _judge(lena)["ticket-resolved-without-builder"]
    assert result.outcome is Outcome.INCONCLUSIVE and "a person's word" in result.reason

    # lena (the builder) measuring a resolution herself, typing cam as resolver: hers
    lena.record_fact(None, "ticket.resolved",
                     {"ticket": broke.id, "resolver": "cam", "builder": "omar", "note": "x"},
                     provenance=Provenance.MEASURED, collector="inhouse support")  # fmt: skip
    assert find_ticket(lena, broke.id).resolution.actor == "lena"  # type: ignore[union-attr]
    assert "resolved by lena, a builder" in _judge(lena)["ticket-resolved-without-builder"].reason

    # lena naming the actor through the import collector: an import speaks only for tickets it
    # brought in
    reopen_ticket(zoe, broke.id, reason="not fixed")
    as_cam = {"ticket": broke.id, "actor": "cam", "note": "x"}
    lena.record_fact(None, "ticket.resolved", as_cam, provenance=Provenance.MEASURED,
                     collector="inhouse support import")  # fmt: skip
    assert find_ticket(lena, broke.id).state == "open"

    # only the queue owner or a lead assigns; a person must be enrolled
    with pytest.raises(NotAllowed, match="only the queue's owner"):
        assign_ticket(cam, broke.id, "cam")
    with pytest.raises(UnknownPerson, match="nobody"):
        assign_ticket(world["sam"], broke.id, "nobody")
    with pytest.raises(InvalidInput, match="no ticket 'T-9'"):
        resolve_ticket(cam, "T-9", note="x")
    with pytest.raises(InvalidInput, match="needs a note"):
        resolve_ticket(cam, broke.id, note=" ")


def test_two_people_opening_at_once_get_different_ids(world: dict[str, Program]) -> None:
    zoe, cam = world["zoe"], world["cam"]
    first = open_ticket(zoe, "one", category="request", component="gateway")
    # cam computed the next number before zoe's ticket landed: his fact says T-1 too
    same = {"ticket": "T-1", "title": "two", "category": "request", "component": "gateway"}
    raced = cam.record_fact(None, "ticket.opened", same, provenance=Provenance.MEASURED,
                            collector="inhouse support")  # fmt: skip
    ids = [t.id for t in list_tickets(zoe, state="all")]
    assert ids == [first.id, f"T-{raced.id}"] and first.id == "T-1"
    assert open_ticket(cam, "three", category="request", component="gateway").id == (
        f"T-{raced.id + 1}"
    )


def test_a_model_only_a_rewritten_inhouse_lock_blesses_is_no_component(_isolated: Path) -> None:
    """A ticket's ``model:NAME`` is a model of the lock the program records: a file its holder
    rewrote to bless other weights (the Python API's ``write_lock``) adds no model to the queue
    (nor to play 5's evidence about it)."""
    lena = _program(_isolated)
    recorded = read_lock(_isolated)
    assert recorded is not None
    spare = LockedModel(name="spare", digest="sha256:" + "b" * 64)
    forged = recorded.model_copy(update={"models": [*recorded.models, spare]})
    write_lock(_isolated, forged.model_copy(update={"lock_hash": forged.computed_hash()}))
    with pytest.raises(InvalidInput, match=r"no model 'spare' \(known: tiny\)"):
        open_ticket(lena, "Spare answers slowly", category="it-broke", component="model:spare")
    assert open_ticket(lena, "Tiny is slow", category="it-broke", component="model:tiny")


def test_a_queue_named_by_a_lead_stays_owned_after_she_hands_the_role_on(
    world: dict[str, Program],
) -> None:
    """lena named sam the queue's owner while she led (sam took it on with his own key), then
    made zoe lead and gave the role up. What she did while she led stands: `support list` and
    support-queue-owned both still see sam's queue, as champions-named reads a lead's naming."""
    lena = world["lena"]
    lena.change_roles(None, "zoe", add=["rollout-lead"])
    lena.change_roles(None, "lena", remove=["rollout-lead"])
    assert "rollout-lead" not in lena.state().people["lena"].roles
    found = queue_of(lena)
    assert found is not None and (found.owner, found.named_by) == ("sam", "lena")
    result = _judge(lena)["support-queue-owned"]
    assert result.outcome is Outcome.PASS and "owned by sam" in result.reason, result.reason
