"""What every ticket importer shares: the ``[support.import]`` settings, mapping a source's
accounts to enrolled people, reading category and component from labels, the HTTP client that
keeps the token out of every message, and recording steps once.

A source system (GitHub, Zammad) stays the source of truth. An importer reads it into
:class:`SourceTicket` values; :func:`record_tickets` turns them into ``ticket.*`` facts with
collector ``inhouse support import``, signed by whoever runs the import, each naming its mapped
``actor``. A step already imported (same ticket, kind and id at the source) is never recorded
again, so importing twice changes nothing and a re-import records only what is new.

Actors map by an explicit login table or by an exact e-mail on the roster; an account that
matches neither is recorded with ``actor`` unset and reported, never guessed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from inhouse.errors import ConfigError, InvalidInput, NotAllowed, validation_problems
from inhouse.program.config import read_config
from inhouse.program.facts import Fact, Provenance, validate_payload
from inhouse.program.playbook import Role
from inhouse.tls import client_context

if TYPE_CHECKING:
    import httpx

    from inhouse.program import Program

__all__ = [
    "CATEGORIES",
    "COLLECTOR",
    "Account",
    "ActorMap",
    "ImportReport",
    "ImportSettings",
    "SourceClient",
    "SourceStep",
    "SourceTicket",
    "category_and_component",
    "check_component",
    "load_import_settings",
    "parse_time",
    "record_tickets",
    "token_from_env",
]

COLLECTOR = "inhouse support import"
CATEGORIES = ("it-broke", "how-to", "request")
DEFAULT_CATEGORY = "request"
COMPONENT_LABEL = "component:"
_COMPONENT = re.compile(r"^(baseline|gateway|(workflow|prompt|model):\S+)$")


# -- settings --------------------------------------------------------------------------------------


class _SourceTable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    logins: dict[str, str] = Field(default_factory=dict, description="source login = person")


class _ZammadTable(_SourceTable):
    groups: dict[str, str] = Field(default_factory=dict, description="group name = component")


class ImportSettings(BaseModel):
    """``[support.import]`` in inhouse.toml::

    [support.import.github.logins]
    octocat = "bob"            # GitHub login = enrolled person
    [support.import.zammad.logins]
    "agent7" = "carol"         # Zammad login = enrolled person
    [support.import.zammad.groups]
    "Local AI" = "gateway"     # a Zammad group = the component its tickets are about
    """

    model_config = ConfigDict(extra="forbid")

    github: _SourceTable = Field(default_factory=_SourceTable)
    zammad: _ZammadTable = Field(default_factory=_ZammadTable)


def check_component(text: str) -> str | None:
    """``text`` if it names a component (baseline, gateway, workflow:N, prompt:N, model:N)."""
    return text if _COMPONENT.match(text) else None


def load_import_settings(program: Program) -> ImportSettings:
    """The program's ``[support.import]`` table, validated against the roster: every login maps
    to an enrolled person and every group to a component. Errors name the field."""
    config = read_config(program.folder)
    support = config.get("support") or {}
    if not isinstance(support, Mapping):
        raise ConfigError("support: must be a table")
    raw = support.get("import") or {}
    if not isinstance(raw, Mapping):
        raise ConfigError("support.import: must be a table")
    try:
        settings = ImportSettings.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(validation_problems(err, "support.import.")) from None
    people = program.state().people
    for source, table in (("github", settings.github), ("zammad", settings.zammad)):
        for login, person in table.logins.items():
            if person not in people:
                raise ConfigError(
                    f"support.import.{source}.logins.{login}: {person!r} is not enrolled "
                    f"(enrolled: {', '.join(sorted(people)) or 'nobody'})"
                )
    for group, component in settings.zammad.groups.items():
        if check_component(component) is None:
            raise ConfigError(
                f"support.import.zammad.groups.{group}: {component!r} is not a component "
                "(baseline, gateway, workflow:NAME, prompt:NAME, model:NAME)"
            )
    return settings


# -- actors ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    """Someone in the source system: a login, and an e-mail where the source shows one."""

    login: str
    email: str = ""

    def __str__(self) -> str:
        return f"{self.login} <{self.email}>" if self.email else self.login


class ActorMap:
    """Source accounts to enrolled people: the login table first, then an exact (case-blind)
    e-mail on the roster. Anything else is unmapped, and remembered for the report."""

    def __init__(self, logins: Mapping[str, str], people: Iterable[tuple[str, str]]) -> None:
        self._logins = dict(logins)
        by_email: dict[str, list[str]] = {}
        for name, email in people:
            if email:
                by_email.setdefault(email.strip().lower(), []).append(name)
        # an e-mail two people share names neither of them
        self._emails = {email: names[0] for email, names in by_email.items() if len(names) == 1}
        self.unmapped: dict[str, int] = {}

    def person(self, account: Account | None) -> str | None:
        if account is None:
            return None
        if account.login in self._logins:
            return self._logins[account.login]
        found = self._emails.get(account.email.strip().lower()) if account.email else None
        if found is None:
            key = str(account)
            self.unmapped[key] = self.unmapped.get(key, 0) + 1
        return found


# -- what a source says ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceStep:
    """One step after the opening: ``kind`` is ticket.assigned, .commented, .resolved or
    .reopened; ``external`` its id at the source (stable across imports)."""

    kind: str
    external: str
    at: datetime
    actor: Account | None
    to: Account | None = None
    text: str = ""


@dataclass(frozen=True)
class SourceTicket:
    ticket: str  # gh:OWNER/REPO#12, zammad:HOST#34
    link: str
    title: str
    category: str
    component: str | None  # None: the ticket is reported and skipped
    description: str
    opened_by: Account | None
    opened_at: datetime
    steps: list[SourceStep] = field(default_factory=list)
    category_guessed: bool = False  # no category label: the default was used (reported)


def category_and_component(
    labels: Iterable[str], *, fallback_component: str | None = None
) -> tuple[str, bool, str | None]:
    """(category, whether it was defaulted, component) from labels or tags: ``it-broke``,
    ``how-to`` or ``request`` for the category (default ``request``, which never counts as an
    "it broke" ticket), ``component:NAME`` for the component (none: ``fallback_component``)."""
    names = [label.strip() for label in labels]
    categories = [label for label in names if label in CATEGORIES]
    # the most serious category wins when a ticket carries several
    category = next((c for c in CATEGORIES if c in categories), None)
    components = [
        check_component(label[len(COMPONENT_LABEL) :])
        for label in names
        if label.startswith(COMPONENT_LABEL)
    ]
    component = next((c for c in components if c), None) or fallback_component
    return category or DEFAULT_CATEGORY, category is None, component


# -- HTTP ------------------------------------------------------------------------------------------


def token_from_env(variable: str, service: str) -> str:
    token = os.environ.get(variable, "").strip()
    if not token:
        raise ConfigError(
            f"{variable} is not set: the {service} importer reads its API token from the "
            "environment"
        )
    return token


class SourceClient:
    """A JSON client for one source: the token travels only in the auth header, and no error
    message, log line or fact built here ever includes it."""

    def __init__(self, service: str, base_url: str, headers: Mapping[str, str]) -> None:
        import httpx

        self.service = service
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=dict(headers),
            timeout=30.0,
            verify=client_context(),
        )

    def __enter__(self) -> SourceClient:
        return self

    def __exit__(self, *_: object) -> None:
        self._client.close()

    def get(self, path: str, params: Mapping[str, str | int] | None = None) -> httpx.Response:
        import httpx

        try:
            # no params at all (not an empty dict, which would drop a next link's own query)
            response = self._client.get(path, params=dict(params) if params else None)
        except httpx.HTTPError as err:
            raise InvalidInput(
                f"cannot reach {self.service} at {self._client.base_url}: {type(err).__name__}"
            ) from None
        if response.status_code in (401, 403):
            raise NotAllowed(
                f"{self.service} answered {response.status_code} {response.reason_phrase} for "
                f"GET {response.url.path}: the token was refused (check its value and scopes; "
                "nothing was recorded)"
            )
        if response.status_code == 404:
            raise InvalidInput(
                f"{self.service} answered 404 Not Found for GET {response.url.path}: check the "
                "repository or URL (nothing was recorded)"
            )
        if response.status_code >= 300:
            raise InvalidInput(
                f"{self.service} answered {response.status_code} {response.reason_phrase} for "
                f"GET {response.url.path} (nothing was recorded)"
            )
        return response

    def json(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        return self.decode(self.get(path, params))

    def decode(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise InvalidInput(
                f"{self.service} answered GET {response.url.path} with something that is not JSON"
            ) from None


def parse_time(service: str, text: Any) -> datetime:
    """A source's ISO 8601 time (``Z`` allowed)."""
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{service} sent a time that is not ISO 8601: {text!r}") from None


