"""The API's edge: one error shape for everything a client can get wrong, and request bodies read defensively.

Every 4xx and 5xx — ours, and the ones Chalice produces itself before a view runs (unsupported method, bad
JSON) — leaves as `{"error": {"code": "...", "message": "..."}}`. Bodies must be JSON objects sent as
`application/json`, at most MAX_BODY_BYTES, and every string in them valid Unicode (a lone surrogate cannot be
stored or sent anywhere).
"""

from __future__ import annotations

import json
import re
from typing import Any

from chalice.app import Chalice, Request, Response

from shared.domain.errors import DomainError, ValidationFailed

MAX_BODY_BYTES = 1024 * 1024  # far above any real ticket, reply or setting; DynamoDB items stop at 400 KB anyway
MAX_DEPTH = 32


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"


class PayloadTooLarge(DomainError):
    code = "payload_too_large"


def error_body(code: str, message: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def error_response(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> Response:
    return Response(body=error_body(code, message, fields), status_code=status)


def _snake(name: str) -> str:
    name = name.removesuffix("Error") or name
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Api(Chalice):
    """Chalice whose own error replies (405 for a method a path lacks, 400 for a body it cannot parse, ...) come
    in the API's one error shape, like every error a view returns."""

    def __call__(self, event: Any, context: Any) -> Any:
        response = super().__call__(event, context)
        return reshaped_error(response)


def reshaped_error(response: Any) -> Any:
    if not isinstance(response, dict) or int(response.get("statusCode", 200)) < 400:
        return response
    try:
        body = json.loads(response.get("body") or "null")
    except (TypeError, ValueError):
        return response
    if isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code, message = _snake(str(body["Code"])), str(body["Message"])
        if code == "unsupported_media_type":
            message += "; send the body as JSON with 'Content-Type: application/json'"
        response = dict(response)
        response["body"] = json.dumps(error_body(code, message))
    return response


def json_object(request: Request) -> dict[str, Any]:
    """The request's body as a JSON object, or the 4xx that says what is wrong with it."""
    content_type = str(request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if content_type != "application/json":
        shown = f"Content-Type {content_type!r}" if content_type else "no Content-Type"
        raise UnsupportedMediaType(f"send the body as JSON with 'Content-Type: application/json' (got {shown})")
    raw_body = request.raw_body or b""
    raw = raw_body.encode("utf-8") if isinstance(raw_body, str) else raw_body
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is {len(raw)} bytes; at most {MAX_BODY_BYTES} are accepted")
    try:
        body = json.loads(raw.decode("utf-8")) if raw else None
    except RecursionError as exc:
        raise ValidationFailed("the body is nested too deeply") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationFailed(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ValidationFailed("the body must be a JSON object")
    _check_text(body, "", 0)
    return body


def _check_text(value: Any, path: str, depth: int) -> None:
    where = path or "the body"
    if depth > MAX_DEPTH:
        raise ValidationFailed(f"{where} is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValidationFailed(f"{where} is not valid Unicode text: a lone surrogate at character {exc.start}") from exc
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, f"a key of {where}", depth + 1)
            _check_text(item, f"{path}.{key}" if path else str(key), depth + 1)
    elif isinstance(value, list):
        for n, item in enumerate(value):
            _check_text(item, f"{where}[{n}]", depth + 1)


def conditional(request: Request | None, body: dict[str, Any]) -> Response:
    """The reply with an `ETag` (a digest of exactly what would be sent), or a bodiless 304 when the client's
    `If-None-Match` names it already: nothing changed since it last looked."""
    import hashlib

    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    tag = f'"{hashlib.sha256(text.encode()).hexdigest()[:32]}"'
    given = (request.headers.get("if-none-match") or "") if request is not None else ""
    known = {part.strip().removeprefix("W/") for part in given.split(",")}
    if tag in known or "*" in known:
        return Response(body="", status_code=304, headers={"ETag": tag})
    return Response(body=body, status_code=200, headers={"ETag": tag})
