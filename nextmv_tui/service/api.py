"""Shared pieces of the HTTP API that need no service: the error type and shape, and the
request-body helpers every route module uses.

Errors are always JSON ``{"error": "..."}`` with a status the SDK/CLI understands.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

JSON_MEDIA = "application/json"
TAR_MEDIA = "application/gzip"


class ApiProblem(Exception):
    """Raised by handlers and dependencies; becomes ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The one error shape of the API: ``{"error": message}``."""
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def read_body(request: Request, limit: int, what: str) -> bytes:
    """The request body, refused with 413 as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiProblem(413, f"{what} is {int(declared)} bytes, over the {limit}-byte limit")
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise ApiProblem(413, f"{what} is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _reject_constant(name: str) -> Any:
    """NaN/Infinity are not JSON (RFC 8259): refuse them instead of storing ``null``."""
    raise ValueError(f"{name} is not valid JSON")


def parse_object(body: bytes, what: str) -> dict[str, Any]:
    """A JSON object body (empty means ``{}``); anything else is a 400 naming ``what``."""
    if not body.strip():
        return {}
    try:
        value = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiProblem(400, f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ApiProblem(400, f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def validation_message(exc: ValidationError | RequestValidationError, what: str) -> str:
    """One line listing every problem of a pydantic validation as ``field: reason``."""
    problems = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err.get("loc", ()) if part != "body") or "body"
        problems.append(f"{where}: {err.get('msg', 'invalid')}")
    return f"{what}: " + "; ".join(problems)
