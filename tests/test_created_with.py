"""A program's first event names the playbook it was created with (name, version and the hash of
what it decides, :meth:`Playbook.rules`). That event is its lead's to write: through the Python
API she can claim any of them. The fold judges an exit appended around the API by the rules the
program was created with, so a claim to "other rules" must buy nothing: an exit whose checks did
not hold counts only where the rules of a release of inhouse that really shipped the claimed
version held. An honest program created under v1 keeps the exits it made."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from inhouse.errors import InhouseError
from inhouse.program import Program
from inhouse.program.evaluation import evidence_hash, exit_results
from inhouse.program.events import EventKind
from inhouse.program.playbook import Playbook, earlier_shipped, load_playbook, parse_playbook
from tests.conftest import Clock
from tests.people import enrol
from tests.test_engine import HERE, LOCK, _as_first_shipped, lock_baseline, measured, play, prove

pytestmark = pytest.mark.usefixtures("on_database")

#: rules no release of the shipped playbook decided
MADE_UP = "0123456789abcdef"


def _claiming(
    folder: Path,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    *,
    name: str = "local-model-program",
    version: int = 1,
    rules: str = MADE_UP,
) -> Program:
    """A program whose first event claims it was created with ``name`` v``version`` and
    ``rules`` (empty: none recorded, as before 183a57b), written by its lead's own process
    (``Program.init`` handed a playbook of her making), loading the shipped playbook since."""
    from inhouse.program import engine

    text = resources.files("inhouse.playbooks").joinpath("local-model-program.yaml").read_text()
    text = text.replace("version: 2\n", f"version: {version}\n", 1)
    text = text.replace("name: local-model-program\n", f"name: {name}\n", 1)
    claimed = parse_playbook(text, source="claimed.yaml")
    with monkeypatch.context() as patch:
        patch.setattr(engine, "load_playbook", lambda ref=None: claimed)
        patch.setattr(Playbook, "rules", lambda self: rules)
        Program.init(folder, "Acme", "lena", team="platform", clock=clock).close()
    return Program.open(folder, clock=clock)


def _exit_around_the_api(program: Program, number: int, to: Program) -> None:
    """Play ``number`` handed to ``to``'s holder, accepted and exited, appended around the API
    (which refuses it where its exit checks do not hold), each event signed by its actor."""
    play_id = program.playbook.play(number).id
    found = exit_results(program.playbook.play(number), program.state(), program.clock())
    digest = evidence_hash(found)
    who = to.whoami().name
    offer = {"play": play_id, "to": who, "evidence_hash": digest, "comment": ""}
    program._append(EventKind.HANDOFF_OFFERED, "lena", offer)
    to._append(EventKind.HANDOFF_ACCEPTED, who, {"play": play_id, "evidence_hash": digest})
    to._append(EventKind.PLAY_EXITED, who, {"play": play_id, "evidence_hash": digest})


def _play_two_without_a_second_person(lena: Program) -> None:
    """Play 1 honestly through; play 2 started and locked, but nobody else stood it up: its
    exit does not hold under any release (second-person-verified)."""
    lena.change_roles(None, "lena", add=["play-owner"])
    omar = enrol(lena, "omar", team="support", roles=["play-owner"])
    prove(lena)
    lena.offer_handoff(None, 1, to="lena")
    lena.accept_handoff(None, 1, comment="I can build on this")
    omar.request_access(reason="I want the triage model")
    lena.start_play(None, 2)
    lock_baseline(lena)
    with pytest.raises(InhouseError, match="exit criteria are not met"):
        lena.offer_handoff(None, 2, to="omar")
    measured(omar, "task.named", task="triage", frequency="daily")
    _exit_around_the_api(lena, 2, omar)
    omar.close()


@pytest.mark.parametrize(
    ("name", "version", "rules", "said"),
    [
        # the shipped name and a version it shipped, with rules that version never had
        ("local-model-program", 1, MADE_UP, "no release of inhouse shipped"),
        ("local-model-program", 2, MADE_UP, "no release of inhouse shipped"),
        # the loaded playbook's own rules under a version it never shipped, or its version with
        # no rules (every program v2 created recorded them): judged by the loaded one already
        ("local-model-program", 7, "5f4bc2617852d7cb", None),
        ("local-model-program", 2, "", None),
        # another playbook's name, while the shipped one is loaded
        ("acme", 1, MADE_UP, "whose rules inhouse cannot read"),
    ],
)
def test_a_made_up_claim_to_other_rules_keeps_no_exit(
    _isolated: Path,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    version: int,
    rules: str,
    said: str | None,
) -> None:
    """The forgery: lena writes a first event naming rules no release shipped, and appends play
    2's exit around the API (nobody else stood the environment up). It used to be kept as the
    play's first exit, with a warning: play 2 read as exited, and play 3 was omar's to start
    with no second person's install behind it. Now it is judged by the loaded playbook: set
    aside, and status says why the claim buys nothing."""
    lena = _claiming(_isolated, clock, monkeypatch, name=name, version=version, rules=rules)
    try:
        _play_two_without_a_second_person(lena)
        state = lena.state()
        assert state.tampered is None
        assert "baseline" not in state.first_exited
        assert state.kept_exits == []
        [unmet] = state.unmet_exits
        assert "play 2 (baseline)'s exit checks did not hold then" in unmet
        assert play(lena, 2)["state"] != "exited"
        warnings = lena.status()["warnings"]
        claims = [w for w in warnings if "first event says it was created with" in w]
        if said is not None:
            assert "spares nothing" in unmet
            [claim] = claims
            assert said in claim and f"{name} v{version}" in claim
            assert "judged as created with the playbook loaded now" in claim
        else:
            assert claims == []
        with pytest.raises(InhouseError, match="play 2's exit criteria do not hold"):
            lena.start_play(None, 3, owner="omar")
        assert "workflow" not in lena.state().plays
    finally:
        lena.close()


@pytest.mark.parametrize("rules", ["", "6cbd2b6f2acfc3d5"])
def test_a_claim_to_a_real_v1_is_judged_by_v1s_rules(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch, rules: str
) -> None:
    """A claim to a release that shipped (v1, with its rules or, as before they were recorded,
    none) is believed, and buys v1's rules, no less strict where they overlap: an exit appended
    around the API that v1 would not have let through either is set aside."""
    lena = _claiming(_isolated, clock, monkeypatch, rules=rules)
    try:
        _play_two_without_a_second_person(lena)
        state = lena.state()
        assert "baseline" not in state.first_exited and state.kept_exits == []
        [unmet] = state.unmet_exits
        assert "nor as local-model-program v1, which the program was created with" in unmet
        assert not any("first event says" in w for w in lena.status()["warnings"])
    finally:
        lena.close()


def test_an_honest_v1_program_keeps_the_exit_v1_let_through(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A program really created under v1, whose play 2 exited under it through the API with no
    rerun (v1 asked none), and whose exit the loaded v2 would not let through on its own
    terms: judged by v1's rules (kept as data), the exit stands, and status says nothing of it.
    Here the exit is appended the way v1's API wrote it, after the v1 release's checks held."""
    with monkeypatch.context() as patch:
        _as_first_shipped(patch)
        Program.init(_isolated, "Acme", "lena", team="platform", clock=clock).close()
    lena = Program.open(_isolated, clock=clock)
    try:
        assert lena.state().playbook_rules == "6cbd2b6f2acfc3d5"
        lena.change_roles(None, "lena", add=["play-owner"])
        omar = enrol(lena, "omar", team="support", roles=["play-owner"])
        prove(lena)
        lena.offer_handoff(None, 1, to="lena")
        lena.accept_handoff(None, 1, comment="I can build on this")
        omar.request_access(reason="I want the triage model")
        lena.start_play(None, 2)
        lock_baseline(lena)
        measured(omar, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
        [v1] = earlier_shipped("local-model-program", 1, "6cbd2b6f2acfc3d5") or []
        assert all(
            r.result.outcome.satisfied for r in exit_results(v1.play(2), lena.state(), lena.clock())
        )
        _exit_around_the_api(lena, 2, omar)
        state = lena.state()
        assert "baseline" in state.first_exited
        assert state.unmet_exits == [] and state.kept_exits == []
        assert play(lena, 2)["state"] == "exited"
        omar.close()
    finally:
        lena.close()


def test_every_release_of_the_shipped_playbook_is_kept() -> None:
    """The shipped playbook as loaded now is a release the table knows, and each earlier
    release's file decides the rules it is named by: bumping the playbook without keeping the
    old rules would judge the programs created with them by rules inhouse no longer has."""
    now = load_playbook("local-model-program")
    assert [b.rules() for b in earlier_shipped(now.name, now.version, now.rules()) or []] == [
        now.rules()
    ]
    for version, rules in ((1, "0484665044d84416"), (1, "6cbd2b6f2acfc3d5")):
        [book] = [b for b in earlier_shipped(now.name, version, "") or [] if b.rules() == rules]
        assert book.version == version and book.shipped
    # the v1 release that gave play 2 trial-reproduced decided what v2 does
    [same] = earlier_shipped(now.name, 1, "5f4bc2617852d7cb") or []
    assert same.rules() == now.rules()
    assert earlier_shipped("acme", 1, MADE_UP) is None


def test_an_earlier_release_cannot_be_loaded_as_a_programs_playbook(_isolated: Path) -> None:
    """The files kept as data are no playbook a program may be created with or load: a program
    created today under v1's rules would skip the rerun play 2 asks since v2."""
    from inhouse.errors import PlaybookError

    with pytest.raises(PlaybookError, match="no shipped playbook named"):
        load_playbook("earlier/local-model-program-6cbd2b6f2acfc3d5")
    with pytest.raises(PlaybookError, match="no shipped playbook named"):
        Program.init(_isolated, "Acme", "lena",
                     playbook="earlier/local-model-program-6cbd2b6f2acfc3d5")  # fmt: skip
    assert not (_isolated / ".inhouse").exists()


def test_a_made_up_v1_claim_does_not_spare_play_two_the_rerun(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a kept exit bought: the play counts as exited, and a check that keeps its earlier
    rule for a program whose play already exited (``"baseline" in ctx.exited``) applies it.
    Lena's first event names v1 with rules v1 never had; omar verified the baseline, nobody
    reran play 1's trial, and play 2's exit is appended around the API (the API refuses it).
    Kept, it made trial-reproduced spare the program as a v1 one whose play 2 exited: play 2
    read as exited, its handoff was then offered and accepted through the API (its checks held
    now), omar started play 3, and the pilot's reach stopped waiting for play 2, all with no
    rerun. Judged as created with the loaded v2, the exit is set aside and the check asks for
    the rerun."""
    from inhouse.program import Reach
    from inhouse.program.guards import reach_blockers

    lena = _claiming(_isolated, clock, monkeypatch)
    try:
        lena.change_roles(None, "lena", add=["play-owner"])
        omar = enrol(lena, "omar", team="support", roles=["play-owner"])
        prove(lena)
        lena.offer_handoff(None, 1, to="lena")
        lena.accept_handoff(None, 1, comment="I can build on this")
        omar.request_access(reason="I want the triage model")
        lena.start_play(None, 2)
        lock_baseline(lena)
        measured(omar, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)  # no rerun
        with pytest.raises(InhouseError, match="exit criteria are not met"):
            lena.offer_handoff(None, 2, to="omar")
        measured(omar, "task.named", task="triage", frequency="daily")
        _exit_around_the_api(lena, 2, omar)
        assert "baseline" not in lena.state().first_exited
        rows = {row["check"]: row for row in play(lena, 2)["exit"]}
        assert rows["trial-reproduced"]["outcome"] == "fail", rows["trial-reproduced"]
        assert "--rerun" in rows["trial-reproduced"]["reason"]
        assert play(lena, 2)["state"] != "exited"
        with pytest.raises(InhouseError, match="play 2's exit criteria do not hold"):
            omar.start_play(None, 3)
        blockers = reach_blockers(lena.playbook, Reach.PILOT, lena.state(), clock())
        assert any("needs play 2 (baseline) to exit first" in b.message for b in blockers)
        omar.close()
    finally:
        lena.close()


@pytest.mark.parametrize("rules", [MADE_UP, "6cbd2b6f2acfc3d5"])
def test_a_made_up_version_claim_does_not_spare_a_start_its_owner_role(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch, rules: str
) -> None:
    """The fold lets a start another version's API wrote keep that version's owner roles. A
    first event naming v1 with rules v1 never had names no version's API: lena's start of play
    1 around the API for zed, on the roster but no play owner, stops the fold as in a program
    created now. (A real v1 program's start is left to v1's roles.)"""
    lena = _claiming(_isolated, clock, monkeypatch, rules=rules)
    try:
        enrol(lena, "zed", team="sales").close()
        lena.record_hypothesis(None, "triage locally", aim="replace-dependency", target="OpenAI")
        lena._append(EventKind.PLAY_STARTED, "lena",
                     {"play": "prove-value", "owner": "zed", "waivers": []})  # fmt: skip
        fresh = Program.open(_isolated, clock=clock)
        try:
            tampered = fresh.state().tampered
            if rules == MADE_UP:
                assert tampered is not None, "the fold accepted it"
                assert "who is no play-owner (the play's owner role)" in tampered[0]
            else:
                assert tampered is None
        finally:
            fresh.close()
    finally:
        lena.close()


def test_the_shipped_playbook_loaded_from_a_file_judges_as_the_shipped_one(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The made-up claim again, with inhouse.toml pointed at a copy of the shipped playbook's
    file (a file under the shipped name must decide what it decides, so it loads): the same
    playbook, judged the same way, the exit set aside."""
    lena = _claiming(_isolated, clock, monkeypatch)
    lena.close()
    text = resources.files("inhouse.playbooks").joinpath("local-model-program.yaml").read_text()
    (_isolated / "copy.yaml").write_text(text)
    toml = (_isolated / "inhouse.toml").read_text()
    toml = toml.replace('playbook = "local-model-program"', 'playbook = "copy.yaml"')
    assert 'playbook = "copy.yaml"' in toml
    (_isolated / "inhouse.toml").write_text(toml)
    lena = Program.open(_isolated, clock=clock)
    try:
        assert not lena.playbook.shipped
        _play_two_without_a_second_person(lena)
        state = lena.state()
        assert "baseline" not in state.first_exited and state.kept_exits == []
        assert any("first event says" in w for w in lena.status()["warnings"])
    finally:
        lena.close()


@pytest.mark.parametrize("how", ["to herself", "in omar's name"])
def test_a_v1_claim_spares_no_rerun_to_its_lead_alone(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """What a claim to v1 with no rules recorded buys the lead who wrote it, alone. Nothing in
    the log tells it from a program a release before 183a57b created (that release wrote event 1
    and 2 as she can; the store's schema has not changed since; what later releases write, in a
    verdict or elsewhere, either is hers to leave out or shows only that someone upgraded), so
    the claim is believed: the exit v1 let through is kept. But v1 spares the rerun only once
    play 2 exited, and that exit is not the lead's alone: in every release play 3's owner
    differs from play 2's, and the receiver accepts with their own key. Lena, with omar's
    honest verify and nobody's rerun, hands play 2 around the API to herself (set aside: handed
    to herself), or writes omar's acceptance with her own key (the fold stops there): no exit,
    and play 2 still asks for the rerun."""
    lena = _claiming(_isolated, clock, monkeypatch, rules="")
    try:
        lena.change_roles(None, "lena", add=["play-owner"])
        omar = enrol(lena, "omar", team="support", roles=["play-owner"])
        prove(lena)
        lena.offer_handoff(None, 1, to="lena")
        lena.accept_handoff(None, 1, comment="I can build on this")
        omar.request_access(reason="I want the triage model")
        lena.start_play(None, 2)
        lock_baseline(lena)
        measured(omar, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)  # no rerun
        measured(omar, "task.named", task="triage", frequency="daily")
        omar.close()
        with pytest.raises(InhouseError, match="exit criteria are not met"):
            lena.offer_handoff(None, 2, to="omar")
        receiver = "lena" if how == "to herself" else "omar"
        digest = evidence_hash(exit_results(lena.playbook.play(2), lena.state(), clock()))
        offer = {"play": "baseline", "to": receiver, "evidence_hash": digest, "comment": ""}
        lena._append(EventKind.HANDOFF_OFFERED, "lena", offer)
        for kind in (EventKind.HANDOFF_ACCEPTED, EventKind.PLAY_EXITED):
            lena._append(kind, receiver, {"play": "baseline", "evidence_hash": digest})
        fresh = Program.open(_isolated, clock=clock)
        try:
            state = fresh.state()
            assert "baseline" not in state.first_exited
            if how == "to herself":
                assert state.tampered is None
                [unmet] = state.unmet_exits
                assert "was handed by its owner to himself" in unmet
            else:
                assert state.tampered is not None
                assert "signed by lena's key" in state.tampered[0]
            rows = {row["check"]: row for row in play(fresh, 2)["exit"]}
            assert rows["trial-reproduced"]["outcome"] == "fail", rows["trial-reproduced"]
            assert "--rerun" in rows["trial-reproduced"]["reason"]
        finally:
            fresh.close()
    finally:
        lena.close()
