"""Reading a cancelled DynamoDB transaction: which item's condition failed.

pynamodb sends condition checks, deletes, puts, then updates — in that order, whatever order they were added in —
so callers index their items in that order.
"""

from __future__ import annotations

from pynamodb.exceptions import TransactWriteError


def failed_conditions(error: TransactWriteError) -> list[bool]:
    return [bool(r and r.code == "ConditionalCheckFailed") for r in error.cancellation_reasons]


def conflicted(error: TransactWriteError) -> bool:
    """Cancelled because another transaction was touching the same item at the same moment."""
    return any(r is not None and r.code == "TransactionConflict" for r in error.cancellation_reasons)
