"""Decisions a dashboard session waits to record until its person approves them with their own
key (:mod:`inhouse.identity.approval`).

A form whose event needs an approval (a handoff decided, a survey answer) does not record it:
the play package raises :class:`~inhouse.errors.ApprovalNeeded` with the exact event, and the
dashboard keeps it here under a random code and shows the person ``inhouse web approve CODE``.
That command, on their machine, fetches the statement and the event, shows what it records,
signs the statement with their key and sends it back (one who read for a while first asks
for the statement again, :meth:`Approvals.renew`: same event, same nonce, a window opening
now, since an approval's window opens when its person agrees); the dashboard then does the
same action again through the session, carrying the approval, and the play package records it
only if the event is still exactly the one approved. Like sessions, nothing here is kept on disk.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from inhouse.errors import InvalidInput, NotAllowed, UnknownApproval

if TYPE_CHECKING:
    from inhouse.errors import ApprovalNeeded
    from inhouse.web.signin import Session, SignIns

__all__ = ["Approvals", "Waiting"]

#: the decisions one session keeps waiting at once (a person approves one at a time)
_PER_SESSION = 8


@dataclass
class Waiting:
    """One decision waiting for its person's approval, and what came of it."""

    code: str
    session: Session
    statement: dict[str, str]
    payload: dict[str, Any]
    redo: Callable[[], Any]
    back: str  # the page to go back to once it is recorded
    expires: datetime
    recorded: bool = False


@dataclass
class Approvals:
    """The waiting decisions, by code."""

    signins: SignIns
    _waiting: dict[str, Waiting] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def propose(
        self, session: Session, need: ApprovalNeeded, redo: Callable[[], Any], back: str
    ) -> Waiting:
        """Keep the event ``need`` names, to be approved by ``session``'s person; ``redo``
        performs the action again once it is."""
        from inhouse.identity.approval import approval_statement
        from inhouse.identity.delegation import read_delegation

        now = self.signins.program.clock()
        delegation = read_delegation(session.program.delegation)
        statement = approval_statement(
            delegation,
            kind=need.kind,
            payload=need.payload,
            nonce=secrets.token_urlsafe(24),
            issued=now,
        )
        waiting = Waiting(
            code=secrets.token_urlsafe(18),
            session=session,
            statement=statement,
            payload=need.payload,
            redo=redo,
            back=back,
            expires=datetime.fromisoformat(statement["expires"]),
        )
        with self._lock:
            self._expire(now)
            # a session's oldest decision gives way to its newest: each holds what its form
            # sent for ten minutes, and a session posting forms in a loop held them all
            mine = [c for c, w in self._waiting.items() if w.session.id == session.id]
            for code in mine[: max(0, len(mine) - _PER_SESSION + 1)]:
                del self._waiting[code]
            self._waiting[waiting.code] = waiting
        return waiting

    def find(self, code: str) -> Waiting:
        """The decision waiting under ``code``; not found when there is none (expired, or a
        code never given out): a 404, as for any path that names nothing."""
        now = self.signins.program.clock()
        with self._lock:
            self._expire(now)
            waiting = self._waiting.get(code)
        if waiting is None:
            raise UnknownApproval(
                "no decision is waiting under that code (it expired, or never existed): make "
                "it again in the dashboard"
            )
        return waiting

    def renew(self, code: str) -> Waiting:
        """The decision waiting under ``code`` with its statement's window opening now: the
        same event (its digest), the same nonce (still one event at most), a new ``issued`` and
        ``expires``. Its person asks for it after reading for longer than an approval may open
        before it is signed: refusing them would punish reading carefully, and a window that
        opened earlier would let the host date the event before they agreed."""
        from inhouse.identity.approval import APPROVAL_LASTS
        from inhouse.identity.statements import utc_text

        waiting = self.find(code)
        now = self.signins.program.clock()
        with self._lock:
            if waiting.recorded:
                raise NotAllowed("that decision was recorded already: one approval, one event")
            waiting.statement = dict(
                waiting.statement,
                issued=utc_text(now),
                expires=utc_text(now + APPROVAL_LASTS),
            )
            waiting.expires = now + APPROVAL_LASTS
        return waiting

    def approve(self, code: str, signed: Any) -> Waiting:
        """Record the decision waiting under ``code`` with ``signed``, its person's approval of
        exactly the statement proposed; refused if the session ended or it was recorded."""
        if not isinstance(signed, dict) or not isinstance(signed.get("statement"), dict):
            raise InvalidInput("send {statement, signature}: the approval, signed")
        waiting = self.find(code)
        if waiting.recorded:
            raise NotAllowed("that decision was recorded already: one approval, one event")
        if signed["statement"] != waiting.statement:
            raise NotAllowed("the signed approval is not the one this dashboard proposed")
        if self.signins.session(waiting.session.id) is None:
            raise NotAllowed(
                "the dashboard session that made this decision has ended: sign in and make it again"
            )
        with waiting.session.program.approving(dict(signed)):
            waiting.redo()
        waiting.recorded = True
        return waiting

    def _expire(self, now: datetime) -> None:
        for code in [c for c, w in self._waiting.items() if w.expires <= now]:
            del self._waiting[code]
