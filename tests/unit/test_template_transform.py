"""The whole template transforms offline with AWS's own SAM translator into plain CloudFormation, and what moto's
CloudFormation skips is asserted from the result: the API's routes, its authorizer and their public exceptions,
least-privilege roles per function, and the console's private bucket behind CloudFront."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from ticketing.local.template import load_template

pytestmark = pytest.mark.unit

PARAMETERS = {"Stage": "prod", "SupportDomain": "support.example.com", "AuthDomainPrefix": "acme-support"}


class _NoManagedPolicies:
    """The translator asks IAM for managed policy ARNs only when a function names one; ours name none."""

    def load(self) -> dict[str, str]:
        return {}


@pytest.fixture(scope="module")
def transformed() -> dict[str, Any]:
    from samtranslator.translator.transform import transform

    template = copy.deepcopy(load_template())
    for resource in template["Resources"].values():  # what `sam package` does: the code is an uploaded artifact
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://artifacts-bucket/ticketing.zip"
    result: dict[str, Any] = transform(template, PARAMETERS, _NoManagedPolicies())
    return result


def _of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def test_the_api_has_its_proxy_routes_behind_the_bearer_authorizer_and_public_webhooks(transformed):
    (api,) = _of_type(transformed, "AWS::ApiGateway::RestApi").values()
    paths = api["Properties"]["Body"]["paths"]
    assert set(paths) == {"/v1/{proxy+}", "/v1/kb/{proxy+}", "/v1/portal/{proxy+}", "/webhooks/{proxy+}", "/health", "/openapi.json"}
    assert paths["/v1/{proxy+}"]["x-amazon-apigateway-any-method"]["security"] == [{"BearerAuthorizer": []}]
    for public in ("/webhooks/{proxy+}", "/v1/kb/{proxy+}", "/v1/portal/{proxy+}", "/health", "/openapi.json"):
        for operation in paths[public].values():
            assert operation.get("security") in (None, [{"NONE": []}]), (public, operation.get("security"))
    authorizer = api["Properties"]["Body"]["securityDefinitions"]["BearerAuthorizer"]
    assert authorizer["x-amazon-apigateway-authtype"] == "custom"
    assert authorizer["x-amazon-apigateway-authorizer"]["type"] == "token"
    responses = api["Properties"]["Body"]["x-amazon-apigateway-gateway-responses"]
    assert '"code": "unauthorized"' in responses["UNAUTHORIZED"]["responseTemplates"]["application/json"]


def test_every_route_that_needs_no_token_is_public_at_api_gateway_and_every_other_is_behind_the_authorizer(transformed):
    """API Gateway picks the most specific resource: a public route (the help centre, the portal, webhooks) under
    /v1/{proxy+} alone would be refused by the bearer authorizer before the app ever saw it."""
    import re

    from functions.api.app import app  # noqa: F401 - registers every blueprint
    from functions.api.gateway import OPERATIONS

    (api,) = _of_type(transformed, "AWS::ApiGateway::RestApi").values()
    paths = api["Properties"]["Body"]["paths"]

    def resource(path: str) -> str:
        matching = [p for p in paths if re.fullmatch(re.escape(p).replace(re.escape("{proxy+}"), ".+"), path)]
        return max(matching, key=lambda p: len(p.replace("{proxy+}", "")))

    for op in OPERATIONS:
        security = [o.get("security") for o in paths[resource(op.path)].values()]
        public = all(s in (None, [{"NONE": []}]) for s in security)
        assert public == (op.role is None), (op.method, op.path, resource(op.path), security)


def test_every_function_has_its_own_role_and_none_may_do_everything(transformed):
    functions = _of_type(transformed, "AWS::Lambda::Function")
    roles = _of_type(transformed, "AWS::IAM::Role")
    assert len(functions) == 8 and len({json.dumps(f["Properties"]["Role"]) for f in functions.values()}) == 8
    for name, role in roles.items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert "*" not in actions and not any(a.endswith(":*") for a in actions), (name, actions)
    authorizer_role = roles[functions["ApiAuthorizerFunction"]["Properties"]["Role"]["Fn::GetAtt"][0]]
    granted = json.dumps(authorizer_role["Properties"]["Policies"])
    assert "dynamodb" not in granted and "secretsmanager:GetSecretValue" in granted and "ssm:GetParameter" in granted


def test_the_console_bucket_is_private_and_read_only_by_its_distribution(transformed):
    bucket = transformed["Resources"]["ConsoleBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    policy = transformed["Resources"]["ConsoleBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    reader = next(s for s in policy if s["Effect"] == "Allow")
    assert reader["Principal"] == {"Service": "cloudfront.amazonaws.com"} and reader["Action"] == "s3:GetObject"
    distribution = transformed["Resources"]["ConsoleDistribution"]["Properties"]["DistributionConfig"]
    assert {b["PathPattern"] for b in distribution["CacheBehaviors"]} == {"/v1/*", "/webhooks/*", "/health", "/openapi.json"}
    assert distribution["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert "CustomErrorResponses" not in distribution  # they would rewrite the API's own 403s/404s into the page


def test_cognito_groups_are_the_three_roles(transformed):
    groups = {g["Properties"]["GroupName"] for g in _of_type(transformed, "AWS::Cognito::UserPoolGroup").values()}
    assert groups == {"agent", "supervisor", "admin"}
    client = transformed["Resources"]["ConsoleClient"]["Properties"]
    assert client["GenerateSecret"] is False and client["AllowedOAuthFlows"] == ["code"]
