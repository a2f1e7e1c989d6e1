"""Shared pieces of the HTTP API that need no service: the error type and shape, and the
request-body helpers every route module uses.

Errors are always JSON ``{"error": "..."}`` with a status the SDK/CLI understands.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

JSON_MEDIA = "application/json"
TAR_MEDIA = "application/gzip"

MAX_JSON_DEPTH = 128
"""Deepest nesting of objects/arrays accepted in a request body. Real inputs are a few
levels deep; a body nested 1,000 deep would otherwise exhaust the parser's recursion."""

_DECIMAL = re.compile(r"[0-9]{1,18}")


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
    declared = decimal(request.headers.get("content-length"))
    if declared is not None and declared > limit:
        raise ApiProblem(413, f"{what} is {declared} bytes, over the {limit}-byte limit")
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


def decimal(text: str | None) -> int | None:
    """A non-negative decimal of at most 18 ASCII digits, else None.

    Stricter than ``str.isdigit()``, which is True for ``"²"`` (then ``int()`` fails), and
    bounded so the value always fits SQLite's 64-bit integers.
    """
    if text is None or not _DECIMAL.fullmatch(text):
        return None
    return int(text)


def json_depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children if isinstance(child, (dict, list)))
    return deepest if isinstance(value, (dict, list)) else 0


def parse_object(body: bytes, what: str) -> dict[str, Any]:
    """A JSON object body (empty means ``{}``); anything else is a 400 naming ``what``.

    Objects nested deeper than ``MAX_JSON_DEPTH`` are refused too, so nothing downstream
    (validation, re-serialisation) can hit Python's recursion limit.
    """
    if not body.strip():
        return {}
    try:
        value = json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        raise ApiProblem(
            400, f"{what} is nested too deeply (at most {MAX_JSON_DEPTH} levels)"
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiProblem(400, f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ApiProblem(400, f"{what} must be a JSON object, got {type(value).__name__}")
    if json_depth(value) > MAX_JSON_DEPTH:
        raise ApiProblem(400, f"{what} is nested too deeply (at most {MAX_JSON_DEPTH} levels)")
    return value


def validation_message(exc: ValidationError | RequestValidationError, what: str) -> str:
    """One line listing every problem of a pydantic validation as ``field: reason``."""
    problems = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err.get("loc", ()) if part != "body") or "body"
        problems.append(f"{where}: {err.get('msg', 'invalid')}")
    return f"{what}: " + "; ".join(problems)
