"""Configuration documents a support lead edits through the API, with shipped defaults behind them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.storage.models import ConfigModel
from shared.timefmt import iso


class ConfigRepository:
    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        try:
            return dict(ConfigModel.get(kind, name).body)
        except ConfigModel.DoesNotExist:
            return None

    def list(self, kind: str) -> dict[str, dict[str, Any]]:
        return {item.name: dict(item.body) for item in ConfigModel.query(kind)}

    def put(self, kind: str, name: str, body: dict[str, Any], actor: str, now: datetime) -> None:
        ConfigModel(kind=kind, name=name, body=body, updated_at=iso(now), updated_by=actor).save(
            add_version_condition=False
        )

    def delete(self, kind: str, name: str) -> bool:
        try:
            ConfigModel.get(kind, name).delete(add_version_condition=False)
            return True
        except ConfigModel.DoesNotExist:
            return False
