"""What storage raises, for the edges to map: a retry (Lambda), a 400 with DynamoDB's reason (the API)."""

from __future__ import annotations

from pynamodb.exceptions import PynamoDBException

StorageError = PynamoDBException  # every failure of a DynamoDB call made through the repositories


def storage_refusal(error: Exception) -> str | None:
    """DynamoDB's reason when it refused what a request asked to store (too large, an empty key ...), so the
    client hears a 400 with the reason instead of a 500; None for any other failure."""
    cause = getattr(error, "cause_response_code", None)
    if cause == "ValidationException":
        return str(getattr(error, "cause_response_message", None) or "the request is too large or malformed to store")
    reasons = getattr(error, "cancellation_reasons", None) or ()
    for reason in reasons:
        if reason is not None and getattr(reason, "code", None) == "ValidationError":
            return str(getattr(reason, "message", None) or "the request is too large or malformed to store")
    return None
