"""Every error inhouse raises on purpose.

Code below the edges raises these; only the edges (the CLI, later the gateway and the dashboard)
turn them into a message, an exit code or an HTTP error. Anything else that escapes is a bug.

    InhouseError                      base; ``str(err)`` is the message a person reads
    ├── ProgramNotFound               no program folder here or above (or at --program)
    ├── ProgramExists                 ``init`` inside an existing program
    ├── ConfigError                   inhouse.toml unreadable or invalid
    ├── PlaybookError                 a playbook file fails validation (names line and field)
    ├── StoreError                    the database cannot be opened or migrated
    ├── UnknownPerson                 a name that is not on the program's roster
    ├── UnknownPlay                   a play id/number the playbook does not define
    ├── InvalidInput                  bad value from a person (payload, date, role, kind…)
    ├── NotAllowed                    the acting person may not do this (identity/role rule)
    ├── Refused                       a guard refused the action; carries the missing evidence
    │   └── AntiPattern               …because the action is a named anti-pattern (waivable)
    ├── ProgramStopped                the program ended; nothing more can happen in it
    ├── RuntimeFault                  a model runtime is down, slow or answered garbage
    │   ├── RuntimeUnavailable        cannot connect / connection lost
    │   ├── RuntimeTimeout            no answer within the timeout
    │   └── RuntimeBadResponse        answered, but not what the API promises
    ├── ModelDownloadFailed           a model file could not be fetched (hub unreachable, not
    │                                 found, or its bytes did not match the hub's digest)
    ├── ExtraNotInstalled             an optional extra (e.g. ``embedded``) is missing
    └── PluginError                   an extension registered twice, or broken
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = [
    "AntiPattern",
    "ConfigError",
    "ExtraNotInstalled",
    "InhouseError",
    "InvalidInput",
    "ModelDownloadFailed",
    "NotAllowed",
    "PluginError",
    "PlaybookError",
    "ProgramExists",
    "ProgramNotFound",
    "ProgramStopped",
    "Refused",
    "RuntimeBadResponse",
    "RuntimeFault",
    "RuntimeTimeout",
    "RuntimeUnavailable",
    "StoreError",
    "UnknownPerson",
    "UnknownPlay",
    "ValidationProblem",
    "first_validation_problem",
    "validation_problem_list",
    "validation_problems",
]


class InhouseError(Exception):
    """Base of every deliberate inhouse error. The message is meant for a person."""

    #: process exit code the CLI uses for this class of error
    exit_code = 1


class ProgramNotFound(InhouseError):
    exit_code = 2


class ProgramExists(InhouseError):
    exit_code = 2


class ConfigError(InhouseError):
    exit_code = 2


class PlaybookError(InhouseError):
    exit_code = 2


class StoreError(InhouseError):
    pass


class UnknownPerson(InhouseError):
    exit_code = 2


class UnknownPlay(InhouseError):
    exit_code = 2


class InvalidInput(InhouseError):
    exit_code = 2


class NotAllowed(InhouseError):
    exit_code = 3


class Refused(InhouseError):
    """A guard said no. ``missing`` lists the evidence that would have let the action through."""

    exit_code = 3

    def __init__(self, message: str, *, missing: list[str] | None = None) -> None:
        super().__init__(message)
        self.missing = list(missing or [])


class AntiPattern(Refused):
    """Refused because the action is a named anti-pattern; a waiver can let it through."""

    def __init__(
        self, message: str, *, guard: str, play: str | None, missing: list[str] | None = None
    ) -> None:
        super().__init__(message, missing=missing)
        self.guard = guard
        self.play = play


class ProgramStopped(InhouseError):
    exit_code = 3


class RuntimeFault(InhouseError):
    """A runtime misbehaved. Always names the runtime and its URL."""

    def __init__(self, message: str, *, runtime: str = "", url: str = "") -> None:
        where = f" [{runtime} at {url}]" if runtime or url else ""
        super().__init__(f"{message}{where}")
        self.runtime = runtime
        self.url = url


class RuntimeUnavailable(RuntimeFault):
    pass


class RuntimeTimeout(RuntimeFault):
    pass


class RuntimeBadResponse(RuntimeFault):
    pass


class ModelDownloadFailed(InhouseError):
    pass


class ExtraNotInstalled(InhouseError):
    exit_code = 2


class PluginError(InhouseError):
    """An extension point got two implementations of one name, or one that cannot load."""

    exit_code = 2


def validation_problems(err: ValidationError, prefix: str = "", *, empty: str = "") -> str:
    """A pydantic error as one line a person can act on: ``prefix.field.path: message; ...``.

    ``prefix`` names where the data came from (``"runtimes.local."``); ``empty`` names the
    whole object where a problem has no field path."""
    return "; ".join(
        f"{prefix}{problem.field or empty}: {problem.message}"
        for problem in validation_problem_list(err)
    )


@dataclass(frozen=True)
class ValidationProblem:
    """One thing pydantic found wrong, for a caller that words it itself (see
    :func:`validation_problems` for the usual one line)."""

    #: the field path, as pydantic gives it (names and list indexes)
    loc: tuple[str | int, ...]
    #: pydantic's message, without its ``Value error,`` prefix
    message: str
    #: pydantic's error type: ``missing``, ``extra_forbidden``, ``value_error``…
    kind: str
    #: the value at fault
    input: object

    @property
    def field(self) -> str:
        """The field path written with dots (``tests.0.vars``; '' for the whole object)."""
        return ".".join(str(part) for part in self.loc)


def validation_problem_list(err: ValidationError) -> list[ValidationProblem]:
    """Every problem in ``err``, in pydantic's order."""
    return [
        ValidationProblem(
            loc=tuple(e["loc"]),
            message=str(e["msg"]).removeprefix("Value error, "),
            kind=e["type"],
            input=e.get("input"),
        )
        for e in err.errors()
    ]


def first_validation_problem(err: ValidationError) -> ValidationProblem:
    """The one problem to name when a message names one: an unknown field first, since a
    misspelt field also shows up as the right one missing and the misspelling is the news."""
    problems = validation_problem_list(err)
    return next((p for p in problems if p.kind == "extra_forbidden"), problems[0])
