"""The service's OpenAPI document (``GET /openapi.json``): what every route answers, declared.

Handlers build their bodies with the wire models' ``to_wire()`` and return plain responses, so
FastAPI cannot see the shapes by itself. Each route declares them with ``answers(Model, 404,
…)`` (documentation only: nothing is re-validated at run time), and ``document()`` adds what
the routes do not say: the bearer scheme, and the request bodies that handlers read
themselves (to bound their size and depth before parsing). Schemathesis checks in CI that
every answer matches this document (``tests/service/test_schemathesis.py``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from nextmv_tui.cloud.models import CreateApplicationRequest, CreateRunRequest, ErrorBody

_WHY = {
    400: "Bad request: the message names the field or parameter and the reason",
    401: "Missing or wrong API key",
    403: "Invalid or expired presigned URL token",
    404: "Unknown application, run, upload or download",
    409: "Conflict with the current state (e.g. the run is already final)",
    413: "Body over the size limit",
    429: "Execution class full and queuing disabled for this run",
    501: "Not supported by the local service",
    507: "No space left on the service's disk: nothing was stored",
}

_REQUEST_BODIES: dict[tuple[str, str], type[BaseModel]] = {
    ("/v1/applications/{app_id}/runs", "post"): CreateRunRequest,
    ("/v1/applications", "post"): CreateApplicationRequest,
}


ANY_JSON: dict[str, Any] = {}
"""The schema of a payload answer: any JSON value (a JSON file as stored; text as a string)."""
BINARY = {"type": "string", "format": "binary"}


def answers(
    model: type[BaseModel] | None,
    *errors: int,
    auth: bool = True,
    media: dict[str, dict[str, Any]] | None = None,
    success: int = 200,
    what: str = "Success",
) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route: its success body (``model``, or ``media``: content type ->
    schema; ``{}`` for no body) and its error statuses (401 added for key-guarded routes)."""
    declared: dict[int | str, dict[str, Any]] = {}
    if model is not None:
        declared[success] = {"model": model, "description": what}
    else:
        content = {kind: {"schema": schema} for kind, schema in (media or {}).items()}
        declared[success] = {"description": what, "content": content}
    for status in sorted({*errors, *((401,) if auth else ())}):
        declared[status] = {"model": ErrorBody, "description": _WHY[status]}
    return declared


def document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, built once and cached on the app (FastAPI's convention).

    FastAPI's own document is adjusted to what the service really does: validation errors
    are 400 (not 422), a declared model is the whole schema of its answer (FastAPI merges in
    the handler's ``dict`` return type), an answer without a body has no content, and the
    request bodies that handlers read themselves are declared.
    """
    if app.openapi_schema is not None:
        return app.openapi_schema
    spec = get_openapi(title=app.title, version=app.version, routes=app.routes)
    components = spec.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearer"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "The service's API key (DATA_DIR/api_key, --api-key-file, ...)",
    }
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            if path.startswith("/v1/"):
                operation["security"] = [{"bearer": []}]
            model = _REQUEST_BODIES.get((path, method))
            if model is not None:
                operation["requestBody"] = _body_of(model, schemas)
            _tidy_responses(operation["responses"], (path, method) in _NO_BODY)
    app.openapi_schema = spec
    return spec


_NO_BODY = {("/uploads/{upload_id}", "put")}
"""Operations whose success answer has no body."""


def _tidy_responses(responses: dict[str, Any], no_body: bool) -> None:
    if "422" in responses:
        del responses["422"]
        responses.setdefault("400", {
            "description": _WHY[400],
            "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorBody"}}},
        })
    for status, answer in responses.items():
        for media in answer.get("content", {}).values():
            schema = media.get("schema", {})
            if "$ref" in schema and len(schema) > 1:
                media["schema"] = {"$ref": schema["$ref"]}
        if no_body and status.startswith("2"):
            answer.pop("content", None)


def _body_of(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    """A JSON request body of ``model``, its nested models added to ``schemas``."""
    schema = model.model_json_schema(
        by_alias=True, ref_template="#/components/schemas/{model}", mode="validation"
    )
    for name, definition in schema.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    schema.update(_BODY_RULES.get(model, {}))
    if model is CreateRunRequest:  # the handler takes inline input as an object only
        schema["properties"]["input"] = {"type": "object", "title": "Input"}
    schemas.setdefault(model.__name__, schema)
    media: dict[str, Any] = {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
    if model in _EXAMPLES:
        media["example"] = _EXAMPLES[model]
    return {"required": True, "content": {"application/json": media}}


_BODY_RULES: dict[type[BaseModel], dict[str, Any]] = {
    CreateRunRequest: {
        # What the handler checks beyond the model: the input is inline (an object) or an
        # upload, exactly one of the two.
        "oneOf": [{"required": ["input"]}, {"required": ["upload_id"]}],
    },
}
_EXAMPLES: dict[type[BaseModel], dict[str, Any]] = {
    CreateRunRequest: {
        "input": {"items": [{"id": "a", "value": 3, "weight": 2}], "weight_capacity": 5},
        "options": {"duration": "1"},
        "name": "example",
    },
    CreateApplicationRequest: {"id": "my-app", "name": "My app", "description": "example"},
}
