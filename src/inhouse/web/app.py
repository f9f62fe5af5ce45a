"""The dashboard's ASGI app: routes, sessions, CSRF, the one JSON error shape.

Every page is server-rendered (Jinja2, autoescaped) and has a ``.json`` twin returning the data
it renders (:mod:`inhouse.web.pages`); ``/openapi.json`` documents the JSON API. Every page but
sign-in needs a session; every form carries the session's CSRF token. Handlers parse, call one
function of a play package as the signed-in person (the session's program), and render.

Errors come from :mod:`inhouse.errors` and answer in one shape, whatever the route::

    {"error": {"status": 403, "type": "permission_error", "code": null,
               "message": "only the receiver, omar, can accept or reject …", "missing": []}}

(HTML routes render the same fields as a page.)
"""

from __future__ import annotations

import inspect
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.datastructures import FormData, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inhouse.errors import (
    ApprovalNeeded,
    CsrfRefused,
    IdentityError,
    InhouseError,
    InvalidInput,
    MethodNotAllowed,
    NoSession,
    NoSuchRoute,
    NotAllowed,
    RequestTooLarge,
    UnknownPlay,
)
from inhouse.program.audit import SharedVerify
from inhouse.web import pages
from inhouse.web.approvals import Approvals
from inhouse.web.render import render_page
from inhouse.web.signin import Session, SignIns

if TYPE_CHECKING:
    from inhouse.program import Program
    from inhouse.program.core import Clock

__all__ = ["COOKIE", "create_app", "error_body"]

COOKIE = "inhouse_session"
_HERE = Path(__file__).parent
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
#: the most a request's body may carry (a form, a signed statement): the body is counted as it
#: arrives, so a body sent in chunks with no Content-Length is bounded too
_MAX_BODY = 64 * 1024
#: how a browser says a navigation was not started by another site's page (a link opened
#: from a terminal or typed in; a page of the dashboard itself): absent where it predates the
#: Fetch Metadata headers
_OWN_NAVIGATION = ("none", "same-origin")
#: the code of a session ended because its sign-in stopped acting for its person
_ENDED = "session_ended"

Handler = Callable[[Request], Awaitable[Response]]
#: what a page's data is built by, from the request and the viewer's program (or awaited from)
Build = Callable[[Request, "Program"], dict[str, Any] | Awaitable[dict[str, Any]]]

log = logging.getLogger("inhouse.web")


def error_body(err: InhouseError) -> dict[str, Any]:
    """The one JSON error shape of the dashboard's API (docs/web.md)."""
    return {
        "error": {
            "status": err.http_status,
            "type": err.error_type,
            "code": err.code,
            "message": str(err),
            "missing": list(getattr(err, "missing", []) or []),
        }
    }


class _Dashboard:
    """The routes' shared state: the program (read side), the sign-ins."""

    def __init__(self, program: Program, lasts: timedelta) -> None:
        self.program = program
        self.signins = SignIns(program, lasts)
        self.approvals = Approvals(self.signins)
        # a full verify walks the whole log: one at a time, reused for the same head a while
        self.verifies = SharedVerify(
            program.store,
            lead_key=program.settings.lead_key,
            clock=program.clock,
            program_id=program.settings.program_id,
        )

    def act(self, session: Session, action: Callable[[], Any], back: str) -> Response:
        """Do a form's ``action`` as the session's person and go ``back``; where its event
        needs their own approval, keep it waiting and show how to approve it."""
        try:
            action()
        except ApprovalNeeded as need:
            waiting = self.approvals.propose(session, need, action, back)
            return _back(f"/approvals/{waiting.code}")
        return _back(back)

    # -- sessions ----------------------------------------------------------------------------

    def session(self, request: Request) -> Session:
        found = self.live(request)
        if found is None:
            raise NoSession("sign in first: run `inhouse web login` and open the link it prints")
        return found

    def live(self, request: Request) -> Session | None:
        """The request's session while its sign-in still acts for its person; one whose
        delegation no longer holds (their key revoked or rotated, their enrolment gone) is
        ended, and the request is told why and to sign in again, never a server error."""
        found = self.signins.session(request.cookies.get(COOKIE))
        if found is None:
            return None
        try:
            found.program.whoami()
        except IdentityError as err:
            self.signins.end(found.id)
            ended = NoSession(
                f"{err} (`inhouse web login` with a key enrolled now, then open the link)"
            )
            ended.code = _ENDED  # shown as a page, not a silent trip to the sign-in page
            raise ended from None
        return found

    async def form(self, request: Request, session: Session) -> FormData:
        """The posted form, once its CSRF token is the session's."""
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind and kind not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            # a JSON body reads as a form with no fields: say so, not "no CSRF token"
            raise InvalidInput(
                f"send the form as application/x-www-form-urlencoded (with its csrf field), "
                f"not {kind}"
            )
        form = await request.form()
        token = form.get("csrf")
        if not session.csrf_ok(token if isinstance(token, str) else None):
            raise CsrfRefused(
                "this form did not carry this session's CSRF token: reload the page and try "
                "again (a form from another site is refused)"
            )
        return form


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return (
        path.endswith(".json")
        or path.startswith("/login/delegation")
        or path.startswith("/approve/")
        or "application/json" in request.headers.get("accept", "").split(",")[0]
    )


