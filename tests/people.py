"""Acting as people in tests: each person enrols with a key of their own, as in real life.

``enrol(program, "bob", roles=[...])`` has the program's current key (a rollout lead) invite
bob, creates bob's key and joins with it from bob's own machine, signs bob in with the
organisation's sign-in, and returns the program acted on with bob's key. ``enrol_cli`` does the
same through files and returns the environment a CLI call needs to act as that person
(``INHOUSE_KEY``).

Outside a demo, inhouse tells nobody apart without the organisation's sign-in (a key and the
machine it reports are anyone's to make). So the first ``enrol`` into a program with no sign-in
sets one up with **the suite's stand-in identity provider** (:func:`suite_idp`, one for the
session, on loopback, standing for the organisation's provider elsewhere: tests/conftest.py) and
signs the enrolling lead in; each person enrolled signs in as ``u-<name>``. A program whose test
set up a provider of its own is left to it (its test signs people in), as is a test marked
``own_sign_in`` and ``signed_in=False``: someone who joined and never signed in.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from inhouse.identity import SigningKey, create_key
from inhouse.program import Program, Provenance
from inhouse.testing.standin_idp import StandinIdP

_IDP: StandinIdP | None = None
#: False in a test marked ``own_sign_in`` (tests/conftest.py): it sets up a provider of its own,
#: when it chooses, and signs people in itself
AUTO_SIGN_IN = True


def suite_idp() -> StandinIdP:
    """The suite's stand-in identity provider, started on first use and stopped at the session's
    end (tests/conftest.py). Its tokens are issued at the time of the program that asks."""
    global _IDP
    if _IDP is None:
        _IDP = StandinIdP().__enter__()
    return _IDP


def stop_suite_idp() -> None:
    global _IDP
    if _IDP is not None:
        _IDP.__exit__(None, None, None)
        _IDP = None


def suite_sign_in(program: Program) -> bool:
    """The organisation's sign-in set up with the suite's provider where ``program`` has none
    (``program`` acts as a rollout lead) and its own person signed in. False, doing nothing,
    where the program's sign-in is a provider its test set up itself."""
    idp = suite_idp()
    state = program.state()
    if state.sign_in is None:
        program.set_up_sign_in(idp.issuer, "inhouse")
        state = program.state()
    assert state.sign_in is not None
    if state.sign_in.issuer != idp.issuer:
        return False
    if program.key.key_id not in state.signed_keys:
        sign_in_as(program)
    return True


def sign_in_as(person: Program, subject: str | None = None) -> None:
    """``person``'s key signs in with the suite's provider, as ``subject`` (``u-<name>``): the
    ID token a browser sign-in would bring back, issued at the program's time."""
    from inhouse.identity.signin import nonce_for

    idp = suite_idp()
    name = person.whoami().name
    idp.clock = person.clock
    claims = idp.claims(
        subject or f"u-{name}",
        nonce=nonce_for(person.state().program_id, person.key.key_id),
        email=f"{name}@acme.example",
    )
    person.bind_sign_in(idp.mint(claims))


def enrol(
    program: Program,
    name: str,
    *,
    team: str = "",
    email: str = "",
    roles: Iterable[str] = (),
    machine: str | None = None,
    signed_in: bool = True,
) -> Program:
    """Invite ``name`` with ``program``'s key, join with a new key from their own machine
    (``machine``, default ``<name>-laptop``) and sign in (unless ``signed_in`` is False; see
    the module's note). Returns the program acting as ``name``."""
    signing = signed_in and AUTO_SIGN_IN and suite_sign_in(program)
    text = program.invite(name, team=team, email=email, roles=roles)
    key = SigningKey.generate()
    program.join(str(text), key, at_machine=machine or f"{name}-laptop")
    person = program.using(key)
    if signing:
        sign_in_as(person)
    return person


def key_file(folder: Path, name: str) -> Path:
    """A new key file for ``name`` under ``folder`` (mode 0600)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.key"
    create_key(path)
    return path


def enrol_cli(
    program: Program,
    name: str,
    keys: Path,
    *,
    team: str = "",
    roles: Iterable[str] = (),
    machine: str | None = None,
    signed_in: bool = True,
) -> dict[str, str]:
    """Enrol ``name`` with a key file under ``keys`` (signed in as :func:`enrol` does); returns
    ``{"INHOUSE_KEY": path}`` for a CliRunner call that acts as them."""
    from inhouse.identity import load_key

    signing = signed_in and AUTO_SIGN_IN and suite_sign_in(program)
    path = key_file(keys, name)
    text = program.invite(name, team=team, roles=roles)
    key = load_key(path)
    program.join(str(text), key, at_machine=machine or f"{name}-laptop")
    if signing:
        sign_in_as(program.using(key))
    return {"INHOUSE_KEY": str(path)}


def lead_env(program: Program) -> dict[str, str]:
    """The environment that acts as the program's lead (the key ``init`` used)."""
    assert program.key.path is not None
    return {"INHOUSE_KEY": os.fspath(program.key.path)}


def hold_gateway_key(lead: Program, holder: Program) -> None:
    """``holder``'s person fetches a gateway key of their own, granted by ``lead`` (a rollout
    lead), on the record: the gateway's figures count for a person only once they hold one.
    A waiver lets the grant through the reach guards where the plays before have not exited."""
    from datetime import timedelta

    from inhouse.errors import AntiPattern
    from inhouse.gateway.keys import issue_key

    name = holder.whoami().name
    for _ in range(3):  # each guard the grant meets is waived once, on the record
        try:
            issue_key(lead, None, name, holder=holder)
            return
        except AntiPattern as refused:
            lead.grant_waiver(None, refused.guard, play=refused.play, reason="executive-decision",
                              note=f"{name} holds a gateway key in this test",
                              expires=lead.clock() + timedelta(days=366))  # fmt: skip
    raise AssertionError(f"{name}'s gateway key was refused three times")


