"""The OpenAPI document: valid OpenAPI 3.1, complete (every JSON route the app registers is in it), served at
/openapi.json, and true (every answer of a walk over all routes matches its documented status and schema)."""
from __future__ import annotations

import json
from typing import Any

import pytest
from chalice import Blueprint, Chalice

from chalicelib.api.openapi import build_document, documented_routes, is_web_page, operation, web_page
from tests.api_walk import walk
from tests.codes_support import codes  # noqa: F401 - the fixture


def undocumented(app: Any) -> list[tuple[str, str]]:
    """JSON routes missing from the document. The rule: a route is left out only when it is marked as a web
    page (HTML or a static file) with `@web_page`."""
    paths = build_document(app, "test")["paths"]
    return [(method, path) for path, method, entry in documented_routes(app)
            if not is_web_page(entry.view_function) and method.lower() not in paths.get(path, {})]


def test_the_document_is_valid_openapi_3_1():
    from openapi_spec_validator import validate

    from app import app

    document = build_document(app, "test")
    validate(document)
    assert document["openapi"].startswith("3.1")
    schemes = document["components"]["securitySchemes"]
    assert {(s.get("in"), s.get("name") or s.get("scheme")) for s in schemes.values()} == {
        ("header", "X-Telegram-Init-Data"), (None, "bearer"), ("header", "X-Api-Key"),
        ("header", "X-Telegram-Bot-Api-Secret-Token"), ("header", "X-Signature")}


def test_every_registered_json_route_is_in_the_document():
    from app import app

    assert len(documented_routes(app)) >= 34
    assert undocumented(app) == []


def test_a_route_without_a_declaration_is_reported_and_a_web_page_is_not():
    extra = Blueprint("extra")

    @extra.route("/panel/things", methods=["GET"])
    def things():
        return {}

    @extra.route("/panel", methods=["GET"])
    @web_page
    def panel():
        return "<html></html>"

    @extra.route("/panel/things", methods=["POST"])
    @operation(summary="Make a thing", tag="admin", auth="admin", body="RedeemRequest", response="Summary")
    def make_thing():
        return {}

    app = Chalice(app_name="probe")
    app.register_blueprint(extra)
    assert undocumented(app) == [("GET", "/panel/things")]
    post = build_document(app, "test")["paths"]["/panel/things"]["post"]
    body_schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert body_schema == {"$ref": "#/components/schemas/RedeemRequest"}
    assert {"400", "401", "415", "500"} <= set(post["responses"])


def test_errors_are_documented_with_the_one_error_shape():
    from app import app

    document = build_document(app, "test")
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            for status, answer in spec["responses"].items():
                if int(status) >= 400:
                    assert answer["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/ErrorResponse"}, (method, path, status)


def test_openapi_json_is_served_and_built_once(client):
    from chalicelib.api.docs import openapi_json

    openapi_json.cache_clear()
    first = client.http.get("/openapi.json")
    second = client.http.get("/openapi.json")
    assert first.status_code == second.status_code == 200
    assert first.headers["Content-Type"] == "application/json"
    assert json.loads(first.body)["paths"]["/orders"]["post"]["operationId"] == "buyers.create_order"
    assert openapi_json.cache_info().misses == 1 and openapi_json.cache_info().hits == 1


@pytest.fixture
def conformance():
    from jsonschema import Draft202012Validator

    from app import app

    document = build_document(app, "test")
    checked: list[tuple[str, str, int]] = []

    def seen(method: str, template: str, response: Any) -> None:
        spec = document["paths"][template][method.lower()]
        status = str(response.status_code)
        assert status in spec["responses"], (method, template, status, response.body)
        content = spec["responses"][status]["content"]
        media_type = response.headers["Content-Type"].split(";")[0]
        assert media_type in content, (method, template, media_type)
        schema = content[media_type].get("schema")
        if media_type == "application/json" and schema:
            validator = Draft202012Validator({**schema, "components": document["components"]})
            problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                        for e in validator.iter_errors(json.loads(response.body))]
            assert not problems, (method, template, problems)
        checked.append((method, template, response.status_code))

    return document, checked, seen


def test_every_answer_of_a_walk_over_all_routes_matches_the_document(api, codes, conformance):  # noqa: F811
    document, checked, seen = conformance
    walk(api, codes, seen)
    operations = {(method.upper(), path) for path, methods in document["paths"].items() for method in methods}
    assert operations - {(method, template) for method, template, _ in checked} == set()
    assert {status for *_, status in checked} >= {200, 201, 401, 404}
