"""review51: the last session's merges (d2e5313..60e556b), reviewed.

``survey results`` said it shows "the pilot as the check hears it", but once play 4 had exited
it spared every answer by the exit's mark from the signed-use rule, while play 4's check (since
fb23b8b) judges by today's rule first and spares only the answers the exit was judged on, and
only where today's rule falls short. An exit judged by today's rule left carl's answer out (it
rests on use lena typed into the laptop's tables); ``survey results`` counted it, showing a
pilot keener than the check finds it, and the lead a different share than the check's."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from inhouse.indicators.findings import open_finding
from inhouse.pilot import survey as survey_module
from inhouse.pilot.library import new_version
from inhouse.pilot.survey import survey_results
from inhouse.program import Program
from inhouse.program.checks import CheckContext, Outcome, evaluate
from inhouse.program.evaluation import context_for
from tests.pilot.gateway_days import Pilot
from tests.pilot.test_enablement_signed import world  # noqa: F401  (the fixture)
from tests.pilot.world import PROMPT, World
from tests.test_outsider_21 import _checked, _keen_exit, _surveyed, six  # noqa: F401


def _exited(
    monkeypatch: pytest.MonkeyPatch, pilot: Pilot, mark: int, judged: frozenset[int] | None
) -> None:
    """``survey results`` reads a program whose play 4 exited at ``mark``, judged on
    ``judged`` (None: an exit recorded before exits named their facts), as _checked does."""
    build = survey_module._context

    def exited(program: object, now: datetime | None = None) -> CheckContext:
        ctx = build(program, now)  # type: ignore[arg-type]
        ctx = replace(ctx, exited={**ctx.exited, "pilot": (pilot.lead.clock(), mark)})
        if judged is not None:
            ctx = replace(ctx, judged={**ctx.judged, "pilot": judged})
        return ctx

    monkeypatch.setattr(survey_module, "_context", exited)


def _carl(pilot: Pilot) -> int:
    return max(
        f.id
        for f in pilot.lead.state().facts
        if f.kind == "survey.response" and f.payload["person"] == "carl"
    )


def _counted(pilot: Pilot) -> tuple[float, set[int]]:
    found = survey_results(pilot.lead)
    return found.pilot.pilot_share, {fact for fact, _ in found.uncounted}


def test_survey_results_leave_out_an_answer_the_exit_left_out(
    six: Pilot,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Play 4 exits by today's rule on four of six, carl's answer left out: the check still
    counts four after the exit, and so do the results (carl's answer named as not counted)."""
    _surveyed(six)
    (at_exit,) = _checked(six, None)
    judged = frozenset(f.id for f in at_exit.result.evidence)
    mark = six.lead.state().head_seq
    (now,) = _checked(six, mark, judged)
    assert now.result.reason.startswith("4 of 6"), now.result.reason
    _exited(monkeypatch, six, mark, judged)
    share, uncounted = _counted(six)
    assert _carl(six) in uncounted
    assert share == pytest.approx(4 / 6)


