"""Red team (rtmach): lena, the rollout lead, alone, makes one person's work count as a second
person's on a second machine, with what she holds: several machines and VMs of her own, a clone
of one, a hostname or machine id she changes, containers; never a colleague's private key.

Play 2's second person (``second-person-verified``) is the gate judged here, through the same
seams the known hole (tests/test_redteam23.py: a colleague signs in once at her desk) uses. Each
test is the forgery one person alone makes; what it pins is which part of the log refuses it:

* a clone of her VM (another hostname, another machine id) under a second name, signed in with
  her own account: one account is one person, whatever machine the key was made on;
* a second name joined from her own laptop with ``INHOUSE_MACHINE_ID`` set (the demo's way of
  one computer playing several), even where the name signed in with another account: outside a
  demo the fingerprint keeps the laptop's own beside the one the variable names;
* a colleague's name taken over: she revokes every key of vic's (a lead may revoke anyone's),
  invites vic again and joins that invitation herself from a VM: the name now holds a key that
  never signed in, so nothing it signs counts, vic's earlier verify included (fails closed).

None of these passes; they pin the refusals. The machine a key or a verify reports is its
maker's to state (inhouse.identity.machine), so every remaining way found goes through a second
account, which the known holes (tests/test_redteam23.py, tests/test_redteam1234.py,
tests/test_dash_mailbox.py) already name.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from inhouse.errors import SignInError
from inhouse.identity import SigningKey
from inhouse.program import Program
from inhouse.program.checks import Outcome
from inhouse.testing.standin_idp import StandinIdP
from tests.conftest import Clock
from tests.test_engine import HERE, LOCK, measured
from tests.test_outsider import clock  # noqa: F401
from tests.test_sign_in import _judge, _sign_in
from tests.workflows.test_author_flip import _play_three, _test_run

#: the keys lena made for her aliases, by program: hers, on her machines
_KEPT: dict[int, list[SigningKey]] = {}


def _keys_of(lena: Program, name: str) -> list[SigningKey]:
    """The keys lena made and joined as ``name``."""
    held = {r.key_id for r in lena.state().keys.values() if r.person == name}
    return [k for k in _KEPT.get(id(lena), []) if k.key_id in held]


def _alias_verify(lena: Program, idp: StandinIdP, account: str, **join: str) -> int:
    """lena joins an invented colleague, zoe, with a key of hers, signs that key in as
    ``account``, and records a passing verify of the current lock with it; returns its id."""
    kept = SigningKey.generate()
    _KEPT.setdefault(id(lena), []).append(kept)
    lena.join(str(lena.invite("zoe", team="finance")), kept, **join)
    alias = lena.using(kept)
    _sign_in(alias, idp, account)
    return int(measured(alias, "baseline.verify", **HERE, lock_hash=LOCK, passed=True).id)


def test_a_clone_of_her_vm_signed_in_with_her_own_account_is_no_second_person(
    _isolated: Path,
    clock: Clock,  # noqa: F811
    idp: StandinIdP,
) -> None:
    """A clone of her VM, given its own hostname and machine id (systemd-machine-id-setup), is a
    machine none of the baseline's owners enrolled from; the name she joins from it signs in
    with her own account, the only one she holds: to the sign-in it is lena."""
    cast = _play_three(_isolated, clock, idp)
    lena = cast["lena"]
    try:
        with pytest.raises(SignInError, match="one identity is one person"):
            _alias_verify(lena, idp, "u-lena", at_machine="0123456789abcdef")
        # the key, never signed in, verifies for nobody; the honest colleague's verify counts
        alias = lena.using(next(iter(_keys_of(lena, "zoe"))))
        verify = measured(alias, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
        result = _judge(lena, "baseline", "second-person-verified")
        assert verify.id not in {f.id for f in result.evidence}, result.reason
        assert any(f.by == "vic" for f in result.evidence), result.reason
    finally:
        lena.close()


def test_a_name_joined_on_her_laptop_under_another_machine_id_is_her_laptop(
    _isolated: Path,
    clock: Clock,  # noqa: F811
    idp: StandinIdP,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``INHOUSE_MACHINE_ID`` set when she joins the second name on her own laptop: even signed in
    with another account (the known hole's setting, tests/test_redteam23.py), the fingerprint
    names her laptop after its ``~``, so outside a demo the verify is from a machine lena
    enrolled from."""
    cast = _play_three(_isolated, clock, idp)
    lena = cast["lena"]
    try:
        monkeypatch.setenv("INHOUSE_MACHINE_ID", "zoe-laptop")
        verify = _alias_verify(lena, idp, "u-zoe")
        result = _judge(lena, "baseline", "second-person-verified")
        assert verify not in {f.id for f in result.evidence}, result.reason
    finally:
        lena.close()


def test_a_colleague_s_name_rejoined_with_her_key_after_she_revoked_his_is_no_second_person(
    _isolated: Path,
    clock: Clock,  # noqa: F811
    idp: StandinIdP,
) -> None:
    """vic verified honestly. lena revokes every key of his (a lead may revoke anyone's),
    invites vic again and joins that invitation herself from a VM of hers; the name is the
    colleague's, the key hers, never signed in."""
    cast = _play_three(_isolated, clock, idp)
    lena = cast["lena"]
    try:
        assert _judge(lena, "baseline", "second-person-verified").outcome is Outcome.PASS
        for record in [r for r in lena.state().keys.values() if r.person == "vic"]:
            if record.revoked_at is None:
                lena.revoke_key(record.key_id)
        kept = SigningKey.generate()
        lena.join(str(lena.invite("vic")), kept, at_machine="fedcba9876543210")
        alias = lena.using(kept)
        measured(alias, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
        result = _judge(lena, "baseline", "second-person-verified")
        # the name holds a key that never signed in: nothing vic's name signs counts now
        assert result.outcome is not Outcome.PASS, result.reason
        assert "vic has not signed in" in result.reason
    finally:
        lena.close()


def test_a_rerun_by_a_name_on_her_laptop_under_another_machine_id_is_the_author_s_own(
    _isolated: Path,
    clock: Clock,  # noqa: F811
    idp: StandinIdP,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Play 3: lena publishes triage v1 (her passing run comes first); the second name, joined
    on her laptop under ``INHOUSE_MACHINE_ID`` and signed in with another account, reruns it.
    The run's machine is her laptop after the ``~``: it is no one else's rerun."""
    cast = _play_three(_isolated, clock, idp)
    lena = cast["lena"]
    try:
        _test_run(lena, "v1", passed=True)
        monkeypatch.setenv("INHOUSE_MACHINE_ID", "zoe-laptop")
        kept = SigningKey.generate()
        lena.join(str(lena.invite("zoe", team="finance")), kept)
        alias = lena.using(kept)
        _sign_in(alias, idp, "u-zoe")
        _test_run(alias, "v1", passed=True)
        result = _judge(lena, "workflow", "workflow-run-by-other")
        assert result.outcome is not Outcome.PASS, result.reason
        assert "came from a machine lena enrolled" in result.reason, result.reason
    finally:
        lena.close()
