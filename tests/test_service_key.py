"""A service's own key (``.inhouse/keys/NAME.key``) is made only when a rollout lead enrols it:
someone else who asks to act as a service not enrolled yet is refused and leaves no key file
behind on their machine (a drift review or an adoption report run on a laptop by mistake). An
enrolled key serves anyone on its host, as before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inhouse.errors import NotAllowed
from inhouse.location import DATA_DIR
from inhouse.pilot.adoption import record_adoption
from inhouse.program import Program
from inhouse.usage.authentic import GATEWAY_SERVICE
from tests.conftest import Clock
from tests.people import enrol


@pytest.fixture
def lena(_isolated: Path, clock: Clock) -> Iterator[Program]:
    """The lead."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    yield lena
    lena.close()


def _key_file(folder: Path, name: str) -> Path:
    return folder / DATA_DIR / "keys" / f"{name}.key"


def test_a_non_lead_refused_as_a_service_leaves_no_key_file(lena: Program) -> None:
    bob = enrol(lena, "bob", team="support")
    path = _key_file(lena.folder, GATEWAY_SERVICE)
    with pytest.raises(NotAllowed, match="a rollout lead runs this once to enrol it"):
        bob.as_service(GATEWAY_SERVICE)
    assert not path.exists()
    # nor through what calls it: the adoption report refuses before it reads the MAC key
    with pytest.raises(NotAllowed, match="the gateway service's key is not enrolled yet"):
        record_adoption(bob)
    assert not path.exists()
    assert GATEWAY_SERVICE not in bob.state().people  # nothing enrolled either


def test_the_lead_enrols_the_key_and_then_it_serves_anyone_on_its_host(lena: Program) -> None:
    bob = enrol(lena, "bob", team="support")
    path = _key_file(lena.folder, GATEWAY_SERVICE)
    service = lena.as_service(GATEWAY_SERVICE)  # the first time: made and enrolled
    assert path.exists()
    assert lena.state().person_of_key(service.key.key_id) == GATEWAY_SERVICE
    made = path.read_bytes()
    again = bob.as_service(GATEWAY_SERVICE)  # enrolled: a non-lead on this host uses it
    assert again.key.key_id == service.key.key_id
    assert path.read_bytes() == made


def test_a_key_file_nobody_enrolled_is_still_refused_to_a_non_lead(lena: Program) -> None:
    """A file left by an older inhouse (or made by hand) proves nothing: bob is refused and the
    file stays as it was; the lead's call enrols that very key."""
    from inhouse.program.core import service_key

    bob = enrol(lena, "bob", team="support")
    left = service_key(lena.folder, GATEWAY_SERVICE)
    with pytest.raises(NotAllowed, match="not enrolled yet"):
        bob.as_service(GATEWAY_SERVICE)
    assert GATEWAY_SERVICE not in bob.state().people
    assert lena.as_service(GATEWAY_SERVICE).key.key_id == left.key_id