def vouch_for_gateway_host(person: Program, key: SigningKey | None = None) -> None:
    """``inhouse gateway vouch`` run by ``person`` (a user of the gateway who never led), with
    its one HTTP request to the gateway's host **stood in**: the gateway service's key, read
    where the test keeps it (``.inhouse/keys/gateway.key``), signs the challenge as the
    gateway's ``/inhouse/identity`` does. Every check the command makes runs; with the sign-in
    set up, what the gateway measures counts once someone other than its enrolling lead has
    done this (tests/gateway/test_vouch.py runs the real request). ``key``: the gateway key
    that answers, where it is not the one in the program folder (a second replica's)."""
    from unittest import mock

    import httpx

    from inhouse.gateway.rollup import SERVICE
    from inhouse.gateway.vouch import vouch_for_gateway
    from inhouse.identity.hosts import NONCE_HEADER, host_challenge
    from inhouse.program.core import read_service_key

    key = key or read_service_key(person.folder, SERVICE)
    assert key is not None, "the gateway's key is not enrolled in this program yet"
    program_id = person.state().program_id

    def answer(url: str, *, headers: dict[str, str], timeout: float, **_: Any) -> httpx.Response:
        nonce = headers[NONCE_HEADER]
        signature = key.sign(host_challenge(program_id, SERVICE, nonce))
        return httpx.Response(200, json={"key_id": key.key_id, "signature": signature})

    with mock.patch("inhouse.gateway.vouch.httpx.get", answer):
        vouch_for_gateway(person, "http://gateway.test:8088")


def confirm_own_use(*people: Program) -> None:
    """Each of ``people`` confirms, with their own key (``inhouse usage confirm``), the use the
    gateway's figures give them and they have not confirmed yet (none: nothing recorded): a
    person's use counts only on their own word, as the honest walks of plays 4-6 do."""
    from inhouse.pilot.usage_confirm import attributed_use, confirm_usage

    for person in people:
        if not attributed_use(person).empty:
            confirm_usage(person)


def _shown(person: Program, days: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Per day of ``days``, the (requests, tokens) the latest signed ``usage.daily`` fact in
    ``person``'s log gives them: what `inhouse usage confirm` shows and binds (a day no such
    fact names yet is bound to none, as it binds one the usage log has no row of)."""
    name, wanted = person.whoami().name, set(days)
    shown: dict[str, tuple[int, int]] = {}
    for fact in person.state().facts:
        if fact.kind != "usage.daily" or not fact.signed:
            continue
        day, people = str(fact.payload.get("day")), fact.payload.get("people")
        figures = people.get(name) if isinstance(people, dict) else None
        if day in wanted and isinstance(figures, dict):
            spent = int(figures.get("tokens_in", 0)) + int(figures.get("tokens_out", 0))
            shown[day] = (int(figures.get("requests", 0)), spent)
    return shown


def confirm_days(
    person: Program,
    *days: str,
    prompts: Iterable[tuple[str, int]] = (),
    shown: tuple[int, int] | None = None,
) -> None:
    """``person`` confirms with their own key the ``days`` (ISO) and prompt versions a test's
    hand-signed gateway figures give them: the ``usage.confirmed`` fact `inhouse usage confirm`
    records, where the test signs the gateway's facts itself (no usage rows to list them from).
    Each day is bound to the figures signed for it so far (:func:`_shown`), as exit rule 19
    reads a confirmation: figures signed into the day after count once confirmed again.
    ``shown``: the (requests, tokens) each day is bound to instead, for a test that confirms
    days before it signs them (as the usage log would show them)."""
    bound = _shown(person, days) if shown is None else dict.fromkeys(days, shown)
    person.record_fact(
        None,
        "usage.confirmed",
        {
            "person": person.whoami().name,
            "days": list(days),
            "prompts": [{"prompt": name, "version": version} for name, version in prompts],
            "requests": {day: n for day, (n, _) in bound.items()},
            "tokens": {day: t for day, (_, t) in bound.items()},
        },
        provenance=Provenance.MEASURED,
        collector="inhouse usage confirm",
    )


@contextmanager
def at_own_machine(program: Program) -> Iterator[None]:
    """Inside it, what the runner records as the machine it ran on (``machine_fingerprint``)
    is the one ``program``'s key was enrolled from: each person's own laptop. This process's
    own fingerprint is the lead's, whose first key was made here, so without it every run the
    runner's own recording code records comes "from a machine the lead enrolled"."""
    import pytest

    from inhouse.workflows import runner

    machine = program.state().keys[program.key.key_id].machine
    with pytest.MonkeyPatch.context() as there:
        there.setattr(runner, "machine_fingerprint", lambda: machine)
        yield


def forget_seen(program: Program) -> None:
    """Let go of what this test's home folder saw of ``program``'s log: a test that plays the
    store's host cutting its tail, then working on (or auditing) the shorter log on her own
    machine, as she would after deleting the file (a colleague's machine that saw the events
    names the cut: tests/test_log_witness.py)."""
    from inhouse.program import witness

    witness.forget(program.state().program_id, program.store.url)
