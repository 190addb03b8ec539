"""Bearer tokens for the agent API: the stack's own HS256 JWTs (signed with a key derived from the signing secret:
`ticketing token`, the local dev sign-in), and, deployed, Cognito user-pool ID tokens (RS256, the pool's JWKS),
whose groups `agent` / `supervisor` / `admin` are the role and `custom:teams` the teams."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt

from shared.adapters.secrets import purpose_key
from shared.domain.access import DEFAULT_TEAM, Forbidden, Principal, Unauthorized, require_role
from shared.domain.errors import DomainError
from shared.domain.model import Role

__all__ = ["Forbidden", "Principal", "Unauthorized", "authenticate", "authenticate_cognito", "issue_token", "require_role"]

ROLE_GROUPS = (Role.ADMIN, Role.SUPERVISOR, Role.AGENT)  # the highest group a user is in is their role

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
    token = bearer_token(authorization)
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


def bearer_token(authorization: str | None) -> str:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("missing bearer token: send 'Authorization: Bearer <token>' (see `ticketing token`)")
    return authorization.split(None, 1)[1].strip()


def issuer_of(token: str) -> str | None:
    """The unverified `iss` claim, only to choose how to verify the token."""
    try:
        return str(jwt.decode(token, options={"verify_signature": False}).get("iss") or "") or None
    except jwt.InvalidTokenError:
        return None


def authenticate_cognito(
    token: str, issuer: str, client_id: str, key_for: Callable[[str], Any], max_ttl_seconds: int = DEFAULT_MAX_TTL_SECONDS
) -> Principal:
    """A Cognito user pool's ID token: signed by one of the pool's keys (`key_for(token)`, from its JWKS), issued
    by `issuer` for the console's app client, not expired. The user's highest group is the role; `custom:teams`
    (comma-separated) the teams; `custom:agent_id` (else the user name) the agent id."""
    try:
        claims = jwt.decode(token, key_for(token), algorithms=["RS256"], audience=client_id, issuer=issuer,
                            options={"require": ["exp", "iat", "sub"]})  # fmt: skip
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("token expired") from exc
    except (jwt.InvalidTokenError, jwt.PyJWKClientError) as exc:
        raise Unauthorized(f"invalid token: {exc}") from exc
    if claims.get("token_use") != "id":
        raise Unauthorized("send the Cognito ID token (token_use id), not the access token")
    groups = set(claims.get("cognito:groups") or [])
    role = next((r for r in ROLE_GROUPS if r.value in groups), None)
    if role is None:
        raise Unauthorized("this user is in no group agent, supervisor or admin; an admin adds them in Cognito")
    lifetime = int(claims["exp"]) - int(claims["iat"])
    if lifetime > max_ttl_seconds:
        raise Unauthorized(f"token lifetime {lifetime} s exceeds the {max_ttl_seconds} s maximum")
    teams = tuple(t.strip() for t in str(claims.get("custom:teams") or DEFAULT_TEAM).split(",") if t.strip())
    agent_id = str(claims.get("custom:agent_id") or claims.get("cognito:username") or claims["sub"])
    return Principal(subject=str(claims["sub"]), role=role, agent_id=agent_id, teams=teams or (DEFAULT_TEAM,))


_JWKS: dict[str, Any] = {}


def cognito_keys(issuer: str) -> Callable[[str], Any]:
    """The pool's signing keys, fetched from its JWKS once per container and cached (PyJWKClient)."""
    if issuer not in _JWKS:
        _JWKS[issuer] = jwt.PyJWKClient(f"{issuer}/.well-known/jwks.json", cache_keys=True, lifespan=3600)
    client = _JWKS[issuer]
    return lambda token: client.get_signing_key_from_jwt(token).key