def test_survey_results_of_an_older_exit_count_as_its_check_does(
    six: Pilot,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An exit recorded before exits named their facts: today's rule passes on four, and the
    check says four of six (its earlier rule asked only where today's falls short); the results
    say so too, not five."""
    _surveyed(six)
    mark = six.lead.state().head_seq
    (now,) = _checked(six, mark)
    assert now.result.reason.startswith("4 of 6"), now.result.reason
    _exited(monkeypatch, six, mark, None)
    share, uncounted = _counted(six)
    assert _carl(six) in uncounted
    assert share == pytest.approx(4 / 6)


def test_survey_results_count_what_an_older_exit_keeps_once_today_s_rule_falls_short(
    six: Pilot,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same older exit, bob cooler since: today's rule finds three of six, the rule the
    exit was judged by counts carl's answer (by its mark) and passes on four; the results
    count it as the check does."""
    mark, _ = _keen_exit(six)
    (now,) = _checked(six, mark)
    assert now.result.reason.startswith("4 of 6"), now.result.reason
    _exited(monkeypatch, six, mark, None)
    share, uncounted = _counted(six)
    assert _carl(six) not in uncounted
    assert share == pytest.approx(4 / 6)


# -- findings-fed-back: who its pass says confirmed a prompt fix -----------------------------------


def test_a_fix_confirmed_by_one_persons_own_use_names_only_them(world: World) -> None:  # noqa: F811
    """carol publishes triage@2 for pia's finding; bob's agent (a key in his name) uses it,
    then pia sends it with her own key. The finding is confirmed by pia's use alone (an agent's
    requests are nobody's use, since 19da0f9's ``used_by``), and the check's pass said
    "confirmed by bob, pia's use through the gateway": it names only pia."""
    from inhouse.gateway import issue_key

    with (world.folder / "inhouse.toml").open("a", encoding="utf-8") as config:
        config.write('\n[policy.agents.triager]\ntools = ["read_file"]\n')
    world.key("bob")
    _, world.keys["bob's agent"] = issue_key(
        world.lead, None, "bob", agent="triager", holder=world.people["bob"]
    )
    world.clock.now = datetime(2026, 11, 3, 9, tzinfo=UTC)
    found = open_finding(world.people["pia"], "triage ignores the floor", target="prompt:triage")
    new_version(world.people["carol"], "triage", PROMPT.replace("Ticket:", "Ticket (floor):"),
                where="triage.yaml", closes=[found.id])  # fmt: skip
    world.send("bob's agent", datetime(2026, 11, 4, 10, tzinfo=UTC), prompt="triage@2")
    world.send("pia", datetime(2026, 11, 5, 10, tzinfo=UTC), prompt="triage@2")
    world.clock.now = datetime(2026, 11, 5, 23, tzinfo=UTC)
    world.sign()
    used = [f for f in world.lead.state().facts
            if f.kind == "prompt.usage" and f.payload["version"] == 2][-1]  # fmt: skip
    assert used.payload["people"] == ["bob", "pia"]
    assert used.payload["used_by"] == {"pia": "2026-11-05"}
    result = evaluate("findings-fed-back", context_for(world.lead.state(), world.lead.clock()))
    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason.endswith(f"confirmed by pia's use through the gateway (prompt.usage "
                                  f"#{used.id})"), result.reason  # fmt: skip


# -- pilot-enabled: why a prompt step is not borne out ---------------------------------------------


def test_a_prompt_step_on_another_prompts_use_says_so_not_that_the_use_was_old() -> None:
    """p0's step asks for triage; it rests on the gateway's signed use of summary@1, which p0
    sent with their own key the day they joined. The refusal said the gateway signed p0's use
    "last on <that day>, not through p0's own key since they joined", which contradicts
    itself: the use is of another prompt."""
    from tests.test_exit_scope import NOW, context, lead_and_owner
    from tests.test_exit_scope import fact as scoped
    from tests.test_exit_scope import person as member

    steps = [{"id": "prompt", "type": "used-shared-prompt", "rests_on": ["prompt.usage"],
              "params": {"prompt": "triage"}}]  # fmt: skip
    people = {**lead_and_owner(), "p0": member("p0", "team0", "pilot-user")}
    added = scoped("pilot.member", person="p0", track="support", team="team0", steps=steps)
    today = NOW.date()
    used = scoped("prompt.usage", by="gateway", prompt="summary", version=1, uses=1, users=1,
                  uses_by_others=1, last_used=today, people=["p0"],
                  used_by={"p0": today})  # fmt: skip
    step = scoped("enablement.step", by="p0", person="p0", track="support", step="prompt",
                  how="used summary@1", evidence=[used.id])  # fmt: skip
    done = scoped("enablement.completed", by="p0", person="p0", track="support",
                  steps=["prompt"])  # fmt: skip
    result = evaluate("pilot-enabled", context([added, used, step, done], people, {}))
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"rests on prompt.usage #{used.id}, which does not bear out p0's step" in result.reason
    assert "not through p0's own key" not in result.reason


# -- finding add: the target is printed as typed ---------------------------------------------------


def test_finding_add_prints_a_target_with_brackets_as_typed(_isolated: Path) -> None:
    """zoe opens a finding about workflow "sum[/b]mary": the finding was recorded, then the
    command died with Rich's MarkupError (the target was printed as markup), where it should
    say what it opened and how it closes, the name as she typed it."""
    from tests.clitools import cli
    from tests.people import enrol_cli

    cli("init", "Acme", "--lead", "lena")
    zoe = enrol_cli(Program.open(_isolated), "zoe", _isolated.parent / "keys", team="sales")
    out = " ".join(cli("finding", "add", "too long", "--target", "workflow:sum[/b]mary",
                       env=zoe).split())  # fmt: skip
    assert "about workflow:sum[/b]mary." in out, out
    assert "`inhouse workflow test sum[/b]mary --closes" in out, out
    assert "note: there is no workflow 'sum[/b]mary' in this program yet" in out, out


# -- gateway status: a server that is no gateway ----------------------------------------------


class _NotAGateway(BaseHTTPRequestHandler):
    """A server that answers JSON, not a gateway's health: the dashboard's 404 in its error
    shape (`gateway status --url` given the dashboard's address)."""

    def do_GET(self) -> None:
        data = json.dumps({"error": {"status": 404, "message": "Not Found"}}).encode()
        self.send_response(404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_gateway_status_names_a_server_that_is_no_gateway() -> None:
    """`inhouse gateway status --url` at a server answering other JSON: it died with a
    KeyError traceback ('status'); now it says the address answers, but not as a gateway."""
    from typer.testing import CliRunner

    from inhouse.cli.app import app

    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotAGateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        result = CliRunner().invoke(app, ["gateway", "status", "--url", url])
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    out = " ".join((result.stdout + result.stderr).split())
    assert result.exit_code == 1, (result.exception, out)
    assert f"{url} answers /healthz, but not as an inhouse gateway does" in out, out
    assert "Traceback" not in out
