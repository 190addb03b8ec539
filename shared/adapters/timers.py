"""Escalation timers as SQS delay messages: at most 900 s a hop, so a longer wait is re-sent until it is due."""

from __future__ import annotations

import json
import math
from datetime import datetime

from shared.adapters.aws import client
from shared.settings import Settings

MAX_DELAY = 900


def delay_for(due_at: datetime, now: datetime) -> int:
    return max(0, min(MAX_DELAY, math.ceil((due_at - now).total_seconds())))


class EscalationTimers:
    def __init__(self, settings: Settings) -> None:
        self.queue_url = settings.escalate_queue_url
        self._sqs = client("sqs", settings.region)

    def schedule(self, ticket_id: str, step: int, due_at: datetime, now: datetime) -> int:
        """Send the timer; returns its delay in seconds (the next hop when the step is further away than 900 s)."""
        if not self.queue_url:
            raise RuntimeError("ESCALATE_QUEUE_URL is not set; the template passes it to every function")
        from shared.contracts.events import EscalationTimer, wire  # pydantic on the first timer, not at cold start

        delay = delay_for(due_at, now)
        self._sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=json.dumps(wire(EscalationTimer(ticket_id=ticket_id, step=step, due_at=due_at))),
            DelaySeconds=delay,
        )
        return delay
