"""The KPI table: per-day aggregate counters, each ticket's last fact, and the knowledge base's article counters.

Items
- `<dimension>` / `<day>#<value>`: counters of one day for one value of a dimension (`all` / `<day>#-` for
  everything), attributes named by what they count (`created`, `frt@300`, `esc_c:sla:first_response` ...).
- `fact#<ticket id>` / `fact`: what the ticket adds now (shared/domain/kpi.py) and the ticket version it was
  computed from.
- `article` / `<article id>`: views, helpful, not_helpful, deflections.

A fact is applied in one transaction with the counters it moves, conditional on the fact item still holding the
version it was compared with, so two deliveries of one stream record — or an older image arriving after a newer
one — cannot count twice. Reads are Queries of one dimension's partition over a range of days, never a Scan.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Any

from shared.domain.kpi import Fact, by_item, difference
from shared.observability import logger
from shared.settings import Settings, get_settings
from shared.storage.transactions import connection

MAX_TRANSACTION_ITEMS = 100
ARTICLE = "article"
APPLY_ATTEMPTS = 5


def _names(counters: Iterable[str]) -> dict[str, str]:
    return {f"#c{i}": name for i, name in enumerate(counters)}


class KpiRepository:
    def __init__(self, settings: Settings | None = None) -> None:
        settings = settings or get_settings()
        self.table = settings.kpi_table
        self._db = connection().client  # the low-level client: counters are attributes named by what they count

    # --- facts ---------------------------------------------------------------------------------------------

    def stored_fact(self, ticket_id: str) -> tuple[int, Fact] | None:
        got = self._db.get_item(TableName=self.table, Key=_key(f"fact#{ticket_id}", "fact"), ConsistentRead=True)
        item = got.get("Item")
        if not item:
            return None
        return int(item["version"]["N"]), {k: int(v) for k, v in json.loads(item["fact"]["S"]).items()}

    def apply(self, ticket_id: str, version: int, fact: Fact) -> Fact | None:
        """Make `fact` (of the ticket at `version`) the ticket's contribution; returns what was added, or None
        when the stored fact is of this version or a later one (a duplicate or a late record)."""
        for _ in range(APPLY_ATTEMPTS):
            stored = self.stored_fact(ticket_id)
            if stored is not None and stored[0] >= version:
                return None
            change = difference(stored[1] if stored else {}, fact)
            try:
                self._write(ticket_id, version, fact, stored[0] if stored else None, change)
                return change
            except Exception as error:  # botocore's ClientError, through pynamodb's connection
                if getattr(error, "response", {}).get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                logger.info("KPI fact raced another write; reading it again", extra={"ticket_id": ticket_id})
        raise RuntimeError(f"KPI fact of {ticket_id} kept racing other writes")

    def _write(self, ticket_id: str, version: int, fact: Fact, previous: int | None, change: Fact) -> None:
        put: dict[str, Any] = {
            "TableName": self.table,
            "Item": {**_key(f"fact#{ticket_id}", "fact"), "version": {"N": str(version)},
                     "fact": {"S": json.dumps(fact, sort_keys=True, separators=(",", ":"))}},  # fmt: skip
        }
        if previous is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "version = :v"
            put["ExpressionAttributeValues"] = {":v": {"N": str(previous)}}
        updates = [self._add(pk, sk, counters) for (pk, sk), counters in sorted(by_item(change).items())]
        if len(updates) + 1 > MAX_TRANSACTION_ITEMS:
            # a ticket escalated on dozens of different days: the counters go first in chunks, then the fact
            logger.warning("KPI fact too large for one transaction", extra={"ticket_id": ticket_id, "items": len(updates)})
            for start in range(0, len(updates), MAX_TRANSACTION_ITEMS):
                self._db.transact_write_items(TransactItems=[{"Update": u} for u in updates[start : start + MAX_TRANSACTION_ITEMS]])
            self._db.transact_write_items(TransactItems=[{"Put": put}])
            return
        self._db.transact_write_items(TransactItems=[{"Put": put}, *({"Update": u} for u in updates)])

    def _add(self, pk: str, sk: str, counters: Mapping[str, int]) -> dict[str, Any]:
        names = _names(counters)
        values = {f":v{i}": {"N": str(amount)} for i, amount in enumerate(counters.values())}
        expression = "ADD " + ", ".join(f"#c{i} :v{i}" for i in range(len(counters)))
        return {"TableName": self.table, "Key": _key(pk, sk), "UpdateExpression": expression,
                "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}  # fmt: skip

    def add(self, pk: str, sk: str, counters: Mapping[str, int]) -> None:
        if counters:
            self._db.update_item(**self._add(pk, sk, counters))

    # --- reading -------------------------------------------------------------------------------------------

    def rows(self, dimension: str, start: date, end: date, projection: Iterable[str] | None = None) -> Iterator[tuple[str, str, dict[str, int]]]:
        """(day, value, counters) of `dimension` for days in [start, end)."""
        upper = (end.toordinal() - 1)
        last = date.fromordinal(upper).isoformat()
        yield from self._query(dimension, "pk = :pk AND sk BETWEEN :a AND :b",
                               {":a": {"S": start.isoformat()}, ":b": {"S": last + "#\uffff"}}, projection)  # fmt: skip

    def rows_before(self, dimension: str, end: date, projection: Iterable[str] | None = None) -> Iterator[tuple[str, str, dict[str, int]]]:
        """(day, value, counters) of `dimension` for every day before `end` (running totals such as the backlog)."""
        yield from self._query(dimension, "pk = :pk AND sk < :b", {":b": {"S": end.isoformat()}}, projection)

    def _query(self, dimension: str, condition: str, values: dict[str, Any], projection: Iterable[str] | None) -> Iterator[tuple[str, str, dict[str, int]]]:
        request: dict[str, Any] = {"TableName": self.table, "KeyConditionExpression": condition,
                                   "ExpressionAttributeValues": {":pk": {"S": dimension}, **values}}  # fmt: skip
        if projection is not None:
            names = {"#k0": "sk", **{f"#p{i}": n for i, n in enumerate(projection)}}
            request["ProjectionExpression"] = ", ".join(names)
            request["ExpressionAttributeNames"] = names
        paginator = self._db.get_paginator("query")
        for page in paginator.paginate(**request):
            for item in page.get("Items", []):
                day, _, value = item["sk"]["S"].partition("#")
                yield day, value, {k: int(v["N"]) for k, v in item.items() if "N" in v}

    def all_items(self) -> Iterator[tuple[str, str, dict[str, int]]]:
        """Every aggregate item (pk, sk, counters): what the rebuild compares with the truth. A Scan — the rebuild
        job's alone; no request reads this way."""
        for page in self._db.get_paginator("scan").paginate(TableName=self.table):
            for item in page.get("Items", []):
                pk = item["pk"]["S"]
                if pk == ARTICLE or pk.startswith("fact#"):
                    continue
                yield pk, item["sk"]["S"], {k: int(v["N"]) for k, v in item.items() if "N" in v}

    def put_fact(self, ticket_id: str, version: int, fact: Fact) -> None:
        self._db.put_item(TableName=self.table, Item={**_key(f"fact#{ticket_id}", "fact"), "version": {"N": str(version)},
                                                      "fact": {"S": json.dumps(fact, sort_keys=True, separators=(",", ":"))}})  # fmt: skip

    # --- article counters ----------------------------------------------------------------------------------

    def add_article(self, article_id: str, counter: str, amount: int = 1) -> None:
        self.add(ARTICLE, article_id, {counter: amount})

    def article_counts(self, article_ids: Iterable[str]) -> dict[str, dict[str, int]]:
        ids = sorted(set(article_ids))
        out: dict[str, dict[str, int]] = {}
        for start in range(0, len(ids), 100):
            keys = [_key(ARTICLE, aid) for aid in ids[start : start + 100]]
            request: dict[str, Any] = {self.table: {"Keys": keys}}
            while request:
                got = self._db.batch_get_item(RequestItems=request)
                for item in got.get("Responses", {}).get(self.table, []):
                    out[item["sk"]["S"]] = {k: int(v["N"]) for k, v in item.items() if "N" in v}
                request = got.get("UnprocessedKeys") or {}
        return out


class ArticleCounterStore:
    """The knowledge base's counters port over the KPI table."""

    def __init__(self, repository: KpiRepository | None = None) -> None:
        self.repository = repository or KpiRepository()

    def add(self, article_id: str, counter: str, amount: int = 1) -> None:
        self.repository.add_article(article_id, counter, amount)

    def counts(self, article_ids: Iterable[str]) -> dict[str, dict[str, int]]:
        return self.repository.article_counts(article_ids)


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}
