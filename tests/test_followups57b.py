"""Follow-ups 57b: a lead's command run away from the gateway's host enrols no second gateway
key (it is refused, naming the host and the next step); and the gateway's host rule (a key made
there after a lead enrolled its key there is that lead's) reaches a handoff's receiver and play
2's access requests, where an exit judged under the rule before keeps it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.errors import NotAllowed
from inhouse.identity import SigningKey, create_key
from inhouse.program import Program
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.counting import build_context
from inhouse.program.guards import start_blockers
from inhouse.program.people import PeopleMixin
from inhouse.usage.authentic import GATEWAY_SERVICE
from tests.conftest import ENROL_SERVICE_HERE, OTHER_COMPUTER, Clock
from tests.people import enrol
from tests.test_handoff_machines import _play_two_met
from tests.test_redteam4 import _gateway_host

runner = CliRunner()

#: the gateway's key file in the program folder on its host
KEY_FILE = ".inhouse/keys/gateway.key"

#: the rules an exit says it was judged by: with the gateway's host rule, and the one before
#: (inhouse.program.checks.GATEWAY_HOST, asserted where it is used)
HOST_RULE, RULE_BEFORE = 3, 2


def _host_rule() -> None:
    from inhouse.program.checks import EXIT_RULES, GATEWAY_HOST

    assert EXIT_RULES >= GATEWAY_HOST == HOST_RULE


def _said(done: object) -> str:
    return " ".join((done.stdout + done.stderr).split())  # type: ignore[attr-defined]


def _gateway_keys(folder: Path) -> list[str]:
    opened = Program.open(folder)
    try:
        state = opened.state()
        return [k.key_id for k in state.keys_of(GATEWAY_SERVICE) if k.revoked_at is None]
    finally:
        opened.close()


def _gateway_enrolled_on_its_host(folder: Path) -> tuple[str, str]:
    """lena's program, the gateway's key enrolled on its host; then her own checkout (on her
    laptop), which holds no key file of the gateway's. Returns the key's id and machine."""
    assert runner.invoke(app, ["init", "Acme", "--lead", "lena"]).exit_code == 0
    lena = Program.open(folder)
    try:
        first = lena.as_service(GATEWAY_SERVICE).key.key_id  # on gateway-host (tests/conftest)
        host = lena.state().keys[first].machine
    finally:
        lena.close()
    (folder / ".inhouse" / "keys" / "gateway.key").unlink()
    return first, host


# -- 1. no second gateway key from a lead's laptop ------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [["pilot", "adoption", "--record"], ["gateway", "rollup"], ["prompts", "usage", "--record"]],
)
def test_a_leads_command_away_from_the_gateways_host_is_refused_and_makes_no_key(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv(OTHER_COMPUTER, "lena-laptop")
    first, host = _gateway_enrolled_on_its_host(_isolated)
    monkeypatch.setattr(PeopleMixin, "enrol_service", ENROL_SERVICE_HERE)  # on her laptop
    done = runner.invoke(app, command)
    said = _said(done)
    assert done.exit_code == 3, said
    assert f"the gateway service already signs with key {first} on machine {host}" in said
    assert "has no .inhouse/keys/gateway.key" in said
    assert f"Run this on the gateway's host (machine {host}" in said
    assert f"`inhouse person revoke-key {first}`" in said
    assert _gateway_keys(_isolated) == [first]
    assert not (_isolated / ".inhouse" / "keys" / "gateway.key").exists()  # nothing made here


def test_anyone_else_away_from_the_gateways_host_is_told_where_it_is(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A support owner signing as the gateway in her own checkout (a drift review) hears not
    "the key is not enrolled yet" (it is, on the gateway's host) but where to run it."""
    from inhouse.errors import Refused

    monkeypatch.setenv(OTHER_COMPUTER, "lena-laptop")
    first, host = _gateway_enrolled_on_its_host(_isolated)
    lena = Program.open(_isolated)
    try:
        sam = enrol(lena, "sam", team="support", roles=["support-owner"])
        with pytest.raises(Refused, match=f"Run this on the gateway's host \\(machine {host}"):
            sam.as_service(GATEWAY_SERVICE)
    finally:
        lena.close()
    assert _gateway_keys(_isolated) == [first]


