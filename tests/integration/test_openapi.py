"""``GET /openapi.json`` describes exactly the JSON APIs the app serves, and is valid OpenAPI.

The app's own route table (``app.app.routes``) is the truth: every route under the documented
prefixes is in the document with the same methods and path parameters, and nothing else is.
"""

from __future__ import annotations

import re

import pytest
import schemathesis

from chalicelib.api_input import PATH_PATTERNS
from chalicelib.openapi import ADMIN_PREFIXES, PUBLIC_PREFIXES
from tests.support import PUBLIC_BASE_URL

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture
def served(client) -> dict:
    response = client.http.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    return response.json_body


def _documented_route(path: str) -> bool:
    return path == "/openapi.json" or any(
        path == prefix or path.startswith(prefix + "/")
        for prefix in ADMIN_PREFIXES + PUBLIC_PREFIXES)


def _resolve(document: dict, item: dict) -> dict:
    ref = item.get("$ref")
    return document["components"]["parameters"][ref.rsplit("/", 1)[1]] if ref else item


def test_every_json_route_is_documented_with_its_methods_and_nothing_else(app_module, served):
    routes = {path: {method.lower() for method in methods}
              for path, methods in app_module.app.routes.items() if _documented_route(path)}
    documented = {path: set(item) & METHODS for path, item in served["paths"].items()}
    assert documented == routes
    assert not any(path.startswith("/twilio") for path in served["paths"])


def test_path_parameters_are_the_routes_with_the_codes_patterns(served):
    for path, item in served["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for method in set(item) & METHODS:
            parameters = [_resolve(served, p) for p in item[method].get("parameters", [])]
            in_path = {p["name"]: p for p in parameters if p["in"] == "path"}
            assert set(in_path) == names, f"{method.upper()} {path}"
            for name, parameter in in_path.items():
                assert parameter["required"] is True
                if name in PATH_PATTERNS:
                    assert parameter["schema"]["pattern"] == f"^(?:{PATH_PATTERNS[name]})$"


def test_admin_routes_need_a_session_or_an_api_key_and_the_public_ones_neither(served):
    from chalicelib.console.access import needs_principal

    for path, item in served["paths"].items():
        for method in set(item) & METHODS:
            security = item[method]["security"]
            admin = needs_principal(method.upper(), path)
            assert security == ([{"bearer": []}, {"apiKey": []}] if admin else []), path
            assert "401" in item[method]["responses"] or not admin, (method, path)
    schemes = served["components"]["securitySchemes"]
    assert {k: v for k, v in schemes["apiKey"].items() if k != "description"} == {
        "type": "apiKey", "in": "header", "name": "x-api-key"}
    assert schemes["bearer"]["scheme"] == "bearer"


def test_the_document_is_valid_openapi(served):
    assert served["openapi"].startswith("3.0.")
    assert served["servers"] == [{"url": PUBLIC_BASE_URL}]
    schema = schemathesis.openapi.from_dict(served)
    schema.validate()  # the OpenAPI 3.0 meta-schema
    operations = list(schema.get_all_operations())
    assert operations and all(result.ok() for result in operations)


def test_the_bodies_have_the_fields_the_api_reads(served):
    """Admin bodies refuse unknown fields, so the document must list each one the code knows."""
    from chalicelib.callbacks.web import FIELDS
    from chalicelib.routing.admin import AGENT_FIELDS, AGENT_LIVE_FIELDS, QUEUE_FIELDS

    schemas = served["components"]["schemas"]
    assert set(schemas["AgentInput"]["properties"]) == AGENT_FIELDS | AGENT_LIVE_FIELDS
    assert set(schemas["QueueInput"]["properties"]) == QUEUE_FIELDS
    assert set(schemas["CallbackForm"]["properties"]) == FIELDS
    for name in ("AgentInput", "QueueInput", "CallbackForm", "AgentStateChange", "Transfer",
                 "Resolve"):
        assert schemas[name]["additionalProperties"] is False, name
