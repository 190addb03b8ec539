"""`make deploy`, after `sam deploy`: the built console (console/dist) into the stack's console bucket, its
console-config.json (Cognito's hosted sign-in for this stack), and a CloudFront invalidation of what must not be
served stale. Hashed assets are cached for a year; index.html and console-config.json are never cached.

STACK_NAME (default: infra/samconfig.toml's stack_name) names the stack; AWS credentials and region as for sam.
"""

from __future__ import annotations

import json
import mimetypes
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "console" / "dist"
NEVER_CACHED = ("index.html", "console-config.json")


def stack_name() -> str:
    if os.environ.get("STACK_NAME"):
        return os.environ["STACK_NAME"]
    found = re.search(r'^stack_name\s*=\s*"([^"]+)"', (ROOT / "infra" / "samconfig.toml").read_text(), re.M)
    return found.group(1) if found else "ticketing"


def console_config(outputs: dict[str, str]) -> dict[str, Any]:
    return {"sign_in": "cognito", "cognito": {"domain": outputs["AuthDomain"], "client_id": outputs["ConsoleClientId"],
                                              "redirect_uri": outputs["ConsoleUrl"].rstrip("/") + "/"}}  # fmt: skip


def publish(outputs: dict[str, str], s3: Any, cloudfront: Any, dist: Path = DIST) -> list[str]:
    """Upload the console and its config; returns the keys written."""
    if not (dist / "index.html").is_file():
        raise SystemExit("publish: console/dist is not built; run `make console`")
    bucket = outputs["ConsoleBucketName"]
    written = []
    for path in sorted(p for p in dist.rglob("*") if p.is_file() and not p.name.endswith(".map")):
        key = path.relative_to(dist).as_posix()
        cache = "no-cache" if key in NEVER_CACHED else "public, max-age=31536000, immutable"
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=kind, CacheControl=cache)
        written.append(key)
    s3.put_object(Bucket=bucket, Key="console-config.json", Body=json.dumps(console_config(outputs)).encode(),
                  ContentType="application/json", CacheControl="no-cache")  # fmt: skip
    written.append("console-config.json")
    cloudfront.create_invalidation(
        DistributionId=outputs["ConsoleDistributionId"],
        InvalidationBatch={"Paths": {"Quantity": 2, "Items": ["/index.html", "/console-config.json"]},
                           "CallerReference": f"publish-{time.time_ns()}"},  # fmt: skip
    )
    return written


def main() -> int:
    import boto3

    name = stack_name()
    stack = boto3.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    written = publish(outputs, boto3.client("s3"), boto3.client("cloudfront"))
    print(f"console published to s3://{outputs['ConsoleBucketName']} ({len(written)} files): {outputs['ConsoleUrl']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
