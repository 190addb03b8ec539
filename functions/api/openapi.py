"""`/openapi.json`: an OpenAPI 3.1 document generated from the routes' declarations (functions/api/gateway.py)
and their pydantic models, so it cannot drift from what the API validates and answers."""

from __future__ import annotations

import inspect
import re
from functools import lru_cache
from typing import Any, Iterable, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from shared.contracts.api import ID_PATTERN, ErrorBody

from functions.api.gateway import Operation, contract

REF = "#/components/schemas/{model}"
Mode = Literal["validation", "serialization"]
_PARAM = re.compile(r"{(\w+)}")
_REASONS = {
    200: "OK", 201: "Created", 204: "No content", 304: "Not modified: the copy whose ETag was sent is current", 400: "The request is not valid: the message says what and where",
    401: "A missing, forged or expired bearer token", 403: "The token's role may not do this",
    404: "No such resource (or route)", 409: "The change conflicts with the resource's state",
    413: "The body is too large", 415: "The body is not sent as application/json",
}  # fmt: skip


def document(operations: Iterable[Operation]) -> dict[str, Any]:
    return _document(tuple(operations))


@lru_cache(maxsize=1)
def _document(operations: tuple[Operation, ...]) -> dict[str, Any]:
    refs, schemas = _schemas(operations)
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Ticketing API",
            "version": "1",
            "description": "The customer-support ticketing API. Every error is {\"error\": {\"code\", \"message\"}}; "
            "routes with a role need 'Authorization: Bearer <token>' (`ticketing token --role agent`).",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
        "tags": [{"name": tag} for tag in dict.fromkeys(op.tag for op in operations)],
    }


def _schemas(operations: tuple[Operation, ...]) -> tuple[dict[tuple[type[BaseModel], Mode], Any], dict[str, Any]]:
    wanted: dict[tuple[type[BaseModel], Mode], None] = {(ErrorBody, "serialization"): None}
    for op in operations:
        for name, mode in ((op.query, "validation"), (op.body or op.raw_body, "validation"), (op.response, "serialization")):
            if name is not None:
                wanted[(contract(name), mode)] = None  # type: ignore[index]
    refs, top = models_json_schema(list(wanted), ref_template=REF)
    return {key: value for key, value in refs.items()}, dict(top.get("$defs", {}))  # type: ignore[misc]


def _operation(op: Operation, refs: dict[tuple[type[BaseModel], Mode], Any], schemas: dict[str, Any]) -> dict[str, Any]:
    described = " ".join((inspect.getdoc(op.view) or op.view.__name__.replace("_", " ").capitalize()).split())
    summary = re.split(r"(?<=\.)\s", described, maxsplit=1)[0].rstrip(".")
    spec: dict[str, Any] = {
        "operationId": op.view.__name__,
        "tags": [op.tag],
        "summary": summary.strip(),
        "parameters": _path_parameters(op) + _query_parameters(op, refs, schemas) + _header_parameters(op),
        "responses": _responses(op, refs),
        "security": [{"bearer": []}] if op.role is not None else [],
    }
    if described != summary:
        spec["description"] = described
    if op.role is not None:
        spec["x-required-role"] = op.role.value
    body = op.body or op.raw_body
    if body is not None:
        spec["requestBody"] = {"required": True, "content": {"application/json": {"schema": refs[(contract(body), "validation")]}}}
    return spec


def _path_parameters(op: Operation) -> list[dict[str, Any]]:
    out = []
    for name in _PARAM.findall(op.path):
        schema: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 64}
        if name in op.ids:
            schema["pattern"] = ID_PATTERN
        out.append({"name": name, "in": "path", "required": True, "schema": schema})
    return out


def _query_parameters(
    op: Operation, refs: dict[tuple[type[BaseModel], Mode], Any], schemas: dict[str, Any]
) -> list[dict[str, Any]]:
    if op.query is None:
        return []
    component = schemas[refs[(contract(op.query), "validation")]["$ref"].rsplit("/", 1)[1]]
    required = set(component.get("required", ()))
    out = []
    for name, schema in component.get("properties", {}).items():
        parameter = {"name": name, "in": "query", "required": name in required, "schema": schema}
        if "description" in schema:
            parameter["description"] = schema["description"]
        out.append(parameter)
    return out


def _header_parameters(op: Operation) -> list[dict[str, Any]]:
    return [{"name": name, "in": "header", "required": False, "description": what,
             "schema": {"type": "string", "maxLength": 200}} for name, what in op.headers]  # fmt: skip


def _responses(op: Operation, refs: dict[tuple[type[BaseModel], Mode], Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status in (op.status, *op.also):
        entry: dict[str, Any] = {"description": _REASONS.get(status, "OK")}
        if op.text:
            entry["content"] = {"text/plain": {"schema": {"type": "string"}}}
        elif status not in (204, 304):
            schema = refs[(contract(op.response), "serialization")] if op.response is not None else {"type": "object"}
            entry["content"] = {"application/json": {"schema": schema}}
        responses[str(status)] = entry
    error = {"application/json": {"schema": refs[(ErrorBody, "serialization")]}}
    for status in sorted(set(op.errors)):
        responses[str(status)] = {"description": _REASONS.get(status, "Error"), "content": error}
    return responses
