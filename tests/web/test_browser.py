"""Acceptance in real Chromium (Debian's, through Playwright): the receiver accepts a handoff,
someone else is refused, a member answers the survey, a ticket is opened (its title stays text)
and resolved, and its fix awaits its opener's own key (the page never confirms one); every page
renders with no console error and no request leaving the host, and axe-core (vendored, tests
only) finds no serious or critical violation on any page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from inhouse.program import Program
from inhouse.web.login import sign_in
from tests.conftest import Clock
from tests.pilot.gateway_days import Pilot
from tests.web.browser import AXE, chromium_or_skip, serving
from tests.web.world import key_of

PAGES = ["/", "/plays/prove-value", "/plays/pilot", "/pilot", "/prompts", "/support",
         "/governance", "/indicators", "/audit", "/login"]  # fmt: skip


@pytest.fixture
def browser(base_url: str) -> Iterator[Browser]:
    """Chromium, started after the world is built (its gateway traffic runs its own loop)."""
    executable = chromium_or_skip()
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(executable), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def base_url(served: Program) -> Iterator[str]:
    with serving(served) as url:
        yield url


@dataclass
class Watch:
    """What a browser context did that it should not: console errors, page errors, requests
    to any other host, dialogs (an alert means a script ran)."""

    host: str
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def attach(self, context: BrowserContext) -> None:
        context.on("request", self._request)
        context.on("page", self._page)

    def _request(self, request: Any) -> None:
        parts = urlsplit(request.url)
        if parts.scheme not in ("data", "about") and parts.netloc != self.host:
            self.outside.append(request.url)

    def _page(self, page: Page) -> None:
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))


def _person(browser: Browser, base_url: str, world: Pilot, name: str) -> tuple[Page, Watch]:
    """A browser of ``name``'s own, signed in with their key through the one-time link."""
    watch = Watch(urlsplit(base_url).netloc)
    context = browser.new_context()
    watch.attach(context)
    page = context.new_page()
    link = sign_in(base_url, key_of(world, name), now=world.clock())
    page.goto(link)
    assert urlsplit(page.url).path == "/"
    return page, watch


def _approve_shown(page: Page, world: Pilot, name: str) -> None:
    """Run the command the approval page shows, as ``name`` on their own machine would, then
    follow its link back."""
    from inhouse.web.login import approve

    page.wait_for_url(f"{page.url.split('/approvals/')[0]}/approvals/*")
    command = page.locator("main pre code").inner_text().split()
    assert command[:3] == ["inhouse", "web", "approve"] and command[4] == "--url", command
    shown = page.locator("main ul").inner_text()
    answer = approve(command[5], command[3], key_of(world, name),
                     confirm=lambda lines: all(line in shown for line in lines),
                     now=world.clock())  # fmt: skip
    assert answer["recorded"] is True
    page.reload()
    assert page.get_by_role("heading", name="Recorded").is_visible()
    page.get_by_role("link", name="Back").click()


def test_the_receiver_accepts_the_handoff(browser: Browser, base_url: str, world: Pilot) -> None:
    page, watch = _person(browser, base_url, world, "lena")
    page.get_by_role("link", name="accept or reject the handoff of play 1").first.click()
    page.get_by_label("Comment (required to reject)").fill("I build on the trial report")
    page.get_by_role("button", name="Accept the handoff").click()
    assert page.get_by_role("heading", name="Approve it on your machine").is_visible()
    assert world.lead.state().handoffs["prove-value"].status == "offered"
    _approve_shown(page, world, "lena")
    page.wait_for_url(f"{base_url}/plays/prove-value")
    assert page.locator(".hs-accepted").inner_text() == "accepted"
    assert "by lena" in page.locator("#handoff-h + p + p").inner_text()
    assert world.lead.state().handoffs["prove-value"].decided_by == "lena"
    assert (watch.errors, watch.outside) == ([], [])


def test_someone_else_is_refused(browser: Browser, base_url: str, world: Pilot) -> None:
    page, watch = _person(browser, base_url, world, "bob")
    page.goto(f"{base_url}/plays/prove-value")
    assert page.get_by_role("button", name="Accept the handoff").count() == 0
    assert "Only lena, the receiver" in page.inner_text("main")
    # the form posted anyway, with bob's own session and CSRF token: the core refuses it
    with page.expect_navigation():
        page.evaluate("""() => {
        const form = document.createElement('form');
        form.method = 'post'; form.action = '/plays/prove-value/handoff';
        const csrf = document.querySelector('input[name=csrf]').cloneNode();
        const decision = Object.assign(document.createElement('input'),
                                       {name: 'decision', value: 'accept'});
        form.append(csrf, decision); document.body.append(form); form.submit();
    }""")
    assert page.get_by_role("heading", name="Refused").is_visible()
    assert "only the receiver, lena, can accept" in page.get_by_role("alert").inner_text()
    assert world.lead.state().handoffs["prove-value"].status == "offered"
    watch.errors = [e for e in watch.errors if "403" not in e]  # the refused answer itself
    assert (watch.errors, watch.outside) == ([], [])


