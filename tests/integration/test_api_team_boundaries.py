"""Team boundaries through the API: a token names the teams its holder works in; another team's ticket is a 403
on every ticket route and absent from the list, a supervisor of several teams sees them all, an admin every team."""

from __future__ import annotations

import time

import jwt
import pytest

from shared.adapters.secrets import purpose_key, signing_key
from shared.auth import AUDIENCE, ISSUER
from shared.settings import get_settings
from tests.support import api_call, api_token, compose, deliver

pytestmark = pytest.mark.integration

token, call = api_token, api_call


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


def test_work_a_lead_lends_to_another_teams_agent_is_theirs_to_see_and_answer(api, support_ticket):
    from shared.domain.model import AgentProfile
    from shared.domain.timefmt import utcnow
    from shared.storage.agents import AgentRepository

    AgentRepository().save(AgentProfile(id="dewi", team="billing", presence="online", capacity=3), utcnow())
    ticket = f"/v1/tickets/{support_ticket['id']}"
    assert call(api, "PATCH", ticket, token("agent", "rina"), {"assignee": "dewi"})[0] == 403  # a lead's move
    assert call(api, "PATCH", ticket, token("supervisor", "sari"), {"assignee": "dewi"})[0] == 200
    dewi, eka = token("agent", "dewi", "billing"), token("agent", "eka", "billing")
    status, listing = call(api, "GET", "/v1/tickets?status=in_progress", dewi)
    assert status == 200 and [t["id"] for t in listing["items"]] == [support_ticket["id"]]  # type: ignore[index]
    assert call(api, "POST", f"{ticket}/replies", dewi, {"body": "cek", "internal": True})[0] == 201
    assert call(api, "GET", ticket, eka)[0] == 403 and call(api, "GET", "/v1/tickets", eka)[1]["items"] == []  # type: ignore[index]


def test_a_token_whose_teams_are_not_a_list_of_ids_is_refused(api):
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "mallory", "role": "agent", "iat": now, "exp": now + 60, "teams": "support"}
    forged_shape = jwt.encode(claims, purpose_key(signing_key(get_settings()), "api-token"), algorithm="HS256")
    status, reply = call(api, "GET", "/v1/tickets", {"Authorization": f"Bearer {forged_shape}"})
    assert status == 401 and "teams" in reply["error"]["message"]  # type: ignore[index]


# --- the authorization matrix: every route that changes or reads a team's work × who asks -------------------------

OWN, OTHER = ("support",), ("billing",)
CALLERS = {
    "agent/own": ("agent", "rina", OWN),
    "agent/other": ("agent", "dewi", OTHER),
    "supervisor/own": ("supervisor", "sari", OWN),
    "supervisor/other": ("supervisor", "wati", OTHER),
    "admin": ("admin", None, ()),
}
ROLE_RANK = {"agent": 0, "supervisor": 1, "admin": 2}
# method, path ({ticket} filled in), body, the least role, whether the route is bound to the support team
ROUTES = [
    ("GET", "/v1/tickets", None, "agent", False),
    ("GET", "/v1/tickets/{ticket}", None, "agent", True),
    ("PATCH", "/v1/tickets/{ticket}", {"priority": "high"}, "agent", True),
    ("POST", "/v1/tickets/{ticket}/replies", {"body": "catatan", "internal": True}, "agent", True),
    ("POST", "/v1/tickets", {"channel": "chat", "customer": {"handle": "v-1"}, "body": "Halo"}, "agent", False),
    ("GET", "/v1/agents", None, "agent", False),
    ("PUT", "/v1/agents/rina", {"capacity": 4}, "supervisor", True),
    ("GET", "/v1/teams/support", None, "agent", False),
    ("PUT", "/v1/teams/support", {"idle_minutes": 60}, "supervisor", True),
    ("PATCH", "/v1/customers/vip@pelanggan.co.id", {"tier": "vip"}, "supervisor", False),
    ("PUT", "/v1/templates/hours/id/chat", {"text": "Kami buka 08.00-20.00."}, "supervisor", False),
    ("GET", "/v1/quarantine", None, "supervisor", False),
    ("PUT", "/v1/calendars/office", {"timezone": "Asia/Jakarta", "hours": {"mon": [["08:00", "17:00"]]}}, "admin", False),
    ("GET", "/v1/sla-policies", None, "agent", False),
    ("POST", "/v1/tickets/{ticket}/move", {"team": "support"}, "supervisor", True),
    ("POST", "/v1/tickets/{ticket}/merge", {"into": "{ticket}"}, "supervisor", True),
    ("POST", "/v1/tickets/{ticket}/links", {"ticket": "{ticket}"}, "agent", True),
    ("DELETE", "/v1/tickets/{ticket}/links/T-NOSUCH", None, "agent", True),
    ("GET", "/v1/macros", None, "agent", False),
    ("PUT", "/v1/macros/thanks", {"title": "Thanks", "reply": "Terima kasih!"}, "supervisor", False),
    ("POST", "/v1/tickets/{ticket}/macros/thanks", {"preview": True}, "agent", True),
    ("POST", "/v1/tickets/{ticket}/preview", {"text": "Halo {{ customer_name }}"}, "agent", True),
    ("DELETE", "/v1/macros/nosuch", None, "supervisor", False),
    ("GET", "/v1/agents/rina", None, "agent", True),
    ("GET", "/v1/customers/{customer}", None, "agent", True),
    ("PATCH", "/v1/customers/{customer}", {"tier": "premium"}, "supervisor", True),
    ("PATCH", "/v1/teams/support", {"idle_minutes": 45}, "supervisor", True),
    ("GET", "/v1/priority-rules", None, "agent", False),
    ("PUT", "/v1/priority-rules", {}, "admin", False),
    ("PUT", "/v1/sla-policies/vip", {}, "admin", False),
    ("GET", "/v1/calendars", None, "agent", False),
    ("GET", "/v1/templates", None, "agent", False),
    ("GET", "/v1/auto-replies", None, "agent", False),
    ("PUT", "/v1/auto-replies/hours", {}, "supervisor", False),
    ("DELETE", "/v1/auto-replies/hours", None, "supervisor", False),
    ("GET", "/v1/tickets?updated_since=2000-01-01T00:00:00Z", None, "agent", False),
    ("GET", "/v1/tickets?view=open-work", None, "agent", False),
    ("GET", "/v1/folders", None, "agent", False),
    ("GET", "/v1/escalations", None, "agent", False),
    ("GET", "/v1/escalations?team=support", None, "agent", True),
    ("GET", "/v1/views", None, "agent", False),
    ("PUT", "/v1/views/open-work", {"filters": {"status": "open"}}, "agent", False),
    ("GET", "/v1/views/open-work", None, "agent", False),
    ("DELETE", "/v1/views/open-work", None, "agent", False),
    ("PUT", "/v1/views/team-open", {"team": "support", "filters": {"status": "open"}}, "supervisor", True),
    ("GET", "/v1/views/team-open?team=support", None, "agent", True),
    ("DELETE", "/v1/views/team-open?team=support", None, "supervisor", True),
    ("GET", "/v1/articles", None, "supervisor", False),
    ("GET", "/v1/articles/reset-password", None, "supervisor", False),
    ("PUT", "/v1/articles/faq", {"title": "FAQ", "body": "Jawaban", "language": "id"}, "supervisor", False),
    ("DELETE", "/v1/articles/nosuch", None, "supervisor", False),
    ("GET", "/v1/tickets/{ticket}/suggestions", None, "agent", True),
    ("GET", "/v1/metrics/summary?from=2026-11-02&to=2026-11-09&team=support", None, "supervisor", True),
    ("GET", "/v1/goals", None, "agent", False),
    ("PUT", "/v1/goals/sla-week", {"team": "support", "metric": "sla_compliance", "op": ">=", "target": 95}, "supervisor", True),
    ("DELETE", "/v1/goals/nosuch", None, "supervisor", False),
    ("GET", "/v1/reports/escalations?team=support", None, "supervisor", True),
]


