"""The Chalice API served on 127.0.0.1 by Chalice's own local gateway, in a background thread.

Chalice's local server converts each HTTP request into the API Gateway proxy event and runs the same route code
(and authorizers) the deployed Lambda runs. The app is imported only when the server starts, after the
environment points at the emulator.
"""

from __future__ import annotations

import importlib
import json
import logging
import threading
from pathlib import Path
from typing import Any

from ticketing.local.template import REPO_ROOT

# Not under "ticketing": Powertools' Logger(service="ticketing") owns that name and would reformat these lines.
log = logging.getLogger(__name__.replace("ticketing.local", "local_stack"))

DEFAULT_APP = "functions.api.app:app"
CHALICE_STAGE = "local"
MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
MAX_URL_CHARS = 8192
MISSING_TOKEN = "missing bearer token: send 'Authorization: Bearer <token>' (see `ticketing token`)"


def _gateway_handler() -> Any:
    """Chalice's request handler with API Gateway's edges in the API's own error shape: an unknown route is a 404
    (Chalice's local gateway answers 403 and echoes the Authorization header back), an oversized body a 413, an
    overlong URL a 414, a malformed request a 400."""
    from chalice.local import ChaliceRequestHandler, ForbiddenError, NotAuthorizedError

    from ticketing.local.console_host import MAX_SESSION_BODY, ConsoleHost
    from ticketing.local.console_host import send as send_console

    console = ConsoleHost()

    class GatewayRequestHandler(ChaliceRequestHandler):
        def _reply(self, status: int, code: str, message: str) -> None:
            body = json.dumps({"error": {"code": code, "message": message}}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if status in (400, 413, 414, 431):
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """BaseHTTPRequestHandler's own protocol errors (request line too long, bad version ...)."""
            names = {400: "bad_request", 414: "uri_too_long", 431: "headers_too_large", 501: "not_implemented"}
            self._reply(code, names.get(code, "http_error"), message or explain or f"HTTP error {code}")

        def parse_request(self) -> bool:
            if not super().parse_request():
                return False
            if len(self.path) > MAX_URL_CHARS:
                self._reply(414, "uri_too_long", f"the URL is {len(self.path)} characters; at most {MAX_URL_CHARS}")
                return False
            return True

        def _generic_handle(self) -> None:
            raw_length = self.headers.get("content-length", "0") or "0"
            try:
                length = int(raw_length)
            except ValueError:
                self._reply(400, "bad_request", f"Content-Length is not a number: {raw_length[:40]!r}")
                return
            if length < 0:
                self._reply(400, "bad_request", "Content-Length is negative")
                return
            if length > MAX_REQUEST_BYTES:
                self._reply(413, "payload_too_large", f"the body is {length} bytes; at most {MAX_REQUEST_BYTES} are accepted")
                return
            if console.answers(self.command, self.path):
                if length > MAX_SESSION_BODY:
                    self._reply(413, "payload_too_large", f"a sign-in is at most {MAX_SESSION_BODY} bytes")
                    return
                send_console(self, console.handle(self.command, self.path, self.rfile.read(length) if length else b""))
                return
            super()._generic_handle()

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle  # noqa: N815

        def _send_error_response(self, error: Any) -> None:
            if isinstance(error, ForbiddenError):  # the authorizer never denies (it fails with 401): no such route
                path = self.path.split("?", 1)[0]
                self._reply(404, "not_found", f"no route {self.command} {path[:200]}; GET /openapi.json lists them")
                return
            if isinstance(error, NotAuthorizedError) and b'"error"' not in (error.body or b""):
                # the gateway's own 401 (no Authorization header); the authorizer's 401s already say why
                self._reply(401, "unauthorized", MISSING_TOKEN)
                return
            super()._send_error_response(error)

    return GatewayRequestHandler


def load_app(spec: str = DEFAULT_APP) -> Any:
    """`module:attribute` → the Chalice app object."""
    module_name, _, attribute = spec.partition(":")
    return getattr(importlib.import_module(module_name), attribute or "app")


def _chalice_config(app: Any, project_dir: Path) -> Any:
    from chalice.config import Config

    config_file = project_dir / ".chalice" / "config.json"
    from_disk = json.loads(config_file.read_text(encoding="utf-8")) if config_file.is_file() else {}
    return Config(
        chalice_stage=CHALICE_STAGE,
        user_provided_params={"chalice_app": app, "project_dir": str(project_dir), "app_name": app.app_name},
        config_from_disk=from_disk,
    )


class ApiServer:
    """Chalice's LocalDevServer (threaded per request) running until `stop()`."""

    def __init__(self, *, port: int, host: str = "127.0.0.1", app_spec: str = DEFAULT_APP) -> None:
        self.host = host
        self.port = port
        self._app_spec = app_spec
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.app: Any = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self.app = load_app(self._app_spec)
        module_name = self._app_spec.partition(":")[0]
        project_dir = REPO_ROOT.joinpath(*module_name.split(".")[:-1])
        from chalice.local import CustomLocalChalice, LocalChalice, LocalDevServer

        # what chalice.local.create_local_server does, with our handler: a thread-local current_request
        if not isinstance(self.app, CustomLocalChalice):  # a server started again in this process: already done
            CustomLocalChalice.__bases__ = (LocalChalice, self.app.__class__)
            self.app.__class__ = CustomLocalChalice
        server = LocalDevServer(
            self.app, _chalice_config(self.app, project_dir), self.host, self.port, handler_cls=_gateway_handler()
        )
        self.port = int(server.server.server_address[1])
        self._server = server
        # Call the HTTP server directly: LocalDevServer.serve_forever() prints its own banner.
        # A short poll interval: shutdown() waits for the loop to notice, up to one interval (0.5 s by default).
        self._thread = threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="api-server", daemon=True)  # fmt: skip
        self._thread.start()

    def has_route(self, path: str) -> bool:
        return self.app is not None and path in getattr(self.app, "routes", {})

    @property
    def console_url(self) -> str | None:
        """Where the agent console is served, once `make console` has built it."""
        from ticketing.local.console_host import ConsoleHost

        return f"{self.url}/" if ConsoleHost().built else None

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None
