"""Why a poll failed, as the poller's failure kind plus one line that says what to fix.

Textual-free. Reachable-but-broken (5xx, malformed JSON) is ``error``, no answer is
``offline``; a refused key and an untrusted certificate cannot be fixed by retrying, so
their text names the fix.
"""

from __future__ import annotations

import msgspec

from nextmv_tui.cloud.errors import (
    ApiError,
    AuthError,
    MalformedResponseError,
    RateLimitedError,
    ServerError,
)
from nextmv_tui.tui.poller import FailureKind


class Failure(msgspec.Struct, frozen=True):
    kind: FailureKind
    detail: str
    retry_after: float | None = None


def classify(error: BaseException, endpoint: str, source: str) -> Failure:
    """``source`` names where the API key came from (config file, env, flag)."""
    text = str(error) or error.__class__.__name__
    if isinstance(error, AuthError):
        code = error.status or 401
        return Failure("auth", (
            f"{code}: the API key from {source or 'your configuration'} was refused by "
            f"{endpoint} — pass --api-key, set NEXTMV_API_KEY, or pick a --profile with a "
            "valid key"
        ))
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return Failure("tls", (
            f"the TLS certificate of {endpoint} is not trusted — set REQUESTS_CA_BUNDLE (or "
            "SSL_CERT_FILE) to its CA file; for a local service started with --tls that is "
            "DATA_DIR/tls/cert.pem"
        ))
    if isinstance(error, RateLimitedError):  # a 429 is no server error
        return Failure("limited", text, error.retry_after)
    retry_after = None
    reachable = isinstance(error, (ServerError, MalformedResponseError, ApiError))
    return Failure("error" if reachable else "offline", text, retry_after)
