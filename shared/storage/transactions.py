"""Reading a cancelled DynamoDB transaction: which item's condition failed.

pynamodb sends condition checks, deletes, puts, then updates — in that order, whatever order they were added in —
so callers index their items in that order.
"""

from __future__ import annotations

from functools import lru_cache

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from shared.storage.models import TicketModel


@lru_cache(maxsize=1)
def _connection() -> Connection:
    """One connection (one botocore client) per process: building a client per transaction costs ~70 ms of CPU
    (endpoint and service-model parsing) and, on AWS, a fresh TLS connection."""
    return Connection(region=TicketModel.Meta.region)


def connection() -> Connection:
    return _connection()


def transaction() -> TransactWrite:
    return TransactWrite(connection=_connection())


def failed_conditions(error: TransactWriteError) -> list[bool]:
    return [bool(r and r.code == "ConditionalCheckFailed") for r in error.cancellation_reasons]


def conflicted(error: TransactWriteError) -> bool:
    """Cancelled because another transaction was touching the same item at the same moment."""
    return any(r is not None and r.code == "TransactionConflict" for r in error.cancellation_reasons)
