"""Errors as the gateway answers them: OpenAI's error JSON with the right HTTP status.

Code in this package raises :class:`ApiError` (or an :mod:`inhouse.errors` exception, mapped by
:func:`from_inhouse`); only the ASGI edge turns it into bytes, so every refusal a client sees has
one shape: ``{"error": {"message", "type", "param", "code"}}``.
"""

from __future__ import annotations

import json

from inhouse.errors import (
    InhouseError,
    RuntimeBadResponse,
    RuntimeFault,
    RuntimeTimeout,
    RuntimeUnavailable,
)

__all__ = ["ApiError", "from_inhouse"]


class ApiError(Exception):
    """A refusal or fault, ready to send: status, OpenAI error ``type`` and a stable ``code``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param

    def body(self) -> bytes:
        return json.dumps(
            {
                "error": {
                    "message": self.message,
                    "type": self.type,
                    "param": self.param,
                    "code": self.code,
                }
            }
        ).encode()


def from_inhouse(err: InhouseError) -> ApiError:
    """Map a deliberate inhouse error to the status a client should see."""
    if isinstance(err, RuntimeTimeout):
        return ApiError(504, str(err), type="upstream_error", code="runtime_timeout")
    if isinstance(err, RuntimeUnavailable):
        return ApiError(502, str(err), type="upstream_error", code="runtime_unavailable")
    if isinstance(err, RuntimeBadResponse | RuntimeFault):
        return ApiError(502, str(err), type="upstream_error", code="runtime_bad_response")
    return ApiError(500, str(err), type="server_error", code="internal_error")
