"""Bearer tokens: who may call the agent API."""

from __future__ import annotations

import jwt
import pytest

from shared.auth import Forbidden, Unauthorized, authenticate, issue_token, require_role
from shared.domain.errors import DomainError
from shared.domain.model import Role

pytestmark = pytest.mark.unit
KEY = b"unit-test-signing-secret-32-bytes!"


def test_a_token_carries_role_and_agent():
    principal = authenticate(KEY, "Bearer " + issue_token(KEY, "agent", "agent-7"))
    assert principal.role == Role.AGENT and principal.agent_id == "agent-7"


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer not-a-jwt"])
def test_missing_or_malformed_tokens_are_unauthorized(header):
    with pytest.raises(Unauthorized):
        authenticate(KEY, header)


def test_a_token_signed_with_another_key_or_expired_is_unauthorized():
    with pytest.raises(Unauthorized):
        authenticate(KEY, "Bearer " + issue_token(b"other", "admin"))
    with pytest.raises(Unauthorized, match="expired"):
        authenticate(KEY, "Bearer " + issue_token(KEY, "admin", ttl_seconds=-10))


def test_the_raw_secret_alone_cannot_mint_tokens():
    """Tokens are signed with a purpose-derived key, not the shared secret itself."""
    forged = jwt.encode({"sub": "x", "role": "admin", "iat": 1, "exp": 9999999999, "iss": "ticketing", "aud": "ticketing-api"}, KEY, algorithm="HS256")
    with pytest.raises(Unauthorized):
        authenticate(KEY, "Bearer " + forged)


def test_roles_are_ordered_agent_supervisor_admin():
    admin = authenticate(KEY, "Bearer " + issue_token(KEY, "admin"))
    agent = authenticate(KEY, "Bearer " + issue_token(KEY, "agent"))
    require_role(admin, Role.SUPERVISOR)
    with pytest.raises(Forbidden, match="supervisor"):
        require_role(agent, Role.SUPERVISOR)


def test_unknown_roles_are_refused_when_issuing():
    with pytest.raises(DomainError, match="unknown role"):
        issue_token(KEY, "root")


def test_a_token_lives_at_most_twelve_hours_unless_configured_otherwise():
    """`ticketing token --ttl 315360000` once made a ten-year admin token that the API accepted."""
    with pytest.raises(DomainError, match="at most 43200 s"):
        issue_token(KEY, "admin", ttl_seconds=315_360_000)
    assert authenticate(KEY, "Bearer " + issue_token(KEY, "admin", ttl_seconds=12 * 3600)).role == Role.ADMIN
    assert issue_token(KEY, "admin", ttl_seconds=24 * 3600, max_ttl_seconds=24 * 3600)


def test_a_long_lived_token_minted_elsewhere_with_the_right_key_is_refused():
    from shared.adapters.secrets import purpose_key

    now = int(__import__("time").time())
    claims = {"sub": "x", "role": "admin", "iat": now, "exp": now + 315_360_000, "iss": "ticketing", "aud": "ticketing-api"}
    decade = jwt.encode(claims, purpose_key(KEY, "api-token"), algorithm="HS256")
    with pytest.raises(Unauthorized, match="exceeds the 43200 s maximum"):
        authenticate(KEY, "Bearer " + decade)
    future = jwt.encode({**claims, "iat": now + 3600, "exp": now + 7200}, purpose_key(KEY, "api-token"), algorithm="HS256")
    with pytest.raises(Unauthorized, match="not yet valid"):
        authenticate(KEY, "Bearer " + future)


def test_a_token_names_the_teams_its_holder_works_in_and_an_old_token_works_in_the_default_team():
    principal = authenticate(KEY, "Bearer " + issue_token(KEY, "supervisor", "joko", teams=("billing", "support", "billing")))
    assert principal.teams == ("billing", "support")
    assert principal.works_in("billing") and not principal.works_in("sales")
    assert authenticate(KEY, "Bearer " + issue_token(KEY, "agent", "rina")).teams == ("support",)
    admin = authenticate(KEY, "Bearer " + issue_token(KEY, "admin", teams=()))
    assert admin.teams == () and admin.works_in("sales")
