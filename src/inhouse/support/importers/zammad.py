"""Import Zammad tickets into the support queue (Zammad REST API v1).

Reads ``GET /api/v1/tickets?expand=true&page=N&per_page=100`` until a page comes back short;
each ticket's tags (``GET /api/v1/tags?object=Ticket&o_id=ID``) give its category and component
(the ticket's group, through ``[support.import.zammad.groups]``, when no ``component:`` tag
does); ``GET /api/v1/ticket_history/ID`` gives owner changes (assigned) and state changes
(to ``closed``: resolved; from ``closed`` back: reopened); ``GET
/api/v1/ticket_articles/by_ticket/ID`` gives the comments (the first article is the ticket's
description). Users come from ``GET /api/v1/users/ID`` for their login and e-mail. The token is
``ZAMMAD_TOKEN``, sent as ``Authorization: Token token=…``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from inhouse.errors import InvalidInput
from inhouse.support.importers.mapping import (
    Account,
    ActorMap,
    ImportReport,
    SourceClient,
    SourceStep,
    SourceTicket,
    category_and_component,
    load_import_settings,
    parse_time,
    record_tickets,
    token_from_env,
)
from inhouse.urls import http_url

if TYPE_CHECKING:
    from inhouse.program import Program

__all__ = ["API_VERSION", "import_zammad"]

SERVICE = "Zammad"
API_VERSION = "v1"
PER_PAGE = 100
CLOSED = "closed"
_NOBODY = 1  # Zammad's user 1 ("-") owns unassigned tickets


def import_zammad(program: Program, url: str, *, per_page: int = PER_PAGE) -> ImportReport:
    """Bring the tickets of the Zammad at ``url`` into the queue, once each step (``per_page``
    tickets a request)."""
    url = http_url(url, what="Zammad URL")
    parts = urlsplit(url)
    settings = load_import_settings(program)
    token = token_from_env("ZAMMAD_TOKEN", SERVICE)
    headers = {"Authorization": f"Token token={token}", "Accept": "application/json"}
    people = [(p.name, p.email) for p in program.state().people.values()]
    actors = ActorMap(settings.zammad.logins, people)
    with SourceClient(SERVICE, url, headers) as client:
        reader = _Reader(client, url.rstrip("/"), parts.netloc, settings.zammad.groups, per_page)
        tickets = reader.tickets()
    return record_tickets(program, f"zammad:{parts.netloc}", tickets, actors)


class _Reader:
    def __init__(
        self, client: SourceClient, base: str, host: str, groups: dict[str, str], per_page: int
    ) -> None:
        self.client = client
        self.per_page = per_page
        self.base = base
        self.host = host
        self.groups = groups
        self._users: dict[int, Account | None] = {}

    def tickets(self) -> list[SourceTicket]:
        out = []
        page = 1
        while True:
            items = self._list(
                "/api/v1/tickets", {"expand": "true", "page": page, "per_page": self.per_page}
            )
            out += [self._ticket(item) for item in items]
            if len(items) < self.per_page:
                return out
            page += 1

    def _list(self, path: str, params: dict[str, str | int] | None = None) -> list[dict[str, Any]]:
        body = self.client.json(path, params)
        if not isinstance(body, list):
            raise InvalidInput(f"{SERVICE} answered GET {path} with no list of items")
        return [item for item in body if isinstance(item, dict)]

    def _ticket(self, item: dict[str, Any]) -> SourceTicket:
        number = item.get("id")
        if not isinstance(number, int):
            raise InvalidInput(f"{SERVICE} sent a ticket without a numeric id")
        ticket = f"zammad:{self.host}#{item.get('number') or number}"
        tags = self.client.json("/api/v1/tags", {"object": "Ticket", "o_id": number})
        labels = [str(tag) for tag in (tags.get("tags") or [])] if isinstance(tags, dict) else []
        category, defaulted, component = category_and_component(
            labels, fallback_component=self.groups.get(str(item.get("group") or ""))
        )
        articles = sorted(
            self._list(f"/api/v1/ticket_articles/by_ticket/{number}"), key=lambda a: a["id"]
        )
        description = str(articles[0].get("body") or "") if articles else ""
        steps = [
            SourceStep(
                kind="ticket.commented",
                external=f"article:{article['id']}",
                at=parse_time(SERVICE, article.get("created_at")),
                actor=self._user(article.get("created_by_id")),
                text=str(article.get("body") or ""),
            )
            for article in articles[1:]
        ]
        steps += self._history(number)
        return SourceTicket(
            ticket=ticket,
            link=f"{self.base}/#ticket/zoom/{number}",
            title=str(item.get("title") or ticket),
            category=category,
            component=component,
            description=description,
            opened_by=self._user(item.get("created_by_id")),
            opened_at=parse_time(SERVICE, item.get("created_at")),
            steps=steps,
            category_guessed=defaulted,
        )

    def _history(self, number: int) -> list[SourceStep]:
        body = self.client.json(f"/api/v1/ticket_history/{number}")
        entries = body.get("history") if isinstance(body, dict) else None
        if not isinstance(entries, list):
            raise InvalidInput(
                f"{SERVICE} answered GET /api/v1/ticket_history/{number} without a history list"
            )
        steps = []
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("history_object") != "Ticket":
                continue
            attribute = entry.get("history_attribute")
            before, after = entry.get("value_from"), entry.get("value_to")
            kind, to, text = None, None, ""
            if attribute == "state" and after == CLOSED and before != CLOSED:
                kind, text = "ticket.resolved", "closed in Zammad"
            elif attribute == "state" and before == CLOSED and after != CLOSED:
                kind, text = "ticket.reopened", f"set to {after} in Zammad"
            elif attribute == "owner" and entry.get("id_to") not in (None, _NOBODY):
                kind, to = "ticket.assigned", self._user(entry.get("id_to"))
            if kind is None:
                continue
            steps.append(
                SourceStep(
                    kind=kind,
                    external=f"history:{entry.get('id')}",
                    at=parse_time(SERVICE, entry.get("created_at")),
                    actor=self._user(entry.get("created_by_id")),
                    to=to,
                    text=text,
                )
            )
        return steps

    def _user(self, user_id: Any) -> Account | None:
        if not isinstance(user_id, int) or user_id == _NOBODY:
            return None
        if user_id not in self._users:
            found = self.client.json(f"/api/v1/users/{user_id}")
            login = found.get("login") if isinstance(found, dict) else None
            email = found.get("email") if isinstance(found, dict) else None
            self._users[user_id] = Account(str(login), str(email or "")) if login else None
        return self._users[user_id]
