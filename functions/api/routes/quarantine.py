"""Inbound items that did not become tickets, for a supervisor to look at."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from shared.domain.access import Principal
from shared.domain.model import Role

from functions.api.gateway import operation
from functions.api.services import quarantine

if TYPE_CHECKING:
    from shared.contracts.api import QuarantineQuery

routes = Blueprint(__name__)


@operation(routes, "GET", "/v1/quarantine", tag="quarantine", role=Role.SUPERVISOR, query="QuarantineQuery",
           response="QuarantinePage")  # fmt: skip
def get_quarantine(caller: Principal, query: QuarantineQuery) -> dict[str, Any]:
    """Inbound items that did not become tickets, newest first, with the reason and the raw object's key."""
    items, cursor = quarantine().page(query.limit, query.cursor or None)
    return {"items": items, "next_cursor": cursor}
