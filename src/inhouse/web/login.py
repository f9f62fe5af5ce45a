"""The client side of sign-in (``inhouse web login``): fetch the server's challenge (a sign-in
request, signed to show the key is held, then the statement that names its person), check it,
sign it with this person's own key, and get the one-time link back; and of approvals
(``inhouse web approve``): agree, with that key, to one decision the dashboard holds.

The key never leaves this machine: what travels is the signed statement, which lets the server's
session key act for this person, in this program, until it expires
(:mod:`inhouse.identity.delegation`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from inhouse.errors import (
    IdentityError,
    InhouseError,
    InvalidInput,
    NotAllowed,
    RuntimeUnavailable,
)
from inhouse.terminal import shown as _shown
from inhouse.tls import client_context
from inhouse.urls import http_url

if TYPE_CHECKING:
    import httpx

    from inhouse.identity import SigningKey

__all__ = ["approve", "describe", "sign_in"]

#: an approval code as the dashboard makes it (``secrets.token_urlsafe``): it goes in a path
_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: an approval that opened longer ago than this when its person agrees is asked for again,
#: opening then (signing refuses one that opened over five minutes before: see sign_approval)
_RENEW_AFTER = timedelta(minutes=1)


def _check_proposed(
    statement: dict[str, Any],
    payload: dict[str, Any],
    key: SigningKey,
    *,
    program_id: str | None,
    base: str,
) -> None:
    """Refuse, before anything is shown or signed, an approval made for another program or
    key, or an acceptance that names no facts its exit is judged on."""
    if program_id and statement.get("program") != program_id:
        raise IdentityError(
            f"the dashboard at {base} runs another program ({statement.get('program')}), "
            f"not this folder's ({program_id}): nothing signed"
        )
    if statement.get("key_id") != key.key_id:
        raise IdentityError(
            f"the approval names key {statement.get('key_id')}, not this shell's key "
            f"{key.key_id}: it was made for someone else"
        )
    if statement.get("kind") == "handoff.accepted" and not isinstance(
        payload.get("evidence"), list
    ):
        # the exit the dashboard writes beside an acceptance spares (keeps earlier rules
        # for) only the facts the acceptance names: one naming none leaves that list to the
        # dashboard's host, who may be the lead the exit judges
        raise IdentityError(
            "the acceptance the dashboard asks you to approve names no facts its exit is "
            "judged on (`evidence`): the dashboard runs an inhouse from before acceptances "
            "named them, or its host left them out; nothing signed (accept with your own "
            "key instead: `inhouse handoff accept`)"
        )


def _opened(statement: dict[str, Any]) -> datetime | None:
    """When the approval's window opens, or None when it says no readable time (signing
    then refuses it, naming the problem)."""
    try:
        return datetime.fromisoformat(str(statement.get("issued")))
    except ValueError:
        return None


def _answer(reply: httpx.Response, step: str) -> dict[str, Any]:
    try:
        body = reply.json()
    except ValueError:
        body = None
    if reply.status_code != 200 or not isinstance(body, dict):
        error = body.get("error") if isinstance(body, dict) else None
        message = error.get("message") if isinstance(error, dict) else reply.text[:200]
        # the dashboard's words, shown as they are: never an escape sequence reaching a terminal
        raise NotAllowed(
            f"the dashboard refused the {step} ({reply.status_code}): {_shown(message)}"
        )
    return body


def sign_in(
    url: str,
    key: SigningKey,
    *,
    program_id: str | None = None,
    client: httpx.Client | None = None,
    now: datetime | None = None,
) -> str:
    """Sign in to the dashboard at ``url`` with ``key``; returns the one-time link. With
    ``program_id`` (from ``inhouse.toml``), a server running another program is refused; a
    session that does not start now (``now``: this machine's clock, by default the real one)
    is refused before anything is signed."""
    import httpx

    from inhouse.identity.delegation import sign_delegation, sign_sign_in_request

    base = http_url(url, what="the dashboard's address").rstrip("/")
    own = client or httpx.Client(timeout=10.0, verify=client_context())
    try:
        reply = own.get(f"{base}/login/challenge.json", params={"key_id": key.key_id})
        body = _answer(reply, "challenge")
        request = body.get("request")
        if isinstance(request, dict):
            # the key shows it is held before the dashboard names its person
            if program_id and request.get("program") != program_id:
                raise IdentityError(
                    f"the dashboard at {base} runs another program "
                    f"({_shown(request.get('program'))}), not this folder's ({program_id}): "
                    "nothing signed"
                )
            signed_request = sign_sign_in_request(key, request)
            body = _answer(own.post(f"{base}/login/challenge.json", json=signed_request), "request")
        # a dashboard of an earlier version answers the statement at once
        statement = body.get("statement")
        if not isinstance(statement, dict):
            raise IdentityError("the dashboard's challenge carries no statement")
        if program_id and statement.get("program") != program_id:
            raise IdentityError(
                f"the dashboard at {base} runs another program ({statement.get('program')}), "
                f"not this folder's ({program_id}): nothing signed"
            )
        signed = sign_delegation(key, statement, now=now or datetime.now(UTC))
        reply = own.post(f"{base}/login/delegation.json", json=signed)
        link = _answer(reply, "signature").get("link")
    except httpx.HTTPError as err:
        raise RuntimeUnavailable(f"cannot reach the dashboard at {base}: {err}") from None
    finally:
        if client is None:
            own.close()
    if not isinstance(link, str):
        raise InhouseError("the dashboard answered no link")
    return _own_link(base, link)


#: a sign-in link as the dashboard answers it: its own address (as its request named it), then
#: ``/login/`` and the one-time token
_LINK = re.compile(r"(?:https?://[^/?#\s]+)?/login/([A-Za-z0-9_-]{16,128})")


def _own_link(base: str, link: str) -> str:
    """The one-time link ``link`` names, at ``base`` (the address this machine reached the
    dashboard at, which the browser will too): only that path is ever opened, never another
    address or scheme (a dashboard, run by whoever serves it, answering ``file:`` or a page of
    another site would have the browser or the system open it on this machine)."""
    found = _LINK.fullmatch(link)
    if found is None:
        raise IdentityError(
            f"the dashboard at {base} answered {_shown(link[:200])!r}, not a sign-in link of "
            "its own (`/login/` and a token): nothing was opened"
        )
    return f"{base}/login/{found.group(1)}"


def describe(kind: str, payload: dict[str, Any]) -> list[str]:
    """What an event of ``kind`` recording ``payload`` says, in lines a person reads before
    approving it (from the event itself, never from the dashboard's own words; every control
    character written out, so nothing in it can repaint the lines; its kind last)."""
    return [*_lines(kind, payload), f"the event: {_shown(kind)}"]


def _lines(kind: str, payload: dict[str, Any]) -> list[str]:
    data = {k: v for k, v in payload.items() if k not in ("delegation", "approval")}
    if kind in ("handoff.accepted", "handoff.rejected"):
        verb = "ACCEPT" if kind == "handoff.accepted" else "REJECT"
        lines = [f"{verb} the handoff of play {_given(data, 'play')}"]
        if "evidence_hash" in data:
            lines.append(f"its exit evidence as it stands now: {_value(data['evidence_hash'])}")
        lines.append(f"comment: {_given(data, 'comment')}")
        # and everything else it records (the rules it is judged by, any field the dashboard's
        # host added): the digest signed covers every field, so every field is shown
        rest = {k: v for k, v in data.items() if k not in ("play", "evidence_hash", "comment")}
        return lines + _fields(rest)
    if kind == "fact.recorded":
        fact = data.get("payload")
        lines = [f"record a {_shown(data.get('kind'))} fact, signed as yours"]
        # and everything else it records, which decides whether and how long it counts
        rest = {k: v for k, v in data.items() if k not in ("kind", "payload")}
        if isinstance(fact, dict):
            return lines + _fields(fact) + _fields(rest)
        return [*lines, f"payload: {_given(data, 'payload')}", *_fields(rest)]
    return [_shown(kind), *_fields(data)]


def _fields(data: dict[str, Any]) -> list[str]:
    # every field, an empty one too (as ""): what the approver is not shown, their key must
    # not sign
    return [f"{_shown(name)}: {_value(value)}" for name, value in sorted(data.items())]


#: how a field the event does not carry at all reads (never how any value it carries reads)
_ABSENT = "(none)"


def _given(data: dict[str, Any], name: str) -> str:
    return _value(data[name]) if name in data else _ABSENT


def _value(value: Any) -> str:
    """``value`` as the approver reads it, told apart from every other value the digest could
    cover: a plain word as it is; anything else as JSON, so the empty string reads ``""``, not
    as an absent field's (none), the number 4 reads 4 and the text "4" reads "4" (a fold reads
    only the number as rules), and a list reads as one, not as text that looks like it."""
    if isinstance(value, str) and not _ambiguous(value):
        return _shown(value)
    return _shown(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))


def _ambiguous(text: str) -> bool:
    """Whether ``text``, shown bare, could be read as some other value: empty, with outer
    spaces, an absent field's word, or JSON text (a number, true, null, a list, a quoted
    string)."""
    if not text or text != text.strip() or text == _ABSENT:
        return True
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def approve(
    url: str,
    code: str,
    key: SigningKey,
    *,
    confirm: Callable[[list[str]], bool],
    program_id: str | None = None,
    client: httpx.Client | None = None,
    now: datetime | Callable[[], datetime] | None = None,
) -> dict[str, Any]:
    """Approve, with ``key``, the decision the dashboard at ``url`` holds under ``code``: fetch
    the statement and the event, check the statement names this key (and, given
    ``program_id``, this folder's program) and digests exactly that event, ask ``confirm``
    with what it records, then sign and send it (``now``: this machine's clock, or a fixed
    time). One who answered a while after it was proposed signs the same approval opening
    now; if what it records changed meanwhile they are asked again. Returns the dashboard's
    answer; nothing is signed when ``confirm`` says no (:class:`NotAllowed`)."""
    import httpx

    from inhouse.identity.approval import sign_approval

    base = http_url(url, what="the dashboard's address").rstrip("/")
    if not _CODE.fullmatch(code.strip()):
        raise InvalidInput(
            f"{code!r} is not an approval code: the letters, digits, - and _ the dashboard shows"
        )
    code = code.strip()
    own = client or httpx.Client(timeout=10.0, verify=client_context())

    def clock() -> datetime:
        return (now() if callable(now) else now) or datetime.now(UTC)

    def fetched(reply: httpx.Response) -> tuple[dict[str, Any], dict[str, Any]]:
        body = _answer(reply, "approval")
        statement, payload = body.get("statement"), body.get("payload")
        if not isinstance(statement, dict) or not isinstance(payload, dict):
            raise IdentityError("the dashboard's approval carries no statement or event")
        _check_proposed(statement, payload, key, program_id=program_id, base=base)
        return statement, payload

    try:
        statement, payload = fetched(own.get(f"{base}/approve/{code}.json"))
        if not confirm(describe(str(statement.get("kind")), payload)):
            raise NotAllowed("not approved: nothing signed")
        opened = _opened(statement)
        if opened is not None and abs(clock() - opened) > _RENEW_AFTER:
            # they read for a while: an approval's window opens when its person agrees (or
            # the host could date the event before they did), so ask for the same approval
            # opening now; what it records must be what they read, or they are asked again
            renewed, again = fetched(own.post(f"{base}/approve/{code}/renew.json"))
            if (renewed.get("kind"), again) != (statement.get("kind"), payload):
                lines = describe(str(renewed.get("kind")), again)
                if not confirm(["It changed since it was shown to you; now it records:", *lines]):
                    raise NotAllowed("not approved: nothing signed")
            statement, payload = renewed, again
        # checks that the statement digests exactly the event just shown, then signs it
        signed = sign_approval(key, statement, payload, now=clock())
        return _answer(own.post(f"{base}/approve/{code}.json", json=signed), "approval")
    except httpx.HTTPError as err:
        raise RuntimeUnavailable(f"cannot reach the dashboard at {base}: {err}") from None
    finally:
        if client is None:
            own.close()