def test_a_sign_in_link_on_another_sites_page_signs_nobody_in(
    browser: Browser, base_url: str, world: Pilot
) -> None:
    """pia puts her own one-time link on a page of hers; bob, signed in, follows it: Chromium
    says the navigation came from another site, and the dashboard signs nobody in, keeping
    bob's session (it signed bob's browser in as pia, and what he did next was hers)."""
    page, _ = _person(browser, base_url, world, "bob")
    link = sign_in(base_url, key_of(world, "pia"), now=world.clock())
    page.route("https://pias-page.example/", lambda route: route.fulfill(
        content_type="text/html", body=f'<a id="go" href="{link}">the report</a>'))  # fmt: skip
    page.goto("https://pias-page.example/")
    with page.expect_navigation():
        page.click("#go")
    assert page.get_by_role("heading", name="Refused").is_visible()
    assert "nobody was signed in" in page.get_by_role("alert").inner_text()
    page.goto(f"{base_url}/")
    assert "Signed in as bob" in page.inner_text("body")


def test_a_member_answers_the_survey(browser: Browser, base_url: str, world: Pilot) -> None:
    page, watch = _person(browser, base_url, world, "bob")
    page.get_by_role("link", name="Pilot", exact=True).click()
    page.get_by_label("Very disappointed").check()
    page.get_by_label("What is the main benefit you get from it?").fill("faster triage")
    page.get_by_role("button", name="Answer").click()
    _approve_shown(page, world, "bob")
    page.wait_for_url(f"{base_url}/pilot#survey")
    assert "Your answer" in page.locator(".mine").inner_text()
    fact = [f for f in world.lead.state().facts if f.kind == "survey.response"][-1]
    assert (fact.by, fact.signed, fact.payload["answer"]) == ("bob", True, "very")
    assert (watch.errors, watch.outside) == ([], [])


def test_a_ticket_is_opened_and_resolved(browser: Browser, base_url: str, world: Pilot) -> None:
    page, watch = _person(browser, base_url, world, "pia")
    title = "<script>alert(1)</script>"
    page.goto(f"{base_url}/support")
    page.get_by_label("What happened, in a line").fill(title)
    page.get_by_label("Category").select_option("it-broke")
    page.get_by_role("button", name="Open the ticket").click()
    page.wait_for_url(f"{base_url}/support/tickets/T-1")
    assert page.get_by_role("heading", level=1).inner_text() == f"T-1: {title}"
    page.get_by_label("What fixed it").fill("restarted the gateway")
    page.get_by_role("button", name="Resolve").click()
    page.wait_for_url(f"{base_url}/support/tickets/T-1")
    assert page.locator(".lede .state").inner_text() == "resolved"
    # both steps were taken through this session: each says whose own key it awaits
    words = page.locator(".steps .word")
    assert words.count() == 2
    for n in range(2):
        assert (
            "pia's word only once they confirm it with their own key" in words.nth(n).inner_text()
        )
    assert page.locator(".counted").get_attribute("data-counts") == "no"
    page.goto(f"{base_url}/support")
    assert page.get_by_role("cell", name=title).is_visible()
    assert (watch.errors, watch.outside, watch.dialogs) == ([], [], [])


