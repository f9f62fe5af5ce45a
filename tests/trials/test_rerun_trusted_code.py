"""A key that ran code someone else's spec names is no longer only its holder's.

lena's trial judges its answers with a ``python`` check, a module she committed to the
checkout. omar, a colleague on his own laptop, reruns it for play 2 with ``--trust-python``,
as the refusal tells him to: her code runs inside his inhouse, with his key at hand. Play 2 sets
that rerun aside because its record names the Python it ran (``python_checks``), but the record
is written by the very process the code runs in: two lines of hers take the name out of it
(``inhouse.trials.rerun.python_calls`` patched to say none ran), and the rerun counts as his
own measure. Or her code signs whatever else it likes with his key while it runs (an access
request, a verify, a clean twin of the rerun), or copies the key out for later.

Exit rule 36 (:data:`~inhouse.program.checks.RAN_OTHERS_CODE`): before a rerun runs Python
check code on its runner's ``--trust-python``, his key records that it is about to
(``code.trusted``); nothing that key signs after it counts as his own (whoever wrote the code
could have signed it), until he makes a new key. Without the log here the marker could be taken
out of the outbox by the same code, so such a rerun is refused there.

Real parts: SQLite, the llama.cpp engine serving the test model (a demo program), each person's
own key, the CLI.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from inhouse.program.checks import RAN_OTHERS_CODE, Outcome
from tests.engine import needs_engine
from tests.trials.lenas_code import (  # noqa: F401
    CONFIRMATIONS,
    HONEST,
    _forget_the_checks_module,
    facts,
    lenas_trial,
    omar_reruns,
    set_aside,
)
from tests.trials.test_rerun import (  # noqa: F401
    omar,
    program,
    reproduced,
    run,
)

pytestmark = needs_engine

#: lena's check: it passes any answer that says something, and (the forgery) takes its own
#: name out of the rerun's record, in the process it runs in
HIDES_ITSELF = """\
import inhouse.trials.rerun as _rerun


def looks_fine(output, context):
    _rerun.python_calls = lambda checks: []
    return bool(output.strip())
"""

#: lena's check: it signs an access request with whatever key the inhouse it runs in holds
#: (once per signer: the tests run every command in one process, where the module stays loaded)
SIGNS_FOR_HIM = """\
from pathlib import Path

signed = set()


def looks_fine(output, context):
    from inhouse.program import Program, Provenance

    opened = Program.open(Path.cwd())
    try:
        who = opened.whoami().name
        if who not in signed:
            opened.record_fact(None, "access.request", {"person": who, "reason": "let me in"},
                               provenance=Provenance.MEASURED, collector="inhouse access")
            signed.add(who)
    finally:
        opened.close()
    return bool(output.strip())
"""


def test_a_rerun_whose_check_took_its_own_name_out_is_not_his_measure(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lenas_trial(program, HIDES_ITSELF, monkeypatch)
    omar_reruns(omar)
    rerun = facts("trial.rerun")[-1]
    assert rerun["payload"]["python_checks"] == []  # type: ignore[index]  # the forgery held
    result = reproduced(program)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "nobody has reproduced trial tickets's verdict" in " ".join(result.reason.split())
    # the status says why (a check's row names what it did not count)
    why = set_aside(program).get(int(rerun["id"]))  # type: ignore[call-overload]
    assert why is not None, "the rerun her code rewrote counts as omar's"
    assert f"exit rule {RAN_OTHERS_CODE}" in why and "lenas_checks:looks_fine" in why, why
    assert "trials/tickets.yaml" in why, why


def test_what_her_code_signed_with_his_key_is_not_his(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lenas_trial(program, SIGNS_FOR_HIM, monkeypatch)
    omar_reruns(omar)
    asked = [f for f in facts("access.request") if f["by"] == "omar"]
    assert len(asked) == 1  # her code signed it in his name
    why = set_aside(program).get(int(asked[0]["id"]))  # type: ignore[call-overload]
    assert why is not None, "an access request her code signed counts as omar's"
    assert "ran Python check code" in why and "lenas_checks:looks_fine" in why, why
    assert "revoke-key" in why and "rollout lead invites them again" in why, why


def test_what_he_signed_before_counts_and_lena_running_her_own_code_says_nothing(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The honest parts: omar's request from before he ran her code is his; lena, proving her
    own trial with her own check, records nothing of the kind, and what she signs after counts;
    omar's rerun that names the code it ran is judged as before (play 2's own reason)."""
    run("access", "request", "--reason", "I clear the jams", env=omar)
    lenas_trial(program, HONEST, monkeypatch)
    assert not facts("code.trusted")  # lena ran her own code
    omar_reruns(omar)
    [trusted] = facts("code.trusted")
    assert trusted["by"] == "omar"
    assert trusted["payload"] == {  # type: ignore[comparison-overlap]
        "person": "omar", "spec": "trials/tickets.yaml", "calls": ["lenas_checks:looks_fine"]
    }  # fmt: skip
    run("hypothesis", "a local model drafts replies", "--replaces", "hosted API")
    uncounted = set_aside(program)
    [asked] = [f for f in facts("access.request") if f["by"] == "omar"]
    assert int(asked["id"]) not in uncounted  # type: ignore[call-overload]
    rerun = facts("trial.rerun")[-1]
    aside = [i for i, why in uncounted.items() if f"exit rule {RAN_OTHERS_CODE}" in why]
    assert aside == [rerun["id"]]  # his rerun alone; lena's hypothesis after counts


