"""The agent API (Chalice): the app from functions/api/gateway.py with every area's blueprint registered, the
health check and the OpenAPI document generated from the routes' contracts."""

from __future__ import annotations

from typing import Any


from functions.api.gateway import OPERATIONS, app, operation
from functions.api.routes import BLUEPRINTS

__all__ = ["app"]

for blueprint in BLUEPRINTS:
    app.register_blueprint(blueprint)


@operation(app, "GET", "/health", tag="meta", role=None, response="Health")
def health() -> dict[str, str]:
    """Up and serving; needs no token."""
    return {"status": "ok"}


@operation(app, "GET", "/openapi.json", tag="meta", role=None)
def openapi() -> dict[str, Any]:
    """This document: OpenAPI 3.1, generated from the request and response models of every route."""
    from functions.api.openapi import document

    return document(OPERATIONS)
