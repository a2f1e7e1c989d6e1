"""Typed errors of the Nextmv client, each with a message a person can act on.

The TUI and the headless commands show ``str(error)`` as is, so every message names what
failed (endpoint, run, file or field) and, where there is one, what to do about it.
"""

from __future__ import annotations


class NextmvError(Exception):
    """Base class of every error this package raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(NextmvError):
    """No usable API key or endpoint, or a broken config file."""


class InputError(NextmvError):
    """A local input was refused (names the file and the reason). Raised before anything is
    sent, except for text over ``packaging.FULL_CHECK_BYTES`` found bad while it uploads:
    then the PUT is aborted short of its length and no run is created."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class ApiError(NextmvError):
    """The server answered with an error status."""

    def __init__(self, message: str, *, status: int | None = None, endpoint: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.endpoint = endpoint


class AuthError(ApiError):
    """401/403: the API key is missing, wrong, or lacks permission."""


class NotFoundError(ApiError):
    """404: unknown application, run or upload."""


class NotCancelableError(ApiError):
    """409 on cancel: the run is already final."""


class BadRequestError(ApiError):
    """400/413/422: the server refused the request body or its size."""


class RateLimitedError(ApiError):
    """429: too many requests, or a full execution class with queuing disabled."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status: int = 429,
        endpoint: str = "",
    ) -> None:
        super().__init__(message, status=status, endpoint=endpoint)
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx from the server."""


class TransportError(NextmvError):
    """The request did not get an HTTP answer at all."""

    def __init__(self, message: str, *, endpoint: str = "") -> None:
        super().__init__(message)
        self.endpoint = endpoint


class ConnectionLostError(TransportError):
    """Could not connect, or the connection dropped (names the endpoint)."""


class RequestTimeoutError(TransportError):
    """Connect or read timed out."""


class MalformedResponseError(NextmvError):
    """A 2xx answer that is not the JSON we expect (names the endpoint and the field)."""

    def __init__(self, endpoint: str, field: str, detail: str = "") -> None:
        text = f"malformed response from {endpoint}: field '{field}'"
        super().__init__(f"{text}: {detail}" if detail else text)
        self.endpoint = endpoint
        self.field = field


class UploadAborted(NextmvError):
    """The user aborted an upload; nothing was created."""


class PollTimeoutError(NextmvError):
    """Polling gave up (max tries or max duration) before the run became final."""
