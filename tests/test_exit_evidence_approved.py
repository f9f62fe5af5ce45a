"""An exit spares only the facts its acceptance names (red team: the dashboard host's exit list).

Through a dashboard session, omar's acceptance of play 2's handoff is approved with his own key,
but the exit event beside it is written by the session key lena's server holds: lena, the lead
the exit judges, could append it herself, naming any fact by the acceptance's mark, and each fact
it names keeps the earlier, laxer rules (``CheckContext.spared``). The acceptance now names the
facts its exit was judged on (``evidence``), so they are what omar approves; the fold lets an exit
spare none besides them, whoever wrote it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from inhouse.errors import IdentityError
from inhouse.identity.approval import approval_statement
from inhouse.identity.delegation import read_delegation
from inhouse.program import Program
from inhouse.program.audit import verify_chain
from inhouse.program.checks import NAMED_ACCEPTANCE
from inhouse.program.evaluation import context_for
from inhouse.program.events import EventKind, append, read_events
from inhouse.web.login import approve
from tests.conftest import Clock
from tests.people import enrol
from tests.test_session_approval import (  # noqa: F401
    _acceptance,
    _approval,
    _fresh,
    _session,
    cast,
)

pytestmark = pytest.mark.usefixtures("on_database")

#: play 2's id
BASELINE = "baseline"


def _payloads(who: Program, kind: EventKind) -> list[dict[str, Any]]:
    return [
        e.payload
        for e in read_events(who.store)
        if e.kind == kind and e.payload.get("play") == BASELINE
    ]


def test_an_approved_acceptance_names_the_facts_its_exit_spares(
    cast: dict[str, Program],  # noqa: F811
) -> None:
    """The honest path: omar approves the acceptance his session writes; it names the facts the
    exit was judged on, the exit beside it names the same, and play 2 exits, sparing them."""
    lena, omar = cast["lena"], cast["omar"]
    as_omar, _, delegation = _session(lena, omar)
    payload = _acceptance(lena)
    assert payload["evidence"]  # play 2's checks rest on facts
    approval = _approval(omar.key, delegation, EventKind.HANDOFF_ACCEPTED, payload, lena.clock())
    with as_omar.approving(approval):
        as_omar.accept_handoff(None, 2, comment="ok")
    (accepted,) = _payloads(lena, EventKind.HANDOFF_ACCEPTED)
    (exit_,) = _payloads(lena, EventKind.PLAY_EXITED)
    assert accepted["evidence"] == exit_["evidence"] == payload["evidence"]
    fresh = _fresh(lena)
    try:
        state = fresh.state()
        assert BASELINE in state.exited
        assert state.first_judged[BASELINE] == frozenset(payload["evidence"])
        ctx = context_for(state, fresh.clock())
        cited = [f for f in state.facts if f.id in payload["evidence"]]
        assert cited and all(ctx.spared(BASELINE, f) for f in cited)
        assert verify_chain(fresh.store, lead_key=fresh.settings.lead_key).ok
    finally:
        fresh.close()


def test_the_host_cannot_name_a_fact_the_approval_left_out(
    cast: dict[str, Program],  # noqa: F811
) -> None:
    """The forgery: omar approves the acceptance; lena, whose server holds his session key,
    appends it and then writes the exit herself, naming a fact by the acceptance the approved
    acceptance does not name, hoping an earlier rule spares it. The exit counts; the fact is
    not spared."""
    lena, omar = cast["lena"], cast["omar"]
    _, key, delegation = _session(lena, omar)
    payload = _acceptance(lena)
    extra = [f for f in lena.state().facts if f.id not in payload["evidence"]]
    assert extra  # facts play 2 was not judged on (play 1's, omar's access request)
    approval = _approval(omar.key, delegation, EventKind.HANDOFF_ACCEPTED, payload, lena.clock())
    append(lena.store, EventKind.HANDOFF_ACCEPTED, "omar",
           {**payload, "delegation": delegation, "approval": approval},
           at=lena.clock(), key=key)  # fmt: skip
    named = sorted({*payload["evidence"], *(f.id for f in extra)})
    append(lena.store, EventKind.PLAY_EXITED, "omar",
           {"play": BASELINE, "evidence_hash": payload["evidence_hash"], "evidence": named,
            "rules": payload["rules"], "delegation": delegation},
           at=lena.clock(), key=key)  # fmt: skip
    fresh = _fresh(lena)
    try:
        state = fresh.state()
        assert state.tampered is None and BASELINE in state.exited
        assert state.first_judged[BASELINE] == frozenset(payload["evidence"])
        ctx = context_for(state, fresh.clock())
        assert not any(ctx.spared(BASELINE, f) for f in extra)
        assert verify_chain(fresh.store, lead_key=fresh.settings.lead_key).ok
    finally:
        fresh.close()


def test_an_exit_appended_by_its_receiver_is_bounded_by_the_acceptance(
    cast: dict[str, Program],  # noqa: F811
) -> None:
    """The same bound on the CLI path: omar accepts with his own key (the acceptance names its
    facts), and an exit he appends around the API naming more spares none of the more."""
    lena, omar = cast["lena"], cast["omar"]
    payload = _acceptance(lena)
    extra = [f.id for f in lena.state().facts if f.id not in payload["evidence"]]
    append(lena.store, EventKind.HANDOFF_ACCEPTED, "omar", payload, at=lena.clock(),
           key=omar.key)  # fmt: skip
    append(lena.store, EventKind.PLAY_EXITED, "omar",
           {"play": BASELINE, "evidence_hash": payload["evidence_hash"],
            "evidence": sorted({*payload["evidence"], *extra}), "rules": payload["rules"]},
           at=lena.clock(), key=omar.key)  # fmt: skip
    fresh = _fresh(lena)
    try:
        assert fresh.state().first_judged[BASELINE] == frozenset(payload["evidence"])
    finally:
        fresh.close()


class _Dashboard:
    """What `inhouse web approve` fetches: a statement and the event it digests."""

    def __init__(self, statement: dict[str, Any], payload: dict[str, Any]) -> None:
        self.body = {"statement": statement, "payload": payload}
        self.posted: list[Any] = []

    def get(self, url: str) -> Any:
        import httpx

        return httpx.Response(200, json=self.body, request=httpx.Request("GET", url))

    def post(self, url: str, json: Any) -> Any:  # pragma: no cover - refused before
        self.posted.append(json)
        raise AssertionError("nothing is signed")


def test_the_approver_refuses_an_acceptance_naming_no_facts(
    cast: dict[str, Program],  # noqa: F811
) -> None:
    """The downgrade: the host proposes an acceptance without its ``evidence`` (as an inhouse
    from before wrote them), so the exit's list is hers again. omar's `inhouse web approve`
    signs none."""
    lena, omar = cast["lena"], cast["omar"]
    _, _, delegation = _session(lena, omar)
    payload = {k: v for k, v in _acceptance(lena).items() if k != "evidence"}
    statement = approval_statement(read_delegation(delegation), kind=EventKind.HANDOFF_ACCEPTED,
                                   payload=payload, nonce="a-1", issued=lena.clock())  # fmt: skip
    dashboard = _Dashboard(statement, payload)
    with pytest.raises(IdentityError, match="names no facts its exit is judged on"):
        approve("http://127.0.0.1:1", "code-1", omar.key, confirm=lambda _: True,
                client=dashboard, now=lena.clock())  # type: ignore[arg-type]  # fmt: skip
    assert dashboard.posted == []


def test_an_approved_acceptance_naming_no_facts_bounds_the_hosts_exit(
    cast: dict[str, Program],  # noqa: F811
) -> None:
    """The downgrade in the log: omar (with an older `inhouse web approve`) approves an
    acceptance naming no facts; lena's exit beside it names a fact play 2 was not judged on.
    The log shows rules 5 (:data:`NAMED_ACCEPTANCE`) in force at the acceptance (the program's
    creation, omar's enrolment): it spares no fact, as an exit naming none, and ``status``
    says why."""
    lena, omar = cast["lena"], cast["omar"]
    extra = _downgrade(lena, omar)
    fresh = _fresh(lena)
    try:
        state = fresh.state()
        assert state.tampered is None and BASELINE in state.exited
        assert state.first_judged[BASELINE] == frozenset()  # as an exit naming none
        ctx = context_for(state, fresh.clock())
        assert not any(ctx.spared(BASELINE, f) for f in state.facts)
        assert any(f.id in extra for f in state.facts)
        warnings = fresh.status()["warnings"]
        assert any("baseline's acceptance" in w and "naming none of the facts" in w
                   for w in warnings), warnings  # fmt: skip
        assert verify_chain(fresh.store, lead_key=fresh.settings.lead_key).ok
    finally:
        fresh.close()


def _downgrade(
    lena: Program, omar: Program, *, rules: int | None = None
) -> list[int]:  # fmt: skip
    """lena's host appends omar's approved acceptance naming no facts (saying ``rules``, else
    what this inhouse says) and then her exit beside it, naming every fact play 2 was judged on
    and more: the facts besides (their ids)."""
    _, key, delegation = _session(lena, omar)
    full = _acceptance(lena)
    payload = {k: v for k, v in full.items() if k != "evidence"}
    if rules is not None:
        payload["rules"] = rules
    extra = [f.id for f in lena.state().facts if f.id not in full["evidence"]]
    assert extra
    approval = _approval(omar.key, delegation, EventKind.HANDOFF_ACCEPTED, payload, lena.clock())
    append(lena.store, EventKind.HANDOFF_ACCEPTED, "omar",
           {**payload, "delegation": delegation, "approval": approval},
           at=lena.clock(), key=key)  # fmt: skip
    append(lena.store, EventKind.PLAY_EXITED, "omar",
           {"play": BASELINE, "evidence_hash": payload["evidence_hash"],
            "evidence": sorted({*full["evidence"], *extra}), "rules": payload["rules"],
            "delegation": delegation}, at=lena.clock(), key=key)  # fmt: skip
    return extra


def test_the_acceptance_saying_fewer_rules_does_not_lift_the_bound(
    cast: dict[str, Program],  # noqa: F811
) -> None:
    """The host types the acceptance's ``rules`` too: she proposes it saying 4 (as an inhouse
    from before rule 5 would), and omar's older approver signs that. The floor is what the log
    before it shows (the program's creation and omar's enrolment say 5), not the acceptance's
    word: it still spares nothing."""
    lena, omar = cast["lena"], cast["omar"]
    _downgrade(lena, omar, rules=NAMED_ACCEPTANCE - 1)
    fresh = _fresh(lena)
    try:
        state = fresh.state()
        assert BASELINE in state.exited
        assert state.first_judged[BASELINE] == frozenset()
        assert state.first_rules[BASELINE] >= NAMED_ACCEPTANCE
    finally:
        fresh.close()


@pytest.fixture
def older_cast(request: pytest.FixtureRequest) -> Iterator[dict[str, Program]]:
    """The same cast, every event written by an inhouse judging by rules 4, the rule before
    acceptances had to name their facts (the stamp put back afterwards: the upgrade)."""
    from tests.test_exit_rules_floor import _older_inhouse

    with pytest.MonkeyPatch.context() as older:
        _older_inhouse(older, NAMED_ACCEPTANCE - 1)
        found: dict[str, Program] = request.getfixturevalue("cast")
    yield found


def test_an_honest_acceptance_from_before_the_rule_keeps_its_exit_s_facts(
    older_cast: dict[str, Program],
) -> None:
    """An honest log from before: lena's dashboard (and everyone's inhouse) judged by rules 4,
    whose acceptances named no facts; omar approved one, and the exit beside it names its own.
    Read after the upgrade, the floor at the acceptance is 4: the acceptance bounds nothing,
    and the exit spares what it names, as before."""
    lena, omar = older_cast["lena"], older_cast["omar"]
    assert lena.state().rules_seen == NAMED_ACCEPTANCE - 1
    extra = _downgrade(lena, omar, rules=NAMED_ACCEPTANCE - 1)
    fresh = _fresh(lena)
    try:
        state = fresh.state()
        assert BASELINE in state.exited
        assert frozenset(extra) <= state.first_judged[BASELINE]  # the exit's list, as before
        assert state.first_rules[BASELINE] == NAMED_ACCEPTANCE - 1
        assert not any("naming none of the facts" in w for w in fresh.status()["warnings"])
    finally:
        fresh.close()


def test_a_colleague_on_today_s_inhouse_sets_the_floor_for_an_older_host(
    older_cast: dict[str, Program], clock: Clock
) -> None:
    """Mixed versions: lena's dashboard still runs an inhouse judging by rules 4, and sam joins
    with today's (his enrolment, signed by his new key, says 5) before omar approves. The log
    now shows rule 5 in force at the acceptance: one naming no facts spares none, whoever's
    inhouse proposed it: an honest older host's acceptance reads so too, as docs/concepts.md
    says, and the host upgrades."""
    lena, omar = older_cast["lena"], older_cast["omar"]
    enrol(lena, "sam", team="ops")  # today's inhouse: rules 5
    assert lena.state().rules_seen == NAMED_ACCEPTANCE
    _downgrade(lena, omar, rules=NAMED_ACCEPTANCE - 1)
    fresh = _fresh(lena)
    try:
        assert fresh.state().first_judged[BASELINE] == frozenset()
    finally:
        fresh.close()
