"""Team boundaries through the API: a token names the teams its holder works in; another team's ticket is a 403
on every ticket route and absent from the list, a supervisor of several teams sees them all, an admin every team."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from chalice.test import Client

from shared.adapters.secrets import purpose_key, signing_key
from shared.auth import AUDIENCE, ISSUER, issue_token
from shared.settings import get_settings
from tests.support import compose, deliver

pytestmark = pytest.mark.integration


def token(role: str, agent: str | None, *teams: str) -> dict[str, str]:
    issued = issue_token(signing_key(get_settings()), role, agent, teams=teams or ("support",))
    return {"Authorization": f"Bearer {issued}", "Content-Type": "application/json"}


@pytest.fixture
def api(aws):
    from functions.api.app import app

    with Client(app) as client:
        yield client


def call(api: Client, method: str, path: str, headers: dict[str, str], body: object = None) -> tuple[int, object]:
    response = getattr(api.http, method.lower())(path, headers=headers, body=json.dumps(body) if body is not None else None)
    return response.status_code, json.loads(response.body) if response.body else None


@pytest.fixture
def support_ticket(api, aws) -> dict[str, object]:
    deliver(aws.s3, compose(subject="Tidak bisa login"))
    status, listing = call(api, "GET", "/v1/tickets", token("agent", "rina"))
    assert status == 200 and len(listing["items"]) == 1  # type: ignore[index]
    ticket: dict[str, object] = listing["items"][0]  # type: ignore[index]
    assert ticket["team"] == "support"
    return ticket


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"status": "pending"}),
        ("POST", "/replies", {"body": "Halo dari billing"}),
        ("POST", "/replies", {"body": "catatan", "internal": True}),
    ],
)
def test_an_agent_of_another_team_gets_403_and_changes_nothing(api, support_ticket, method, suffix, body):
    path = f"/v1/tickets/{support_ticket['id']}{suffix}"
    status, reply = call(api, method, path, token("agent", "dewi", "billing"), body)
    assert status == 403 and reply["error"]["code"] == "forbidden", reply  # type: ignore[index]
    assert "team support" in reply["error"]["message"]  # type: ignore[index]
    _, unchanged = call(api, "GET", f"/v1/tickets/{support_ticket['id']}", token("agent", "rina"))
    assert unchanged["status"] == support_ticket["status"]  # type: ignore[index]
    assert len(unchanged["messages"]) == support_ticket["message_count"]  # type: ignore[index]


def test_the_list_holds_only_the_callers_teams_and_an_admin_sees_every_team(api, support_ticket):
    assert call(api, "GET", "/v1/tickets", token("agent", "dewi", "billing"))[1] == {"items": [], "next_cursor": None}
    for headers in (token("supervisor", "joko", "billing", "support"), token("admin", None, "billing")):
        status, listing = call(api, "GET", "/v1/tickets", headers)
        assert status == 200 and [t["id"] for t in listing["items"]] == [support_ticket["id"]]  # type: ignore[index]
        assert call(api, "GET", f"/v1/tickets/{support_ticket['id']}", headers)[0] == 200


def test_a_token_whose_teams_are_not_a_list_of_ids_is_refused(api):
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "mallory", "role": "agent", "iat": now, "exp": now + 60, "teams": "support"}
    forged_shape = jwt.encode(claims, purpose_key(signing_key(get_settings()), "api-token"), algorithm="HS256")
    status, reply = call(api, "GET", "/v1/tickets", {"Authorization": f"Bearer {forged_shape}"})
    assert status == 401 and "teams" in reply["error"]["message"]  # type: ignore[index]
