"""The configuration documents a support lead edits, as typed contracts: what each accepts, the mistakes it refuses
(each refusal naming the field), the shipped defaults surviving a round trip, and the JSON schema /openapi.json
will be generated from."""

from __future__ import annotations

import copy
import json
from typing import Any, Callable

import jsonschema
import pytest

from shared.domain.business_calendar import ALWAYS_OPEN, calendar_from_document, calendar_to_document
from shared.contracts.config import CONFIG_DOCUMENTS, SlaPolicyDocument, TeamDocument
from shared.contracts.refusals import field_path, validated
from shared.domain.errors import ValidationFailed
from shared.domain.model import Priority
from shared.domain.priority import DEFAULT_RULES, rules_from_document, rules_to_document
from shared.domain.sla_clock import CONDITION_KEYS, DEFAULT_POLICIES, policy_from_document, policy_to_document
from shared.domain.teams import TeamSettings, changed_team, team_from_document
from shared.domain.templates import DEFAULT_TEMPLATES, TemplateInvalid, template_from_document, template_to_document

pytestmark = pytest.mark.unit

RULES = {
    "default_priority": "medium",
    "keyword_rules": [
        {"name": "outage", "phrases": ["sistem macet", "system down"], "priority": "urgent", "category": "outage"},
        {"name": "billing", "phrases": ["tagihan ganda"], "priority": "high", "skill": "billing", "channels": ["email"]},
    ],
    "impact_phrases": ["semua pengguna"],
    "tier_boost": {"vip": 2},
    "channel_floor": {"phone": "high"},
}
POLICY = {
    "position": 10,
    "name": "VIP urgent",
    "conditions": {"priority": ["urgent"], "tier": ["vip"]},
    "targets": {"first_response": 900, "resolution": 14400},
    "calendar": "jakarta-office",
    "ladder": [
        {"metric": "first_response", "at": 0.75, "action": "warn", "notify": ["assignee"]},
        {"metric": "first_response", "at": 1.0, "action": "escalate", "tier": 2, "notify": ["supervisor"]},
    ],
}
OFFICE = {
    "timezone": "Asia/Jakarta",
    "hours": {day: [["08:00", "12:00"], ["13:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": {"country": "ID", "subdivision": None, "extra": ["2026-12-24"]},
}
TEAM = {"strategy": "fifo", "language": "en", "supervisors": ["lead@example.com"], "idle_minutes": 90}
TEMPLATE = {
    "id": "opening-hours",
    "language": "id",
    "channel": "chat",
    "subject": None,
    "text": "Halo {{ customer_name }}, kami buka 08.00-20.00 WIB. Tiket Anda: {{ ref }}.",
    "html": None,
}
AUTO_REPLY = {"channels": ["chat"], "phrases": ["jam buka", "opening hours"], "template": "opening-hours"}

VALID = {
    "priority-rules": RULES,
    "sla-policy": POLICY,
    "calendar": OFFICE,
    "team": TEAM,
    "template": TEMPLATE,
    "auto-reply": AUTO_REPLY,
}


def changed(document: dict[str, Any], change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    broken = copy.deepcopy(document)
    change(broken)
    return broken


def refusal(kind: str, document: Any) -> str:
    with pytest.raises(ValidationFailed) as refused:
        validated(CONFIG_DOCUMENTS[kind], document, kind)
    assert refused.value.code == "validation_failed"
    return refused.value.message


# --- a valid document of each kind ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(VALID))
def test_a_valid_document_of_each_kind_parses(kind):
    checked = CONFIG_DOCUMENTS[kind].model_validate(VALID[kind])
    assert set(VALID[kind]) <= checked.model_fields_set  # every field given was read, none dropped


def test_valid_documents_become_the_domain_objects_the_rules_use():
    rules = rules_from_document(RULES)
    assert rules.keyword_rules[1].channels == ("email",) and rules.channel_floor == {"phone": Priority.HIGH}
    policy = policy_from_document("vip-urgent", POLICY)
    assert [(s.at, s.action, s.tier) for s in policy.ladder] == [(0.75, "warn", None), (1.0, "escalate", 2)]
    assert policy.conditions["channel"] == () and set(policy.conditions) == set(CONDITION_KEYS)
    office = calendar_from_document("jakarta-office", OFFICE, years=[2026])
    assert len(office.hours["mon"]) == 2 and "sun" not in office.hours and office.holidays
    team = changed_team(TeamSettings(), TEAM)
    assert (team.strategy, team.supervisors, team.idle_minutes, team.language) == ("fifo", ("lead@example.com",), 90, "en")
    assert template_from_document(TEMPLATE).channel == "chat"


def test_a_lead_may_list_the_ladder_in_any_order_it_fires_in_order():
    shuffled = dict(POLICY, ladder=list(reversed(POLICY["ladder"])))
    assert policy_from_document("vip-urgent", shuffled) == policy_from_document("vip-urgent", POLICY)


def test_condition_values_are_read_the_way_a_lead_types_them():
    policy = policy_from_document("p", dict(POLICY, conditions={"priority": [" URGENT", "urgent"], "team": [" L2 "]}))
    assert policy.conditions["priority"] == ("urgent",) and policy.conditions["team"] == ("L2",)


# --- typical mistakes, each refused naming the field ---------------------------------------------------------------

MISTAKES = [
    ("sla-policy", changed(POLICY, lambda d: d["targets"].update(first_response=-5)), "targets.first_response: must be at least 1; got -5"),
    ("sla-policy", changed(POLICY, lambda d: d["targets"].update(first_reply=600)), "targets: 'first_reply' is not a metric"),
    ("sla-policy", changed(POLICY, lambda d: d["ladder"][0].update(tier=2)), "ladder[0].tier: only an escalate step moves the ticket to a tier"),
    ("sla-policy", changed(POLICY, lambda d: d["ladder"].append({"metric": "next_response", "at": 1, "action": "warn"})), "ladder[2].metric: next_response has no target in this policy"),
    ("sla-policy", changed(POLICY, lambda d: d["ladder"].append(dict(d["ladder"][1]))), "ladder[2]: escalate at 1 of first_response is listed twice (ladder[1])"),
    ("sla-policy", changed(POLICY, lambda d: d["ladder"][1].update(tier=4)), "ladder[1].tier: must be at most 3; got 4"),
    ("sla-policy", changed(POLICY, lambda d: d["ladder"][0].update(at="75%")), "ladder[0].at: must be a number; got '75%'"),
    ("sla-policy", changed(POLICY, lambda d: d["conditions"].update(priority=["critical"])), "conditions.priority[0]: 'critical' is not a priority; expected one of low, medium, high, urgent"),
    ("priority-rules", changed(RULES, lambda d: d["keyword_rules"][0].update(priority="p0")), "keyword_rules[0].priority: 'p0' is not a priority; expected one of low, medium, high, urgent"),
    ("priority-rules", changed(RULES, lambda d: d["keyword_rules"][0]["phrases"].append("Sistem  MACET")), "keyword_rules[0].phrases[2]: 'Sistem  MACET' repeats 'sistem macet'"),
    ("priority-rules", changed(RULES, lambda d: d["keyword_rules"][1].update(channels=["email", "email"])), "keyword_rules[1].channels[1]: 'email' is listed twice"),
    ("priority-rules", changed(RULES, lambda d: d["tier_boost"].update(gold=1)), "tier_boost: 'gold' is not a valid tier"),
    ("calendar", changed(OFFICE, lambda d: d["hours"].update(mon=[["08:00", "12:00"], ["11:30", "17:00"]])), "hours.mon: spans overlap"),
    ("calendar", changed(OFFICE, lambda d: d["hours"].update(sat=[["17:00", "08:00"]])), "hours.sat[0]: a span must end after it starts"),
    ("calendar", changed(OFFICE, lambda d: d.update(timezone="Asia/Jakata")), "timezone: unknown time zone 'Asia/Jakata'"),
    ("calendar", changed(OFFICE, lambda d: d["holidays"].update(country="XY")), "holidays.country: unknown country 'XY'"),
    ("calendar", changed(OFFICE, lambda d: d["holidays"].update(country=None, subdivision="BY")), "holidays.subdivision: needs holidays.country"),
    ("calendar", changed(OFFICE, lambda d: d["holidays"].update(extra=["24/12/2026"])), "holidays.extra[0]: '24/12/2026' is not a date like 2026-12-24"),
    ("team", {"strategy": "random"}, "strategy: 'random' is not a strategy; expected one of urgency, fifo"),
    ("team", {"supervisors": ["lead at example.com"]}, "supervisors[0]: must be an email address"),
    ("team", {"idle_minutes": 0}, "idle_minutes: must be at least 1; got 0"),
    ("team", {"skill_wait_seconds": 1.5}, "skill_wait_seconds: must be a whole number; got 1.5"),
    ("template", changed(TEMPLATE, lambda d: d.update(text="Halo {{ nama_pelanggan }}")), "text: unknown placeholder(s) nama_pelanggan; allowed are agent_name"),
    ("template", changed(TEMPLATE, lambda d: d.update(text="{% if ref %}Halo")), "text: line 1: Unexpected end of template"),
    ("template", changed(TEMPLATE, lambda d: d.update(subject="[{{ ref }}]\nBcc: everyone@example.com")), "subject: must be a single line"),
    ("template", changed(TEMPLATE, lambda d: d.update(language="Bahasa")), "language: must be a lowercase 2-3 letter language code"),
    ("auto-reply", dict(AUTO_REPLY, phrases=[]), "phrases: must list at least 1 item; got []"),
    ("auto-reply", dict(AUTO_REPLY, resolve="yes"), "resolve: must be true or false; got 'yes'"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "document", "message"), MISTAKES, ids=[m[2][:40] for m in MISTAKES])
def test_a_typical_mistake_is_refused_naming_the_field(kind, document, message):
    assert message in refusal(kind, document)


@pytest.mark.parametrize("kind", sorted(VALID))
def test_an_unknown_field_is_refused_with_the_fields_that_exist(kind):
    message = refusal(kind, {**VALID[kind], "colour": "red"})
    assert message.startswith(f"{kind}: unknown field(s) colour; expected ")
    assert all(name in message for name in CONFIG_DOCUMENTS[kind].model_fields)


@pytest.mark.parametrize("kind", sorted(VALID))
def test_a_document_that_is_not_an_object_says_what_one_holds(kind):
    message = refusal(kind, ["not", "an", "object"])
    assert message.startswith(f"{kind}: must be an object with ")


def test_a_policy_saved_under_another_id_is_refused():
    with pytest.raises(ValidationFailed, match="id: the document says 'vip' but it is stored as 'vip-urgent'"):
        validated(SlaPolicyDocument, dict(POLICY, id="vip"), "SLA policy", context={"stored_as": "vip-urgent"})


def test_many_mistakes_show_the_first_few_and_count_the_rest():
    message = refusal("sla-policy", {"position": "first", "name": "", "targets": {}, "calendar": "", "ladder": "x"})
    assert message.startswith("position: must be a whole number; got 'first'; name: must be a non-empty string")
    assert message.endswith("; and 2 more")


def test_a_refused_template_is_still_a_template_error():
    with pytest.raises(TemplateInvalid) as refused:
        template_from_document(dict(TEMPLATE, text="{{ cusomer_name }}"))
    assert refused.value.code == "template_invalid" and "text: unknown placeholder(s) cusomer_name" in refused.value.message


def test_field_paths_read_like_the_document():
    assert field_path(("ladder", 1, "at")) == "ladder[1].at"
    assert field_path(("hours", "mon", 0)) == "hours.mon[0]"
    assert field_path(("tier_boost", "gold", "[key]")) == "tier_boost"
    assert field_path(()) == ""


def test_a_stored_team_setting_that_no_longer_validates_falls_back_to_its_default():
    settings = team_from_document({"strategy": "random", "idle_minutes": 90, "retired_field": True})
    assert settings == TeamSettings(idle_minutes=90)
    assert TeamDocument.salvaged({"strategy": "fifo"}).strategy == "fifo"


def test_the_auto_reply_contract_accepts_and_refuses_what_the_auto_reply_reader_does():
    from shared.services.customer_messages import auto_reply_rule  # the reader the route stage uses (not yet on the model)

    documents = [
        AUTO_REPLY,
        dict(AUTO_REPLY, channels=[]),
        dict(AUTO_REPLY, resolve=True),
        dict(AUTO_REPLY, phrases=[]),
        dict(AUTO_REPLY, phrases=["  "]),
        dict(AUTO_REPLY, phrases=["p" * 201]),
        dict(AUTO_REPLY, channels=["c" * 33]),
        dict(AUTO_REPLY, channels=None),
        dict(AUTO_REPLY, template=""),
        dict(AUTO_REPLY, resolve=1),
        dict(AUTO_REPLY, colour="red"),
    ]
    for document in documents:
        try:
            auto_reply_rule("rule", document)
            reader_accepts = True
        except ValidationFailed:
            reader_accepts = False
        assert reader_accepts == _accepts("auto-reply", document), document


def _accepts(kind: str, document: Any) -> bool:
    try:
        validated(CONFIG_DOCUMENTS[kind], document, kind)
    except ValidationFailed:
        return False
    return True


# --- the shipped defaults round-trip --------------------------------------------------------------------------------


def test_the_shipped_priority_rules_round_trip():
    assert rules_from_document(json.loads(json.dumps(rules_to_document(DEFAULT_RULES)))) == DEFAULT_RULES


@pytest.mark.parametrize("policy", DEFAULT_POLICIES, ids=[p.id for p in DEFAULT_POLICIES])
def test_the_shipped_sla_policies_round_trip(policy):
    assert policy_from_document(policy.id, json.loads(json.dumps(policy_to_document(policy)))) == policy


def test_the_shipped_templates_round_trip():
    for template in DEFAULT_TEMPLATES:
        assert template_from_document(json.loads(json.dumps(template_to_document(template)))) == template


def test_the_default_team_settings_and_the_built_in_calendar_round_trip():
    assert team_from_document(TeamSettings().document()) == TeamSettings()
    assert changed_team(TeamSettings(), TeamSettings().document()) == TeamSettings()
    always_open = calendar_from_document(ALWAYS_OPEN.id, calendar_to_document(ALWAYS_OPEN), years=[])
    assert always_open == ALWAYS_OPEN


# --- the JSON schema /openapi.json is generated from -------------------------------------------------------------


def test_every_kind_the_config_table_stores_has_a_contract():
    assert set(CONFIG_DOCUMENTS) == {"priority-rules", "sla-policy", "calendar", "team", "template", "auto-reply"}


def shipped_documents() -> list[tuple[str, dict[str, Any]]]:
    return [
        ("priority-rules", rules_to_document(DEFAULT_RULES)),
        *(("sla-policy", policy_to_document(policy)) for policy in DEFAULT_POLICIES),
        ("calendar", calendar_to_document(ALWAYS_OPEN)),
        ("team", TeamSettings().document()),
        *(("template", template_to_document(template)) for template in DEFAULT_TEMPLATES),
        *VALID.items(),
    ]


@pytest.mark.parametrize("kind", sorted(CONFIG_DOCUMENTS))
def test_each_contract_gives_a_valid_json_schema_that_refuses_unknown_fields(kind):
    schema = CONFIG_DOCUMENTS[kind].model_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert json.loads(json.dumps(schema)) == schema


def test_the_shipped_and_sample_documents_satisfy_their_json_schema_too():
    for kind, document in shipped_documents():
        jsonschema.validate(json.loads(json.dumps(document)), CONFIG_DOCUMENTS[kind].model_json_schema())


def test_the_schema_tells_an_editor_the_choices_and_limits():
    policy = CONFIG_DOCUMENTS["sla-policy"].model_json_schema()
    step = policy["$defs"]["LadderStepDocument"]["properties"]
    assert step["metric"]["enum"] == ["first_response", "next_response", "resolution"]
    assert step["at"]["exclusiveMinimum"] == 0 and step["tier"]["anyOf"][0] == {"type": "integer", "minimum": 1, "maximum": 3}
    assert policy["properties"]["targets"]["additionalProperties"]["minimum"] == 1
    calendar = CONFIG_DOCUMENTS["calendar"].model_json_schema()
    assert calendar["properties"]["hours"]["propertyNames"]["enum"][0] == "mon"
    template = CONFIG_DOCUMENTS["template"].model_json_schema()
    assert "customer_name" in template["properties"]["text"]["description"]
