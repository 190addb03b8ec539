"""`make deploy`'s last step against moto's S3 and CloudFront: the built console lands in the console bucket with
the right types and caching, console-config.json points the app at this stack's Cognito sign-in, and the pages
that must not be stale are invalidated."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import boto3
import pytest

pytestmark = pytest.mark.integration

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))


def test_the_console_and_its_sign_in_config_are_published(aws, tmp_path):
    from publish_console import publish

    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html>")
    (dist / "assets" / "index-abc123.js").write_text("console.log(1)")
    (dist / "assets" / "index-abc123.js.map").write_text("{}")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="console-bucket")
    cloudfront = boto3.client("cloudfront")
    distribution = cloudfront.create_distribution(DistributionConfig={
        "CallerReference": "test", "Comment": "", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "console", "DomainName": "console-bucket.s3.amazonaws.com",
                                               "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "console", "ViewerProtocolPolicy": "redirect-to-https"},
    })["Distribution"]  # fmt: skip
    outputs = {"ConsoleBucketName": "console-bucket", "ConsoleDistributionId": distribution["Id"],
               "ConsoleUrl": "https://d111.cloudfront.net", "ConsoleClientId": "client-1",
               "AuthDomain": "https://acme.auth.us-east-1.amazoncognito.com"}  # fmt: skip

    written = publish(outputs, s3, cloudfront, dist)

    assert written == ["assets/index-abc123.js", "index.html", "console-config.json"]  # no source maps
    asset = s3.get_object(Bucket="console-bucket", Key="assets/index-abc123.js")
    assert asset["ContentType"] == "text/javascript" and "immutable" in asset["CacheControl"]
    assert s3.get_object(Bucket="console-bucket", Key="index.html")["CacheControl"] == "no-cache"
    config = json.loads(s3.get_object(Bucket="console-bucket", Key="console-config.json")["Body"].read())
    assert config == {"sign_in": "cognito", "cognito": {"domain": "https://acme.auth.us-east-1.amazoncognito.com",
                                                         "client_id": "client-1", "redirect_uri": "https://d111.cloudfront.net/"}}
    invalidations = cloudfront.list_invalidations(DistributionId=distribution["Id"])["InvalidationList"]
    assert invalidations["Quantity"] == 1
