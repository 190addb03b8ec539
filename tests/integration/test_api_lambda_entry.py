"""The API as API Gateway deploys it: proxy requests (the real REST proxy event shape from events_samples/) reach
the right Chalice view with their path parameters, the TOKEN authorizer turns a bearer token into the policy and
context the views read, and Cognito ID tokens are accepted with their groups as roles when the stack has a pool."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support import FakeContext, api_token

pytestmark = pytest.mark.integration

SAMPLE = json.loads((Path(__file__).resolve().parents[2] / "events_samples" / "aws" / "apiGatewayProxyEvent.json").read_text())
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/v1/tickets"


def _authorize(token: str) -> dict[str, Any]:
    from functions.api.lambda_entry import authorizer

    return authorizer({"type": "TOKEN", "authorizationToken": token, "methodArn": METHOD_ARN}, FakeContext())


def _request(method: str, path: str, headers: dict[str, str] | None = None, body: Any = None) -> tuple[int, Any]:
    """What API Gateway hands the function for `path` under the proxy resource it matched."""
    from functions.api.lambda_entry import handler

    event = copy.deepcopy(SAMPLE)
    top = path.split("/")[1]
    proxy = top in ("v1", "webhooks")
    public = next((area for area in ("kb", "portal") if path.startswith(f"/v1/{area}/")), None)  # public resources
    resource = f"/v1/{public}/{{proxy+}}" if public else f"/{top}/{{proxy+}}" if proxy else path
    event.update(path=path, resource=resource, httpMethod=method, queryStringParameters=None,
                 multiValueQueryStringParameters=None,
                 pathParameters={"proxy": path.split("/", 3 if public else 2)[-1]} if proxy else None,
                 headers={"Content-Type": "application/json", **(headers or {})}, multiValueHeaders={},
                 body=None if body is None else json.dumps(body), isBase64Encoded=False)  # fmt: skip
    event["requestContext"].update(resourcePath=resource, httpMethod=method, path=f"/prod{path}")
    authorization = (headers or {}).get("Authorization")
    if authorization:
        policy = _authorize(authorization)
        event["requestContext"]["authorizer"] = {**policy["context"], "principalId": policy["principalId"]}
    reply = handler(event, FakeContext(function_name="ticketing-ApiFunction"))
    return reply["statusCode"], json.loads(reply["body"]) if reply.get("body") else None


def test_proxy_requests_reach_their_views_with_their_path_parameters(aws):
    lead = api_token("supervisor", "sari")
    status, created = _request("POST", "/v1/tickets", lead,
                               {"channel": "phone", "customer": {"handle": "+62811", "name": "Pak Budi"}, "body": "Halo"})  # fmt: skip
    assert status == 201, created
    status, ticket = _request("GET", f"/v1/tickets/{created['id']}", lead)
    assert status == 200 and ticket["id"] == created["id"] and ticket["messages"], ticket
    status, preview = _request("POST", f"/v1/tickets/{created['id']}/preview", lead, {"text": "Halo {{ customer_name }}"})
    assert status == 200 and preview["text"] == "Halo Pak Budi", preview
    assert _request("PUT", "/v1/views/mine", lead, {"filters": {"assignee": "sari"}})[0] in (200, 201)
    assert _request("GET", "/v1/views/mine", lead)[0] == 200
    assert _request("GET", "/health")[0] == 200
    status, spec = _request("GET", "/openapi.json")
    assert status == 200 and "/v1/tickets/{ticket_id}" in spec["paths"]
    status, missing = _request("GET", "/v1/no/such/thing", lead)
    assert status == 404 and missing["error"]["code"] == "not_found", missing
    status, refused = _request("POST", "/webhooks/telegram", body={"update_id": 1})  # public route, its own check
    assert status == 401 and refused["error"]["code"], refused
    # the help centre and the portal have public resources of their own: no authorizer ran, the app answers
    status, missing = _request("POST", "/v1/kb/articles/nosuch/feedback", body={"helpful": True})
    assert status == 404 and "no published article" in missing["error"]["message"], missing
    status, refused = _request("GET", f"/v1/portal/tickets/{created['id']}")
    assert status == 401 and "X-Portal-Token" in refused["error"]["message"], refused


def test_the_most_specific_route_wins():
    from functions.api.lambda_entry import route_for

    assert route_for("/v1/tickets/T-1/links/T-2") == ("/v1/tickets/{ticket_id}/links/{other}", {"ticket_id": "T-1", "other": "T-2"})
    assert route_for("/v1/tickets/T-1/macros/thanks")[0] == "/v1/tickets/{ticket_id}/macros/{macro_id}"
    assert route_for("/v1/tickets/T-1") == ("/v1/tickets/{ticket_id}", {"ticket_id": "T-1"})
    assert route_for("/v1/tickets") == ("/v1/tickets", {})
    assert route_for("/v1/tickets/T-1/nope/x/y") is None


def test_the_authorizer_allows_a_valid_token_with_its_context_and_refuses_the_rest(aws):
    policy = _authorize(api_token("agent", "rina", "billing")["Authorization"])
    assert policy["principalId"] == "rina"
    assert policy["context"] == {"role": "agent", "agent_id": "rina", "teams": "billing"}
    (statement,) = policy["policyDocument"]["Statement"]
    assert statement["Effect"] == "Allow" and statement["Resource"][0].endswith("/prod/*/*")
    for bad in ("", "Bearer nonsense", "Basic cmluYQ=="):
        with pytest.raises(Exception, match="^Unauthorized$"):  # exactly what makes API Gateway answer 401
            _authorize(bad)


# ------------------------------------------------------------------------------------------ Cognito ID tokens

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TESTPOOL"
CLIENT = "console-client-id"


@pytest.fixture(scope="module")
def pool_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _id_token(key: rsa.RSAPrivateKey, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": CLIENT, "sub": "3f9c-uuid", "token_use": "id", "iat": now, "exp": now + 3600,
            "cognito:username": "rina", "cognito:groups": ["agent"], "custom:teams": "support,billing", **claims}  # fmt: skip
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm="RS256", headers={"kid": "k1"})


def test_a_cognito_id_token_is_a_principal_with_its_highest_group_as_role(pool_key):
    from shared.auth import Unauthorized, authenticate_cognito

    keys = lambda token: pool_key.public_key()  # noqa: E731 - the pool's JWKS, already fetched
    principal = authenticate_cognito(_id_token(pool_key, **{"cognito:groups": ["agent", "supervisor"]}), ISSUER, CLIENT, keys)
    assert (principal.role.value, principal.agent_id, principal.teams) == ("supervisor", "rina", ("support", "billing"))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused = {
        "signed by another key": _id_token(other),
        "an access token": _id_token(pool_key, token_use="access"),
        "no group": _id_token(pool_key, **{"cognito:groups": []}),
        "another app client": _id_token(pool_key, aud="someone-else"),
        "another pool": _id_token(pool_key, iss=ISSUER + "X"),
        "expired": _id_token(pool_key, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
    }
    for why, token in refused.items():
        with pytest.raises(Unauthorized):
            authenticate_cognito(token, ISSUER, CLIENT, keys)
            pytest.fail(why)


def test_a_deployed_stack_with_a_pool_takes_cognito_tokens_and_still_its_own(aws, pool_key, monkeypatch):
    import shared.auth
    from shared.settings import get_settings

    monkeypatch.setenv("COGNITO_ISSUER", ISSUER)
    monkeypatch.setenv("COGNITO_CLIENT_ID", CLIENT)
    get_settings.cache_clear()
    monkeypatch.setattr(shared.auth, "cognito_keys", lambda issuer: (lambda token: pool_key.public_key()))
    try:
        policy = _authorize(f"Bearer {_id_token(pool_key, **{'cognito:groups': ['admin']})}")
        assert policy["context"]["role"] == "admin" and policy["context"]["teams"] == "support,billing"
        assert _authorize(api_token("agent", "rina")["Authorization"])["context"]["role"] == "agent"
        with pytest.raises(Exception, match="^Unauthorized$"):
            _authorize(f"Bearer {_id_token(rsa.generate_private_key(public_exponent=65537, key_size=2048))}")
    finally:
        get_settings.cache_clear()