def _expected(caller: str, least: str, team_bound: bool) -> int | None:
    role, _, teams = CALLERS[caller]
    if ROLE_RANK[role] < ROLE_RANK[least]:
        return 403
    if team_bound and role != "admin" and "support" not in teams:
        return 403
    return None  # allowed: any answer but 401/403


@pytest.mark.parametrize(("method", "path", "body", "least", "team_bound"), ROUTES, ids=[f"{m} {p}" for m, p, *_ in ROUTES])
def test_every_route_answers_each_caller_as_its_role_and_team_allow(api, support_ticket, aws, method, path, body, least, team_bound):
    from shared.domain.model import AgentProfile
    from shared.storage.agents import AgentRepository
    from shared.domain.timefmt import utcnow

    for agent_id, team in (("rina", "support"), ("dewi", "billing")):
        AgentRepository().save(AgentProfile(id=agent_id, team=team, presence="online", capacity=3), utcnow())
    path = path.replace("{ticket}", str(support_ticket["id"])).replace("{customer}", str(support_ticket["customer"]["id"]))  # type: ignore[index]
    if isinstance(body, dict):
        body = {k: str(support_ticket["id"]) if v == "{ticket}" else v for k, v in body.items()}
    seen = {}
    for caller, (role, agent, teams) in CALLERS.items():
        status, reply = call(api, method, path, token(role, agent, *teams) if teams else _admin(), body)
        expected = _expected(caller, least, team_bound)
        seen[caller] = status
        if expected is None:
            assert status not in (401, 403) and status < 500, (caller, status, reply)
        else:
            assert status == expected and reply["error"]["code"] == "forbidden", (caller, status, reply)  # type: ignore[index]
    now = int(time.time())
    for name, headers in {
        "no token": {"Content-Type": "application/json"},
        "invalid": {"Authorization": "Bearer not-a-token", "Content-Type": "application/json"},
        "expired": {"Authorization": "Bearer " + _signed({"iat": now - 7200, "exp": now - 3600}), "Content-Type": "application/json"},
        "other key": {"Authorization": "Bearer " + jwt.encode(_claims(now), "x" * 32, algorithm="HS256")},
    }.items():
        status, _ = call(api, method, path, headers, body)
        assert status == 401, (name, status)


def test_the_matrix_has_a_row_for_every_route_that_needs_a_token():
    import re

    from functions.api.app import app  # noqa: F401 - registers every blueprint
    from functions.api.gateway import OPERATIONS

    covered = {(method, path.split("?")[0]) for method, path, *_ in ROUTES}
    holes = [
        f"{op.method} {op.path}" for op in OPERATIONS if op.role is not None
        and not any(m == op.method and re.fullmatch(re.sub(r"{\w+}", "[^/]+", op.path), p) for m, p in covered)
    ]  # fmt: skip
    assert holes == [], f"add these routes to ROUTES (the authorization matrix): {holes}"


def _admin() -> dict[str, str]:
    return token("admin", None, "billing")


def _claims(now: int) -> dict[str, object]:
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": "rina", "role": "admin", "iat": now, "exp": now + 60, "teams": []}


def _signed(times: dict[str, int]) -> str:
    claims = {**_claims(int(time.time())), **times}
    return jwt.encode(claims, purpose_key(signing_key(get_settings()), "api-token"), algorithm="HS256")
