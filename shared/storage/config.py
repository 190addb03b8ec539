"""Configuration documents a support lead edits through the API, with shipped defaults behind them.

Inside `read_once()` (one batch of queue messages, one sweep) each document and each kind's list is read from
DynamoDB once and served from memory after that, per thread; a write through this repository drops what it
changed. Outside it every read is fresh, so a policy saved through the API applies to the next invocation.
"""

from __future__ import annotations

import copy
import threading
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any, Iterator

from shared.storage.models import ConfigModel
from shared.domain.timefmt import iso

_local = threading.local()


@contextmanager
def read_once() -> Iterator[None]:
    """Serve repeated configuration reads from memory until the block ends (nested blocks share the outer one)."""
    if getattr(_local, "cache", None) is not None:
        yield
        return
    _local.cache = {}
    try:
        yield
    finally:
        _local.cache = None


def _cached(key: tuple[str, ...], read: Any) -> Any:
    cache: dict[tuple[str, ...], Any] | None = getattr(_local, "cache", None)
    if cache is None:
        return read()
    if key not in cache:
        cache[key] = read()
    return copy.deepcopy(cache[key])  # callers may change what they get; the cached copy stays as read


def _forget(kind: str) -> None:
    cache: dict[tuple[str, ...], Any] | None = getattr(_local, "cache", None)
    if cache is not None:
        for key in [k for k in cache if k[1] == kind]:
            del cache[key]


class ConfigRepository:
    def read_once(self) -> AbstractContextManager[None]:
        return read_once()

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        def read() -> dict[str, Any] | None:
            try:
                return dict(ConfigModel.get(kind, name).body)
            except ConfigModel.DoesNotExist:
                return None

        return _cached(("get", kind, name), read)  # type: ignore[no-any-return]

    def list(self, kind: str) -> dict[str, dict[str, Any]]:
        return _cached(("list", kind), lambda: {item.name: dict(item.body) for item in ConfigModel.query(kind)})  # type: ignore[no-any-return]

    def put(self, kind: str, name: str, body: dict[str, Any], actor: str, now: datetime) -> None:
        ConfigModel(kind=kind, name=name, body=body, updated_at=iso(now), updated_by=actor).save(
            add_version_condition=False
        )
        _forget(kind)

    def delete(self, kind: str, name: str) -> bool:
        _forget(kind)
        try:
            ConfigModel.get(kind, name).delete(add_version_condition=False)
            return True
        except ConfigModel.DoesNotExist:
            return False
