"""Configuration read once per invocation, fresh between invocations."""

from __future__ import annotations

from datetime import datetime, timezone
from unittest import mock

import pytest

from shared.storage.config import ConfigRepository, read_once
from shared.storage.models import ConfigModel

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 2, 3, 15, tzinfo=timezone.utc)


def test_inside_read_once_each_document_is_read_once_and_a_write_is_seen(aws):
    config = ConfigRepository()
    config.put("team", "support", {"strategy": "fifo"}, "test", NOW)
    get = ConfigModel.get
    with mock.patch.object(ConfigModel, "get", side_effect=get) as reads:
        with read_once():
            first = config.get("team", "support")
            first["strategy"] = "changed by the caller"  # a caller's change does not leak into the next read
            assert config.get("team", "support") == {"strategy": "fifo"}
            assert reads.call_count == 1
            config.put("team", "support", {"strategy": "urgency"}, "test", NOW)
            assert config.get("team", "support") == {"strategy": "urgency"}
            assert config.get("team", "nobody") is None and config.get("team", "nobody") is None
            assert reads.call_count == 3
        config.get("team", "support")
        config.get("team", "support")
        assert reads.call_count == 5  # outside the block every read is fresh


def test_lists_are_cached_per_kind_and_dropped_on_delete(aws):
    config = ConfigRepository()
    config.put("auto-reply", "a", {"phrases": ["x"]}, "test", NOW)
    with read_once():
        assert list(config.list("auto-reply")) == ["a"]
        ConfigModel(kind="auto-reply", name="b", body={"phrases": ["y"]}, updated_at="", updated_by="x").save()
        assert list(config.list("auto-reply")) == ["a"]  # written behind the repository's back: not seen yet
        assert config.delete("auto-reply", "a")
        assert list(config.list("auto-reply")) == ["b"]
