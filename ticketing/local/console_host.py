"""The agent console on the local stack: the built single-page app (console/dist) at `/`, and the dev sign-in.

The deployed product serves the same files from S3 behind CloudFront and signs agents in through Cognito; only
the local stack has `/local/session`, which lists the roster and hands out a token signed with the stack's key
for whoever is picked (the stack listens on loopback only). `/console-config.json` tells the app which sign-in
it has. API paths are never answered here.
"""

from __future__ import annotations

import json
import mimetypes
import re
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from ticketing.local.template import REPO_ROOT

CONSOLE_DIST = REPO_ROOT / "console" / "dist"
API_PREFIXES = ("/v1/", "/webhooks/", "/health", "/openapi.json")
SESSION_PATH = "/local/session"
SESSION_TTL_SECONDS = 8 * 3600  # a shift; MAX_TOKEN_TTL_SECONDS may cap it lower
MAX_SESSION_BODY = 4096
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$")
# What the app needs and nothing more: its own scripts and styles, the API on the same origin.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class SessionRefused(ValueError):
    """A dev sign-in request the stack cannot honour; the message says why."""


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str
    cache: str = "no-cache"


def _json(status: int, payload: Any) -> Reply:
    return Reply(status, json.dumps(payload).encode(), "application/json")


def _error(status: int, code: str, message: str) -> Reply:
    return _json(status, {"error": {"code": code, "message": message}})


class ConsoleHost:
    def __init__(self, dist: Path = CONSOLE_DIST) -> None:
        self.dist = dist

    @property
    def built(self) -> bool:
        return (self.dist / "index.html").is_file()

    def answers(self, method: str, path: str) -> bool:
        """Whether this request is the console's (everything but the API's own paths)."""
        path = path.split("?", 1)[0]
        if path.startswith(API_PREFIXES) or path in ("/v1", "/webhooks"):
            return False
        return method in ("GET", "HEAD") or (method == "POST" and path == SESSION_PATH)

    def handle(self, method: str, path: str, body: bytes) -> Reply:
        path = path.split("?", 1)[0]
        if path == SESSION_PATH:
            return self._session(method, body)
        if path == "/console-config.json":
            return _json(200, {"sign_in": "dev", "session": SESSION_PATH})
        return self._file(path)

    # ---------------------------------------------------------------- files

    def _file(self, path: str) -> Reply:
        if not self.built:
            return _error(503, "console_not_built",
                          "the console is not built: run `make console` (make run and make test build it)")  # fmt: skip
        relative = path.lstrip("/") or "index.html"
        target = (self.dist / relative).resolve()
        if not target.is_relative_to(self.dist.resolve()):
            return _error(404, "not_found", f"no file {path[:200]}")
        if target.is_file():
            kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            immutable = "/assets/" in path and target.name != "index.html"
            return Reply(200, target.read_bytes(), kind, "public, max-age=31536000, immutable" if immutable else "no-cache")
        if "." in relative.rsplit("/", 1)[-1]:
            return _error(404, "not_found", f"no file {path[:200]}")
        # a screen of the single-page app (its routes live in the hash, but a pasted path still opens the app)
        return Reply(200, (self.dist / "index.html").read_bytes(), "text/html; charset=utf-8")

    # ---------------------------------------------------------------- dev sign-in

    def _session(self, method: str, body: bytes) -> Reply:
        if method in ("GET", "HEAD"):
            return _json(200, self._offer())
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return _error(400, "bad_request", "send JSON: {\"agent\": \"rina\", \"role\": \"agent\", \"teams\": [\"support\"]}")
        try:
            return _json(200, self._sign_in(request))
        except SessionRefused as refused:
            return _error(400, "validation_failed", str(refused))

    @staticmethod
    def _offer() -> dict[str, Any]:
        from shared.storage.agents import AgentRepository

        agents = [view.resource() for view in AgentRepository().roster()]
        listed = [{"id": a["id"], "name": a.get("name"), "team": a["team"], "presence": a["presence"]} for a in agents]
        teams = sorted({a["team"] for a in agents} | {"support"})
        return {"mode": "dev", "agents": sorted(listed, key=lambda a: a["id"]), "teams": teams,
                "roles": ["agent", "supervisor", "admin"]}  # fmt: skip

    @staticmethod
    def _sign_in(request: Any) -> dict[str, Any]:
        from datetime import UTC, datetime, timedelta

        from shared.adapters.secrets import signing_key
        from shared.auth import issue_token
        from shared.domain.errors import DomainError
        from shared.settings import get_settings

        if not isinstance(request, dict):
            raise SessionRefused("the body must be a JSON object")
        agent, role, teams = request.get("agent"), request.get("role", "agent"), request.get("teams") or ["support"]
        if agent is not None and (not isinstance(agent, str) or not _ID.match(agent)):
            raise SessionRefused("agent: an agent id (letters, digits, _ . : @ -; at most 64)")
        if role != "admin" and not agent:
            raise SessionRefused("agent: an agent or supervisor signs in as someone; pick an agent")
        if not isinstance(teams, list) or not teams or not all(isinstance(x, str) and _ID.match(x) for x in teams):
            raise SessionRefused("teams: a list of team ids")
        settings = get_settings()
        ttl = min(SESSION_TTL_SECONDS, settings.max_token_ttl_seconds)
        try:
            token = issue_token(signing_key(settings), str(role), agent, ttl, settings.max_token_ttl_seconds, tuple(teams))
        except DomainError as refused:
            raise SessionRefused(refused.message) from None
        expires = datetime.now(UTC) + timedelta(seconds=ttl)
        return {"token": token, "role": role, "agent": agent, "teams": teams,
                "expires_at": expires.isoformat(timespec="seconds").replace("+00:00", "Z")}  # fmt: skip


def send(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
    handler.send_response(reply.status)
    handler.send_header("Content-Type", reply.content_type)
    handler.send_header("Content-Length", str(len(reply.body)))
    handler.send_header("Cache-Control", reply.cache)
    for name, value in SECURITY_HEADERS.items():
        handler.send_header(name, value)
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(reply.body)
