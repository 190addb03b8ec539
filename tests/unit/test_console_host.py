"""The local stack's console host: the built app at `/` with its security headers, a single-page fallback for
screens, 404 for missing files and for paths outside dist/, the API's own paths left to the API, and the dev
sign-in refusing what it cannot honour (the token itself is checked through the stack by the browser tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ticketing.local.console_host import ConsoleHost, SessionRefused

pytestmark = pytest.mark.unit


@pytest.fixture
def host(tmp_path: Path) -> ConsoleHost:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><div id=root></div>")
    (dist / "assets" / "app-1234.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("not for the browser")
    return ConsoleHost(dist)


def test_the_app_its_assets_and_its_screens_are_served(host: ConsoleHost) -> None:
    index = host.handle("GET", "/", b"")
    assert index.status == 200 and b"root" in index.body and index.cache == "no-cache"
    asset = host.handle("GET", "/assets/app-1234.js", b"")
    assert asset.status == 200 and "javascript" in asset.content_type and "immutable" in asset.cache
    assert host.handle("GET", "/inbox?x=1", b"").body == index.body  # a pasted screen path still opens the app


def test_missing_files_and_paths_outside_dist_are_404(host: ConsoleHost) -> None:
    assert host.handle("GET", "/assets/nosuch.js", b"").status == 404
    assert host.handle("GET", "/../secret.txt", b"").status == 404
    assert host.handle("GET", "/%2e%2e/secret.txt", b"").status == 404


def test_the_api_keeps_its_own_paths(host: ConsoleHost) -> None:
    for path in ("/v1/tickets", "/v1", "/webhooks/whatsapp", "/health", "/openapi.json"):
        assert not host.answers("GET", path), path
    assert host.answers("GET", "/") and host.answers("GET", "/assets/app.js") and host.answers("POST", "/local/session")
    assert not host.answers("POST", "/") and not host.answers("PUT", "/local/session")


def test_an_unbuilt_console_says_how_to_build_it(tmp_path: Path) -> None:
    reply = ConsoleHost(tmp_path / "nothing").handle("GET", "/", b"")
    assert reply.status == 503 and "make console" in json.loads(reply.body)["error"]["message"]


@pytest.mark.parametrize(
    ("request_body", "problem"),
    [
        ([], "JSON object"),
        ({"role": "agent"}, "pick an agent"),
        ({"agent": "rina; drop", "role": "agent"}, "agent id"),
        ({"agent": "rina", "teams": "support"}, "list of team ids"),
        ({"agent": "rina", "teams": ["../x"]}, "list of team ids"),
    ],
)
def test_the_dev_sign_in_refuses_what_it_cannot_honour(request_body: object, problem: str) -> None:
    with pytest.raises(SessionRefused, match=problem):
        ConsoleHost._sign_in(request_body)


def test_a_sign_in_that_is_not_json_is_a_400(host: ConsoleHost) -> None:
    reply = host.handle("POST", "/local/session", b"agent=rina")
    assert reply.status == 400 and json.loads(reply.body)["error"]["code"] == "bad_request"
