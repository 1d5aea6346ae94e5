"""The OpenAPI 3.1 document, built from the routes the app registers and the pydantic models they declare.

A JSON route declares itself with `@operation(...)` (the request, query and response models by name, who may
call it, the errors it answers); a server-rendered page or a static file says so with `@web_page` and stays
out of the document. The builder walks `app.routes`, so a new blueprint's routes appear without touching this
module. Model names are resolved when the document is built (never at import: `app.py` stays free of
pydantic): a bare name is looked up in `chalicelib.api.requests`, then `chalicelib.api.responses`; a name
like `package.module:Model` names any module."""
from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

OPENAPI_VERSION = "3.1.0"
ATTRIBUTE = "__openapi__"
PAGE_ATTRIBUTE = "__web_page__"
_MODEL_MODULES = ("chalicelib.api.requests", "chalicelib.api.responses")

# Who calls a route; each is a security scheme of the document (chalicelib/api/auth.py checks them).
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "buyer": {"type": "apiKey", "in": "header", "name": "X-Telegram-Init-Data",
              "description": "The Telegram Mini App's init data, signed with the bot token."},
    "distributor": {"type": "http", "scheme": "bearer",
                    "description": "A distributor's token (issued by POST /admin/distributors)."},
    "admin": {"type": "apiKey", "in": "header", "name": "X-Api-Key", "description": "The operators' API key."},
    "telegram": {"type": "apiKey", "in": "header", "name": "X-Telegram-Bot-Api-Secret-Token",
                 "description": "The secret given to Telegram's setWebhook, echoed on every update."},
    "payments": {"type": "apiKey", "in": "header", "name": "X-Signature",
                 "description": "`t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\">` "
                                "with a payment webhook secret."},
}
_REFUSALS = {"buyer": (401,), "distributor": (401, 403), "admin": (401,), "telegram": (401,), "payments": (401,)}
_STATUS_TEXT = {400: "The input is invalid; `field` names the part at fault.", 401: "Not authenticated.",
                403: "Not allowed.", 404: "Not found.", 409: "Conflicts with the current state.",
                410: "No longer available.", 413: "The body is too large.", 415: "The Content-Type is not JSON.",
                422: "Understood but refused by the rules.", 429: "Too many requests; see Retry-After.",
                500: "An unexpected error.", 503: "A dependency is unavailable; retry later."}


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    auth: str | None = None
    body: str | None = None
    query: str | None = None
    response: str | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    media_type: str = "application/json"
    headers: tuple[str, ...] = ()
    body_required: bool = True
    path: str | None = None


def operation(summary: str, *, tag: str, auth: str | None = None, body: str | None = None,
              query: str | None = None, response: str | None = None, status: int = 200,
              errors: tuple[int, ...] = (), media_type: str = "application/json",
              headers: tuple[str, ...] = (), body_required: bool = True,
              path: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare what a JSON route takes and answers. Put it right under `@blueprint.route`."""
    if auth is not None and auth not in SECURITY_SCHEMES:
        raise ValueError(f"unknown caller kind {auth!r}")
    declared = Operation(summary, tag, auth, body, query, response, status, errors, media_type, headers,
                         body_required, path)

    def mark(view: Callable[..., Any]) -> Callable[..., Any]:
        setattr(view, ATTRIBUTE, declared)
        return view

    return mark


def web_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """A route that answers HTML or a static file: not part of the API document."""
    setattr(view, PAGE_ATTRIBUTE, True)
    return view


def declared_operation(view: Callable[..., Any]) -> Operation | None:
    return getattr(view, ATTRIBUTE, None)


def is_web_page(view: Callable[..., Any]) -> bool:
    return bool(getattr(view, PAGE_ATTRIBUTE, False))


def resolve_model(name: str) -> type:
    if ":" in name:
        module, attribute = name.split(":", 1)
        return getattr(importlib.import_module(module), attribute)
    for module in _MODEL_MODULES:
        found = getattr(importlib.import_module(module), name, None)
        if found is not None:
            return found
    raise LookupError(f"no model named {name} in {', '.join(_MODEL_MODULES)}")


class _Schemas:
    """Every model's JSON Schema under components/schemas, each named once."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def ref(self, model: type, mode: str) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode=mode)  # type: ignore
        for name, definition in schema.pop("$defs", {}).items():
            self.components.setdefault(name, definition)
        self.components.setdefault(model.__name__, schema)
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    def inline(self, model: type) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")  # type: ignore
        for name, definition in schema.pop("$defs", {}).items():
            self.components.setdefault(name, definition)
        return schema


def _fields(model: type, schemas: _Schemas) -> dict[str, tuple[dict[str, Any], bool]]:
    """Each field of a query or path model: its schema (a value in a URL is absent or text, never null) and
    whether it is required."""
    schema = schemas.inline(model)
    required = set(schema.get("required", ()))
    fields = {}
    for name, field in schema.get("properties", {}).items():
        field = {key: value for key, value in field.items() if key not in ("title", "default")}
        if "anyOf" in field:
            field = next(branch for branch in field.pop("anyOf") if branch.get("type") != "null") | field
        fields[name] = (field, name in required)
    return fields


def _parameters(view_args: list[str], path: type | None, query: type | None,
                schemas: _Schemas) -> list[dict[str, Any]]:
    typed = _fields(path, schemas) if path is not None else {}
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True,
         "schema": typed.get(name, ({"type": "string", "minLength": 1}, True))[0]} for name in view_args]
    if query is not None:
        parameters += [{"name": name, "in": "query", "required": required, "schema": field}
                       for name, (field, required) in _fields(query, schemas).items()]
    return parameters


