"""Every error inhouse raises on purpose.

Code below the edges raises these; only the edges (the CLI, the gateway, later the dashboard)
turn them into a message, an exit code or an HTTP error. Anything else that escapes is a bug.

    InhouseError                      base; ``str(err)`` is the message a person reads
    ├── ProgramNotFound               no program folder here or above (or at --program)
    ├── ProgramExists                 ``init`` inside an existing program
    ├── ConfigError                   inhouse.toml unreadable or invalid
    ├── PlaybookError                 a playbook file fails validation (names line and field)
    ├── StoreError                    the database cannot be opened or migrated
    │   └── LogTampered               …or its event log stops verifying: nothing is appended
    ├── UnknownPerson                 a name that is not on the program's roster
    ├── UnknownPlay                   a play id/number the playbook does not define
    ├── UnknownApproval               a dashboard approval code nothing waits under (any more)
    ├── InvalidInput                  bad value from a person (payload, date, role, kind…)
    │   ├── BadRequest                a gateway request it cannot take (not JSON, no model…)
    │   │   ├── RequestTooLarge       …because its body is over the gateway's limit
    │   │   ├── RequestHeadTooLarge   …or its line and headers are
    │   │   ├── RequestTimedOut       …or it was not sent whole in time (trickled, stalled)
    │   │   ├── RequestTooLong        …or it carries more messages or tokens than one request may
    │   │   └── UnknownPrompt         …or it names a library prompt, version or label that
    │   │                             does not exist (the CLI raises it too)
    │   ├── NoSuchRoute               no gateway endpoint at that path
    │   └── MethodNotAllowed          the endpoint is there, for another HTTP method
    ├── NotAllowed                    the acting person may not do this (identity/role rule)
    │   ├── NotAuthenticated          a gateway request without a valid key
    │   │   ├── NoApiKey              …it sent no key
    │   │   ├── InvalidApiKey         …it sent a key that is unknown or revoked
    │   │   └── NoSession             a dashboard request without a live sign-in session
    │   ├── CsrfRefused               a dashboard form without its session's CSRF token
    │   ├── ApprovalNeeded            a session's decision waits for its person's own key
    │   ├── ModelNotAllowed           not a blessed model, or not one this key may use
    │   ├── AgentWithoutBoundary      the key's agent has no tool boundary (fail closed)
    │   ├── ToolNotAllowed            a request declares a tool outside the agent's allowlist
    │   ├── ToolCallBlocked           an answer calls a tool the agent's boundary forbids
    │   └── DataClassBlocked          the data-handling rules keep a data class from a model
    ├── IdentityError                 no usable signing key, a bad signature or envelope
    │   └── SignInError               …or organisation sign-in (OpenID Connect) failed: the
    │                                 provider, the browser's answer or the ID token does
    │                                 not check out (the message names the part at fault)
    ├── Refused                       a guard refused the action; carries the missing evidence
    │   ├── AntiPattern               …because the action is a named anti-pattern (waivable)
    │   └── ServiceKeyRevoked         …because a service's key file holds a key the log revoked
    │                                 (the gateway answers 503: it seals no usage row with it)
    ├── ProgramStopped                the program ended; nothing more can happen in it
    ├── RateLimited                   a gateway key reached its requests per minute
    │   ├── TokenBudgetSpent          …or its tokens per day
    │   └── TooManyConcurrent         …or its requests in flight at once
    ├── RuntimeFault                  a model runtime is down, slow or answered garbage
    │   ├── RuntimeUnavailable        cannot connect / connection lost
    │   │   ├── NoRuntimeAnswers      …on every runtime serving the model
    │   │   ├── TransportFailed       …mid-request, in the load generator's own HTTP client
    │   │   ├── ConnectFailed         …the gateway's client could not connect
    │   │   └── ConnectionLost        …the gateway's connection closed before the answer ended
    │   ├── RuntimeTimeout            no answer within the timeout
    │   ├── RuntimeBadResponse        answered, but not what the API promises
    │   │   ├── NotHttp               …not even HTTP/1.1 (the gateway's client)
    │   │   ├── EndpointNotServed     …404/405 for an optional endpoint (adapters fall back)
    │   │   └── EmbeddingsNotServed   …no ``/v1/embeddings`` (a `similar` check needs one)
    │   └── RuntimeAnsweredError      answered with an error status (5xx)
    │       └── RuntimeRejected       …a 4xx: the request's fault, passed on with its status
    ├── ModelUnavailable              a blessed model that no runtime may serve now
    │   └── ModelDrifted              …because its served digest is not the locked one
    ├── ModelDownloadFailed           a model file could not be fetched (hub unreachable, not
    │                                 found, or its bytes did not match the hub's digest)
    ├── ExtraNotInstalled             an optional extra (e.g. ``embedded``) is missing
    ├── GatewayWorkerFailed           a worker of ``gateway serve --workers N`` could not
    │                                 start (its exit code and words, said by the supervisor)
    └── PluginError                   an extension registered twice, or broken

    ClientGone (a ConnectionResetError, not an InhouseError): the gateway's client went away
    before its answer was written; nobody is left to tell, the usage log records 499
    TooDeep (a json.JSONDecodeError, not an InhouseError): JSON a person handed in nests past
    inhouse.jsonfiles.MAX_DEPTH; whatever reports text that is not JSON reports it too

Each class says how the edges report it, as class attributes: ``exit_code`` for the CLI, and
for an HTTP edge ``http_status``, the OpenAI error ``error_type`` and ``code``, and ``param``
(the request field at fault). The gateway's one mapper
(:func:`inhouse.gateway.answers.openai_error`) reads them; it never sorts errors by their
message or code.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = [
    "AgentWithoutBoundary",
    "AntiPattern",
    "ApprovalNeeded",
    "BadRequest",
    "ConfigError",
    "CsrfRefused",
    "DataClassBlocked",
    "EmbeddingsNotServed",
    "EndpointNotServed",
    "ExtraNotInstalled",
    "GatewayWorkerFailed",
    "IdentityError",
    "InhouseError",
    "InvalidApiKey",
    "InvalidInput",
    "LogTampered",
    "MethodNotAllowed",
    "ModelDownloadFailed",
    "ModelDrifted",
    "ModelNotAllowed",
    "ModelUnavailable",
    "NoApiKey",
    "NoRuntimeAnswers",
    "NoSession",
    "NoSuchRoute",
    "NotAllowed",
    "NotAuthenticated",
    "PlaybookError",
    "PluginError",
    "ProgramExists",
    "ProgramNotFound",
    "ProgramStopped",
    "RateLimited",
    "Refused",
    "RequestTimedOut",
    "RequestTooLarge",
    "RequestTooLong",
    "RuntimeAnsweredError",
    "RuntimeBadResponse",
    "RuntimeFault",
    "RuntimeRejected",
    "RuntimeTimeout",
    "RuntimeUnavailable",
    "ServiceKeyRevoked",
    "SignInError",
    "StoreError",
    "TokenBudgetSpent",
    "TooDeep",
    "TooManyConcurrent",
    "ToolCallBlocked",
    "ToolNotAllowed",
    "TransportFailed",
    "UnknownApproval",
    "UnknownPerson",
    "UnknownPlay",
    "UnknownPrompt",
    "ValidationProblem",
    "first_validation_problem",
    "validation_problem_list",
    "validation_problems",
]


class InhouseError(Exception):
    """Base of every deliberate inhouse error. The message is meant for a person."""

    #: process exit code the CLI uses for this class of error
    exit_code = 1
    #: how an HTTP edge answers it: status, OpenAI error ``type`` and ``code``, the field at fault
    http_status = 500
    error_type = "server_error"
    code: str | None = "internal_error"
    param: str | None = None


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


class LogTampered(StoreError):
    """The event log does not verify at some event, so nothing more is appended to it (it
    would sign on top of a forgery). An HTTP edge answers 409, not 5xx: the request is sound
    and the server is up, but the program's state refuses it until someone restores the store
    (``inhouse audit verify`` names the event), as a stopped program refuses it; retrying the
    same request, as a client does on a 5xx, records nothing either."""

    http_status = 409
    error_type = "refused_error"
    code = "log_tampered"


class UnknownPerson(InhouseError):
    exit_code = 2
    http_status = 404
    error_type = "not_found_error"
    code = "unknown_person"


class UnknownPlay(InhouseError):
    exit_code = 2
    http_status = 404
    error_type = "not_found_error"
    code = "unknown_play"


class UnknownApproval(InhouseError):
    """A dashboard approval code that nothing waits under: it expired, or never existed."""

    exit_code = 2
    http_status = 404
    error_type = "not_found_error"
    code = "unknown_approval"


class InvalidInput(InhouseError):
    exit_code = 2
    http_status = 400
    error_type = "invalid_request_error"
    code: str | None = None


class BadRequest(InvalidInput):
    """A request the gateway cannot take as sent; ``param`` names the field at fault."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class RequestTooLarge(BadRequest):
    http_status = 413


