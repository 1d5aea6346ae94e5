"""GET /openapi.json: the API's OpenAPI 3.1 document, built on the first request and kept for the life of the
Lambda container (the routes cannot change while it runs)."""
from __future__ import annotations

from functools import lru_cache

from chalice import Blueprint, Response

from chalicelib.api.http import guarded
from chalicelib.api.openapi import operation

docs = Blueprint(__name__)


@lru_cache(maxsize=1)
def openapi_json(app: object, version: str) -> str:
    import json

    from chalicelib.api.openapi import build_document

    return json.dumps(build_document(app, version), separators=(",", ":"), ensure_ascii=False)


@docs.route("/openapi.json", methods=["GET"])
@operation(summary="This document", tag="health")
@guarded
def get_openapi():
    from chalicelib.container import get_container

    return Response(body=openapi_json(docs.current_app, get_container().settings.version), status_code=200,
                    headers={"Content-Type": "application/json", "Cache-Control": "public, max-age=300"})