# -- recording -------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What one import did: facts recorded, steps already there, what was skipped and why,
    and the source accounts no enrolled person matched (with how many steps each)."""

    source: str
    recorded: list[Fact] = field(default_factory=list)
    already: int = 0
    tickets: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (ticket, why)
    unmapped: dict[str, int] = field(default_factory=dict)
    defaulted_category: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "tickets": self.tickets,
            "recorded": [{"id": f.id, "kind": f.kind, **f.payload} for f in self.recorded],
            "already_imported": self.already,
            "skipped": [{"ticket": t, "reason": why} for t, why in self.skipped],
            "unmapped": self.unmapped,
            "defaulted_category": self.defaulted_category,
        }


def _key(kind: str, payload: Mapping[str, Any]) -> tuple[str, str, str]:
    external = "" if kind == "ticket.opened" else str(payload.get("external") or "")
    return (str(payload["ticket"]), kind, external)


def _imported(program: Program) -> set[tuple[str, str, str]]:
    return {
        _key(fact.kind, fact.payload)
        for fact in program.state().facts
        if fact.collector == COLLECTOR and fact.kind.startswith("ticket.")
    }


def _payloads(ticket: SourceTicket, actors: ActorMap) -> list[tuple[str, dict[str, Any]]]:
    opened: dict[str, Any] = {
        "ticket": ticket.ticket,
        "title": ticket.title,
        "category": ticket.category,
        "component": ticket.component,
        "description": ticket.description,
        "external": ticket.link,
        "actor": actors.person(ticket.opened_by),
        "at": ticket.opened_at,
    }
    out: list[tuple[str, dict[str, Any]]] = [("ticket.opened", opened)]
    for step in sorted(ticket.steps, key=lambda s: s.at):
        payload: dict[str, Any] = {
            "ticket": ticket.ticket,
            "actor": actors.person(step.actor),
            "external": step.external,
            "at": step.at,
        }
        if step.kind == "ticket.resolved":
            payload |= {"category": ticket.category, "note": step.text}
        else:
            payload["text"] = step.text
            if step.kind == "ticket.assigned":
                payload["to"] = actors.person(step.to)
        out.append((step.kind, payload))
    return out


def record_tickets(
    program: Program, source: str, tickets: Iterable[SourceTicket], actors: ActorMap
) -> ImportReport:
    """Record what is new in ``tickets``: the support owner or a rollout lead imports (an
    imported step names someone else as its actor, so it is the queue's owner's word on what the
    source says). Every payload is validated before the first is recorded."""
    me = program.whoami()
    if not {Role.SUPPORT_OWNER, Role.ROLLOUT_LEAD} & set(me.roles):
        raise NotAllowed(
            f"{me.name} is neither a support owner nor a rollout lead: importing tickets records "
            "steps in other people's names, so the queue's owner (or a lead) runs it"
        )
    report = ImportReport(source)
    planned: list[tuple[str, dict[str, Any]]] = []
    for ticket in tickets:
        report.tickets += 1
        if ticket.component is None:
            report.skipped.append(
                (ticket.ticket, "no component: label or tag it component:NAME (not guessed)")
            )
            continue
        if ticket.category_guessed:
            report.defaulted_category.append(ticket.ticket)
        for kind, payload in _payloads(ticket, actors):
            planned.append((kind, validate_payload(kind, payload)))
    report.unmapped = dict(actors.unmapped)
    seen = _imported(program)
    for kind, payload in planned:
        key = _key(kind, payload)
        if key in seen:
            report.already += 1
            continue
        seen.add(key)
        report.recorded.append(
            program.record_fact(
                None, kind, payload, provenance=Provenance.MEASURED, collector=COLLECTOR
            )
        )
    return report