class RequestTimedOut(BadRequest):
    """A request not sent whole in time (a client that trickles its head or body)."""

    http_status = 408


class RequestHeadTooLarge(BadRequest):
    """A request's line and headers over the gateway's limit (answered before its body)."""

    http_status = 431


class ClientGone(ConnectionResetError):
    """The client closed its connection before its answer was written: nobody is left to
    answer (the gateway's usage log records 499). An ``OSError``, as a socket's own is."""


class TooDeep(json.JSONDecodeError):
    """JSON text nested deeper than :data:`inhouse.jsonfiles.MAX_DEPTH`: a ``JSONDecodeError``
    (so a ``ValueError``), so that whatever reports text that is not JSON reports this too."""


class RequestTooLong(BadRequest):
    """More messages (or inputs) or estimated tokens than the gateway lets one request carry."""

    code = "request_too_long"


class UnknownPrompt(BadRequest):
    """A prompt, version or label the shared library does not have; the message names it."""

    code = "prompt_not_found"


class NoSuchRoute(InvalidInput):
    http_status = 404
    code = "not_found"


class MethodNotAllowed(InvalidInput):
    http_status = 405
    code = "method_not_allowed"


class NotAllowed(InhouseError):
    exit_code = 3
    http_status = 403
    error_type = "permission_error"
    code: str | None = None