def test_a_fix_awaits_its_opener_who_confirms_it_from_their_own_machine(
    browser: Browser, base_url: str, world: Pilot
) -> None:
    """bob resolves pia's ticket in his browser; the page tells pia, in hers, that the fix
    awaits her word and the command she runs with her own key, and offers no button: a form
    posted by hand is refused to her (a session cannot confirm) and to bob (only the opener
    does). Once she runs it on her machine, the page says so."""
    from inhouse.support.queue import confirm_fix, open_ticket

    open_ticket(world.people["pia"], "Summaries are empty", category="it-broke",
                component="gateway")  # fmt: skip
    bob, bob_watch = _person(browser, base_url, world, "bob")
    bob.goto(f"{base_url}/support/tickets/T-1")
    bob.get_by_label("What fixed it").fill("restarted the gateway")
    bob.get_by_role("button", name="Resolve").click()
    bob.wait_for_url(f"{base_url}/support/tickets/T-1")
    fix = bob.get_by_role("region", name="The fix")
    assert "the fix awaits confirmation by pia" in fix.inner_text()
    csrf = bob.locator('input[name="csrf"]').first.get_attribute("value") or ""
    forged = bob.request.post(f"{base_url}/support/tickets/T-1/confirm-fix", form={"csrf": csrf},
                              headers={"accept": "application/json"})  # fmt: skip
    assert forged.status == 409 and "only the person who hit the problem" in forged.text()
    pia, pia_watch = _person(browser, base_url, world, "pia")
    pia.goto(f"{base_url}/support/tickets/T-1")
    fix = pia.get_by_role("region", name="The fix")
    assert "You opened it: confirm the fix with your own key" in fix.inner_text()
    assert fix.locator("code").inner_text() == "inhouse support confirm-fix T-1"
    assert fix.get_by_role("button").count() == 0
    csrf = pia.locator('input[name="csrf"]').first.get_attribute("value") or ""
    forged = pia.request.post(f"{base_url}/support/tickets/T-1/confirm-fix", form={"csrf": csrf})
    assert forged.status == 403 and "a session may not sign ticket.fixed facts" in forged.text()
    assert not [f for f in world.lead.state().facts if f.kind == "ticket.fixed"]
    confirm_fix(world.people["pia"], "T-1")  # the command, on her machine, with her key
    pia.reload()
    assert "fix confirmed by pia" in pia.get_by_role("region", name="The fix").inner_text()
    pia.goto(f"{base_url}/support")
    assert pia.get_by_role("cell", name="bob (fix confirmed)").is_visible()
    for watch in (bob_watch, pia_watch):
        assert (watch.errors, watch.outside, watch.dialogs) == ([], [], [])


def test_every_page_renders_clean_and_accessible(
    browser: Browser, base_url: str, world: Pilot
) -> None:
    from inhouse.support.queue import open_ticket, resolve_ticket

    open_ticket(world.people["pia"], "Summaries are empty", category="it-broke",
                component="gateway")  # fmt: skip
    resolve_ticket(world.people["bob"], "T-1", note="restarted")  # its fix section shows too
    page, watch = _person(browser, base_url, world, "lena")
    page.context.add_init_script(path=str(AXE))  # through the browser, not the page's CSP
    found: dict[str, list[str]] = {}
    fact = world.lead.state().facts[0].id
    page.goto(f"{base_url}/plays/prove-value")
    page.get_by_role("button", name="Accept the handoff").click()  # waits for her approval
    page.wait_for_url(f"{base_url}/approvals/*")
    waiting = urlsplit(page.url).path
    for path in [*PAGES, f"/facts/{fact}", "/support/tickets/T-1", waiting]:
        reply = page.goto(f"{base_url}{path}")
        assert reply is not None and reply.status == 200, path
        assert page.locator("main h1").count() == 1, path
        violations = page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        )
        bad = [f"{v['id']} ({v['impact']}): {v['help']}" for v in violations
               if v["impact"] in ("serious", "critical")]  # fmt: skip
        if bad:
            found[path] = bad
    assert found == {}
    assert (watch.errors, watch.outside) == ([], [])


def test_the_pages_fit_a_phone(browser: Browser, base_url: str, world: Pilot) -> None:
    page, _ = _person(browser, base_url, world, "lena")
    page.set_viewport_size({"width": 375, "height": 740})
    for path in ("/", "/pilot", "/support"):
        page.goto(f"{base_url}{path}")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, (path, overflow)
    # keyboard: the first Tab lands on the skip link, which moves focus to the content
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"


def test_a_demo_program_says_so_on_its_pages(_isolated: Path, clock: Clock) -> None:
    """A demo's banner is a note inside the page's main landmark, and the pages stay clean and
    accessible with it (tests/test_demo_label.py checks every page's HTML for it)."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock, demo=True)
    served = Program.open(_isolated, clock=clock)
    try:
        with serving(served) as url, sync_playwright() as driver:
            launched = driver.chromium.launch(
                executable_path=str(chromium_or_skip()), args=["--no-sandbox"]
            )
            context = launched.new_context()
            context.add_init_script(path=str(AXE))
            page = context.new_page()
            page.goto(sign_in(url, lena.key, now=clock()))
            for path in ("/", "/pilot", "/indicators"):
                page.goto(f"{url}{path}")
                note = page.locator("main").get_by_role("note")
                assert note.inner_text().startswith("Demo program. One machine may play"), path
                violations = page.evaluate(
                    "async () => (await axe.run(document, {resultTypes: ['violations']}))"
                    ".violations"
                )
                bad = [v["id"] for v in violations if v["impact"] in ("serious", "critical")]
                assert bad == [], (path, bad)
            launched.close()
    finally:
        served.close()
        lena.close()
