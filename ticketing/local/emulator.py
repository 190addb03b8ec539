"""The AWS emulator: a moto server on 127.0.0.1 that every boto3/pynamodb client of the process talks to, with
DynamoDB in DynamoDB Local (`ticketing.local.dynamodb_local`) when the stack runs one.

Handlers find them through the standard `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_DYNAMODB` variables, so the
same code runs unchanged against LocalStack or a real account. The environment must be set before any `shared.storage` or `functions` module is
imported, because table names and clients are read at import time.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import threading
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlsplit

from werkzeug.serving import BaseWSGIServer, make_server

LOCAL_HOST = "127.0.0.1"
DEFAULT_REGION = "us-east-1"
FAKE_CREDENTIAL = "testing"


DYNAMODB_TARGETS = ("DynamoDB_20120810.", "DynamoDBStreams_20120810.")


def point_environment_at(endpoint_url: str, environ: MutableMapping[str, str] | None = None, *,
                         dynamodb_url: str | None = None) -> None:  # fmt: skip
    """Aim every AWS SDK client at `endpoint_url` (DynamoDB and its streams at `dynamodb_url`, when given) with a
    region and (unless already set) fake credentials. The per-service variables are botocore's own."""
    env = os.environ if environ is None else environ
    env["AWS_ENDPOINT_URL"] = endpoint_url
    if dynamodb_url is not None:
        env["AWS_ENDPOINT_URL_DYNAMODB"] = dynamodb_url
        env["AWS_ENDPOINT_URL_DYNAMODB_STREAMS"] = dynamodb_url
    env.setdefault("AWS_DEFAULT_REGION", DEFAULT_REGION)
    env.setdefault("AWS_REGION", env["AWS_DEFAULT_REGION"])
    env.setdefault("AWS_ACCESS_KEY_ID", FAKE_CREDENTIAL)
    env.setdefault("AWS_SECRET_ACCESS_KEY", FAKE_CREDENTIAL)
    # DynamoDB Streams reads fail against an emulator with account-id endpoints (botocore's account-id endpoint mode).
    env.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")


_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization"}


def _forwarding_dynamodb(app: Any, target: str) -> Any:
    """DynamoDB requests (X-Amz-Target DynamoDB_20120810.*, DynamoDBStreams_20120810.*) relayed to `target`, so a
    client that only sets AWS_ENDPOINT_URL still reaches the stack's real tables in DynamoDB Local; the rest goes
    to moto. Each request gets its own connection: DynamoDB Local isolates concurrent requests itself."""
    parts = urlsplit(target)
    host, port = parts.hostname or LOCAL_HOST, parts.port or 80

    def call(environ: Any, start_response: Any) -> Any:
        if not str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(DYNAMODB_TARGETS):
            return app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in _HOP_BY_HOP | {"host"}
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        headers["Content-Length"] = str(len(body))
        connection = http.client.HTTPConnection(host, port, timeout=120)
        try:
            path = environ.get("PATH_INFO") or "/"
            if environ.get("QUERY_STRING"):
                path += "?" + environ["QUERY_STRING"]
            connection.request(environ.get("REQUEST_METHOD", "POST"), path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            reply = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP | {"content-length"}]
            reply.append(("Content-Length", str(len(payload))))
            start_response(f"{response.status} {response.reason}", reply)
            return [payload]
        except OSError as exc:
            message = json.dumps({"__type": "com.amazonaws.dynamodb#ServiceUnavailable",
                                  "message": f"DynamoDB Local at {target} does not answer: {exc}"}).encode()  # fmt: skip
            start_response("503 Service Unavailable", [("Content-Type", "application/x-amz-json-1.0"),
                                                       ("Content-Length", str(len(message)))])  # fmt: skip
            return [message]
        finally:
            connection.close()

    return call


class AwsEmulator:
    """A moto server in a background thread.

    Unlike moto's ThreadedMotoServer, the socket is bound in `start()` on the caller's thread, so a port that is
    already taken fails loudly instead of leaving `start()` waiting forever. Without `dynamodb_url` moto serves
    DynamoDB itself and does not isolate concurrent requests (two transactions can both pass `load < capacity`):
    fine for tests that do not race, which is why the local stack relays DynamoDB to DynamoDB Local instead.
    """

    def __init__(self, port: int, host: str = LOCAL_HOST, *, dynamodb_url: str | None = None) -> None:
        self._host = host
        self._port = port
        self._dynamodb_url = dynamodb_url  # DynamoDB requests go there; None: moto serves them (in-process tests)
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
        app: Any = DomainDispatcherApplication(create_backend_app)
        if self._dynamodb_url is not None:
            app = _forwarding_dynamodb(app, self._dynamodb_url)
        self._server = make_server(self._host, self._port, app, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="aws-emulator", daemon=True)  # fmt: skip
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None
