"""Bearer tokens for the agent API: HS256 JWTs signed with a key derived from the signing secret."""

from __future__ import annotations

import time
from typing import Any
import jwt

from shared.adapters.secrets import purpose_key
from shared.domain.access import DEFAULT_TEAM, Forbidden, Principal, Unauthorized, require_role
from shared.domain.errors import DomainError
from shared.domain.model import Role

__all__ = ["Forbidden", "Principal", "Unauthorized", "authenticate", "issue_token", "require_role"]

ISSUER = "ticketing"
AUDIENCE = "ticketing-api"


DEFAULT_MAX_TTL_SECONDS = 12 * 3600


def issue_token(
    key: bytes,
    role: str,
    agent_id: str | None = None,
    ttl_seconds: int = 8 * 3600,
    max_ttl_seconds: int = DEFAULT_MAX_TTL_SECONDS,
    teams: tuple[str, ...] = (DEFAULT_TEAM,),
) -> str:
    """A bearer token valid for `ttl_seconds`, which may not exceed `max_ttl_seconds` (MAX_TOKEN_TTL_SECONDS): a
    leaked token must stop working on its own within a working day."""
    try:
        parsed_role = Role(role)
    except ValueError as exc:
        raise DomainError(f"unknown role {role!r}; use agent, supervisor or admin") from exc
    if ttl_seconds > max_ttl_seconds:
        raise DomainError(f"a token lives at most {max_ttl_seconds} s ({max_ttl_seconds / 3600:g} h); asked for {ttl_seconds} s")
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": agent_id or f"{parsed_role.value}-cli",
        "role": parsed_role.value,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if agent_id:
        claims["agent_id"] = agent_id
    claims["teams"] = [team for team in dict.fromkeys(teams) if team]
    return jwt.encode(claims, purpose_key(key, "api-token"), algorithm="HS256")


def authenticate(key: bytes, authorization: str | None, max_ttl_seconds: int = DEFAULT_MAX_TTL_SECONDS) -> Principal:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("missing bearer token: send 'Authorization: Bearer <token>' (see `ticketing token`)")
    token = authorization.split(None, 1)[1].strip()
    try:
        claims = jwt.decode(
            token,
            purpose_key(key, "api-token"),
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub"]},
        )
        role = Role(claims.get("role"))
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("token expired") from exc
    except (jwt.InvalidTokenError, ValueError) as exc:
        raise Unauthorized(f"invalid token: {exc}") from exc
    lifetime = int(claims["exp"]) - int(claims["iat"])
    if lifetime > max_ttl_seconds:
        raise Unauthorized(f"token lifetime {lifetime} s exceeds the {max_ttl_seconds} s maximum; ask for a new token")
    return Principal(subject=str(claims["sub"]), role=role, agent_id=claims.get("agent_id"), teams=_teams(claims))


def _teams(claims: dict[str, Any]) -> tuple[str, ...]:
    """The teams the token works in; a token minted before tokens named teams works in the default team."""
    teams = claims.get("teams", [DEFAULT_TEAM])
    if not isinstance(teams, list) or not all(isinstance(team, str) for team in teams):
        raise Unauthorized("invalid token: teams must be a list of team ids")
    return tuple(teams)
