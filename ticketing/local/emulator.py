"""The AWS emulator: a moto server on 127.0.0.1 that every boto3/pynamodb client of the process talks to.

Handlers find it through the standard `AWS_ENDPOINT_URL` variable, so the same code runs unchanged against
LocalStack or a real account. The environment must be set before any `shared.storage` or `functions` module is
imported, because table names and clients are read at import time.
"""

from __future__ import annotations

from typing import Any

import logging
import os
import threading
from collections.abc import MutableMapping

from werkzeug.serving import BaseWSGIServer, make_server

LOCAL_HOST = "127.0.0.1"
DEFAULT_REGION = "us-east-1"
FAKE_CREDENTIAL = "testing"


def point_environment_at(endpoint_url: str, environ: MutableMapping[str, str] | None = None) -> None:
    """Aim every AWS SDK client at `endpoint_url` with a region and (unless already set) fake credentials."""
    env = os.environ if environ is None else environ
    env["AWS_ENDPOINT_URL"] = endpoint_url
    env.setdefault("AWS_DEFAULT_REGION", DEFAULT_REGION)
    env.setdefault("AWS_REGION", env["AWS_DEFAULT_REGION"])
    env.setdefault("AWS_ACCESS_KEY_ID", FAKE_CREDENTIAL)
    env.setdefault("AWS_SECRET_ACCESS_KEY", FAKE_CREDENTIAL)
    # DynamoDB Streams reads fail against an emulator with account-id endpoints (botocore's account-id endpoint mode).
    env.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")


def _serialized(app: Any) -> Any:
    """DynamoDB requests one at a time. moto does not isolate concurrent requests: two transactions evaluated at
    once can both pass `load < capacity`. Real DynamoDB isolates them; serialising gives the same guarantee, and
    clients still race between their reads and their conditional writes, as they do on AWS. Other services (SQS
    long polls above all) are left concurrent."""
    lock = threading.Lock()

    def call(environ: Any, start_response: Any) -> Any:
        if str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith("DynamoDB"):
            with lock:
                return list(app(environ, start_response))
        return app(environ, start_response)

    return call


class AwsEmulator:
    """A moto server in a background thread.

    Unlike moto's ThreadedMotoServer, the socket is bound in `start()` on the caller's thread, so a port that is
    already taken fails loudly instead of leaving `start()` waiting forever.
    """

    def __init__(self, port: int, host: str = LOCAL_HOST) -> None:
        self._host = host
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def port(self) -> int:
        if self._server is None:
            return self._port
        return int(self._server.server_address[1])

    def start(self) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one log line per AWS call drowns the banner
        app = _serialized(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(self._host, self._port, app, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="aws-emulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None
