"""Stand-in ticket systems for tests: a GitHub (REST API v3, 2022-11-28) and a Zammad (REST API
v1) on loopback, serving fixed JSON in the documented response shapes.

They are stand-ins, not the real services (nothing outside this machine can be reached): each
answers only the endpoints the importers read, checks the auth header the real service expects
(401 in the service's own error shape without it, or with another token), and paginates as the
real one does: GitHub with a ``Link: <…>; rel="next"`` header (a page here holds at most
``page_size`` items, whatever ``per_page`` asks, so a few issues already span pages), Zammad with
``page``/``per_page``. Tests change the data between imports (a reopen at the source) through
the attributes; every request is kept in ``requests`` as (path with query, Authorization).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

__all__ = ["StandInGitHub", "StandInZammad", "standin_github", "standin_zammad"]


class _Server(ThreadingHTTPServer):
    daemon_threads = True


@dataclass
class _StandIn:
    token: str
    requests: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""

    def authorised(self, header: str) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def answer(
        self, path: str, query: dict[str, str], base: str
    ) -> tuple[int, Any, dict[str, str]]:
        raise NotImplementedError  # pragma: no cover - overridden

    def unauthorised(self) -> Any:
        raise NotImplementedError  # pragma: no cover - overridden


def _handler(standin: _StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            auth = self.headers.get("Authorization", "")
            standin.requests.append((self.path, auth))
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            if not standin.authorised(auth):
                self._send(401, standin.unauthorised(), {})
                return
            status, body, headers = standin.answer(parts.path, query, standin.url)
            self._send(status, body, headers)

        def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests read ``requests`` instead

    return Handler


@contextmanager
def _serve(standin: _StandIn) -> Iterator[None]:
    server = _Server(("127.0.0.1", 0), _handler(standin))
    standin.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


_NOT_FOUND = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}


def _gh_user(login: str) -> dict[str, Any]:
    return {"login": login, "id": abs(hash(login)) % 10_000_000, "type": "User"}


@dataclass
class StandInGitHub(_StandIn):
    """Issues of one repository (``owner/repo``), their timelines and users' public e-mails."""

    repo: str = "acme/help"
    page_size: int = 2
    issues: list[dict[str, Any]] = field(default_factory=list)
    timelines: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)

    def authorised(self, header: str) -> bool:
        return header in (f"Bearer {self.token}", f"token {self.token}")

    def unauthorised(self) -> Any:
        return {
            "message": "Bad credentials",
            "documentation_url": "https://docs.github.com/rest",
            "status": "401",
        }

    def answer(
        self, path: str, query: dict[str, str], base: str
    ) -> tuple[int, Any, dict[str, str]]:
        prefix = f"/repos/{self.repo}/issues"
        if path == prefix:
            label = query.get("labels", "")
            items = [
                i for i in self.issues if not label or label in [x["name"] for x in i["labels"]]
            ]
            return self._page(items, path, query, base)
        if path.startswith(prefix + "/") and path.endswith("/timeline"):
            number = path[len(prefix) + 1 : -len("/timeline")]
            if not number.isdigit() or int(number) not in {i["number"] for i in self.issues}:
                return 404, _NOT_FOUND, {}
            return self._page(self.timelines.get(int(number), []), path, query, base)
        if path.startswith("/users/"):
            login = path[len("/users/") :]
            return 200, {**_gh_user(login), "email": self.emails.get(login)}, {}
        return 404, _NOT_FOUND, {}

    def _page(
        self, items: list[dict[str, Any]], path: str, query: dict[str, str], base: str
    ) -> tuple[int, Any, dict[str, str]]:
        size = min(int(query.get("per_page", 30)), self.page_size)
        page = int(query.get("page", 1))
        chunk = items[(page - 1) * size : page * size]
        headers = {}
        last = max(1, -(-len(items) // size))

        def link(n: int) -> str:
            return f"<{base}{path}?{urlencode({**query, 'page': n})}>"

        if page < last:
            headers["Link"] = f'{link(page + 1)}; rel="next", {link(last)}; rel="last"'
        return 200, chunk, headers

    # -- building the data in the documented shapes ---------------------------------------------

    def issue(
        self,
        number: int,
        title: str,
        *,
        by: str,
        labels: list[str],
        at: str,
        body: str = "",
        pull_request: bool = False,
    ) -> dict[str, Any]:
        html = f"https://github.com/{self.repo}/{'pull' if pull_request else 'issues'}/{number}"
        issue: dict[str, Any] = {
            "id": 1000 + number,
            "node_id": f"I_{number}",
            "url": f"https://api.github.com/repos/{self.repo}/issues/{number}",
            "html_url": html,
            "number": number,
            "state": "open",
            "title": title,
            "body": body,
            "user": _gh_user(by),
            "labels": [{"id": n, "name": name} for n, name in enumerate(labels)],
            "assignee": None,
            "assignees": [],
            "comments": 0,
            "created_at": at,
            "updated_at": at,
            "closed_at": None,
        }
        if pull_request:
            issue["pull_request"] = {"url": html, "html_url": html}
        self.issues.append(issue)
        return issue

    def event(
        self,
        number: int,
        event: str,
        *,
        by: str,
        at: str,
        assignee: str | None = None,
        body: str = "",
        state_reason: str | None = None,
    ) -> dict[str, Any]:
        """A timeline event: ``assigned``, ``commented``, ``closed``, ``reopened``, or any
        other (``labeled``…) the importer must pass over."""
        timeline = self.timelines.setdefault(number, [])
        ident = 5000 + sum(len(t) for t in self.timelines.values())
        item: dict[str, Any] = {"id": ident, "node_id": f"E_{ident}", "event": event}
        item["created_at"] = at
        if event == "commented":
            item |= {"user": _gh_user(by), "actor": _gh_user(by), "body": body}
            item["html_url"] = f"https://github.com/{self.repo}/issues/{number}#c{ident}"
            item["updated_at"] = at
        else:
            item["actor"] = _gh_user(by)
        if event == "assigned":
            item["assignee"] = _gh_user(assignee or by)
        if event == "closed":
            item["state_reason"] = state_reason
            item["commit_id"] = None
        timeline.append(item)
        return item


@dataclass
class StandInZammad(_StandIn):
    """Tickets, their tags, articles and history, and the users they name."""

    tickets: list[dict[str, Any]] = field(default_factory=list)
    tags: dict[int, list[str]] = field(default_factory=dict)
    articles: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    history: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    users: dict[int, dict[str, Any]] = field(default_factory=dict)

    def authorised(self, header: str) -> bool:
        return header in (f"Token token={self.token}", f"Bearer {self.token}")

    def unauthorised(self) -> Any:
        return {"error": "Authentication required", "error_human": "Authentication required"}

    def answer(
        self, path: str, query: dict[str, str], base: str
    ) -> tuple[int, Any, dict[str, str]]:
        missing = {"error": "No such object.", "error_human": "No such object."}
        if path == "/api/v1/tickets":
            per_page = int(query.get("per_page", 100))
            page = int(query.get("page", 1))
            return 200, self.tickets[(page - 1) * per_page : page * per_page], {}
        if path == "/api/v1/tags" and query.get("object") == "Ticket":
            return 200, {"tags": self.tags.get(int(query.get("o_id", 0)), [])}, {}
        for prefix, table in (
            ("/api/v1/ticket_articles/by_ticket/", self.articles),
            ("/api/v1/ticket_history/", self.history),
        ):
            if path.startswith(prefix):
                ident = path[len(prefix) :]
                if not ident.isdigit() or int(ident) not in {t["id"] for t in self.tickets}:
                    return 404, missing, {}
                rows = table.get(int(ident), [])
                if table is self.history:
                    return 200, {"history": rows, "assets": {}}, {}
                return 200, rows, {}
        if path.startswith("/api/v1/users/"):
            ident = path[len("/api/v1/users/") :]
            user = self.users.get(int(ident)) if ident.isdigit() else None
            return (200, user, {}) if user else (404, missing, {})
        return 404, missing, {}

    # -- building the data in the documented shapes ---------------------------------------------

    def user(self, ident: int, login: str, email: str = "") -> dict[str, Any]:
        self.users[ident] = {
            "id": ident,
            "login": login,
            "firstname": login.split("@")[0].title(),
            "lastname": "",
            "email": email,
            "active": True,
            "role_ids": [2],
        }
        return self.users[ident]

    def ticket(
        self, ident: int, title: str, *, by: int, group: str, tags: list[str], at: str, body: str
    ) -> dict[str, Any]:
        """A ticket as ``expand=true`` lists it, with its first article (the description)."""
        ticket = {
            "id": ident,
            "group_id": 1,
            "priority_id": 2,
            "state_id": 2,
            "number": str(20000 + ident),
            "title": title,
            "owner_id": 1,
            "customer_id": by,
            "created_by_id": by,
            "updated_by_id": by,
            "created_at": at,
            "updated_at": at,
            "article_count": 1,
            "group": group,
            "state": "open",
            "priority": "2 normal",
            "owner": "-",
            "customer": self.users[by]["login"],
        }
        self.tickets.append(ticket)
        self.tags[ident] = list(tags)
        self.article(ident, by=by, at=at, body=body)
        return ticket

    def article(self, ticket: int, *, by: int, at: str, body: str) -> dict[str, Any]:
        rows = self.articles.setdefault(ticket, [])
        ident = 100 * ticket + len(rows)
        row = {
            "id": ident,
            "ticket_id": ticket,
            "type_id": 10,
            "sender_id": 1,
            "from": self.users[by]["login"],
            "subject": None,
            "body": body,
            "content_type": "text/plain",
            "internal": False,
            "created_by_id": by,
            "updated_by_id": by,
            "created_at": at,
            "updated_at": at,
            "type": "note",
            "sender": "Agent",
            "created_by": self.users[by]["login"],
        }
        rows.append(row)
        return row

    def change(
        self,
        ticket: int,
        attribute: str,
        *,
        by: int,
        at: str,
        before: Any,
        after: Any,
        id_to: int | None = None,
    ) -> dict[str, Any]:
        """A history entry: ``state`` (values are state names) or ``owner`` (``id_to`` the
        new owner's user id)."""
        rows = self.history.setdefault(ticket, [])
        ident = 9000 + sum(len(h) for h in self.history.values())
        row = {
            "id": ident,
            "o_id": ticket,
            "history_type": "updated",
            "history_object": "Ticket",
            "history_attribute": attribute,
            "value_from": before,
            "value_to": after,
            "id_from": None,
            "id_to": id_to,
            "related_o_id": None,
            "related_history_object": None,
            "created_by_id": by,
            "created_at": at,
        }
        rows.append(row)
        return row


@contextmanager
def standin_github(token: str, **fields: Any) -> Iterator[StandInGitHub]:
    """A running GitHub stand-in that accepts ``token``."""
    standin = StandInGitHub(token=token, **fields)
    with _serve(standin):
        yield standin


@contextmanager
def standin_zammad(token: str, **fields: Any) -> Iterator[StandInZammad]:
    """A running Zammad stand-in that accepts ``token``."""
    standin = StandInZammad(token=token, **fields)
    with _serve(standin):
        yield standin
