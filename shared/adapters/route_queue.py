"""Announcements on the route queue: the next stage picks up every new ticket and message from here."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from shared.adapters.aws import client
from shared.adapters.timers import MAX_DELAY, delay_for
from shared.settings import Settings


class RouteAnnouncer:
    def __init__(self, settings: Settings) -> None:
        self.queue_url = settings.route_queue_url
        self._sqs = client("sqs", settings.region)

    def announce(self, event: dict[str, Any], delay_seconds: int = 0) -> None:
        """Send now, or held back by SQS for up to 900 s (a later moment is reached in hops by the reader)."""
        if not self.queue_url:
            raise RuntimeError("ROUTE_QUEUE_URL is not set; the template passes it to every function")
        self._sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=json.dumps(event, sort_keys=True),
            MessageAttributes={"event": {"DataType": "String", "StringValue": str(event["event"])}},
            DelaySeconds=max(0, min(MAX_DELAY, int(delay_seconds))),
        )

    def drain_at(self, team: str, due_at: datetime, now: datetime, why: str) -> None:
        """Ask the route stage to drain `team`'s queue at `due_at`, to the second (a later time hops on)."""
        from shared.contracts.events import TeamDrain, wire  # pydantic when a drain is planned, not at ingest's cold start

        self.announce(wire(TeamDrain(team=team, due_at=due_at, why=why)), delay_for(due_at, now))
