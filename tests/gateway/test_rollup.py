"""Daily rollups: the usage log becomes usage.daily facts, once per changed (day, person), which
play 4's pilot-independent-use check reads; stored bodies past retention are dropped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.db.schema import gateway_usage, usage_people_daily
from inhouse.gateway.rollup import COLLECTOR, gateway_mac_key, service_program
from inhouse.gateway.usage import UsageRecord, insert_usage, new_request_id
from inhouse.program import Program, Provenance
from inhouse.program.collectors import measured_kinds
from inhouse.program.counting import why_uncounted
from inhouse.usage import totals

runner = CliRunner()


def ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, f"{args}: {result.stdout}{result.stderr}"
    return result.stdout


def _use(program: Program, person: str, at: str, status: int = 200, **extra: object) -> None:
    record = UsageRecord(request_id=new_request_id(), at=at, person=person, key_id="k_1",
                         endpoint="chat/completions", model="tiny", status=status,
                         tokens_in=10, tokens_out=5, **extra)  # type: ignore[arg-type]  # fmt: skip
    record.seal(gateway_mac_key(program.folder))  # as the gateway on this host writes it
    insert_usage(program.store, [record])


def test_rollup_records_changed_days_once(_isolated: Path) -> None:
    ok("init", "Acme", "--lead", "lena")
    program = Program.open(_isolated)
    _use(program, "lena", "2026-11-01T10:00:00+00:00")
    _use(program, "lena", "2026-11-01T11:00:00+00:00")
    _use(program, "lena", "2026-11-01T12:00:00+00:00", status=429)  # refused: not use
    _use(program, "omar", "2026-11-02T09:00:00+00:00")
    first = json.loads(ok("gateway", "rollup", "--json"))
    assert first == [
        {"day": "2026-11-01", "person": "lena", "requests": 2, "tokens_in": 20, "tokens_out": 10},
        {"day": "2026-11-02", "person": "omar", "requests": 1, "tokens_in": 10, "tokens_out": 5},
    ]
    assert json.loads(ok("gateway", "rollup", "--json")) == []
    _use(program, "omar", "2026-11-02T15:00:00+00:00")
    (again,) = json.loads(ok("gateway", "rollup", "--json"))
    assert (again["person"], again["requests"]) == ("omar", 2)
    opened = Program.open(_isolated)
    state = opened.state()
    facts = [f for f in state.facts if f.kind == "usage.daily"]
    assert len(facts) == 3
    assert all(f.collector == "inhouse gateway rollup" for f in facts)
    # signed by the gateway's own service key (the lead's first rollup enrolled it), so they
    # count: usage is the gateway's measurement, not the lead's word
    assert {f.by for f in facts} == {"gateway"} and state.people["gateway"].service
    assert all(why_uncounted(f, state, measured_kinds()) is None for f in facts)
    opened.close()
    program.close()


def test_a_day_of_many_people_is_one_fact(_isolated: Path) -> None:
    """The log grows by a fact a day, not one per person: a day's fact holds everyone's totals,
    and a change in one person's totals records the whole day again (the latest stands)."""
    ok("init", "Acme", "--lead", "lena")
    program = Program.open(_isolated)
    for n, person in enumerate(("ann", "bob", "cid", "dee")):
        for hour in range(n + 1):
            _use(program, person, f"2026-11-03T1{hour}:00:00+00:00")
    recorded = json.loads(ok("gateway", "rollup", "--json"))
    assert [(r["person"], r["requests"]) for r in recorded] == [
        ("ann", 1), ("bob", 2), ("cid", 3), ("dee", 4),
    ]  # fmt: skip
    _use(program, "bob", "2026-11-03T18:00:00+00:00")
    (again,) = json.loads(ok("gateway", "rollup", "--json"))  # only bob's totals changed
    assert (again["person"], again["requests"]) == ("bob", 3)
    opened = Program.open(_isolated)
    facts = [f for f in opened.state().facts if f.kind == "usage.daily"]
    assert len(facts) == 2
    assert facts[-1].payload == {
        "day": "2026-11-03",
        "people": {
            # own: through the person's own key, not an agent's (who was active that day)
            name: {"requests": n, "tokens_in": 10 * n, "tokens_out": 5 * n, "own": n}
            for name, n in (("ann", 1), ("bob", 3), ("cid", 3), ("dee", 4))
        },
    }
    opened.close()
    program.close()


def test_rollup_drops_bodies_past_retention(_isolated: Path) -> None:
    ok("init", "Acme", "--lead", "lena")
    with (_isolated / "inhouse.toml").open("a") as handle:
        handle.write(
            '\n[data_rules]\ndefault = "allow"\n'
            "[data_rules.models.tiny]\nstore_bodies = true\nretention_days = 7\n"
        )
    program = Program.open(_isolated)
    _use(program, "lena", "2020-01-01T10:00:00+00:00", body='{"old": 1}')
    _use(program, "lena", "2999-01-01T10:00:00+00:00", body='{"new": 1}')
    ok("gateway", "rollup")
    with program.store.engine.connect() as conn:
        bodies = sorted(str(b) for (b,) in conn.execute(select(gateway_usage.c.body)).all())
    assert bodies == ["None", '{"new": 1}']
    program.close()


