"""What a support lead configures through the API, with the rules that span documents: a team or SLA policy may
name only a calendar that exists (24x7 is built in and cannot be overwritten), an auto-reply only a template that
exists, and a team whose settings change has its queue looked at again (a shorter skill wait may free work).

Each document is checked by its own contract (shared/contracts/config.py) through its rule module's parser,
so what is saved is what the rules can read; what is returned is the document as stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from shared.domain.access import Principal, require_team
from shared.domain.errors import NotFound, ValidationFailed
from shared.domain.ports import Announcer, ConfigStore
from shared.domain.teams import ALWAYS_OPEN_CALENDAR, TeamSettings, changed_team, team_settings


@dataclass
class Configuration:
    config: ConfigStore
    announcer: Announcer
    now: Callable[[], datetime]

    # --- teams ---------------------------------------------------------------------------------------------

    def team(self, team: str) -> dict[str, Any]:
        """Every setting the product reads for the team, defaults filled in."""
        return {"id": team, **team_settings(self.config, team).document()}

    def change_team(self, team: str, change: dict[str, Any], caller: Principal) -> dict[str, Any]:
        """A lead changes the settings of a team they lead; an admin any team's."""
        require_team(caller, team, "these settings")
        actor = caller.subject
        settings: TeamSettings = changed_team(team_settings(self.config, team), change)
        self._calendar_exists(settings.calendar)
        self.config.put("team", team, settings.document(), actor, self.now())
        from shared.contracts.events import CapacityFreed, wire

        self.announcer.announce(wire(CapacityFreed(team=team)))
        return {"id": team, **settings.document()}

    # --- priority rules ------------------------------------------------------------------------------------

    def priority_rules(self) -> dict[str, Any]:
        from shared.domain.priority import rules_to_document
        from shared.services.routing import priority_rules

        return rules_to_document(priority_rules(self.config))

    def save_priority_rules(self, document: dict[str, Any], actor: str) -> dict[str, Any]:
        from shared.domain.priority import rules_from_document, rules_to_document

        saved = rules_to_document(rules_from_document(document))
        self.config.put("priority-rules", "default", saved, actor, self.now())
        return saved

    # --- SLA policies and calendars ------------------------------------------------------------------------

    def sla_policies(self) -> list[dict[str, Any]]:
        from shared.domain.sla_clock import policy_to_document
        from shared.services.sla import policies

        return [policy_to_document(policy) for policy in policies(self.config)]

    def save_sla_policy(self, policy_id: str, document: dict[str, Any], actor: str) -> dict[str, Any]:
        from shared.domain.sla_clock import policy_from_document, policy_to_document

        policy = policy_from_document(policy_id, document)
        self._calendar_exists(policy.calendar)
        saved = policy_to_document(policy)
        self.config.put("sla-policy", policy_id, saved, actor, self.now())
        return saved

    def calendars(self) -> list[dict[str, Any]]:
        return [{"id": name, **doc} for name, doc in sorted(self.config.list("calendar").items())]

    def save_calendar(self, calendar_id: str, document: dict[str, Any], actor: str) -> dict[str, Any]:
        from shared.domain.business_calendar import calendar_from_document, validate_calendar_document

        if calendar_id == ALWAYS_OPEN_CALENDAR:
            raise ValidationFailed(f"{ALWAYS_OPEN_CALENDAR} is built in and cannot be changed")
        saved = validate_calendar_document(document)
        calendar_from_document(calendar_id, saved)
        self.config.put("calendar", calendar_id, saved, actor, self.now())
        return {"id": calendar_id, **saved}

    def _calendar_exists(self, calendar_id: str) -> None:
        if calendar_id != ALWAYS_OPEN_CALENDAR and self.config.get("calendar", calendar_id) is None:
            raise ValidationFailed(f"calendar: no calendar {calendar_id!r}; save it first with PUT /v1/calendars/...")

    # --- templates and auto-replies ------------------------------------------------------------------------

    def templates(self) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """Saved templates, then the shipped defaults they do not override; and every placeholder."""
        from shared.domain.templates import DEFAULT_TEMPLATES, PLACEHOLDERS, template_from_document, template_to_document

        saved = [template_from_document(doc) for doc in self.config.list("template").values()]
        keys = {(t.id, t.language, t.channel) for t in saved}
        defaults = [t for t in DEFAULT_TEMPLATES if (t.id, t.language, t.channel) not in keys]
        items = [{**template_to_document(t), "source": "saved"} for t in saved]
        items += [{**template_to_document(t), "source": "default"} for t in defaults]
        return items, dict(PLACEHOLDERS)

    def save_template(self, key: tuple[str, str, str], document: dict[str, Any], actor: str) -> dict[str, Any]:
        """`key` is (id, language, channel), from the path; the body holds the wording."""
        from shared.domain.templates import template_from_document, template_to_document

        template_id, language, channel = key
        template = template_from_document({**document, "id": template_id, "language": language, "channel": channel})
        saved = template_to_document(template)
        self.config.put("template", f"{template_id}:{language}:{channel}", saved, actor, self.now())
        return saved

    def auto_replies(self) -> list[dict[str, Any]]:
        return [{"name": name, **doc} for name, doc in sorted(self.config.list("auto-reply").items())]

    def save_auto_reply(self, name: str, document: dict[str, Any], actor: str) -> dict[str, Any]:
        from shared.services.customer_messages import auto_reply_rule, stored_templates

        rule = auto_reply_rule(name, document)
        if not any(t.id == rule.template for t in stored_templates(self.config)):
            raise ValidationFailed(f"no template {rule.template!r}; save it first with PUT /v1/templates/...")
        saved = {"channels": list(rule.channels), "phrases": list(rule.phrases), "template": rule.template,
                 "resolve": rule.resolve}  # fmt: skip
        self.config.put("auto-reply", name, saved, actor, self.now())
        return {"name": name, **saved}

    def delete_auto_reply(self, name: str) -> None:
        if not self.config.delete("auto-reply", name):
            raise NotFound(f"no auto-reply {name}")
