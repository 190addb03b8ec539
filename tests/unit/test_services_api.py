"""What the API's routes call — the ticket desk, the roster, customers, configuration — on in-memory fakes: the
rules that are theirs (who may do what, what must exist first, what a retry may not repeat), without HTTP."""

from __future__ import annotations

import pytest

from shared.contracts.api import AgentChange, CustomerChange, Reply, TicketIntake, TicketPatch, TicketQuery
from shared.contracts.refusals import validated
from shared.domain.access import Forbidden, Principal
from shared.domain.errors import InvalidTransition, NotFound, ValidationFailed
from shared.domain.model import Role
from shared.services.configuration import Configuration
from shared.services.people import Customers, Roster
from tests.fakes import World

pytestmark = pytest.mark.unit

AGENT = Principal(subject="rina", role=Role.AGENT, agent_id="rina")
OTHER_AGENT = Principal(subject="budi", role=Role.AGENT, agent_id="budi")
LEAD = Principal(subject="sari", role=Role.SUPERVISOR, agent_id="sari")
BILLING_AGENT = Principal(subject="dewi", role=Role.AGENT, agent_id="dewi", teams=("billing",))
LEAD_OF_BOTH = Principal(subject="joko", role=Role.SUPERVISOR, agent_id="joko", teams=("billing", "support"))
ADMIN = Principal(subject="admin", role=Role.ADMIN, agent_id=None, teams=())


def _ticket(world: World, subject: str = "Pembayaran gagal", minutes: float = 0) -> str:
    created = world.mail(subject, minutes=minutes)
    world.pump()
    return str(created.ticket_id)


def _intake(**given: object) -> TicketIntake:
    body = {"channel": "chat", "customer": {"handle": "visitor-42"}, "body": "Halo, jam buka toko kapan ya?", **given}
    return validated(TicketIntake, body, "body")


# --- the ticket desk ------------------------------------------------------------------------------------------


def test_a_chat_opened_twice_with_one_idempotency_key_is_one_ticket_and_without_a_key_two():
    world = World()
    desk = world.desk()
    first, created = desk.open(_intake(), "chat-42-1", AGENT)
    again, created_again = desk.open(_intake(), "chat-42-1", AGENT)
    assert created and not created_again and again.id == first.id
    other, _ = desk.open(_intake(), "chat-42-1", OTHER_AGENT)  # keys are per caller
    assert other.id != first.id
    assert desk.open(_intake(), None, AGENT)[0].id != desk.open(_intake(), None, AGENT)[0].id
    assert first.channel == "chat" and first.subject == "Halo, jam buka toko kapan ya?"


def test_an_unusable_idempotency_key_is_refused_before_anything_is_created():
    world = World()
    with pytest.raises(ValidationFailed, match="Idempotency-Key"):
        world.desk().open(_intake(), "k" * 500, AGENT)
    assert world.tickets.list(validated(TicketQuery, {}, "q")).items == []


def test_a_ticket_is_found_by_its_ref_in_any_case_and_a_long_or_unknown_id_is_not_found():
    world = World()
    ticket = world.ticket(_ticket(world))
    desk = world.desk()
    assert desk.find(ticket.ref.lower(), AGENT).id == ticket.id
    with pytest.raises(NotFound):
        desk.find("x" * 65, AGENT)
    with pytest.raises(NotFound):
        desk.find("T-NOSUCH", AGENT)


def test_a_reply_goes_to_the_customer_and_counts_as_first_response_but_a_note_does_not():
    world = World()
    ticket_id = _ticket(world)
    world.agents.add("rina", name="Rina")
    desk = world.desk()
    sent_before = len(world.out.mails)

    noted = desk.reply(ticket_id, Reply(body="cek log pembayaran dulu", internal=True), AGENT)
    assert noted.first_responded_at is None and len(world.out.mails) == sent_before
    answered = desk.reply(ticket_id, Reply(body="Sudah kami perbaiki."), AGENT)
    assert answered.first_responded_at is not None and answered.customer_waiting_count == 0
    assert len(world.out.mails) == sent_before + 1
    assert world.out.announced[-1]["event"] == "reply.sent"
    kinds = [m.kind for m in world.tickets.thread(ticket_id)[0]]
    assert "note" in kinds


