"""The published OpenAPI schema (demo mode only): FastAPI's, with the errors of a malformed request made the gateway's.

FastAPI documents every operation that takes parameters or a body with a 422 of its own shape (`HTTPValidationError`,
a list of error objects); the gateway answers 422 with `ValidationErrorPublic` instead (`api.main`). A body that
cannot be read at all (not UTF-8, say) is FastAPI's 400, which it does not document. The schema says both, so a
client or a fuzzer can hold the gateway to it.
"""

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from api.schemas import ErrorPublic, ValidationErrorPublic

_REF_PREFIX = "#/components/schemas/"
# FastAPI's own 422 models, unused once every 422 names ValidationErrorPublic.
_FASTAPI_422_MODELS = ("HTTPValidationError", "ValidationError")
# Routes' own 422 bodies: each extends ValidationErrorPublic (same `detail` and `errors`, more fields).
_OWN_422_MODELS = ("IngestValidationErrorPublic",)


def _json_response(description: str, model: type[BaseModel]) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"{_REF_PREFIX}{model.__name__}"}}},
    }


VALIDATION_ERROR_RESPONSE = _json_response(
    "The request does not fit this schema: every problem, one sentence each", ValidationErrorPublic
)
UNREADABLE_BODY_RESPONSE = _json_response("The body could not be read (for example, it is not UTF-8)", ErrorPublic)


def document_request_errors(app: FastAPI) -> None:
    """Make `app.openapi()` document a malformed request's 400 and 422 as the gateway answers them."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_request_errors(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def with_request_errors(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with each operation's 422 as `ValidationErrorPublic`, a 400 on each operation that takes a body,
    and FastAPI's own 422 models dropped."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            if "422" in responses and not _documents_own_422(responses["422"]):
                responses["422"] = VALIDATION_ERROR_RESPONSE
            if "requestBody" in operation:
                responses.setdefault("400", UNREADABLE_BODY_RESPONSE)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorPublic, ValidationErrorPublic):
        schemas.setdefault(model.__name__, model.model_json_schema(ref_template=_REF_PREFIX + "{model}"))
    for name in _FASTAPI_422_MODELS:
        schemas.pop(name, None)
    return document


def _documents_own_422(response: dict[str, Any]) -> bool:
    """Whether a route documents a 422 of its own that extends `ValidationErrorPublic` (the ingest API's, which
    also names the failing items); FastAPI's default 422 is replaced."""
    ref = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
    return ref.removeprefix(_REF_PREFIX) in _OWN_422_MODELS


def _header(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "required": True, "schema": schema}


# Response headers the routes document with their statuses.
RETRY_AFTER = {"Retry-After": _header("Seconds to wait before trying again", {"type": "integer", "minimum": 0})}
WWW_AUTHENTICATE = {"WWW-Authenticate": _header("The Bearer challenge, with the reason", {"type": "string"})}