class ApprovalNeeded(NotAllowed):
    """A dashboard session would sign a decision its person must agree to with their own key
    first (a handoff decided, a survey answer): ``kind`` and ``payload`` are the event it would
    write. The dashboard turns it into a request for ``inhouse web approve``."""

    http_status = 409
    code = "approval_needed"

    def __init__(self, message: str, *, kind: str, payload: dict[str, Any]) -> None:
        super().__init__(message)
        self.kind = kind
        self.payload = payload


class NotAuthenticated(NotAllowed):
    http_status = 401
    error_type = "authentication_error"


class NoApiKey(NotAuthenticated):
    code = "missing_api_key"


class InvalidApiKey(NotAuthenticated):
    code = "invalid_api_key"


class NoSession(NotAuthenticated):
    """A dashboard page or action without a live session: sign in with ``inhouse web login``."""

    code = "no_session"


class CsrfRefused(NotAllowed):
    """A dashboard form posted without the CSRF token of the session it came with."""

    code = "csrf_token_invalid"


class ModelNotAllowed(NotAllowed):
    code = "model_not_allowed"
    param = "model"


class AgentWithoutBoundary(NotAllowed):
    """A key bound to an agent that has no ``[policy.agents.NAME]`` boundary: refused, since
    an agent without a boundary would otherwise call any tool."""

    code = "no_tool_boundary"


class ToolNotAllowed(NotAllowed):
    code = "tool_not_allowed"
    param = "tools"


class ToolCallBlocked(NotAllowed):
    code = "tool_call_blocked"


class DataClassBlocked(NotAllowed):
    http_status = 451
    error_type = "policy_error"
    code = "data_class_blocked"


class RateLimited(InhouseError):
    http_status = 429
    error_type = "rate_limit_error"
    code = "rate_limit_exceeded"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        #: seconds until a retry may be let through, where known: the answer's ``Retry-After``
        self.retry_after = retry_after


class TokenBudgetSpent(RateLimited):
    code = "tokens_per_day_exceeded"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        if retry_after is None:  # the day's budget comes back at midnight UTC
            retry_after = 86400 - time.time() % 86400
        super().__init__(message, retry_after=retry_after)


class TooManyConcurrent(RateLimited):
    """A key has as many requests in flight as the gateway lets one key hold."""

    code = "concurrency_limit_exceeded"