def test_without_the_log_such_a_rerun_is_refused(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """omar's checkout holds the program folder, not its log: the record that his key ran her
    code would sit in his outbox, which the same code could empty. Nothing runs, nothing is
    sealed, and he is told where to run it."""
    import shutil

    lenas_trial(program, SIGNS_FOR_HIM, monkeypatch)
    laptop = tmp_path / "laptop"
    shutil.copytree(program, laptop, ignore=shutil.ignore_patterns(".inhouse"))
    out = run("prove", "tickets", "--rerun", "--trust-python", *CONFIRMATIONS,
              "--program", str(laptop), env=omar, code=3)  # fmt: skip
    assert "this checkout holds no log" in out and "lenas_checks:looks_fine" in out, out
    assert "where the program's log is" in out, out
    outbox = laptop / ".inhouse" / "outbox"
    assert not outbox.exists() or not any(outbox.iterdir())


#: lena's check, further: it takes its own name out of the rerun's record, and the record that
#: the key was about to run it (the log's newest event) out of the store this inhouse writes
CUTS_THE_RECORD = """\
from pathlib import Path

import inhouse.trials.rerun as _rerun

cut = []


def looks_fine(output, context):
    from sqlalchemy import delete, select

    from inhouse.db import events
    from inhouse.program import Program

    _rerun.python_calls = lambda checks: []
    if not cut:
        opened = Program.open(Path.cwd())
        try:
            with opened.store.engine.begin() as conn:
                head = conn.execute(
                    select(events.c.seq).order_by(events.c.seq.desc()).limit(1)
                ).scalar_one()
                conn.execute(delete(events).where(events.c.seq == head))
        finally:
            opened.close()
        cut.append(head)
    return bool(output.strip())
"""


@pytest.mark.xfail(
    strict=True,
    reason="hole left open (exit rule 36's limit): the code runs as the colleague, with the "
    "store he writes at hand, so it can delete the record his key just made, the log's newest "
    "event, before the run it precedes is recorded; in a real program it rewrites the file of "
    "what his machine saw of the log too ($XDG_STATE_HOME/inhouse/seen/, his own), and nothing "
    "is left that says his key ran it. Closing it needs the record witnessed where code "
    "running as him cannot reach (a store that refuses deletes to everyone the program's "
    "people connect as, or a second witness's copy): the lead's to weigh, beside the "
    "log-witness hole (tests/test_log_witness.py)",
)
def test_a_check_that_cuts_the_record_of_its_running_out_is_still_seen(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from inhouse.cli.app import app

    lenas_trial(program, CUTS_THE_RECORD, monkeypatch)
    args = ["prove", "tickets", "--rerun", "--trust-python", *CONFIRMATIONS]
    CliRunner().invoke(app, args, env=omar, input="y\n")  # its report may trip on the cut
    assert not facts("code.trusted")
    rerun = facts("trial.rerun")[-1]
    assert rerun["by"] == "omar" and rerun["payload"]["python_checks"] == []  # type: ignore[index]
    assert reproduced(program).outcome is not Outcome.PASS
