"""Locks for tests that need a ``baseline.lock`` fact without a runtime to measure: a real
:class:`~inhouse.baseline.lock.Lock`, hashed as ``inhouse baseline lock`` hashes it, so the fact
carries its body and counts (a hand-typed lock hash does not)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from inhouse.baseline.lock import Lock, LockedModel, LockedRuntime, lock_fact_payload
from inhouse.workflows.decoys import DECOYS

if TYPE_CHECKING:
    from inhouse.program import Program
    from inhouse.program.facts import Fact

DIGEST = "sha256:" + "b" * 64
#: where today's `inhouse baseline verify` and `inhouse workflow test` record that their runtime
#: answered: this machine (``runtime_local``). A verify or run without it is an older inhouse's,
#: which a play 2 or 3 not yet exited does not count (a server elsewhere could have answered)
HERE: dict[str, Any] = {"runtime_local": True, "runtime_peers": ["127.0.0.1"]}
#: what today's `inhouse workflow test` records of its cases' decoy answers: judged on each, and
#: a case passed that fails them all. A run without ``decoys`` is an older inhouse's, which a
#: play 3 not yet exited does not count (its tests may pass whatever the model says); and whether
#: the project's test model answered it (an author's run that does not say counts for nothing
#: under exit rule 14), and the seed it sent beside its version's temperature (:data:`AT_ZERO`)
JUDGED: dict[str, Any]
#: what today's `inhouse workflow test` records of the seed a version at temperature 0 sends (as
#: written: there is no draw to replay). A run that says no seed counts for play 3's rerun by
#: another only where a run of its version says it does not sample (exit rule 35)
AT_ZERO: dict[str, Any] = {"sent": None, "spec": None, "temperature": 0.0, "drawn": False}
JUDGED = {"proved": 1, "decoys": list(DECOYS), "test_model": False, "seed": AT_ZERO}


def made_lock(
    owner: str = "lena",
    *,
    models: Sequence[tuple[str, str]] = (("m", DIGEST),),
    family: str = "embedded",
    version: str = "1",
    rules_hash: str = "r" * 12,
) -> Lock:
    """A lock pinning ``models`` (name, digest) on a runtime of ``family`` at ``version``."""
    lock = Lock(
        owner=owner,
        runtime=LockedRuntime(name="local", family=family, version=version),
        models=[LockedModel(name=name, digest=digest) for name, digest in models],
        python="3.12.0",
        inhouse="0.1.0",
        rules_hash=rules_hash,
    )
    return lock.model_copy(update={"lock_hash": lock.computed_hash()})


def lock_payload(owner: str = "lena", **pins: Any) -> dict[str, Any]:
    """The ``baseline.lock`` payload ``inhouse baseline lock`` records for :func:`made_lock`."""
    return lock_fact_payload(made_lock(owner, **pins))


def verified_by(person: Program, lock: Lock) -> Fact:
    """``person``'s passing ``inhouse baseline verify`` of ``lock``, served the weights it pins,
    recorded with their own key at their own laptop (play 2's second person): the lock is then
    more than its signer's word (``second-person-verified``; play 5's ``versions-pinned``)."""
    from inhouse.program.facts import Provenance

    payload = {
        "lock_hash": lock.lock_hash,
        "passed": True,
        "models": [{"name": m.name, "digest": m.digest} for m in lock.models],
        **HERE,
    }
    return person.record_fact(None, "baseline.verify", payload, provenance=Provenance.MEASURED,
                              collector="inhouse baseline verify")  # fmt: skip