class IdentityError(InhouseError):
    """This shell has no usable key, or a signature or envelope does not check out."""

    exit_code = 3
    http_status = 403
    error_type = "permission_error"
    code = "identity_error"


class SignInError(IdentityError):
    """Organisation sign-in (OpenID Connect) did not bind a key to an identity: the identity
    provider is unreachable or misconfigured, the browser came back with an error or a forged
    redirect, or the ID token fails a check. The message names the claim or part at fault."""


class Refused(InhouseError):
    """A guard said no. ``missing`` lists the evidence that would have let the action through."""

    exit_code = 3
    http_status = 409
    error_type = "refused_error"
    code = "refused"

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


class ServiceKeyRevoked(Refused):
    """A service's key file holds a key the log has revoked: nothing is signed, sealed or
    vouched with it. The gateway that learns it while serving answers every request with this
    (503: the server's to fix, by rotating its key), as a usage row it sealed would count for
    nothing."""

    http_status = 503
    error_type = "server_error"
    code = "service_key_revoked"


class ProgramStopped(InhouseError):
    exit_code = 3
    http_status = 409
    error_type = "refused_error"
    code = "program_stopped"


class RuntimeFault(InhouseError):
    """A runtime misbehaved. Always names the runtime and its URL."""

    http_status = 502
    error_type = "upstream_error"
    code = "runtime_bad_response"

    def __init__(self, message: str, *, runtime: str = "", url: str = "") -> None:
        where = f" [{runtime} at {url}]" if runtime or url else ""
        super().__init__(f"{message}{where}")
        self.runtime = runtime
        self.url = url


class RuntimeUnavailable(RuntimeFault):
    code = "runtime_unavailable"


class NoRuntimeAnswers(RuntimeUnavailable):
    http_status = 503


class RuntimeTimeout(RuntimeFault):
    http_status = 504
    code = "runtime_timeout"


class RuntimeBadResponse(RuntimeFault):
    pass


class NotHttp(RuntimeBadResponse):
    """What a runtime sent the gateway's client is not an HTTP/1.1 answer."""


class EndpointNotServed(RuntimeBadResponse):
    """The runtime answered 404/405 for an optional endpoint (``/props``, ``/version``).
    Adapters catch it and fall back; it does not reach a person."""


class EmbeddingsNotServed(RuntimeBadResponse):
    """The runtime answers, but not ``/v1/embeddings``."""


class ConnectFailed(RuntimeUnavailable):
    """The gateway's client could not connect to a runtime (refused, unreachable, a name that
    does not resolve); the gateway tries the route's next node."""


class ConnectionLost(RuntimeUnavailable):
    """A runtime closed or reset the gateway's connection before its answer ended."""

    def __init__(self, message: str, *, answered: bool = False) -> None:
        super().__init__(message)
        #: some of the answer (its head at least) had arrived
        self.answered = answered
        #: the connection was kept from an earlier request: the runtime may have closed it
        #: meanwhile, so the request is worth sending once more on a new one
        self.reused = False


class TransportFailed(RuntimeUnavailable):
    """The load generator's request could not be completed (connect, transport or protocol
    failure); the message says what happened, for that sample's error."""


class RuntimeAnsweredError(RuntimeFault):
    code = "runtime_error"


class RuntimeRejected(RuntimeAnsweredError):
    """The runtime refused the request itself (a 4xx): the client sees that status."""

    error_type = "invalid_request_error"

    def __init__(self, message: str, *, status: int, runtime: str = "", url: str = "") -> None:
        super().__init__(message, runtime=runtime, url=url)
        self.http_status = status


class ModelUnavailable(InhouseError):
    http_status = 503
    error_type = "upstream_error"
    code = "no_runtime"


class ModelDrifted(ModelUnavailable):
    code = "model_drifted"


class ModelDownloadFailed(InhouseError):
    pass


class ExtraNotInstalled(InhouseError):
    exit_code = 2


class GatewayWorkerFailed(InhouseError):
    """A worker of ``inhouse gateway serve --workers N`` could not start (its runtimes, the
    lock, its spool…): its supervisor stops the others and says why, once, with the exit code
    the worker's own error carries, where a worker started again would fail the same way."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


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
