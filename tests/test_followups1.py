"""What today's merges left: a server's log is cleaned at its handlers, where every record
passes (a child logger's, asyncio's), not only on the loggers it names; and play 6's exit keeps
its earlier own-use rule only where it may have exited under it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

#: a client's text in a log record: clear the screen, a forged line, an OSC 8 link
_CLIENT = "/x\\x1b[2J\\nWARNING forged line \\x1b]8;;file:///etc/passwd\\x07"


def _stderr_of(script: str, tmp_path: Path) -> str:
    """What ``script`` (run in a fresh interpreter: a server's process) writes to stderr."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def _shown_as_codes(err: str) -> None:
    assert "\x1b" not in err and "\x07" not in err, repr(err)
    assert "\nWARNING forged line" not in err, err  # the line break forged no line of its own
    lines = [line for line in err.splitlines() if "forged line" in line]
    assert len(lines) == 2, err  # the child logger's record and asyncio's, one line each
    assert all("\\u001b[2J\\u000aWARNING forged line \\u001b]8;;" in line for line in lines), err


def test_the_gateways_log_cleans_a_child_loggers_record_and_asyncios(tmp_path: Path) -> None:
    """The filter sat on ``inhouse.gateway`` only: a record made on ``inhouse.gateway.edge`` or
    ``asyncio`` (an exception quoting a client's path) reached stderr with its escapes and
    line breaks. The gateway's serve path cleans whatever its handlers write."""
    err = _stderr_of(
        f"""
        import logging
        from pathlib import Path

        import inhouse.gateway.server as server
        from inhouse.gateway.config import GatewaySettings

        def build(folder, settings=None, clock=None, **more):
            logging.getLogger("inhouse.gateway.edge").warning("bad path %s", "{_CLIENT}")
            logging.getLogger("asyncio").error("{_CLIENT}")
            raise SystemExit(0)

        server.build_gateway = build  # the records a server writes, then no server
        server._serve_one(Path("."), GatewaySettings(), None)
        """,
        tmp_path,
    )
    _shown_as_codes(err)


def test_the_dashboards_log_cleans_a_child_loggers_record_and_asyncios(tmp_path: Path) -> None:
    """``inhouse web serve`` cleaned uvicorn's two loggers and ``inhouse.web`` by name; a
    record of a child logger (``inhouse.web.pages``) or of ``asyncio`` passed uncleaned.
    uvicorn's own records keep being cleaned at its handlers."""
    err = _stderr_of(
        f"""
        import logging
        import socket
        from pathlib import Path

        import uvicorn
        import inhouse.location, inhouse.web.app
        from inhouse.cli.web import serve

        def run(self, sockets=None):
            logging.getLogger("inhouse.web.pages").warning("bad path %s", "{_CLIENT}")
            logging.getLogger("asyncio").error("{_CLIENT}")
            logging.getLogger("uvicorn.error").error("uvicorn: %s", "\\x1b[2J")

        uvicorn.Server.run = run  # the records a server writes, then no server
        inhouse.location.find_program = lambda program=None: Path(".")
        inhouse.web.app.create_app = lambda folder, session_minutes: object()
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            port = free.getsockname()[1]
        serve(host="127.0.0.1", port=port, session_minutes=120, program=None)  # its stderr
        """,
        tmp_path,
    )
    _shown_as_codes(err)
    assert "uvicorn: \\u001b[2J" in err, err


# -- play 6's own-use rule: an exit judged by it keeps no earlier rule ----------------------------


def _beyond(*facts: Any, exit_at: int, judged: set[int], rules: int | None) -> Any:
    """``use-beyond-pilot`` for a play 6 that exited at ``exit_at`` judged on ``judged``, its
    exit saying it was judged by ``rules`` (None: an exit written before exits said so)."""
    from inhouse.program.checks import CheckContext, evaluate
    from inhouse.program.facts import FactSet
    from tests.test_outsider_22 import PEOPLE
    from tests.test_playchecks import EXITED, ISSUER, NOW, OWNERS, person, signed_in

    people = {**PEOPLE, "yan": person("yan", "finance")}  # zoe and yan: outside the program
    context = CheckContext(
        facts=FactSet(facts), people=people, owners=OWNERS, now=NOW,
        machines={who: frozenset({f"{who}-laptop"}) for who in people},
        exited={**EXITED, "measure": (NOW, exit_at)}, judged={"measure": frozenset(judged)},
        signed_in=signed_in(people), sign_in_issuer=ISSUER,
        # an exit that does not say: as an older inhouse builds it
        **({} if rules is None else {"exit_rules": {"measure": rules}}),
    )  # fmt: skip
    return evaluate("use-beyond-pilot", context)


def _zoes_day(own: int, who: str = "zoe") -> Any:
    from tests.test_outsider_22 import DAY
    from tests.test_playchecks import fact

    return fact("usage.daily", by="gateway", day=DAY, people={who: {"requests": 4, "own": own}})


def test_an_exit_judged_by_the_own_use_rule_keeps_no_earlier_one_for_the_days_it_cited() -> None:
    """Play 6 exited under today's rule (its exit says so) on a day the indicators' usage cited,
    on which only zoe's agent (or a key lena fetched as zoe) asked: the exit did not count zoe,
    but the earlier rule, kept for every day play 6's exit cited, counted her since: one
    person's agent held play 6's use beyond the pilot. Today's rule decides such an exit."""
    agents = _zoes_day(own=0)
    result = _beyond(agents, exit_at=agents.id, judged={agents.id}, rules=1)
    assert result.outcome.value == "fail", result.reason
    assert "0 people beyond the pilot use it" in result.reason
    assert result.evidence == () and result.earlier is None


def test_an_exit_that_does_not_say_keeps_the_earlier_rule_only_where_todays_falls_short() -> None:
    """An exit written before exits said which rule judged them may have exited under the
    earlier rule (main recorded exits' facts for 21 minutes before play 6 asked for a key of
    one's own): today's rule first, and where it passes, it says who it counts (the earlier
    evidence beside it, as such an exit hashed it); where it falls short, the earlier rule
    keeps the days the exit was judged on, as before."""
    agents = _zoes_day(own=0)
    own = _zoes_day(own=2, who="yan")
    both = _beyond(agents, own, exit_at=own.id, judged={agents.id, own.id}, rules=None)
    assert both.outcome.value == "pass", both.reason
    assert both.reason.startswith("1 person beyond the pilot uses it"), both.reason
    assert both.evidence == (own,) and both.earlier == (agents, own)
    alone = _beyond(agents, exit_at=agents.id, judged={agents.id}, rules=None)
    assert alone.outcome.value == "pass", alone.reason  # kept: it exited under the earlier rule
    assert alone.evidence == (agents,)


def _confirmers(used_by: dict[str, str], rules: int | None) -> list[str]:
    """Who a prompt fix (lena's triage@2) is confirmed by, for a play 6 that exited judged on
    the gateway's use of it, naming zoe and pia (``used_by``: each one's own last use)."""
    from inhouse.program.checks import CheckContext
    from inhouse.program.facts import FactSet
    from inhouse.program.feedback import prompt_confirmers
    from inhouse.program.payloads import PromptBody
    from inhouse.program.prompt_versions import body_hash
    from tests.test_playchecks import EXITED, ISSUER, NOW, OWNERS, fact, person, pilot, signed_in

    body = {"messages": [{"role": "user", "content": "Sort {{ ticket }}"}]}
    change = fact(
        "prompt.version",
        by="lena",
        at=NOW - timedelta(days=3),
        prompt="triage",
        version=2,
        body=body,
        content_hash=body_hash(PromptBody.model_validate(body)),
    )
    use = fact("prompt.usage", by="gateway", prompt="triage", version=2, uses=2, users=2,
               uses_by_others=2, people=["pia", "zoe"], used_by=used_by)  # fmt: skip
    people = {**pilot(1, 1), "zoe": person("zoe", "sales"), "pia": person("pia", "legal")}
    context = CheckContext(
        facts=FactSet([change, use]), people=people, owners=OWNERS, now=NOW,
        machines={who: frozenset({f"{who}-laptop"}) for who in people},
        exited={**EXITED, "measure": (NOW, use.id)}, judged={"measure": frozenset({use.id})},
        signed_in=signed_in(people), sign_in_issuer=ISSUER,
        **({} if rules is None else {"exit_rules": {"measure": rules}}),
    )  # fmt: skip
    return sorted(prompt_confirmers(context, change, use))


def test_a_prompt_fix_s_confirmers_by_the_rule_its_exit_was_judged_by() -> None:
    """Play 6 exited judged on the gateway's use of lena's fix, which names zoe and pia, neither
    through a key of their own since the fix (zoe's agent, pia before it): an exit that says
    it was judged by today's rule is confirmed by nobody there (the earlier rule named them
    both, whichever rule the exit was judged by); one that does not say keeps the earlier
    rule where today's confirms nothing, and where today's does, names only whom it heard."""
    day = (datetime(2026, 11, 2) - timedelta(days=1)).date().isoformat()
    assert _confirmers({}, rules=1) == []
    assert _confirmers({}, rules=None) == ["pia", "zoe"]  # it may have exited under it
    assert _confirmers({"pia": day}, rules=None) == ["pia"]  # today's first
    assert _confirmers({"pia": day}, rules=1) == ["pia"]