def test_rollup_compacts_request_rows_past_their_retention_and_keeps_the_totals(
    _isolated: Path,
) -> None:
    ok("init", "Acme", "--lead", "lena")
    with (_isolated / "inhouse.toml").open("a") as handle:
        handle.write('\n[data_rules]\ndefault = "allow"\nrequest_rows_days = 30\n')
    program = Program.open(_isolated)
    _use(program, "lena", "2020-01-01T10:00:00+00:00")
    _use(program, "omar", "2999-01-01T10:00:00+00:00")
    before = totals(program.store, ("day", "person"))
    assert "Compacted 1 request rows" in ok("gateway", "rollup")
    with program.store.engine.connect() as conn:
        people = [str(p) for (p,) in conn.execute(select(gateway_usage.c.person)).all()]
    assert people == ["omar"]  # the old request's row is gone ...
    assert totals(program.store, ("day", "person")) == before  # ... its totals are not
    program.close()


def _said(result: Any) -> str:
    return " ".join(result.stderr.split())  # the console wraps long lines


def test_rows_the_gateway_did_not_write_are_named_and_not_signed(_isolated: Path) -> None:
    ok("init", "Acme", "--lead", "lena")
    program = Program.open(_isolated)
    _use(program, "lena", "2026-11-01T10:00:00+00:00")
    typed = UsageRecord(request_id=new_request_id(), at="2026-11-01T11:00:00+00:00",
                        person="omar", key_id="k_2", endpoint="chat/completions", model="tiny",
                        status=200, tokens_in=10, tokens_out=5)  # fmt: skip
    insert_usage(program.store, [typed])  # straight into the database: no MAC
    result = runner.invoke(app, ["gateway", "rollup", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {"day": "2026-11-01", "person": "lena", "requests": 1, "tokens_in": 10, "tokens_out": 5},
    ]
    assert (
        f"1 usage row not written by this gateway was left out: {typed.request_id} (omar, "
        "2026-11-01, no MAC)"
    ) in _said(result)
    assert "2026-11-01 omar" in _said(result)  # the summary tables' figure, not signed
    # the indicators report's own rollup says so too
    report = runner.invoke(
        app, ["indicators", "report", "--period", "2026-11", "--rollup", "--no-record", "--json"]
    )
    assert report.exit_code == 0, report.output
    assert (
        f"not signed: 1 usage row not written by this gateway was left out: {typed.request_id}"
        in (_said(report))
    )
    program.close()


def test_each_workflows_runs_are_signed_per_person_and_day_from_sealed_rows(
    _isolated: Path,
) -> None:
    """Play 6's work changed counts a workflow's runs as the gateway's key signs them: each
    person's answered requests that named the workflow, from the rows the gateway sealed. A
    row typed into the database naming it (no MAC) adds no run, nor does a refused request;
    a day whose runs change is signed again."""
    ok("init", "Acme", "--lead", "lena")
    program = Program.open(_isolated)
    _use(program, "lena", "2026-11-01T10:00:00+00:00", workflow_id="triage")
    _use(program, "lena", "2026-11-01T11:00:00+00:00", workflow_id="triage@2")
    _use(program, "lena", "2026-11-01T12:00:00+00:00", workflow_id="digest")
    _use(program, "lena", "2026-11-01T13:00:00+00:00", workflow_id="triage", status=429)
    _use(program, "lena", "2026-11-01T14:00:00+00:00")  # named no workflow
    typed = UsageRecord(request_id=new_request_id(), at="2026-11-01T15:00:00+00:00",
                        person="lena", key_id="k_1", endpoint="chat/completions", model="tiny",
                        status=200, tokens_in=10, tokens_out=5,
                        workflow_id="triage")  # fmt: skip
    insert_usage(program.store, [typed])  # straight into the database: no MAC
    ok("gateway", "rollup")

    def signed_runs() -> Any:
        opened = Program.open(_isolated)
        state = opened.state()
        opened.close()
        (*_, latest) = [f for f in state.facts if f.kind == "usage.daily"]
        assert latest.by == "gateway" and latest.signed
        return latest.payload["people"]["lena"]

    lena = signed_runs()
    assert lena["requests"] == 4
    assert lena["workflows"] == {"digest": 1, "triage": 1, "triage@2": 1}
    _use(program, "lena", "2026-11-01T16:00:00+00:00", workflow_id="triage")
    ok("gateway", "rollup")
    assert signed_runs()["workflows"] == {"digest": 1, "triage": 2, "triage@2": 1}
    program.close()


def test_a_day_signed_before_runs_were_counted_is_signed_again_with_them(
    _isolated: Path,
) -> None:
    """A day the gateway's key signed before the rollup counted workflow runs (its totals
    unchanged since) is signed again with them, once: play 6 counts only signed runs."""
    ok("init", "Acme", "--lead", "lena")
    program = Program.open(_isolated)
    _use(program, "lena", "2026-11-01T10:00:00+00:00", workflow_id="triage")
    _use(program, "lena", "2026-11-01T11:00:00+00:00", workflow_id="triage")
    older = {"lena": {"requests": 2, "tokens_in": 20, "tokens_out": 10, "own": 2}}
    service_program(program).record_fact(
        None, "usage.daily", {"day": "2026-11-01", "people": older},
        provenance=Provenance.MEASURED, collector=COLLECTOR,
    )  # fmt: skip
    (recorded,) = json.loads(ok("gateway", "rollup", "--json"))
    assert (recorded["person"], recorded["requests"]) == ("lena", 2)
    assert json.loads(ok("gateway", "rollup", "--json")) == []  # once
    opened = Program.open(_isolated)
    (*_, latest) = [f for f in opened.state().facts if f.kind == "usage.daily"]
    opened.close()
    assert latest.by == "gateway" and latest.payload["people"]["lena"]["workflows"] == {"triage": 2}
    program.close()


def test_a_day_past_the_row_retention_stays_as_signed(_isolated: Path) -> None:
    ok("init", "Acme", "--lead", "lena")
    with (_isolated / "inhouse.toml").open("a") as handle:
        handle.write('\n[data_rules]\ndefault = "allow"\nrequest_rows_days = 30\n')
    program = Program.open(_isolated)
    _use(program, "lena", "2020-01-01T10:00:00+00:00")
    ok("gateway", "rollup")  # signed from its rows, then the rows are compacted
    with program.store.engine.begin() as conn:
        conn.execute(update(usage_people_daily).where(usage_people_daily.c.day == "2020-01-01")
                     .values(requests=9, tokens_in=90))  # fmt: skip
    result = runner.invoke(app, ["gateway", "rollup", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == []
    assert "signed before, changed in the summary tables and were not signed again: 2020-01-01" in (
        _said(result)
    )
    opened = Program.open(_isolated)
    (fact,) = [f for f in opened.state().facts if f.kind == "usage.daily"]
    assert fact.payload["people"] == {
        "lena": {"requests": 1, "tokens_in": 10, "tokens_out": 5, "own": 1}
    }
    opened.close()
    program.close()


def test_the_first_rollup_says_it_enrolled_the_gateway_key_and_the_next_does_not(
    _isolated: Path,
) -> None:
    """A lead's first rollup on the gateway's host enrols the gateway's key, a signed act that
    makes this machine the gateway's host (docs/pilot.md); its output said nothing of it, and a
    lead who ran it on her laptop to try it out was not told she had just made her laptop the
    gateway's (whose measurements then count for nothing)."""
    ok("init", "Acme", "--lead", "lena")
    program = Program.open(_isolated)
    _use(program, "lena", "2026-11-01T10:00:00+00:00")
    first = runner.invoke(app, ["gateway", "rollup"])
    assert first.exit_code == 0, first.stdout + first.stderr
    (key,) = [k for k in program.state().keys.values() if k.person == "gateway"]
    said = _said(first)
    assert f"Enrolled the gateway's own key {key.key_id}, made on this machine" in said, said
    assert "this machine is the gateway's host from now on" in said, said
    _use(program, "lena", "2026-11-02T10:00:00+00:00")
    again = runner.invoke(app, ["gateway", "rollup"])
    assert again.exit_code == 0, again.stdout + again.stderr
    assert "Enrolled" not in _said(again)  # enrolled once; nothing new to say
    program.close()


def test_a_rollup_refused_for_its_since_enrols_no_gateway_key(_isolated: Path) -> None:
    """`gateway rollup --since nonsense` enrolled the gateway's key (a signed act that makes
    this machine the gateway's host) and only then refused the day, saying nothing of the
    enrolment: a typo made a lead's laptop the gateway's host. The day is read first."""
    ok("init", "Acme", "--lead", "lena")
    program = Program.open(_isolated)
    refused = runner.invoke(app, ["gateway", "rollup", "--since", "nonsense"])
    assert refused.exit_code == 2, refused.stdout + refused.stderr
    assert "since 'nonsense' is not a day" in _said(refused), _said(refused)
    assert not [k for k in program.state().keys.values() if k.person == "gateway"]
    assert not (_isolated / ".inhouse" / "keys" / "gateway.key").exists()
    program.close()


def test_an_enrolment_is_told_where_the_command_then_fails(
    _isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The enrolment stands when what follows it fails (a drift review whose inventory
    cannot be taken, a report that cannot be read): the lead is told of it all the same."""
    from inhouse.cli._common import telling_service_enrolment

    ok("init", "Acme", "--lead", "lena")
    program = Program.open(_isolated)
    with pytest.raises(RuntimeError), telling_service_enrolment(program):
        program.as_service("gateway")
        raise RuntimeError("the inventory could not be taken")
    (key,) = [k for k in program.state().keys.values() if k.person == "gateway"]
    said = " ".join(capsys.readouterr().err.split())
    assert f"Enrolled the gateway's own key {key.key_id}" in said, said
    program.close()
