"""Raw mail, attachments and oversized bodies in S3."""

from __future__ import annotations

from shared.adapters.aws import client
from shared.settings import Settings


class BlobStore:
    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.mail_bucket
        self._s3 = client("s3", settings.region)

    def get(self, key: str, bucket: str | None = None) -> bytes:
        response = self._s3.get_object(Bucket=bucket or self.bucket, Key=key)
        return bytes(response["Body"].read())

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        return key
