"""Intake on in-memory fakes: every message ends as a ticket, a message on one, or a quarantined item."""

from __future__ import annotations

import pytest

from shared.mail.threading import ThreadHints
from tests.fakes import World

pytestmark = pytest.mark.unit


def _hints(subject_ref: str | None = None, token_ref: str | None = None, message_ids: tuple[str, ...] = ()) -> ThreadHints:
    return ThreadHints(token_ref=token_ref, subject_ref=subject_ref, message_ids=message_ids)


def test_a_new_mail_becomes_a_ticket_with_a_ref_its_message_and_an_announcement():
    world = World()
    created = world.mail("Tidak bisa login", "Halo, saya tidak bisa login sejak pagi.")

    assert created.outcome == "created" and created.ref and created.ref.startswith("T-")
    ticket = world.ticket(created.ticket_id)
    assert ticket.status == "open" and ticket.in_triage and ticket.customer.email == "budi@pelanggan.co.id"
    messages, events = world.tickets.thread(ticket.id)
    assert [m.body for m in messages] == ["Halo, saya tidak bisa login sejak pagi."]
    assert [e.type for e in events] == ["ticket.created", "message.added"]
    assert world.out.kinds() == ["ticket.created"]


def test_the_same_delivery_twice_is_one_ticket_and_two_senders_sharing_a_message_id_are_two():
    """Dedupe is on the delivery's own key, not on a Message-ID another sender's client may reuse."""
    world = World()
    first = world.mail("Tidak bisa login", key="mail-1")
    again = world.mail("Tidak bisa login", key="mail-1")
    other = world.mail("Tidak bisa login", key="mail-2", sender="sari@pelanggan.co.id", email_message_id="<same@x>")

    assert again.outcome == "duplicate" and again.ticket_id == first.ticket_id
    assert other.outcome == "created" and other.ticket_id != first.ticket_id
    assert len(world.tickets.items) == 2


def test_the_customers_reply_with_the_ref_threads_and_a_strangers_opens_a_related_ticket():
    world = World()
    first = world.mail("Tidak bisa login")
    reply = world.mail(f"Re: [{first.ref}] Tidak bisa login", "masih belum bisa", minutes=5, hints=_hints(first.ref))
    stranger = world.mail(f"About {first.ref}", minutes=6, sender="eve@evil.example", hints=_hints(first.ref))

    assert reply.outcome == "threaded" and reply.ticket_id == first.ticket_id
    assert world.ticket(first.ticket_id).message_count == 2
    assert stranger.outcome == "created" and world.ticket(str(stranger.ticket_id)).related_to == first.ticket_id
    assert world.tickets.events(first.ticket_id, "ticket.related_opened")


def test_a_reply_to_a_resolved_ticket_reopens_it_and_to_a_closed_one_opens_a_follow_up():
    world = World()
    first = world.mail("Tidak bisa login")
    ticket = world.ticket(first.ticket_id)
    ticket.status = "resolved"
    world.tickets.save(ticket)

    reopened = world.mail(f"Re: [{first.ref}]", "masih error", minutes=10, hints=_hints(first.ref))
    ticket = world.ticket(first.ticket_id)
    assert reopened.outcome == "threaded" and ticket.status == "open" and ticket.reopen_count == 1

    ticket.status = "closed"
    world.tickets.save(ticket)
    follow_up = world.mail(f"Re: [{first.ref}]", "lagi", minutes=20, hints=_hints(first.ref))
    assert follow_up.outcome == "follow_up" and world.ticket(str(follow_up.ticket_id)).follow_up_of == first.ticket_id


def test_automated_mail_that_answers_nothing_is_quarantined_not_a_ticket():
    world = World()
    result = world.mail("Out of office", automated=True, automation_reasons=("auto-submitted",))

    assert result.outcome == "quarantined" and result.reason == "automated_unthreaded"
    assert world.tickets.items == {} and [r for r, _ in world.quarantined] == ["automated_unthreaded"]


def test_a_sender_storm_is_held_in_quarantine_after_the_hourly_limit():
    world = World()
    outcomes = [
        world.mail(f"Spam {n}", key=f"storm-{n}", minutes=n / 60).outcome
        for n in range(world.settings.sender_mails_per_hour + 2)
    ]
    assert outcomes[: world.settings.sender_mails_per_hour] == ["created"] * world.settings.sender_mails_per_hour
    assert outcomes[-1] == "quarantined" and world.quarantined[-1][0] == "rate_limited"


def test_a_concurrent_change_is_not_overwritten_by_a_threaded_reply():
    """Routing assigns the ticket between intake's read and its write: intake reads again and keeps the assignee."""
    world = World()
    first = world.mail("Tidak bisa login")
    real_get = world.tickets.get
    raced: list[bool] = []

    def get_then_someone_assigns(ticket_id: str):
        ticket = real_get(ticket_id)
        if not raced and ticket is not None:
            raced.append(True)
            other = real_get(ticket_id)
            assert other is not None
            other.assignee, other.status = "agent-7", "in_progress"
            world.tickets.save(other)
        return ticket

    world.tickets.get = get_then_someone_assigns  # type: ignore[method-assign]
    reply = world.mail(f"Re: [{first.ref}]", "more", minutes=3, hints=_hints(first.ref))
    world.tickets.get = real_get  # type: ignore[method-assign]

    ticket = world.ticket(first.ticket_id)
    assert reply.outcome == "threaded" and ticket.assignee == "agent-7" and ticket.message_count == 2
