"""Sign-in with the person's own key, no passwords; sessions and their CSRF tokens.

1. ``inhouse web login`` asks for a challenge naming its key id. The server makes a fresh session
   key (Ed25519, kept in this process's memory only) and proposes a delegation statement: this
   program, that person and key, the session key, a nonce, issued now, expiring with the session
   (:mod:`inhouse.identity.delegation`).
2. The CLI checks the statement names its own key and signs it with the person's key; the server
   checks the signature against the roster, and answers a one-time link.
3. Opening the link (once, within minutes) starts the browser session: an HttpOnly,
   SameSite=Strict cookie, short-lived, and a CSRF token every form carries.

Every action the session takes is signed with the session key and carries the delegation, so
its event proves the person signed in for it (:meth:`inhouse.program.core.ProgramCore.delegated`).
The server keeps nothing of this on disk: a restart signs everyone out.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from inhouse.errors import IdentityError, InvalidInput, NotAllowed, RateLimited

if TYPE_CHECKING:
    from inhouse.identity import SigningKey
    from inhouse.program import Program

__all__ = ["Session", "SignIns"]

_CHALLENGE_TTL = timedelta(minutes=2)
#: challenges waiting at once: asking for one needs no signature (only an enrolled key's id,
#: which the audit page shows), so without a bound anyone could fill the server's memory
_MAX_PENDING = 512
_LINK_TTL = timedelta(minutes=2)


@dataclass
class Session:
    """One signed-in browser: whose, until when, its CSRF token and the program acting as them."""

    id: str
    person: str
    expires: datetime
    csrf: str
    program: Program

    def csrf_ok(self, token: str | None) -> bool:
        # bytes: compare_digest refuses non-ASCII text, and a form may carry any
        return token is not None and hmac.compare_digest(token.encode(), self.csrf.encode())


@dataclass
class _Pending:
    statement: dict[str, str]
    key: SigningKey
    expires: datetime


@dataclass
class _Link:
    person: str
    key: SigningKey
    delegation: dict[str, Any]
    session_expires: datetime
    expires: datetime


@dataclass
class SignIns:
    """Challenges waiting for a signature, links waiting to be opened, and live sessions."""

    program: Program
    lasts: timedelta = timedelta(hours=2)
    _pending: dict[str, _Pending] = field(default_factory=dict)
    _links: dict[str, _Link] = field(default_factory=dict)
    _sessions: dict[str, Session] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _now(self) -> datetime:
        return self.program.clock()

    def challenge(self, key_id: str) -> dict[str, str]:
        """The statement ``key_id``'s holder is asked to sign (step 1)."""
        from inhouse.identity import SigningKey
        from inhouse.identity.delegation import delegation_statement

        state = self.program.state()
        person = state.person_of_key(key_id)
        if person is None:
            raise NotAllowed(
                f"key {key_id} is not enrolled in program {state.name!r} (or was revoked): "
                "sign in with the key you joined with"
            )
        if state.people[person].service:
            raise NotAllowed(f"{person} is a service: people sign in, services do not")
        now = self._now()
        key = SigningKey.generate()
        nonce = secrets.token_urlsafe(24)
        statement = delegation_statement(
            program=state.program_id,
            person=person,
            key_id=key_id,
            session_key=key.public_key,
            nonce=nonce,
            issued=now,
            expires=now + self.lasts,
        )
        with self._lock:
            self._expire(now)
            if len(self._pending) >= _MAX_PENDING:
                raise RateLimited(
                    f"{_MAX_PENDING} sign-ins are waiting for their signature: try again in "
                    "two minutes, when the oldest expire"
                )
            self._pending[nonce] = _Pending(statement, key, now + _CHALLENGE_TTL)
        return statement

    def complete(self, signed: Any) -> str:
        """Check the signed statement (step 2); returns the one-time link's token."""
        from inhouse.identity.delegation import delegation_problem

        if not isinstance(signed, dict) or not isinstance(signed.get("statement"), dict):
            raise InvalidInput("send {statement, signature}: the challenge, signed")
        nonce = str(signed["statement"].get("nonce", ""))
        now = self._now()
        with self._lock:
            self._expire(now)
            pending = self._pending.pop(nonce, None)
        if pending is None:
            raise NotAllowed("no sign-in is waiting for that nonce (used, expired or never made)")
        if signed["statement"] != pending.statement:
            raise NotAllowed("the signed statement is not the one this server proposed")
        state = self.program.state()
        problem, delegation = delegation_problem(
            signed,
            signer=pending.key.key_id,
            program_id=state.program_id,
            at=now,
            owner_of=state.verifier.keys.owner,
        )
        if delegation is None:
            raise IdentityError(f"the sign-in does not verify: {problem}")
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._links[token] = _Link(
                delegation.person, pending.key, dict(signed), delegation.expires, now + _LINK_TTL
            )
        return token

    def redeem(self, token: str) -> Session:
        """Open the one-time link (step 3): a new session; the link is spent."""
        now = self._now()
        with self._lock:
            self._expire(now)
            link = self._links.pop(token, None)
        if link is None:
            raise NotAllowed(
                "this sign-in link was used, has expired or never existed: run "
                "`inhouse web login` again"
            )
        self.program.state()  # the session's program shares this one fold
        session = Session(
            id=secrets.token_urlsafe(32),
            person=link.person,
            expires=link.session_expires,
            csrf=secrets.token_urlsafe(32),
            program=self.program.delegated(link.key, link.delegation),
        )
        with self._lock:
            self._sessions[session.id] = session
        return session

    def session(self, session_id: str | None) -> Session | None:
        """The live session with that id, or None (an expired one is forgotten)."""
        if not session_id:
            return None
        now = self._now()
        with self._lock:
            found = self._sessions.get(session_id)
            if found is not None and found.expires <= now:
                del self._sessions[session_id]
                return None
        return found

    def end(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def _expire(self, now: datetime) -> None:
        for table in (self._pending, self._links):
            for name in [name for name, item in table.items() if item.expires <= now]:
                del table[name]
