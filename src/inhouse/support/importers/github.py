"""Import GitHub issues into the support queue (GitHub REST API v3, version 2022-11-28).

Reads ``GET /repos/{owner}/{repo}/issues?labels=L&state=all&per_page=100`` following the
``Link: <…>; rel="next"`` header, skips pull requests (they carry ``pull_request``), and each
issue's ``GET /repos/{owner}/{repo}/issues/{number}/timeline`` for its ``assigned``,
``commented``, ``closed`` (resolved) and ``reopened`` events, their actors and times. A login
that the ``[support.import.github.logins]`` table does not name is looked up once with
``GET /users/{login}`` for its public e-mail. The token is ``GITHUB_TOKEN``, sent as
``Authorization: Bearer``.
"""

from __future__ import annotations

import re
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

__all__ = ["API_VERSION", "DEFAULT_API_URL", "import_github"]

SERVICE = "GitHub"
API_VERSION = "2022-11-28"
DEFAULT_API_URL = "https://api.github.com"
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
_STEPS = {
    "assigned": "ticket.assigned",
    "commented": "ticket.commented",
    "closed": "ticket.resolved",
    "reopened": "ticket.reopened",
}


def import_github(
    program: Program, repo: str, *, label: str, api_url: str = DEFAULT_API_URL
) -> ImportReport:
    """Bring ``repo``'s issues labelled ``label`` into the queue, once each step."""
    if not _REPO.match(repo):
        raise InvalidInput(f"repository {repo!r}: expected OWNER/REPO")
    if not label.strip():
        raise InvalidInput("--label: name the label that marks support issues")
    api_url = http_url(api_url, what="--api-url")
    settings = load_import_settings(program)
    token = token_from_env("GITHUB_TOKEN", SERVICE)
    headers = {
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": API_VERSION,
        "Authorization": f"Bearer {token}",
        "User-Agent": "inhouse-support-import",
    }
    people = [(p.name, p.email) for p in program.state().people.values()]
    actors = ActorMap(settings.github.logins, people)
    with SourceClient(SERVICE, api_url, headers) as client:
        reader = _Reader(client, repo, set(settings.github.logins))
        tickets = reader.tickets(label)
    report = record_tickets(program, f"github:{repo}", tickets, actors)
    report.skipped += [(t, "a pull request, not an issue") for t in reader.pull_requests]
    return report


class _Reader:
    def __init__(self, client: SourceClient, repo: str, known_logins: set[str]) -> None:
        self.client = client
        self.repo = repo
        self.known = known_logins
        self.pull_requests: list[str] = []
        self._emails: dict[str, str] = {}

    def tickets(self, label: str) -> list[SourceTicket]:
        params: dict[str, str | int] = {"labels": label, "state": "all", "per_page": 100}
        out = []
        for issue in self._pages(f"/repos/{self.repo}/issues", params):
            ticket = f"gh:{self.repo}#{issue['number']}"
            if "pull_request" in issue:
                self.pull_requests.append(ticket)
                continue
            out.append(self._ticket(ticket, issue))
        return out

    def _pages(self, path: str, params: dict[str, str | int]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        next_path: str | None = path
        query: dict[str, str | int] | None = params
        while next_path is not None:
            response = self.client.get(next_path, query)
            page = self.client.decode(response)
            if not isinstance(page, list):
                raise InvalidInput(f"{SERVICE} answered GET {path} with no list of items")
            items += [item for item in page if isinstance(item, dict)]
            found = _NEXT.search(response.headers.get("link", ""))
            if found is None:
                next_path = None
            else:
                parts = urlsplit(found.group(1))
                # the next link carries its own query: page, per_page, labels…
                next_path = f"{parts.path}?{parts.query}" if parts.query else parts.path
                query = None
        return items

    def _ticket(self, ticket: str, issue: dict[str, Any]) -> SourceTicket:
        labels = [
            str(label["name"] if isinstance(label, dict) else label)
            for label in issue.get("labels") or []
        ]
        category, defaulted, component = category_and_component(labels)
        timeline = self._pages(
            f"/repos/{self.repo}/issues/{issue['number']}/timeline", {"per_page": 100}
        )
        steps = [step for event in timeline if (step := self._step(event)) is not None]
        return SourceTicket(
            ticket=ticket,
            link=str(issue.get("html_url") or ""),
            title=str(issue.get("title") or ticket),
            category=category,
            component=component,
            description=str(issue.get("body") or ""),
            opened_by=self._account(issue.get("user")),
            opened_at=parse_time(SERVICE, issue.get("created_at")),
            steps=steps,
            category_guessed=defaulted,
        )

    def _step(self, event: dict[str, Any]) -> SourceStep | None:
        kind = _STEPS.get(str(event.get("event")))
        if kind is None or event.get("id") is None:
            return None
        if kind == "ticket.commented":
            # a timeline comment names its author in ``user`` (``actor`` too, on newer servers)
            actor = self._account(event.get("user") or event.get("actor"))
            text = str(event.get("body") or "")
        else:
            actor = self._account(event.get("actor"))
            reason = event.get("state_reason")
            text = ""
            if kind == "ticket.resolved":
                text = f"closed on GitHub ({reason})" if reason else "closed on GitHub"
        return SourceStep(
            kind=kind,
            external=f"{event.get('event')}:{event['id']}",
            at=parse_time(SERVICE, event.get("created_at")),
            actor=actor,
            to=self._account(event.get("assignee")) if kind == "ticket.assigned" else None,
            text=text,
        )

    def _account(self, user: Any) -> Account | None:
        if not isinstance(user, dict) or not user.get("login"):
            return None
        login = str(user["login"])
        if login not in self.known and login not in self._emails:
            found = self.client.json(f"/users/{login}")
            email = found.get("email") if isinstance(found, dict) else None
            self._emails[login] = str(email or "")
        return Account(login, self._emails.get(login, ""))