def test_a_checkout_holding_another_gateway_key_is_refused_too(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key file that is not the enrolled key (copied from elsewhere, or made by a gateway
    started here) is not enrolled beside the gateway's own either; the file is left as it is."""
    monkeypatch.setenv(OTHER_COMPUTER, "lena-laptop")
    first, _ = _gateway_enrolled_on_its_host(_isolated)
    other = create_key(_isolated / ".inhouse" / "keys" / "gateway.key")
    monkeypatch.setattr(PeopleMixin, "enrol_service", ENROL_SERVICE_HERE)
    done = runner.invoke(app, ["gateway", "rollup"])
    assert done.exit_code == 3 and f"holds another key, {other.key_id}" in _said(done)
    assert _gateway_keys(_isolated) == [first]


def test_the_first_enrolment_and_one_after_the_old_key_is_revoked_still_work(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The honest paths: no gateway key yet, a lead's run on the gateway's host enrols it; its
    host gone, she revokes the old key first, and the run on the new host enrols the new one."""
    monkeypatch.setenv(OTHER_COMPUTER, "lena-laptop")
    first, _ = _gateway_enrolled_on_its_host(_isolated)
    revoked = runner.invoke(app, ["person", "revoke-key", first])
    assert revoked.exit_code == 0, _said(revoked)
    done = runner.invoke(app, ["gateway", "rollup"])  # on the new host (tests/conftest)
    assert done.exit_code == 0, _said(done)
    (second,) = _gateway_keys(_isolated)
    assert second != first
    assert (_isolated / ".inhouse" / "keys" / "gateway.key").exists()


# -- 2. the gateway's host rule for a handoff's receiver and play 2's askers ---------------------


def _handoff_world(
    folder: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> tuple[Program, str]:
    """Play 2's exit met, lena its owner, who enrolled the gateway's key on its host; returns
    lena and the fingerprint a key made on that host records."""
    lena = Program.init(folder, "Acme", "lena", clock=clock)
    _play_two_met(lena, clock)
    lena.enrol_service(GATEWAY_SERVICE, SigningKey.generate())  # on gateway-host
    return lena, _gateway_host(monkeypatch)


def test_a_handoff_to_a_receiver_who_joined_on_the_gateways_host_is_refused(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lena has "omar" join on the gateway's host, which she runs, signs him in with an account
    of his, and accepts play 2's handoff there as him: the receiving owner's word was hers."""
    lena, host = _handoff_world(_isolated, clock, monkeypatch)
    request.addfinalizer(lena.close)
    lena.invite("omar", team="support", roles=["play-owner"])
    lena.offer_handoff(None, 2, to="omar")  # invited, not joined: judged when he decides
    omar = enrol(lena, "omar", team="support", roles=["play-owner"], machine=host)
    with pytest.raises(NotAllowed, match="every key of omar was enrolled from the gateway's host"):
        omar.accept_handoff(None, 2)
    assert lena.state().handoffs["baseline"].status == "offered"
    omar.reject_handoff(None, 2, comment="not mine to take")
    # nor is the offer made to one who joined there
    enrol(lena, "rex", team="ops", roles=["play-owner"], machine=host)
    with pytest.raises(NotAllowed, match="every key of rex was enrolled from the gateway's host"):
        lena.offer_handoff(None, 2, to="rex")
    # honest: a colleague on a laptop of his own takes it
    vic = enrol(lena, "ben", team="ops", roles=["play-owner"])
    lena.offer_handoff(None, 2, to="ben")
    vic.accept_handoff(None, 2)
    assert lena.state().handoffs["baseline"].status == "accepted"


@pytest.mark.parametrize("rules", [HOST_RULE, RULE_BEFORE])
def test_an_acceptance_around_the_api_from_the_gateways_host_hands_nothing_on(
    request: pytest.FixtureRequest,
    _isolated: Path,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    rules: int,
) -> None:
    """The start guard judges an acceptance the API would refuse (appended around it: here the
    API's refusal is taken out): play 3 cannot start on it. An exit recorded under the rule
    before (an older inhouse) keeps it: the start it let through stands."""
    from inhouse.program import handoffs
    from tests.test_exit_rules_floor import _older_inhouse

    _host_rule()
    # the inhouse that wrote the whole log judged by ``rules``: an exit cannot say fewer than
    # the events before it show were in force
    _older_inhouse(monkeypatch, rules)
    lena, host = _handoff_world(_isolated, clock, monkeypatch)
    request.addfinalizer(lena.close)
    omar = enrol(lena, "omar", team="support", roles=["play-owner"], machine=host)
    monkeypatch.setattr(handoffs.PlaysMixin, "_refuse_same_machine", lambda *a, **k: None)
    lena.offer_handoff(None, 2, to="omar")
    omar.accept_handoff(None, 2)
    state = lena.state()
    assert state.first_rules["baseline"] == rules
    found = [b.message for b in start_blockers(lena.playbook, lena.playbook.play(3), state,
                                              clock.now)]  # fmt: skip
    host_rule = [r for r in found if "omar, whose keys were all enrolled from the gateway's" in r]
    if rules >= HOST_RULE:
        assert host_rule and "botched handoff" in host_rule[0], found
    else:
        assert host_rule == [], found


def _asked(lena: Program, clock: Clock, **exited: int) -> tuple[Outcome, str]:
    ctx = build_context(lena.state(), clock.now)
    if exited:
        ctx = replace(
            ctx,
            exited={**ctx.exited, **{p: (clock.now, 10**6) for p in exited}},
            exit_rules={**ctx.exit_rules, **exited},
        )
    result = evaluate("access-requested", ctx)
    return result.outcome, result.reason


def test_access_asked_with_a_key_made_on_the_gateways_host_is_the_leads_own(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Play 2's trigger: "neo", who joined on the gateway's host after lena enrolled its key
    there, asks to get in; lena holds his key file, so it is her asking. A program whose play 1
    exited under the rule before keeps it; a colleague on a laptop of her own counts."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    request.addfinalizer(lena.close)
    lena.enrol_service(GATEWAY_SERVICE, SigningKey.generate())  # on gateway-host
    enrol(lena, "neo", team="ops", machine=_gateway_host(monkeypatch)).request_access(
        reason="I want in"
    )
    outcome, reason = _asked(lena, clock)
    assert outcome is Outcome.FAIL, reason
    assert "neo" in reason and "the gateway's host, where one of them enrolled its key" in reason
    assert _asked(lena, clock, **{"prove-value": RULE_BEFORE})[0] is Outcome.PASS
    assert _asked(lena, clock, **{"prove-value": HOST_RULE})[0] is Outcome.FAIL
    _host_rule()
    enrol(lena, "ola", team="ops").request_access(reason="I want in")
    outcome, reason = _asked(lena, clock)
    assert outcome is Outcome.PASS and reason.startswith("access requested by ola"), reason


def test_a_revoked_gateway_key_left_on_its_host_is_not_enrolled_again(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inhouse.errors import InhouseError

    monkeypatch.setenv(OTHER_COMPUTER, "lena-laptop")
    assert runner.invoke(app, ["init", "Acme", "--lead", "lena"]).exit_code == 0
    lena = Program.open(_isolated)
    try:
        old = lena.as_service(GATEWAY_SERVICE).key.key_id
        lena.revoke_key(old)
        recorded = len(lena.events())
        with pytest.raises(InhouseError, match="revoked") as refused:
            lena.as_service(GATEWAY_SERVICE)
        said = " ".join(str(refused.value).split())
        assert f"{KEY_FILE} holds key {old}, which was revoked for gateway by lena" in said
        assert f"delete {KEY_FILE} on the gateway's host" in said
        done = runner.invoke(app, ["gateway", "rollup"])  # the command a lead runs there
        assert done.exit_code == 3 and f"delete {KEY_FILE}" in _said(done), _said(done)
        assert len(lena.events()) == recorded  # nothing enrolled again, nothing signed
        assert _gateway_keys(_isolated) == []
        # the rotation docs/gateway.md describes: the file deleted, a new key made and enrolled
        (_isolated / KEY_FILE).unlink()
        new = lena.as_service(GATEWAY_SERVICE).key.key_id
        assert new != old and _gateway_keys(_isolated) == [new]
    finally:
        lena.close()


def test_the_gateway_will_not_serve_with_a_revoked_key_left_on_its_host(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`gateway serve` reads the same file at start: with a revoked key in it, it refuses before
    anything opens (as the gateway each worker builds does), naming the file; rows sealed and
    vouchers answered with that key would count for nothing."""
    from inhouse.errors import Refused
    from inhouse.gateway.server import build_gateway
    from tests.gateway.harness import digest_of, make_program, model_file

    weights = model_file(_isolated)
    runtimes = {"local": {"family": "openai", "url": "http://127.0.0.1:9",
                          "model_path": str(weights)}}  # fmt: skip
    lena = make_program(_isolated, runtimes, {"tiny": digest_of(weights)}, clock=clock)
    try:
        old = lena.as_service(GATEWAY_SERVICE).key.key_id
        lena.revoke_key(old)
    finally:
        lena.close()

    def served(*args: object, **kwargs: object) -> None:
        raise SystemExit("served")

    monkeypatch.setattr("inhouse.gateway.server._serve_one", served)
    monkeypatch.setattr("inhouse.gateway.server._supervise", served)
    done = runner.invoke(app, ["gateway", "serve", "--port", "0"])
    assert done.exit_code == 3, _said(done)
    assert f"{KEY_FILE} holds key {old}, which was revoked" in _said(done)
    assert f"delete {KEY_FILE}" in _said(done)
    with pytest.raises(Refused, match=f"holds key {old}, which was revoked"):
        build_gateway(_isolated)
    # rotated: the file deleted, serve makes the new key (a lead's rollup there enrols it)
    (_isolated / KEY_FILE).unlink()
    done = runner.invoke(app, ["gateway", "serve", "--port", "0"])
    assert done.exit_code != 3 and "served" in _said(done), _said(done)
    assert (_isolated / KEY_FILE).exists()