async def _json_body(request: Request, what: str) -> Any:
    """The request's body read as JSON, or an error naming ``what`` should have been sent."""
    try:
        return await request.json()
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(f"send the {what} as JSON") from None


def _json(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, default=str, separators=(",", ":"))
    return Response(body, status_code=status, media_type="application/json")


def _field(form: FormData, name: str, *, required: bool = True) -> str:
    value = form.get(name)
    text = value if isinstance(value, str) else ""
    if required and not text.strip():
        raise InvalidInput(f"the form needs {name}")
    return text


def _back(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def create_app(
    folder: str | Path | None = None,
    *,
    program: Program | None = None,
    clock: Clock | None = None,
    session_minutes: int = 120,
) -> Starlette:
    """The dashboard for the program at ``folder`` (or ``program``, already open). Sessions
    last ``session_minutes`` (and the delegation each sign-in signs, with them)."""
    if program is None:
        from inhouse.program import Program as _Program
        from inhouse.program.core import utcnow

        program = _Program.open(folder, clock=clock or utcnow)
    dash = _Dashboard(program, timedelta(minutes=session_minutes))

    def page(name: str, build: Build) -> tuple[Handler, Handler]:
        """A page's HTML route and its JSON twin, both behind the session. ``build`` may be a
        coroutine function (a page that waits on work done off the event loop)."""

        async def data_of(request: Request, program: Program) -> dict[str, Any]:
            data = build(request, program)
            return await data if inspect.isawaitable(data) else data

        async def as_json(request: Request) -> Response:
            session = dash.session(request)
            data = await data_of(request, session.program)
            return _json({"page": name, "viewer": pages.viewer(session.program), **data})

        async def as_html(request: Request) -> Response:
            found = dash.live(request)
            if found is None:
                return _back("/login")
            data = await data_of(request, found.program)
            return HTMLResponse(
                render_page(
                    name,
                    data,
                    viewer=pages.viewer(found.program),
                    csrf=found.csrf,
                    path=request.url.path,
                )
            )

        return as_html, as_json

    def both(path: str, name: str, build: Build) -> list[Route]:
        html, twin = page(name, build)
        json_path = "/index.json" if path == "/" else f"{path}.json"
        return [Route(json_path, twin, methods=["GET"]), Route(path, html, methods=["GET"])]

    def _int(request: Request, name: str) -> int | None:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return None
        if not raw.isdigit() or len(raw) > 12:
            raise InvalidInput(f"{name} is a positive whole number, not {raw!r}")
        return int(raw)

    # -- sign-in -----------------------------------------------------------------------------

    async def login_page(request: Request) -> Response:
        return HTMLResponse(
            render_page(
                "login",
                # the command with this server's own address: the page said URL-OF-THIS-PAGE
                {"program": program.state().name, "url": str(request.base_url).rstrip("/")},
                viewer=None,
                csrf="",
                path="/login",
            )
        )

    async def challenge(request: Request) -> Response:
        key_id = request.query_params.get("key_id", "")
        if not key_id:
            raise InvalidInput("name the key that signs in: ?key_id=ed25519:…")
        return _json({"request": dash.signins.request(key_id)})

    async def challenge_signed(request: Request) -> Response:
        body = await _json_body(request, "signed sign-in request")
        return _json({"statement": dash.signins.challenge(body)})

    async def delegation(request: Request) -> Response:
        body = await _json_body(request, "signed statement")
        token = dash.signins.complete(body)
        return _json({"link": f"{str(request.base_url).rstrip('/')}/login/{token}"})

    async def redeem(request: Request) -> Response:
        # a link opened from another site's page is someone's sign-in planted in this browser
        # (theirs, for what this person types next): the person's own opens it from their
        # terminal or address bar, which a browser sends as Sec-Fetch-Site: none
        opened_from = request.headers.get("sec-fetch-site", "none").strip().lower()
        if opened_from not in _OWN_NAVIGATION:
            raise NotAllowed(
                f"this sign-in link was opened from another site's page (Sec-Fetch-Site: "
                f"{opened_from}), so it may be someone else's sign-in: nobody was signed in. "
                "Open a link that `inhouse web login` printed for you by pasting it into the "
                "address bar (or let it open the browser)"
            )
        current = dash.signins.session(request.cookies.get(COOKIE))
        session = dash.signins.redeem(request.path_params["token"], replacing=current)
        response = _back("/")
        seconds = int((session.expires - program.clock()).total_seconds())
        response.set_cookie(
            COOKIE,
            session.id,
            max_age=max(seconds, 1),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return response

    async def logout(request: Request) -> Response:
        session = dash.session(request)
        await dash.form(request, session)
        dash.signins.end(session.id)
        response = _back("/login")
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    # -- actions (forms) ---------------------------------------------------------------------

    async def handoff(request: Request) -> Response:
        session = dash.session(request)
        form = await dash.form(request, session)
        play = request.path_params["play"]
        try:
            session.program.playbook.play(play)
        except UnknownPlay as err:  # an unknown play is a 404 as its page answers it
            raise NoSuchRoute(str(err)) from None
        decision = _field(form, "decision")
        comment = _field(form, "comment", required=False)
        if decision == "accept":
            return dash.act(
                session,
                lambda: session.program.accept_handoff(None, play, comment=comment),
                f"/plays/{play}",
            )
        if decision == "reject":
            return dash.act(
                session,
                lambda: session.program.reject_handoff(None, play, comment=comment),
                f"/plays/{play}",
            )
        raise InvalidInput(f"decision is accept or reject, not {decision!r}")

    async def survey(request: Request) -> Response:
        from inhouse.pilot.survey import answer_survey

        session = dash.session(request)
        form = await dash.form(request, session)
        answer, benefit = _field(form, "answer"), _field(form, "benefit", required=False)
        return dash.act(
            session, lambda: answer_survey(session.program, answer, benefit), "/pilot#survey"
        )

    def waiting_page(request: Request, session: Session) -> dict[str, Any]:
        from inhouse.web.login import describe

        waiting = dash.approvals.find(request.path_params["code"])
        if waiting.session.id != session.id:
            raise NotAllowed("this decision waits for another session's approval")
        base = str(request.base_url).rstrip("/")
        return {
            "code": waiting.code,
            "command": f"inhouse web approve {waiting.code} --url {base}",
            "kind": waiting.statement["kind"],
            "says": describe(waiting.statement["kind"], waiting.payload),
            "expires": waiting.statement["expires"],
            "recorded": waiting.recorded,
            "back": waiting.back,
        }

    async def waiting_html(request: Request) -> Response:
        found = dash.live(request)
        if found is None:
            return _back("/login")
        data = waiting_page(request, found)
        return HTMLResponse(
            render_page(
                "approval",
                data,
                viewer=pages.viewer(found.program),
                csrf=found.csrf,
                path=request.url.path,
            )
        )

    async def waiting_json(request: Request) -> Response:
        session = dash.session(request)
        data = waiting_page(request, session)
        return _json({"page": "approval", "viewer": pages.viewer(session.program), **data})

    async def approval_statement(request: Request) -> Response:
        waiting = dash.approvals.find(request.path_params["code"])
        return _json({"statement": waiting.statement, "payload": waiting.payload})

    async def approval_renewed(request: Request) -> Response:
        waiting = dash.approvals.renew(request.path_params["code"])
        return _json({"statement": waiting.statement, "payload": waiting.payload})

    async def approval_signed(request: Request) -> Response:
        body = await _json_body(request, "signed approval")
        waiting = dash.approvals.approve(request.path_params["code"], body)
        return _json({"recorded": True, "kind": waiting.statement["kind"], "back": waiting.back})

    async def open_ticket(request: Request) -> Response:
        from inhouse.support.queue import open_ticket as opened

        session = dash.session(request)
        form = await dash.form(request, session)
        ticket = opened(
            session.program,
            _field(form, "title"),
            category=_field(form, "category"),
            component=_field(form, "component"),
            description=_field(form, "description", required=False),
        )
        return _back(f"/support/tickets/{ticket.id}")

    async def ticket_step(request: Request) -> Response:
        from inhouse.support import queue

        session = dash.session(request)
        form = await dash.form(request, session)
        ticket, step = request.path_params["ticket"], request.path_params["step"]
        try:
            queue.find_ticket(session.program, ticket)
        except InvalidInput as err:  # an unknown ticket is a 404, as its page is
            raise NoSuchRoute(str(err)) from None
        if step == "comment":
            queue.comment_on_ticket(session.program, ticket, _field(form, "text"))
        elif step == "resolve":
            queue.resolve_ticket(session.program, ticket, note=_field(form, "note"))
        elif step == "reopen":
            queue.reopen_ticket(session.program, ticket, reason=_field(form, "reason"))
        elif step == "assign":
            queue.assign_ticket(session.program, ticket, _field(form, "person"))
        elif step == "confirm-fix":
            # the page offers no such form: the support package refuses a session (only the
            # opener's own key confirms a fix) and says what to run instead
            queue.confirm_fix(session.program, ticket, text=_field(form, "text", required=False))
        else:
            raise NoSuchRoute(f"no ticket step {step!r}: comment, resolve, reopen or assign")
        return _back(f"/support/tickets/{ticket}")

    async def openapi(request: Request) -> Response:
        from inhouse.web.openapi import openapi_document

        return _json(openapi_document())

    async def health(request: Request) -> Response:
        return _json({"ok": True})

    async def audit(request: Request, program: Program) -> dict[str, Any]:
        before = _int(request, "before")
        full = None
        if request.query_params.get("verify") == "full":
            # a walk of the whole log takes a while: on a worker thread, so the event loop
            # answers every other visitor meanwhile (SharedVerify runs one walk at a time and
            # lets the askers behind it reuse its report, each waiting on its own thread)
            head = pages.audit_head(program)
            full = await anyio.to_thread.run_sync(dash.verifies.report, head)
        return pages.audit_page(program, before=before, full=full)

    routes: list[BaseRoute] = [
        Route("/login", login_page, methods=["GET"]),
        Route("/login/challenge.json", challenge, methods=["GET"]),
        Route("/login/challenge.json", challenge_signed, methods=["POST"]),
        Route("/login/delegation.json", delegation, methods=["POST"]),
        Route("/login/{token}", redeem, methods=["GET"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/health.json", health, methods=["GET"]),
        *both("/", "program", lambda r, p: pages.program_page(p)),
        Route("/plays/{play}/handoff", handoff, methods=["POST"]),
        *both("/plays/{play}", "play", lambda r, p: pages.play_page(p, r.path_params["play"])),
        *both(
            "/facts/{fact:int}", "fact", lambda r, p: pages.fact_page(p, int(r.path_params["fact"]))
        ),
        Route("/pilot/survey", survey, methods=["POST"]),
        Route("/approvals/{code}.json", waiting_json, methods=["GET"]),
        Route("/approvals/{code}", waiting_html, methods=["GET"]),
        Route("/approve/{code}.json", approval_statement, methods=["GET"]),
        Route("/approve/{code}.json", approval_signed, methods=["POST"]),
        Route("/approve/{code}/renew.json", approval_renewed, methods=["POST"]),
        *both("/pilot", "pilot", lambda r, p: pages.pilot_page(p)),
        *both("/prompts", "prompts", lambda r, p: pages.prompts_page(p)),
        Route("/support/tickets", open_ticket, methods=["POST"]),
        Route("/support/tickets/{ticket}/{step}", ticket_step, methods=["POST"]),
        *both(
            "/support/tickets/{ticket}",
            "ticket",
            lambda r, p: pages.ticket_page(p, r.path_params["ticket"]),
        ),
        *both("/support", "support", lambda r, p: pages.support_page(p)),
        *both("/governance", "governance", lambda r, p: pages.governance_page(p)),
        *both(
            "/indicators",
            "indicators",
            lambda r, p: pages.indicators_page(p, r.query_params.get("period") or None),
        ),
        *both("/audit", "audit", audit),
        Mount("/static", StaticFiles(directory=_HERE / "static"), name="static"),
    ]

    async def inhouse_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, InhouseError)
        if (
            isinstance(exc, NoSession)
            and exc.code != _ENDED
            and not _wants_json(request)
            and request.method == "GET"
        ):
            return _back("/login")
        if _wants_json(request):
            return _json(error_body(exc), exc.http_status)
        session = dash.signins.session(request.cookies.get(COOKIE))
        try:
            viewer = None if session is None else pages.viewer(session.program)
        except InhouseError:  # the sign-in stopped acting for anyone: show the error alone
            session, viewer = None, None
        body = render_page(
            "error",
            error_body(exc)["error"],
            viewer=viewer,
            csrf="" if session is None else session.csrf,
            path=request.url.path,
        )
        return HTMLResponse(body, status_code=exc.http_status)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        err: InhouseError
        if exc.status_code == 404:
            err = NoSuchRoute(f"no page at {request.url.path}")
        elif exc.status_code == 405:
            allowed = (exc.headers or {}).get("Allow", "")
            takes = f": it takes {allowed} only" if allowed else ""
            if allowed == "POST":  # a form's action, opened as a page
                takes += " (a form on its page sends it)"
            err = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}{takes}")
        else:
            err = InvalidInput(str(exc.detail))
            err.http_status = exc.status_code
        return await inhouse_error(request, err)

    async def server_error(request: Request, exc: Exception) -> Response:
        # a bug, not a refusal: its text (a database error quotes its SQL and values) stays
        # in the server's log, and the page names the entry an operator looks it up by
        ref = secrets.token_hex(6)
        log.error(
            "unexpected error %s on %s %s", ref, request.method, request.url.path, exc_info=exc
        )
        err = InhouseError(
            f"the dashboard failed unexpectedly (error {ref}): whoever runs it finds the details "
            "under that id in its log"
        )
        return await inhouse_error(request, err)

    return Starlette(
        routes=routes,
        middleware=[Middleware(_Headers), Middleware(_Bounded)],
        exception_handlers={
            InhouseError: inhouse_error,
            HTTPException: http_error,
            Exception: server_error,
        },
    )


class _Headers:
    """Security headers on every answer: nothing loads from elsewhere, nothing frames us."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def headed(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = _CSP
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                headers["X-Frame-Options"] = "DENY"
                if not static:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, headed)


class _Bounded:
    """Every request's body, bounded as it is read: a handler reading a form or a signed
    statement past :data:`_MAX_BODY` bytes gets :class:`RequestTooLarge` (413, in the one
    error shape), whether or not the request said its length. The sign-in's and approvals'
    JSON is read before anyone is known, so it must not hold a body of any size in memory."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seen = 0
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")

        async def bounded() -> Message:
            nonlocal seen
            if declared.isdigit() and int(declared) > _MAX_BODY:
                raise _too_large()
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > _MAX_BODY:
                    raise _too_large()
            return message

        await self.app(scope, bounded, send)


def _too_large() -> RequestTooLarge:
    return RequestTooLarge(
        f"a request's body is at most {_MAX_BODY} bytes (a form, a signed statement): nothing "
        "was recorded"
    )
