"""Every UI string of the console has its Indonesian wording, and no screen builds text the dictionary misses.

Reads console/src (the English wording is the key, gettext style: t("Inbox")); labels passed through t() as a
variable (sections, message kinds, presence, delivery states) are named here so they are checked too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

SOURCE = Path(__file__).resolve().parents[2] / "console" / "src"
CALL = re.compile(r'\bt\(\s*"((?:[^"\\]|\\.)*)"')
ENTRY = re.compile(r'"((?:[^"\\]|\\.)*)":\s*"')
# t(variable) call sites: the values they can take
INDIRECT = ["Customer", "Agent", "Internal note", "Automatic", "SLA policies", "Calendars", "Priority rules",
            "Templates", "Auto-replies", "Macros", "Teams", "Agents", "online", "away", "offline", "queued", "sent",
            "delivered", "read", "failed", "agent", "supervisor", "admin", "priority", "tier", "channel", "tags",
            "team", "first response", "next response", "resolution", "idle minutes", "vip idle minutes",
            "skill wait seconds", "supervisors", "managers", "id", "language",
            # self-service: who wrote a portal message, the rating's words
            "You", "Support", "Very unhappy", "Unhappy", "Neutral", "Happy", "Very happy"]  # fmt: skip


def _keys() -> set[str]:
    found: set[str] = set(INDIRECT)
    for path in SOURCE.rglob("*.js*"):
        if path.name != "i18n-id.js":
            found |= set(CALL.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_english_string_has_an_indonesian_wording() -> None:
    dictionary = set(ENTRY.findall((SOURCE / "i18n-id.js").read_text(encoding="utf-8")))
    missing = sorted(_keys() - dictionary)
    assert len(_keys()) > 150 and not missing, f"add to console/src/i18n-id.js: {missing}"


def test_placeholders_survive_translation() -> None:
    text = (SOURCE / "i18n-id.js").read_text(encoding="utf-8")
    pairs = re.findall(r'"((?:[^"\\]|\\.)*)":\s*"((?:[^"\\]|\\.)*)"', text)
    wrong = [(en, id_) for en, id_ in pairs if sorted(re.findall(r"\{\w+\}", en)) != sorted(re.findall(r"\{\w+\}", id_))]
    assert not wrong, wrong
