"""Announcements on the route queue: the next stage picks up every new ticket and message from here."""

from __future__ import annotations

import json
from typing import Any

from shared.adapters.aws import client
from shared.settings import Settings


class RouteAnnouncer:
    def __init__(self, settings: Settings) -> None:
        self.queue_url = settings.route_queue_url
        self._sqs = client("sqs", settings.region)

    def announce(self, event: dict[str, Any]) -> None:
        if not self.queue_url:
            raise RuntimeError("ROUTE_QUEUE_URL is not set; the template passes it to every function")
        self._sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=json.dumps(event, sort_keys=True),
            MessageAttributes={"event": {"DataType": "String", "StringValue": str(event["event"])}},
        )
