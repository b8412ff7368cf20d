"""One exception hierarchy, the HTTP status on the class, one JSON error envelope.

Services raise these; the API renders them as ``{"error": {"code", "message", "details"}}``
and the CLI as a one-line error.  A 500 never echoes the text of an unexpected exception.
"""

from __future__ import annotations

from typing import Any


class WanggeError(Exception):
    status = 500
    code = "internal_error"
    headers: dict[str, str] = {}  # extra response headers (e.g. Retry-After)

    def __init__(self, message: str, *, details: Any = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.details = details
        if code:
            self.code = code

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class BadRequest(WanggeError):
    status, code = 400, "bad_request"


class Unauthorized(WanggeError):
    status, code = 401, "unauthorized"


class Forbidden(WanggeError):
    status, code = 403, "forbidden"


class NotFound(WanggeError):
    status, code = 404, "not_found"


class Conflict(WanggeError):
    status, code = 409, "conflict"


class PreconditionFailed(WanggeError):
    status, code = 412, "precondition_failed"


class PayloadTooLarge(WanggeError):
    status, code = 413, "payload_too_large"


class InvalidData(WanggeError):
    """Well-formed input whose data or geometry is invalid (422)."""

    status, code = 422, "invalid_data"


class PreconditionRequired(WanggeError):
    status, code = 428, "precondition_required"


class TooManyRequests(WanggeError):
    """A rate limit was reached; ``retry_after`` seconds until the next attempt may pass."""

    status, code = 429, "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, page_message: str | None = None):
        super().__init__(message, details={"retry_after": retry_after})
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}
        # What a page shows (in the reader's language); API clients get ``message``.
        self.page_message = page_message or message


def internal_error_envelope() -> dict[str, Any]:
    return {
        "error": {"code": "internal_error", "message": "Internal server error.", "details": None}
    }
