"""A demo program (``inhouse init --demo``, ``make demo``) is judged by machines alone: one person
on one computer passes every "someone else" check in it. So a lead who made her program a demo
could type her way through plays 1 to 4 alone, and show the result as a real program's. She
cannot hide what it is: ``demo`` sits in the signed first event, which names the program, and
every place a demo's results are read says so: `init`, `status`, every check's pass, every
dashboard page, the indicators report and the pilot's handoff pack. A real program says none of
it (the control in each test)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from inhouse.errors import InhouseError
from inhouse.identity import SigningKey
from inhouse.indicators.render import render_html
from inhouse.indicators.report import build_report
from inhouse.pilot.handoff import write_handoff_pack
from inhouse.program import Program, Provenance
from inhouse.program.audit import verify_chain
from inhouse.program.evaluation import exit_results
from inhouse.program.state import DEMO, DEMO_NOTE, DEMO_PASS, NO_SIGN_IN
from inhouse.web.app import create_app
from inhouse.web.login import sign_in
from inhouse.web.pages import PAGES
from tests.clitools import cli
from tests.locks import HERE, lock_payload

PROGRAMS = pytest.mark.parametrize("demo", [True, False], ids=["demo", "real"])
BANNER = "Demo program."


def _made(folder: Path, demo: bool) -> Program:
    out = cli("init", "Acme", "--lead", "mal", "--team", "platform", *(["--demo"] if demo else []))
    said = " ".join(out.split())
    assert ("tell people apart by machine alone" in said) is demo, said
    return Program.open(folder)


def _one_person_verifies(mal: Program) -> None:
    """mal alone: a second key of hers, joined as "bob" stating another machine, verifies her
    lock (the forgery tests/test_forgery.py refuses in a real program)."""
    key = SigningKey.generate()
    mal.join(str(mal.invite("bob", team="ops")), key, at_machine="bob-desktop")
    lock = lock_payload("mal")
    mal.record_fact(None, "baseline.lock", lock, provenance=Provenance.MEASURED,
                    collector="inhouse baseline lock")  # fmt: skip
    verify = {"lock_hash": lock["lock_hash"], "passed": True, "machine": "bob-desktop", **HERE}
    mal.using(key).record_fact(None, "baseline.verify", verify, provenance=Provenance.MEASURED,
                               collector="inhouse baseline verify")  # fmt: skip


@PROGRAMS
def test_a_demo_says_so_on_status_and_on_every_pass(_isolated: Path, demo: bool) -> None:
    mal = _made(_isolated, demo)
    _one_person_verifies(mal)
    assert (DEMO in mal.status()["warnings"]) is demo
    play = next(p for p in mal.playbook.plays if p.id == "baseline")
    verified_check = "second-person-verified"
    results = {c.ref.check: c.result for c in exit_results(play, mal.state(), mal.clock())}
    verified = results["second-person-verified"]
    if demo:  # one person passed it: the pass says it would not in a real program, and why
        assert verified.outcome.value == "pass", verified.reason
        assert f"({DEMO_PASS}: " in verified.reason, verified.reason
        assert "the organisation's sign-in is not set up" in verified.reason, verified.reason
        # why that tells nobody apart is the status's own warning, not repeated on each row
        assert NO_SIGN_IN not in verified.reason, verified.reason
        assert "so inhouse tells nobody apart" not in verified.reason, verified.reason
    else:
        assert verified.outcome.value != "pass", verified.reason
    # a pass a real program's log would pass too says nothing more
    assert results["data-rules-written"].outcome.value == "pass"
    assert all(DEMO_PASS not in r.reason for c, r in results.items() if c != verified_check)
    shown = " ".join(cli("status").split())
    assert ("people apart by machine alone" in shown) is demo, shown
    head = shown.split(" events", 1)[1][:60]  # the first line, where a long status starts
    assert head.startswith(" · demo program: no evidence") is demo, head
    mal.close()


@PROGRAMS
def test_every_dashboard_page_says_a_demo_is_one(_isolated: Path, demo: bool) -> None:
    mal = _made(_isolated, demo)
    key = mal.key
    served = Program.open(_isolated)  # as the dashboard's process opens it
    with TestClient(create_app(program=served), follow_redirects=False) as client:
        link = sign_in(str(client.base_url), key, client=client, now=mal.clock())
        assert client.get(link).status_code == 303
        for _, href, _ in PAGES:
            page = client.get(href)
            assert page.status_code == 200, (href, page.text)
            assert (BANNER in page.text) is demo, href
            assert (DEMO_NOTE.split(",")[0] in page.text) is demo, href
            twin = client.get("/index.json" if href == "/" else f"{href}.json").json()
            shown = twin["viewer"]["program"]
            assert shown == {"name": "Acme", "demo": demo, "tampered": None}, href
    served.close()
    mal.close()


@PROGRAMS
def test_a_demos_reports_say_so(_isolated: Path, demo: bool) -> None:
    """What a lead hands on: play 6's indicators report (its JSON and HTML) and play 4's handoff
    pack."""
    mal = _made(_isolated, demo)
    report = build_report(mal).to_dict()
    assert report["demo"] is demo
    assert (BANNER in render_html(report)) is demo
    shown = " ".join(cli("indicators", "report").split())
    assert ("DEMO PROGRAM: judged by machines alone" in shown) is demo, shown
    pack = write_handoff_pack(mal)
    for name in ("findings.md", "champions.md"):
        text = (pack.folder / name).read_text(encoding="utf-8")
        assert (f"> **{BANNER}** {DEMO_NOTE}." in text) is demo, text
        assert text.startswith("# "), text  # the title stays first
    mal.close()


def test_a_demo_edited_into_a_real_program_in_the_database_is_caught(_isolated: Path) -> None:
    """The lead edits the flag out of the first event in the database file: the log no longer
    verifies from that event on, status says so, and nothing more can be recorded. (Re-signing
    a whole new log with keys of her own is a real program without a sign-in, which tells
    nobody apart: tests/test_forgery.py.)"""
    mal = _made(_isolated, True)
    with mal.store.engine.begin() as conn:
        conn.execute(
            text("UPDATE events SET payload = replace(payload, :was, :now) WHERE seq = 1"),
            {"was": '"demo":true', "now": '"demo":false'},
        )
    mal.close()
    again = Program.open(_isolated)
    report = verify_chain(again.store, lead_key=again.settings.lead_key)
    assert not report.ok and report.first_bad_seq == 1
    warnings = again.status()["warnings"]
    assert any(w.startswith("TAMPERED: the event log does not verify at event 1") for w in warnings)
    with pytest.raises(InhouseError):
        again.attest(None, "task.named", {"task": "t", "frequency": "daily"}, "daily")
    again.close()


@PROGRAMS
def test_a_demo_on_one_computer_says_how_to_play_a_second_person(
    _isolated: Path, demo: bool
) -> None:
    """Someone walking the README's tour by hand in a demo joins as omar on the lead's computer,
    and his access request does not count (one machine, one person). A demo says how it gives
    each person a machine (``INHOUSE_MACHINE_ID``, as `make demo` does): on `init`, and on the
    warning that omar is not counted. A real program does not: there one computer is one
    person, whatever the variable says."""
    out = cli("init", "Acme", "--lead", "mal", *(["--demo"] if demo else []))
    assert ("INHOUSE_MACHINE_ID=omar-laptop" in " ".join(out.split())) is demo, out
    mal = Program.open(_isolated)
    mal.join(str(mal.invite("omar", team="ops")), SigningKey.generate())  # this same computer
    [shared] = [w for w in mal.status()["warnings"] if "same machine" in w]
    assert shared.startswith("omar enrolled from the same machine as mal"), shared
    assert ("INHOUSE_MACHINE_ID" in shared) is demo, shared
    mal.close()
