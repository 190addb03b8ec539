"""What a supervisor reviews: inbound items that did not become tickets (unreadable mail, loops, bad payloads),
newest first, each with its reason and the key of the raw copy kept beside it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class QuarantineLog(Protocol):
    def page(self, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]: ...


@dataclass
class QuarantineReview:
    log: QuarantineLog

    def page(self, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        return self.log.page(limit, cursor)