def _error_statuses(declared: Operation, view_args: list[str]) -> list[int]:
    # Any request is measured and its Content-Type checked before the route runs (middleware.py, and Chalice
    # itself for every method): a GET with a body too large or a foreign Content-Type is refused too.
    statuses = set(declared.errors) | {413, 415, 500, 503}
    if declared.auth:
        statuses |= set(_REFUSALS[declared.auth])
    if declared.body:
        statuses.add(400)
    if declared.query or declared.path:
        statuses.add(400)
    if view_args:
        statuses |= {400, 404}  # a malformed identifier is named as bad input, an unknown one is not found
    return sorted(statuses)


def _operation(path: str, method: str, entry: Any, declared: Operation, schemas: _Schemas) -> dict[str, Any]:
    view_args = list(getattr(entry, "view_args", []) or re.findall(r"{(\w+)}", path))
    query = resolve_model(declared.query) if declared.query else None
    blueprint = entry.view_function.__module__.rsplit(".", 1)[-1]
    document: dict[str, Any] = {"operationId": f"{blueprint}.{entry.view_name}", "summary": declared.summary,
                                "tags": [declared.tag]}
    path_model = resolve_model(declared.path) if declared.path else None
    parameters = _parameters(view_args, path_model, query, schemas)
    for header in declared.headers:
        parameters.append({"name": header, "in": "header", "required": False,
                           "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"}})
    if parameters:
        document["parameters"] = parameters
    if declared.body:
        document["requestBody"] = {"required": declared.body_required,
                                   "content": {"application/json": {
                                       "schema": schemas.ref(resolve_model(declared.body), "validation")}}}
    if declared.media_type == "application/json":
        success = {"schema": schemas.ref(resolve_model(declared.response), "serialization")} \
            if declared.response else {}
    else:
        success = {"schema": {"type": "string"}}
    responses: dict[str, Any] = {str(declared.status): {"description": "OK", "content": {declared.media_type: success}}}
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
    for status in _error_statuses(declared, view_args):
        responses.setdefault(str(status), {"description": _STATUS_TEXT.get(status, "Refused."), "content": error})
    document["responses"] = responses
    document["security"] = [{declared.auth: []}] if declared.auth else []
    return document


def documented_routes(app: Any) -> list[tuple[str, str, Any]]:
    """(path, method, route entry) of every route the app registers, pages included."""
    return [(path, method, entry) for path, methods in app.routes.items() for method, entry in methods.items()]


def build_document(app: Any, version: str) -> dict[str, Any]:
    from chalicelib.api.responses import ErrorResponse

    schemas = _Schemas()
    schemas.ref(ErrorResponse, "serialization")
    paths: dict[str, dict[str, Any]] = {}
    for path, method, entry in sorted(documented_routes(app), key=lambda route: route[:2]):
        declared = declared_operation(entry.view_function)
        if declared is None:
            continue
        paths.setdefault(path, {})[method.lower()] = _operation(path, method, entry, declared, schemas)
    return {"openapi": OPENAPI_VERSION,
            "info": {"title": "tgshop", "version": version,
                     "description": "Buyer (Mini App), distributor, admin and webhook routes of tgshop. Every "
                                    "error answer has the shape ErrorResponse."},
            "paths": paths,
            "components": {"schemas": dict(sorted(schemas.components.items())),
                           "securitySchemes": SECURITY_SCHEMES}}
