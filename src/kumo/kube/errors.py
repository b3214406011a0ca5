"""Errors from the Kubernetes API, as :class:`kumo.errors.ClusterError` subclasses.

Callers branch on ``code`` (404, 409, 410, ...) without knowing the HTTP library underneath.
"""

from __future__ import annotations

from typing import Any

from kumo.errors import ClusterError


class Unreachable(ClusterError):
    """No answer from the API: the connection failed, broke, or timed out."""


class ApiLost(Unreachable):
    """The API has not answered for so long that a run must stop (see ``KubeClient.unanswered_for``)."""


class ApiError(ClusterError):
    """The API answered with an error status. ``code`` is the HTTP status, ``reason`` the Status reason."""

    def __init__(
        self,
        message: str,
        code: int,
        reason: str = "",
        status: dict[str, Any] | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.code = code
        self.reason = reason
        self.status = status or {}


class NotFound(ApiError):
    """404: the object (or its kind) does not exist."""


class Conflict(ApiError):
    """409: already exists, a stale resourceVersion, or a server-side apply field conflict."""


class Gone(ApiError):
    """410: a watch's resourceVersion is too old; relist."""


class Forbidden(ApiError):
    """401/403: the credentials may not do this."""


class Invalid(ApiError):
    """422: the object failed validation."""


def error_for(code: int) -> type[ApiError]:
    return {404: NotFound, 409: Conflict, 410: Gone, 401: Forbidden, 403: Forbidden, 422: Invalid}.get(
        code, ApiError
    )