def test_a_closed_ticket_takes_notes_but_no_reply():
    world = World()
    ticket_id = _ticket(world)
    ticket = world.ticket(ticket_id)
    ticket.status = "closed"
    world.tickets.save_unguarded(ticket)
    desk = world.desk()
    with pytest.raises(InvalidTransition, match="closed"):
        desk.reply(ticket_id, Reply(body="Halo lagi"), AGENT)
    desk.reply(ticket_id, Reply(body="catatan", internal=True), AGENT)


def test_an_agent_takes_a_ticket_themselves_but_giving_it_to_someone_else_or_escalating_is_a_leads():
    world = World()
    ticket_id = _ticket(world)
    for agent in ("rina", "budi", "sari"):
        world.agents.add(agent, capacity=5)
    desk = world.desk()
    with pytest.raises(Forbidden, match="supervisor"):
        desk.change(ticket_id, TicketPatch(assignee="budi"), AGENT)
    with pytest.raises(Forbidden, match="supervisor"):
        desk.change(ticket_id, TicketPatch(escalation_level=1), AGENT)
    assert desk.change(ticket_id, TicketPatch(assignee="rina"), AGENT).assignee == "rina"
    assert desk.change(ticket_id, TicketPatch(assignee="budi"), LEAD).assignee == "budi"
    assert desk.change(ticket_id, validated(TicketPatch, {"assignee": None}, "body"), LEAD).assignee is None
    assert desk.change(ticket_id, TicketPatch(escalation_level=1, reason="  VIP  "), LEAD).escalation_level == 1


def test_the_list_is_narrowed_by_the_query():
    world = World()
    _ticket(world, "Pembayaran gagal")
    _ticket(world, "Lupa kata sandi", minutes=1)
    desk = world.desk()
    assert [t.subject for t in desk.search(TicketQuery(), AGENT).items] == ["Lupa kata sandi", "Pembayaran gagal"]
    assert [t.subject for t in desk.search(TicketQuery(q="sandi"), AGENT).items] == ["Lupa kata sandi"]
    page = desk.search(TicketQuery(limit=1), AGENT)
    assert len(page.items) == 1 and page.next_cursor


def test_an_agent_of_another_team_can_neither_read_nor_answer_nor_change_a_ticket():
    world = World()
    ticket_id = _ticket(world)  # the default team: support
    world.agents.add("dewi", team="billing")
    desk = world.desk()
    thread_before = len(world.tickets.thread(ticket_id)[0])
    for attempt in (
        lambda: desk.find(ticket_id, BILLING_AGENT),
        lambda: desk.reply(ticket_id, Reply(body="Halo"), BILLING_AGENT),
        lambda: desk.reply(ticket_id, Reply(body="catatan", internal=True), BILLING_AGENT),
        lambda: desk.change(ticket_id, TicketPatch(status="pending"), BILLING_AGENT),
    ):
        with pytest.raises(Forbidden, match="team support; your token works in billing"):
            attempt()
    assert world.ticket(ticket_id).status != "pending" and len(world.tickets.thread(ticket_id)[0]) == thread_before
    assert desk.search(TicketQuery(), BILLING_AGENT).items == []
    assert desk.find(ticket_id, LEAD_OF_BOTH).id == ticket_id == desk.find(ticket_id, ADMIN).id
    assert [t.id for t in desk.search(TicketQuery(), LEAD_OF_BOTH).items] == [ticket_id]
    assert [t.id for t in desk.search(TicketQuery(), ADMIN).items] == [ticket_id]


# --- agents and customers --------------------------------------------------------------------------------------


def _roster(world: World) -> Roster:
    return Roster(agents=world.agents, announcer=world.out, now=world.clock)  # type: ignore[arg-type]


def test_an_agent_sets_their_own_presence_and_nothing_else_and_coming_online_drains_the_queue():
    world = World()
    roster = _roster(world)
    view, created = roster.put("rina", AgentChange(team="support", capacity=3), LEAD)
    assert created and view.profile.presence == "offline" and world.out.announced == []
    with pytest.raises(Forbidden):
        roster.put("rina", AgentChange(capacity=10), AGENT)
    with pytest.raises(Forbidden):
        roster.put("budi", validated(AgentChange, {"presence": "online"}, "body"), AGENT)
    view, created = roster.put("rina", validated(AgentChange, {"presence": "online"}, "body"), AGENT)
    assert not created and view.profile.presence == "online" and view.profile.capacity == 3
    assert world.out.announced[-1] == {"event": "agent.available", "team": "support", "agent_id": "rina"}
    roster.put("rina", AgentChange(capacity=2), LEAD)  # less capacity frees nothing
    assert len(world.out.announced) == 1
    roster.put("rina", AgentChange(capacity=4), LEAD)
    assert len(world.out.announced) == 2


