"""Review of exit rule 14 (``AUTHOR_REAL_MODEL``): the cheapest way round it found, now closed.

Rule 14 sets aside an author's pass the project's test model answered, as the run says it
(``test_model``). omar's favour, run with a release that recorded where it was answered (his
own loopback), its decoys and ``proved``, but not yet whether the test model answered (those
releases came a day apart), is the same smoke test on random weights, with a spec whose cases
ask for JSON in a schema (which the test model meets, as the demo's do): no server of lena's
needed. Under rule 14 an author's pass that does not say counts for nothing
(:func:`~inhouse.program.playchecks._shared.unsaid_model`); an honest author on an older
release runs the version once more with today's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from inhouse.program.checks import Outcome
from inhouse.testing.standin_idp import StandinIdP
from tests.conftest import Clock
from tests.test_outsider import clock  # noqa: F401
from tests.test_redteam34n import _run_on, _smoke_test
from tests.test_sign_in import _judge
from tests.workflows.test_author_flip import _play_three


def test_a_smoke_test_by_a_release_that_does_not_say_test_model_does_not_make_hers_another_s(
    _isolated: Path,
    clock: Clock,  # noqa: F811
    idp: StandinIdP,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cast = _play_three(_isolated, clock, idp)
    lena, omar = cast["lena"], cast["omar"]
    try:
        record = omar.record_fact

        def older(actor: Any, kind: str, payload: dict[str, Any], **kw: Any) -> Any:
            if kind == "workflow.run":
                payload = {k: v for k, v in payload.items() if k != "test_model"}
            return record(actor, kind, payload, **kw)

        with monkeypatch.context() as release:
            release.setattr(omar, "record_fact", older)
            _smoke_test(omar)  # random weights, his loopback, proved 3 (JSON in a schema)
        assert [
            f.payload.get("test_model") for f in omar.state().facts if f.kind == "workflow.run"
        ] == [None]  # fmt: skip (it does not say)
        _run_on(lena)
        result = _judge(lena, "workflow", "workflow-run-by-other")
        assert result.outcome is Outcome.FAIL, result.reason
    finally:
        lena.close()
