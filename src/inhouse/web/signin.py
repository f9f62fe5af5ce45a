"""Sign-in with the person's own key, no passwords; sessions and their CSRF tokens.

1. ``inhouse web login`` asks for a challenge naming its key id, and gets a sign-in request
   to sign (:func:`inhouse.identity.delegation.sign_in_request`): this program, that key, a
   nonce carrying the server's MAC, issued now. It is the same for any key id, enrolled or
   not, so asking tells nobody whose a key is. Signed by that key, enrolled and not revoked,
   it is answered with a delegation statement: that person and key, a fresh session key
   (Ed25519, derived from a secret kept in this process's memory only and the nonce), a nonce
   carrying the server's MAC, issued now, expiring with the session
   (:mod:`inhouse.identity.delegation`). It keeps nothing until the statement comes back
   signed, so asking (which needs no signature) fills no memory and locks nobody out.
2. The CLI checks the statement names its own key and signs it with the person's key; the server
   checks the signature against the roster, and answers a one-time link.
3. Opening the link (once, within minutes) starts the browser session: an HttpOnly,
   SameSite=Strict cookie, short-lived, and a CSRF token every form carries.

Every action the session takes is signed with the session key and carries the delegation, so
its event proves the person signed in for it (:meth:`inhouse.program.core.ProgramCore.delegated`).
The server keeps nothing of this on disk: a restart signs everyone out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from inhouse.errors import IdentityError, InvalidInput, NotAllowed
from inhouse.identity.statements import utc_text

if TYPE_CHECKING:
    from inhouse.identity import SigningKey
    from inhouse.program import Program

__all__ = ["Session", "SignIns"]

_CHALLENGE_TTL = timedelta(minutes=2)
_LINK_TTL = timedelta(minutes=2)
#: the sessions one person keeps at once (a browser each)
_SESSIONS_PER_PERSON = 8


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
class _Link:
    person: str
    key: SigningKey
    delegation: dict[str, Any]
    session_expires: datetime
    expires: datetime


@dataclass
class SignIns:
    """Challenges signed and spent, links waiting to be opened, and live sessions.

    A challenge is kept nowhere: its nonce carries this process's MAC of the key and the time
    it names, and its session key is derived from this process's secret and that nonce, so
    the statement is made again, exactly, when it comes back signed. Asking for one needs no
    signature (an enrolled key's id, which the audit page shows, or any web page the person
    visits can ask in their browser): each one kept until it expired filled the server's
    memory, or, bounded, locked everyone out of signing in while someone kept asking."""

    program: Program
    lasts: timedelta = timedelta(hours=2)
    _secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    #: the nonces of the challenges signed and completed, until they would have expired
    _spent: dict[str, datetime] = field(default_factory=dict)
    _links: dict[str, _Link] = field(default_factory=dict)
    _sessions: dict[str, Session] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    #: the public key a sign-in request naming a key nobody enrolled is checked against
    _nobody: str = field(default_factory=lambda: _throwaway_public_key())

    def _now(self) -> datetime:
        return self.program.clock()

    def request(self, key_id: str) -> dict[str, str]:
        """The sign-in request ``key_id``'s holder signs first (step 1): made the same way
        for any key id, enrolled or not, so that it tells whoever asks nothing of whose a key
        is (the statement that follows names the person)."""
        from inhouse.identity.delegation import sign_in_request

        issued, fresh = utc_text(self._now()), secrets.token_urlsafe(18)
        nonce = f"{fresh}.{self._mac('request', fresh, key_id, issued)}"
        return sign_in_request(
            program=self.program.state().program_id, key_id=key_id, nonce=nonce, issued=issued
        )

    def challenge(self, signed: Any) -> dict[str, str]:
        """The statement the holder of the key that signed ``signed`` (a request of
        :meth:`request`, ``{request, signature}``) is asked to sign (step 1, once the key
        showed it is held)."""
        from inhouse.identity import verify_signature
        from inhouse.identity.delegation import read_sign_in_request, sign_in_request_material

        # one answer for a key not enrolled, revoked or not the signer: before a valid
        # signature, nobody learns whether, or whose, a key is
        unproven = NotAllowed(
            "the sign-in request does not verify: no key enrolled in this program made that "
            "signature over a request this server made in the last two minutes (a key not "
            "enrolled or revoked, or a request altered or expired): sign in with the key you "
            "joined with"
        )
        try:
            request, signature = read_sign_in_request(signed)
        except IdentityError as err:
            raise InvalidInput(str(err)) from None
        state = self.program.state()
        key_id, nonce, issued = request["key_id"], request["nonce"], request["issued"]
        fresh, _, mac = nonce.partition(".")
        expected = self._mac("request", fresh, key_id, issued)
        made = _moment(issued)
        person = state.person_of_key(key_id)
        record = state.keys.get(key_id)
        # a key nobody enrolled is checked as long as one that is (against a key nobody
        # holds): how long the refusal took tells nothing either
        public = record.public_key if record is not None else self._nobody
        verified = verify_signature(public, sign_in_request_material(request), signature)
        if (
            made is None
            or request["program"] != state.program_id
            or not hmac.compare_digest(mac.encode(), expected.encode())
            or not made <= self._now() < made + _CHALLENGE_TTL
            or person is None
            or not verified
        ):
            raise unproven
        if state.people[person].service:
            raise NotAllowed(f"{person} is a service: people sign in, services do not")
        issued, fresh = utc_text(self._now()), secrets.token_urlsafe(18)
        # this server's word that it proposed this nonce, to this key, at this time
        nonce = f"{fresh}.{self._mac('nonce', fresh, key_id, issued)}"
        return self._statement(state.program_id, person, key_id, nonce, issued)

    def complete(self, signed: Any) -> str:
        """Check the signed statement (step 2); returns the one-time link's token."""
        from inhouse.identity.delegation import delegation_problem

        if not isinstance(signed, dict) or not isinstance(signed.get("statement"), dict):
            raise InvalidInput("send {statement, signature}: the challenge, signed")
        proposed = signed["statement"]
        nonce, key_id, issued = (str(proposed.get(f, "")) for f in ("nonce", "key_id", "issued"))
        now = self._now()
        made = _moment(issued)
        fresh, _, mac = nonce.partition(".")
        expected = self._mac("nonce", fresh, key_id, issued)
        if (
            made is None
            or not hmac.compare_digest(mac.encode(), expected.encode())
            or not made <= now < made + _CHALLENGE_TTL
        ):
            raise NotAllowed("no sign-in is waiting for that nonce (used, expired or never made)")
        state = self.program.state()
        person = state.person_of_key(key_id)
        if person is None:
            raise NotAllowed(
                f"key {key_id} was revoked since it asked to sign in: nobody was signed in"
            )
        if proposed != self._statement(state.program_id, person, key_id, nonce, issued):
            raise NotAllowed("the signed statement is not the one this server proposed")
        key = self._session_key(nonce)
        problem, delegation = delegation_problem(
            signed,
            signer=key.key_id,
            program_id=state.program_id,
            at=now,
            owner_of=state.verifier.keys.owner,
        )
        if delegation is None:
            raise IdentityError(f"the sign-in does not verify: {problem}")
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._expire(now)
            if nonce in self._spent:
                raise NotAllowed(
                    "no sign-in is waiting for that nonce (used, expired or never made)"
                )
            self._spent[nonce] = made + _CHALLENGE_TTL
            self._links[token] = _Link(
                delegation.person, key, dict(signed), delegation.expires, now + _LINK_TTL
            )
            # a person's oldest unopened link gives way to their newest, as their sessions do:
            # each was kept until it expired, and one key completing sign-ins in a loop,
            # never opening the links, kept them all
            theirs = [t for t, link in self._links.items() if link.person == delegation.person]
            for dropped in theirs[: max(0, len(theirs) - _SESSIONS_PER_PERSON)]:
                del self._links[dropped]
        return token

    def redeem(self, token: str, *, replacing: Session | None = None) -> Session:
        """Open the one-time link (step 3): a new session, in place of ``replacing`` (the
        browser's live session, ended); the link is spent. A link of someone else than
        ``replacing``'s person is refused and left unspent: a browser signed in as one person
        is not turned into another's by a link it was handed."""
        now = self._now()
        with self._lock:
            self._expire(now)
            link = self._links.get(token)
            if link is not None and replacing is not None and link.person != replacing.person:
                raise NotAllowed(
                    f"this browser is signed in as {replacing.person}, and this link signs in "
                    f"{link.person}: nobody was signed in. If it is yours, sign out first, "
                    "then open it"
                )
            self._links.pop(token, None)
            if link is not None and replacing is not None:
                self._sessions.pop(replacing.id, None)
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
            # a person's oldest session gives way to their newest: each is kept until it
            # expires, and one key signing in in a loop kept them all
            theirs = [i for i, s in self._sessions.items() if s.person == session.person]
            for ended in theirs[: max(0, len(theirs) - _SESSIONS_PER_PERSON + 1)]:
                del self._sessions[ended]
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

    def _statement(
        self, program: str, person: str, key_id: str, nonce: str, issued: str
    ) -> dict[str, str]:
        """The statement a challenge proposes, made the same from the same parts."""
        from inhouse.identity.delegation import delegation_statement

        moment = datetime.fromisoformat(issued)
        return delegation_statement(
            program=program,
            person=person,
            key_id=key_id,
            session_key=self._session_key(nonce).public_key,
            nonce=nonce,
            issued=moment,
            expires=moment + self.lasts,
        )

    def _mac(self, purpose: str, *parts: str) -> str:
        material = "\n".join((purpose, *parts)).encode()
        digest = hmac.new(self._secret, material, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def _session_key(self, nonce: str) -> SigningKey:
        """The session key of the challenge with ``nonce``: from this process's secret only."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        from inhouse.identity import SigningKey

        seed = hmac.new(self._secret, f"session-key\n{nonce}".encode(), hashlib.sha256)
        return SigningKey(Ed25519PrivateKey.from_private_bytes(seed.digest()))

    def _expire(self, now: datetime) -> None:
        for name in [name for name, link in self._links.items() if link.expires <= now]:
            del self._links[name]
        for nonce in [nonce for nonce, until in self._spent.items() if until <= now]:
            del self._spent[nonce]


def _throwaway_public_key() -> str:
    from inhouse.identity import SigningKey

    return SigningKey.generate().public_key


def _moment(text: str) -> datetime | None:
    """``text`` as a time with its zone, or None."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