def test_an_agent_body_is_refused_with_the_field_that_is_wrong():
    for body, words in [
        ({"load": 3}, "read-only"),
        ({"presence": None}, "presence"),
        ({"capacity": 101}, "capacity"),
        ({"working_hours": {"mon": [["17:00", "08:00"]]}}, "working_hours.mon"),
        ({"timezone": "Mars/Olympus"}, "time zone"),
        ({"channels": ["pigeon"]}, "channels[0]"),
    ]:
        with pytest.raises(ValidationFailed, match=words.replace("[", r"\[")):
            validated(AgentChange, body, "body")


def test_a_key_account_is_registered_by_email_before_it_writes_and_found_by_id_or_email():
    world = World()
    customers = Customers(customers=world.customers, now=world.clock, tickets=world.tickets)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        customers.get("nobody@pelanggan.co.id", AGENT)
    vip = customers.change("Direktur@Pelanggan.co.id", CustomerChange(tier="vip", name="Ibu Direktur"), LEAD)  # type: ignore[arg-type]
    assert vip.tier == "vip" and customers.get("direktur@pelanggan.co.id", AGENT).id == vip.id == customers.get(vip.id, AGENT).id
    with pytest.raises(NotFound):
        customers.change("cus_unknown", CustomerChange(tier="vip"), LEAD)  # type: ignore[arg-type]


def test_an_agent_sees_the_customers_of_their_teams_tickets_and_the_roster_of_their_teams():
    world = World()
    ticket = world.ticket(_ticket(world))
    customers = Customers(customers=world.customers, now=world.clock, tickets=world.tickets)  # type: ignore[arg-type]
    assert customers.get(ticket.customer_id, AGENT).id == ticket.customer_id
    with pytest.raises(Forbidden, match="billing"):
        customers.get(ticket.customer_id, BILLING_AGENT)
    with pytest.raises(Forbidden):
        customers.change(ticket.customer_id, CustomerChange(tier="vip"), BILLING_AGENT)  # type: ignore[arg-type]
    assert customers.get(ticket.customer_id, ADMIN).id == ticket.customer_id
    roster = _roster(world)
    roster.put("rina", AgentChange(team="support"), LEAD)
    roster.put("dewi", AgentChange(team="billing"), LEAD_OF_BOTH)
    assert [v.profile.id for v in roster.list(None, AGENT)] == ["rina"]
    assert sorted(v.profile.id for v in roster.list(None, ADMIN)) == ["dewi", "rina"]
    assert roster.get("dewi", BILLING_AGENT).profile.id == "dewi"
    with pytest.raises(Forbidden, match="agent dewi"):
        roster.get("dewi", AGENT)
    with pytest.raises(Forbidden, match="billing"):
        roster.list("billing", AGENT)


# --- configuration -------------------------------------------------------------------------------------------

OFFICE = {"timezone": "Asia/Jakarta", "hours": {"mon": [["08:00", "17:00"]]}}


def _configuration(world: World) -> Configuration:
    return Configuration(config=world.config, announcer=world.out, now=world.clock)  # type: ignore[arg-type]


def test_a_team_or_policy_may_name_only_a_calendar_that_exists_and_24x7_cannot_be_overwritten():
    world = World()
    config = _configuration(world)
    with pytest.raises(ValidationFailed, match="no calendar 'office'"):
        config.change_team("support", {"calendar": "office"}, LEAD)
    policy = {"name": "Office hours", "position": 1, "calendar": "office", "targets": {"first_response": 3600}}
    with pytest.raises(ValidationFailed, match="no calendar 'office'"):
        config.save_sla_policy("office-hours", policy, "sari")
    with pytest.raises(ValidationFailed, match="built in"):
        config.save_calendar("24x7", OFFICE, "sari")
    assert config.calendars() == []

    config.save_calendar("office", OFFICE, "sari")
    assert config.change_team("support", {"calendar": "office"}, LEAD)["calendar"] == "office"
    assert world.out.announced[-1] == {"event": "capacity.freed", "team": "support"}
    assert config.save_sla_policy("office-hours", policy, "sari")["calendar"] == "office"
    assert [p["id"] for p in config.sla_policies()][0] == "office-hours"


