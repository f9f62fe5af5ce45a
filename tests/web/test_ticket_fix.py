"""The dashboard shows whose word a ticket's resolution still awaits, and never confirms a fix.

Play 5's ``ticket-resolved-without-builder`` (and the support figures) count a resolution once
the ticket's opener confirms the fix with their own key (``ticket.fixed``); one a dashboard
session signed never counts (``Ticket.fix_confirmed``), and a session may not even sign one:
its key lives on the dashboard's host, which could sign it in the opener's name while they are
signed in. So the page says who confirms and the command they run on their own machine, offers
no button that could not count, and a form posted by hand is refused, to the opener (run the
command) and to anyone else (only the opener confirms)."""

from __future__ import annotations

from starlette.testclient import TestClient

from inhouse.support.queue import confirm_fix, open_ticket, resolve_ticket
from tests.pilot.gateway_days import Pilot
from tests.web.world import signed_in

_COMMAND = "inhouse support confirm-fix T-1"


def _csrf(client: TestClient, path: str) -> str:
    return client.get(path).text.split('name="csrf" value="')[1].split('"')[0]


def _resolved_by_bob(world: Pilot) -> None:
    """pia hit a problem and filed it with her own key; bob resolved it with his."""
    open_ticket(world.people["pia"], "Summaries are empty", category="it-broke",
                component="gateway")  # fmt: skip
    resolve_ticket(world.people["bob"], "T-1", note="restarted the gateway")


def _fixed_facts(world: Pilot) -> list[str]:
    return [f.by for f in world.lead.state().facts if f.kind == "ticket.fixed"]


def test_the_page_says_whose_confirmation_the_fix_awaits_and_how_they_give_it(
    client: TestClient, world: Pilot
) -> None:
    _resolved_by_bob(world)
    with signed_in(client, world, "pia"):
        page = client.get("/support/tickets/T-1")
        assert "the fix awaits confirmation by pia, who opened it" in page.text
        assert "You opened it: confirm the fix with your own key, on your own machine" in page.text
        assert f"<code>{_COMMAND}</code>" in page.text
        assert "/support/tickets/T-1/confirm-fix" not in page.text  # no button that cannot count
        fix = client.get("/support/tickets/T-1.json").json()["ticket"]["fix"]
        assert fix == {"confirmed": False, "by": None, "at": None, "fact": None,
                       "awaits": "pia", "command": _COMMAND}  # fmt: skip
        queue = client.get("/support")
        assert "bob (fix awaits pia)" in queue.text
        steps = client.get("/index.json").json()["next_steps"]
        mine = next(s["steps"] for s in steps if s["person"] == "pia")
        assert any(f"`{_COMMAND}`" in step["text"] for step in mine), mine
        # honest: pia confirms from her own machine, with her own key
        confirm_fix(world.people["pia"], "T-1", text="summaries are back")
        page = client.get("/support/tickets/T-1")
        assert "fix confirmed by pia, who opened it" in page.text
        assert "bob (fix confirmed)" in client.get("/support").text
        fix = client.get("/support/tickets/T-1.json").json()["ticket"]["fix"]
        assert (fix["confirmed"], fix["by"], fix["awaits"]) == (True, "pia", None)
    with signed_in(client, world, "bob"):
        page = client.get("/support/tickets/T-1")
        assert "fix confirmed by pia" in page.text


def test_a_fix_is_never_confirmed_through_the_page(client: TestClient, world: Pilot) -> None:
    _resolved_by_bob(world)
    # the forgery: bob, who resolved it, posts the confirmation form by hand
    with signed_in(client, world, "bob"):
        page = client.get("/support/tickets/T-1")
        assert "pia confirms it with their own key, on their own machine" in page.text
        csrf = _csrf(client, "/support/tickets/T-1")
        refused = client.post("/support/tickets/T-1/confirm-fix", data={"csrf": csrf},
                              headers={"accept": "application/json"})  # fmt: skip
        assert refused.status_code == 409, refused.text
        assert "only the person who hit the problem confirms" in refused.json()["error"]["message"]
    # nor does pia's session: the dashboard's host holds its key, and could sign in her name
    with signed_in(client, world, "pia"):
        csrf = _csrf(client, "/support/tickets/T-1")
        refused = client.post("/support/tickets/T-1/confirm-fix", data={"csrf": csrf})
        assert refused.status_code == 403, refused.text
        assert "a session may not sign ticket.fixed facts" in refused.text
        assert f"Run `{_COMMAND}` on your own machine" in refused.text
    assert _fixed_facts(world) == []
    assert "the fix awaits confirmation by pia" in client.get("/support/tickets/T-1").text
