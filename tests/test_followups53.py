"""followups53: a review's findings on the last merges.

Play 3's exit spared every run recorded by its mark from today's runner (the decoy answers),
not the runs it was judged on: a colleague's run by a stale install, recorded before the exit
and left out of it, counted as the exit's own, and so did a rerun that does not say where it
was answered, or play 3's owner's rerun alone (the rules before those). ``CheckContext.spared``
is the rule.

The trial client passed a connection's ends to the look behind the port as the socket gave them
(``::ffff:127.0.0.1``, ``fe80::1%lo``) where PeerRecorder normalised them: one rule, now in one
place (the look behind it)."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from http.server import ThreadingHTTPServer
from importlib import resources
from pathlib import Path

import httpx
import pytest

from inhouse.program.checks import CheckContext, Outcome, Person, evaluate
from inhouse.program.facts import Fact
from inhouse.program.playchecks._shared import stale_runner
from inhouse.runtimes.local import PeerRecorder, normalised_address, vouched_peer
from inhouse.trials._http import StreamClient
from inhouse.workflows.decoys import DECOYS
from tests.clitools import cli
from tests.test_exit_scope import (
    LOCK,
    NOW,
    _lock,
    _owner_runs,
    _run,
    _spec,
    context,
    fact,
    person,
)
from tests.test_review53_relay import _Models


def _people() -> dict[str, object]:
    return {
        "lena": person("lena", "platform", "rollout-lead", "play-owner"),
        "omar": person("omar", "support", "play-owner"),
        "zoe": person("zoe", "sales"),
        "carl": person("carl", "finance"),
    }


def test_a_run_play_3s_exit_left_out_is_judged_by_todays_runner() -> None:
    """Play 3 exited on omar's and zoe's runs (a runner from before decoys, the rule kept for
    them); carl's run, by the same stale runner, was recorded before the exit's mark but the
    exit was not judged on it. It is today's rule's: it judged no decoy answers, so it proves
    nothing, and zoe's run is the one that passes the check, as at the exit. An exit recorded
    before exits named their facts spares every run by its mark, as before."""
    lock, spec = _lock(), _spec()
    omar, zoe = _run("omar", 2, [], []), _run("zoe", 2, [], [])
    carl = _run("carl", 2, [], [])
    facts = [lock, spec, omar, zoe, carl]
    exited = {"workflow": (NOW, carl.id)}
    before = context(facts, _people(), exited)  # type: ignore[arg-type]
    named = replace(before, judged={"workflow": frozenset({lock.id, spec.id, omar.id, zoe.id})})
    runs = [omar, zoe, carl]
    why = stale_runner(named, runs, carl)
    assert why is not None and f"carl's run (fact #{carl.id}) was made by an inhouse older" in why
    assert stale_runner(named, runs, zoe) is None  # the exit's own run keeps the rule before
    assert stale_runner(before, runs, carl) is None  # every run by the mark, as before
    result = evaluate("workflow-run-by-other", named)
    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason.startswith("zoe (not the author, omar) passed it"), result.reason
    assert carl.id not in {f.id for f in result.evidence}
    tests = evaluate("workflow-tests-pass", named)
    assert tests.outcome is Outcome.PASS and tests.reason.startswith("zoe passed it"), tests.reason
    assert evaluate("workflow-run-by-other", before).reason.startswith("carl (not the author")


# -- the trial client and PeerRecorder judge a connection's ends by one rule ----------------------


class _DualStack(ThreadingHTTPServer):
    """Listens on IPv6 and IPv4 alike: a client of 127.0.0.1 shows as ``::ffff:127.0.0.1``."""

    address_family = socket.AF_INET6

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


@contextmanager
def _dual_stack() -> Iterator[int]:
    server = _DualStack(("::", 0), _Models)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_a_mapped_address_is_looked_behind_as_its_ipv4_one_by_both_clients() -> None:
    """A server on a dual-stack socket, reached at ``::ffff:127.0.0.1``: both ends of the
    connection say the mapped form. The trial client passed them on as they came, so the look
    behind the port compared them with the system's (normalised) list and found no process
    holding the server end: an honest runtime on such a socket would be refused as "no process
    of yours". Both clients now find the process (this test's: no inhouse runtime, so it is
    named) and record the IPv4 address, as PeerRecorder always did."""
    with _dual_stack() as port:
        url = f"http://[::ffff:127.0.0.1]:{port}"
        held = f"127.0.0.1 (127.0.0.1:{port} is held by "
        mine = f"(pid {os.getpid()}), not inhouse's runtime)"

        async def trial() -> str | None:
            async with StreamClient(url, size=1, timeout=10, look_behind=True) as client:
                return (await client.send(client.prepare("GET", "/v1/models"))).peer

        peer = asyncio.run(trial())
        assert peer is not None and peer.startswith(held) and peer.endswith(mine), peer

        async def recorded() -> frozenset[str]:
            recorder = PeerRecorder(look_behind=True)
            async with httpx.AsyncClient(transport=recorder) as client:
                assert (await client.get(f"{url}/v1/models")).status_code == 200
            return recorder.peers

        (peer,) = asyncio.run(recorded())
        assert peer.startswith(held) and peer.endswith(mine), peer

        async def plain() -> str | None:
            async with StreamClient(url, size=1, timeout=10) as client:
                return (await client.send(client.prepare("GET", "/v1/models"))).peer

        assert asyncio.run(plain()) == "127.0.0.1"  # recorded as PeerRecorder records it


def test_a_zone_id_is_no_part_of_the_address_recorded() -> None:
    """A link-local peer comes with its zone (``fe80::1%lo``): recorded without it, as
    PeerRecorder records it, whichever client passed it on."""
    peer, behind = vouched_peer("fe80::1%lo", None)
    assert peer == "fe80::1 (the connection's ends cannot be read)"
    assert behind.problem == "the connection's ends cannot be read"
    assert normalised_address("::ffff:10.0.0.7") == "10.0.0.7"


# -- `indicators report` flags a period by the rule play 6's check judges it by ----------------

_PLAYBOOK = resources.files("inhouse.playbooks").joinpath("local-model-program.yaml")


def _program_every(folder: Path, days: int) -> None:
    """A program whose playbook reports indicators every ``days`` days (its own name: a copy
    under the shipped one's that decides otherwise is refused)."""
    text = _PLAYBOOK.read_text(encoding="utf-8").replace(
        "name: local-model-program", f"name: every-{days}-days", 1
    )
    text = text.replace("params: {period_days: 31}", f"params: {{period_days: {days}}}", 1)
    (folder / "every.yaml").write_text(text)
    cli("init", "Acme", "--lead", "lena", "--playbook", "every.yaml")


def _flag(period: str) -> str | None:
    out = " ".join(cli("indicators", "report", "--period", period, "--no-record").split())
    if "NOT PLAY 6's PERIOD: " not in out:
        return None
    return out.split("NOT PLAY 6's PERIOD: ", 1)[1]


def test_a_week_or_quarter_the_playbooks_period_is_not_is_flagged(_isolated: Path) -> None:
    """Under a monthly playbook an ISO week and a calendar quarter are periods the calendar
    fixes, so the report flagged neither, though play 6's check refuses both (a week covers
    too few days, a quarter too many): the flag asks the check's own rule, with the
    playbook's period."""
    cli("init", "Acme", "--lead", "lena")  # the shipped playbook: every 31 days
    week = _flag("2026-W40")
    assert week is not None and week.startswith(
        "the report of 2026-09-28..2026-10-04 covers 7 days; a report every 31 days must "
        "cover at least 28"
    ), week
    quarter = _flag("2026-07-01..2026-09-30")
    assert quarter is not None and quarter.startswith(
        "the report of 2026-07-01..2026-09-30 covers 92 days; a report every 31 days stands "
        "for one period of at most 31"
    ), quarter
    assert _flag("2026-09") is None


def test_a_week_under_a_weekly_playbook_and_a_quarter_under_a_quarterly_one_pass(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same periods under a playbook whose period is a week, or a quarter: what the check
    takes there is not flagged, and what it refuses is."""
    for folder in ("weekly", "quarterly"):
        (_isolated / folder).mkdir()
    monkeypatch.chdir(_isolated / "weekly")
    _program_every(_isolated / "weekly", 7)
    assert _flag("2026-W40") is None
    assert _flag("2026-09") is not None  # a month is no week
    monkeypatch.chdir(_isolated / "quarterly")
    _program_every(_isolated / "quarterly", 92)
    assert _flag("2026-07-01..2026-09-30") is None
    assert _flag("2026-09") is None  # a month is one period of a quarterly playbook
    assert _flag("2026-W40") is not None


# -- the words for a key that is nobody's own use: one rule, on the check's context ---------------


def test_the_keys_that_are_nobodys_own_use_are_said_by_the_context() -> None:
    """What the gateway signs as nobody's own use depends on whether the program has a sign-in
    (a key fetched in someone's name by one that never signed in as them counts only there):
    the context says it, for every check and step that names those keys."""
    people = _people()
    ctx = context([], people, {})  # type: ignore[arg-type]
    assert ctx.not_own_key() == (
        "a key not their own (an agent's, or one fetched in their name by a key that never "
        "signed in as them)"
    )
    assert ctx.not_own_key("your").endswith("in your name by a key that never signed in as you)")
    assert replace(ctx, signed_in=None).not_own_key("your") == "an agent's key"


def _exit_named(facts: list[Fact], judged: set[int] | None, owner: str = "lena") -> CheckContext:
    """Play 3 exited at the last of ``facts``, its exit naming ``judged`` (None: recorded
    before exits named their facts); ``owner`` owns play 3."""
    # lena owns play 3 and leads nothing here: a lead's rerun is no one else's at all (exit
    # rule 20), and these judge what an owner's rerun needs beside it
    people = {**_people(), "lena": Person(name="lena", team="platform",
                                           roles=frozenset({"play-owner"}))}  # fmt: skip
    ctx = context(facts, people, {"workflow": (NOW, facts[-1].id)})  # type: ignore[arg-type]
    ctx = replace(ctx, owners={**ctx.owners, "workflow": owner})
    if judged is not None:
        ctx = replace(ctx, judged={"workflow": frozenset(judged)})
    return ctx


def test_a_rerun_saying_nowhere_the_exit_left_out_is_no_one_elses_pass() -> None:
    """carl's rerun, by an inhouse from before runs said where they were answered, was recorded
    before play 3 exited, but its exit was not judged on it: the rule before (such a rerun
    counts) is kept for the runs the exit was judged on, not for every run by its mark."""
    lock, spec = _lock(), _spec()
    author = _run("omar", 1, list(DECOYS), [])
    unsaid = fact("workflow.run", by="carl", workflow="triage", content_hash="v1",
                  lock_hash=LOCK, passed=True, pass_rate=1.0, cases=2, proved=1, inputs=2,
                  decoys=list(DECOYS), untested=[])  # fmt: skip
    facts = [lock, spec, author, unsaid]
    kept = evaluate("workflow-run-by-other", _exit_named(facts, None, owner="zoe"))
    assert kept.outcome is Outcome.PASS, kept.reason  # every run by the mark, as before
    assert "play 3 exited before a rerun by another had to say" in kept.reason
    named = _exit_named(facts, {lock.id, spec.id, author.id}, owner="zoe")
    result = evaluate("workflow-run-by-other", named)
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"carl's run (fact #{unsaid.id}) does not say where it was answered" in result.reason
    named = _exit_named(facts, {lock.id, spec.id, author.id, unsaid.id}, owner="zoe")
    assert evaluate("workflow-run-by-other", named).outcome is Outcome.PASS


def test_an_owners_rerun_the_exit_left_out_needs_the_author_beside_it() -> None:
    """lena, play 3's owner, reran omar's version alone before play 3 exited, but its exit was
    not judged on her run: it needs the author's own pass beside it, as any owner's rerun."""
    base = [_lock(), _spec(), _owner_runs(LOCK, list(DECOYS))]
    kept = evaluate("workflow-run-by-other", _exit_named(base, None))
    assert kept.outcome is Outcome.PASS, kept.reason
    result = evaluate("workflow-run-by-other", _exit_named(base, {base[0].id, base[1].id}))
    assert result.outcome is Outcome.FAIL, result.reason
    assert "only lena, play 3's owner, passed workflow triage" in result.reason