def test_a_team_change_keeps_the_fields_it_does_not_name():
    world = World()
    config = _configuration(world)
    config.change_team("billing", {"strategy": "fifo"}, LEAD_OF_BOTH)
    changed = config.change_team("billing", {"idle_minutes": 90}, LEAD_OF_BOTH)
    assert changed["strategy"] == "fifo" and changed["idle_minutes"] == 90 and config.team("billing") == changed


def test_an_auto_reply_needs_its_template_first_and_can_be_removed_once():
    world = World()
    config = _configuration(world)
    rule = {"channels": ["chat"], "phrases": ["jam buka"], "template": "hours"}
    with pytest.raises(ValidationFailed, match="no template 'hours'"):
        config.save_auto_reply("opening-hours", rule, "sari")
    config.save_template(("hours", "id", "chat"), {"text": "Kami buka 08.00-20.00, {{ customer_name }}."}, "sari")
    assert config.save_auto_reply("opening-hours", rule, "sari") == {"name": "opening-hours", "resolve": False, **rule}
    assert [r["name"] for r in config.auto_replies()] == ["opening-hours"]
    config.delete_auto_reply("opening-hours")
    with pytest.raises(NotFound):
        config.delete_auto_reply("opening-hours")


def test_saved_templates_come_first_and_hide_the_default_they_override():
    world = World()
    config = _configuration(world)
    defaults, placeholders = config.templates()
    ack = next(t for t in defaults if t["source"] == "default")
    config.save_template((ack["id"], ack["language"], ack["channel"]), {"subject": "[{{ ref }}]", "text": "Terima kasih"}, "sari")
    items, _ = config.templates()
    same = [t for t in items if (t["id"], t["language"], t["channel"]) == (ack["id"], ack["language"], ack["channel"])]
    assert [t["source"] for t in same] == ["saved"] and items[0]["source"] == "saved"
    assert "customer_name" in placeholders


def test_priority_rules_read_back_as_saved_and_a_bad_document_names_its_field():
    world = World()
    config = _configuration(world)
    shipped = config.priority_rules()
    assert config.save_priority_rules(shipped, "admin") == shipped == config.priority_rules()
    with pytest.raises(ValidationFailed, match="unknown field"):
        config.save_priority_rules({**shipped, "vip_first": True}, "admin")


def test_a_lead_moves_work_and_people_only_within_the_teams_they_lead():
    world = World()
    ticket_id = _ticket(world)
    world.agents.add("rina", capacity=5)
    world.agents.add("budi", capacity=5)
    world.agents.add("dewi", team="billing", capacity=5)
    desk = world.desk()
    assert desk.change(ticket_id, TicketPatch(assignee="budi"), LEAD).assignee == "budi"
    with pytest.raises(Forbidden, match="supervisor"):  # an agent may not take another agent's ticket away
        desk.change(ticket_id, validated(TicketPatch, {"assignee": None}, "body"), AGENT)
    assert desk.change(ticket_id, validated(TicketPatch, {"assignee": None}, "body"), LEAD).assignee is None
    with pytest.raises(Forbidden, match="supervisor"):  # lending work to another team is a lead's too
        desk.change(ticket_id, TicketPatch(assignee="dewi"), AGENT)
    lent = desk.change(ticket_id, TicketPatch(assignee="dewi"), LEAD)
    assert lent.assignee == "dewi" and desk.find(ticket_id, BILLING_AGENT).id == ticket_id  # the holder works on it
    assert [t.id for t in desk.search(TicketQuery(), BILLING_AGENT).items] == [ticket_id]
    billing_colleague = Principal(subject="eka", role=Role.AGENT, agent_id="eka", teams=("billing",))
    with pytest.raises(Forbidden):
        desk.find(ticket_id, billing_colleague)

    roster = _roster(world)
    billing_lead = Principal(subject="wati", role=Role.SUPERVISOR, agent_id="wati", teams=("billing",))
    with pytest.raises(Forbidden, match="team support"):
        roster.put("rina", AgentChange(capacity=1), billing_lead)
    with pytest.raises(Forbidden, match="team support"):  # moving an agent out of support needs a lead of support too
        roster.put("budi", AgentChange(team="billing"), billing_lead)
    assert roster.put("budi", AgentChange(team="billing"), LEAD_OF_BOTH)[0].profile.team == "billing"
    with pytest.raises(Forbidden, match="team support"):
        _configuration(world).change_team("support", {"strategy": "fifo"}, billing_lead)
