"""Schemathesis against the running API: requests generated from `/openapi.json` (valid ones, and ones that break
the schema) sent over HTTP to Chalice's local gateway, on moto. No response may be a 5xx, and every response
must match the schema the document declares for its status (errors included). Bounded and derandomised, so the
run is the same on every machine; SCHEMATHESIS_EXAMPLES raises the bound for a deeper local run."""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from shared.adapters.secrets import signing_key
from shared.auth import issue_token
from shared.settings import get_settings

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "20"))
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture
def api_url(aws):
    """The API on a free port, over real HTTP, against moto in this process."""
    from ticketing.local.api_server import ApiServer

    server = ApiServer(port=0)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def _document(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/openapi.json", timeout=10) as response:  # noqa: S310 - our own server
        return json.loads(response.read())


def _operations(document: dict[str, Any]) -> list[Any]:
    schema = schemathesis.openapi.from_dict(document)
    return [result.ok() for result in schema.get_all_operations()]


def test_the_document_describes_every_route_with_its_parameters_bodies_and_errors(api_url):
    from functions.api.app import app

    document = _document(api_url)
    schemathesis.openapi.from_dict(document).validate()  # a valid OpenAPI 3.1 document (its meta-schema)
    declared = {(path, method.upper()) for path, methods in document["paths"].items() for method in methods}
    routed = {(path, method) for path, methods in app.routes.items() for method in methods}
    assert declared == routed
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            assert spec["summary"], (method, path)
            assert any(code.startswith("2") for code in spec["responses"]), (method, path)
            if spec["security"]:
                assert {"401", "403"} <= set(spec["responses"]), (method, path)
            if method in ("put", "post", "patch"):
                assert "$ref" in spec["requestBody"]["content"]["application/json"]["schema"], (method, path)
    assert not [name for name, schema in document["components"]["schemas"].items() if schema == {}]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_generated_request_gets_a_5xx_or_a_reply_off_its_schema(api_url, mode):
    token = issue_token(signing_key(get_settings()), "admin", "admin-1")
    auth = {"Authorization": f"Bearer {token}"}
    operations = _operations(_document(api_url))
    assert len(operations) >= 25
    seen: dict[str, int] = {}
    nothing_to_break: list[str] = []

    for operation in operations:

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(case=operation.as_strategy(generation_mode=mode))
        def exercise(case: Any) -> None:
            response = case.call(base_url=api_url, headers=auth, timeout=30)
            seen[str(response.status_code)] = seen.get(str(response.status_code), 0) + 1
            case.validate_response(response, checks=CHECKS)

        try:
            exercise()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE, operation.label  # nothing in it can be sent wrong (GET /health)
            nothing_to_break.append(operation.label)
    assert not [status for status in seen if status.startswith("5")], seen
    assert len(nothing_to_break) <= 6, nothing_to_break
    print(f"schemathesis {mode.value}: {sum(seen.values())} requests, statuses {dict(sorted(seen.items()))}")
