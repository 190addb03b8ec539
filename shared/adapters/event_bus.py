"""Integration events on the project's EventBridge bus: ticket.escalated, sla.warning, sla.breached, ..."""

from __future__ import annotations

import json
from typing import Any

from shared.adapters.aws import client
from shared.settings import Settings

SOURCE = "ticketing"


class EventBus:
    def __init__(self, settings: Settings) -> None:
        self.bus = settings.event_bus_name
        self._events = client("events", settings.region)

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        response = self._events.put_events(
            Entries=[{"EventBusName": self.bus, "Source": SOURCE, "DetailType": detail_type, "Detail": json.dumps(detail, default=str)}]
        )
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge refused {detail_type}: {response['Entries']}")
