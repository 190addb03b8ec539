"""Email intake scenarios through the ingest handler, on moto, with the SES event shape."""

from __future__ import annotations

import json

import pytest

from shared.adapters.secrets import purpose_key, signing_key
from shared.mail.reply_address import reply_address
from shared.settings import get_settings
from shared.storage.models import CustomerModel, QuarantineModel, TicketModel
from shared.storage.tickets import TicketRepository
from tests.support import FakeContext, compose, deliver, ses_record

pytestmark = pytest.mark.integration


def thread(ticket_id: str):
    return TicketRepository().thread(ticket_id)


def tickets() -> list[TicketModel]:
    return list(TicketModel.scan())


def test_new_email_becomes_a_ticket_with_customer_thread_events_and_announcement(aws):
    result = deliver(aws.s3, compose(sender="Budi Santoso <Budi@Pelanggan.co.id>"))

    assert result["outcome"] == "created"
    ticket = TicketModel.get(result["ticket_id"])
    assert ticket.ref.startswith("T-") and len(ticket.ref) == 8
    assert ticket.subject == "Tidak bisa login ke dashboard"
    assert ticket.channel == "email" and ticket.status == "open"
    assert ticket.customer.email == "budi@pelanggan.co.id" and ticket.customer.name == "Budi Santoso"
    customer = CustomerModel.get(ticket.customer_id)
    assert customer.tier == "standard"
    messages, events = thread(ticket.id)
    assert [m.body for m in messages] == ["Halo, saya tidak bisa login sejak pagi."]
    assert messages[0].direction == "inbound" and messages[0].kind == "customer"
    assert [e.type for e in events] == ["ticket.created", "message.added"]
    announced = aws.route_messages()
    assert announced == [
        {
            "event": "ticket.created",
            "ticket_id": ticket.id,
            "message_id": result["message_id"],
            "channel": "email",
            "automated": False,
            "suppress_auto_response": False,
            "at": ticket.created_at,
        }
    ]


def test_the_same_delivery_twice_and_the_same_message_id_again_make_one_ticket(aws):
    raw = compose(message_id="<same-1@pelanggan.co.id>")
    first = deliver(aws.s3, raw, delivery_id="ses-delivery-1")
    again = deliver(aws.s3, raw, delivery_id="ses-delivery-1")
    resent = deliver(aws.s3, raw, delivery_id="ses-delivery-2", timestamp="2026-11-02T03:20:00.000Z")

    assert first["outcome"] == "created"
    assert again["outcome"] == "duplicate" and again["ticket_id"] == first["ticket_id"]
    assert resent["outcome"] == "duplicate" and resent["ticket_id"] == first["ticket_id"]
    assert len(tickets()) == 1
    assert len(thread(first["ticket_id"])[0]) == 1
    assert len(aws.route_messages()) == 1


def test_reply_threads_by_in_reply_to_and_by_references(aws):
    first = deliver(aws.s3, compose(message_id="<orig@pelanggan.co.id>"))
    reply = deliver(
        aws.s3,
        compose(subject="Re: help", body="Masih error.", in_reply_to="<orig@pelanggan.co.id>"),
        timestamp="2026-11-02T04:00:00.000Z",
    )
    later = deliver(
        aws.s3,
        compose(subject="another", body="Any news?", references="<unknown@x> <orig@pelanggan.co.id>"),
        timestamp="2026-11-02T05:00:00.000Z",
    )

    assert reply["outcome"] == "threaded" and reply["ticket_id"] == first["ticket_id"]
    assert later["outcome"] == "threaded" and later["ticket_id"] == first["ticket_id"]
    messages, events = thread(first["ticket_id"])
    assert [m.body for m in messages][1:] == ["Masih error.", "Any news?"]
    assert TicketModel.get(first["ticket_id"]).message_count == 3


def test_reply_to_the_signed_address_threads_without_any_headers_even_from_a_colleague(aws):
    first = deliver(aws.s3, compose())
    ticket = TicketModel.get(first["ticket_id"])
    settings = get_settings()
    address = reply_address(purpose_key(signing_key(settings), "reply-to"), ticket.ref, settings.support_address)

    reply = deliver(aws.s3, compose(sender="Colleague <sari@pelanggan.co.id>", to=address, subject="fwd"), recipients=[address])

    assert reply["outcome"] == "threaded" and reply["ticket_id"] == ticket.id


def test_a_forged_reply_token_does_not_thread(aws):
    first = deliver(aws.s3, compose())
    ref = TicketModel.get(first["ticket_id"]).ref
    forged = f"support+{ref[2:].lower()}-aaaaaaaaaa@example.com"

    other = deliver(aws.s3, compose(sender="mallory@evil.test", to=forged, subject="hi"), recipients=[forged])

    assert other["outcome"] == "created" and other["ticket_id"] != first["ticket_id"]


def test_subject_ref_threads_only_for_the_tickets_own_customer(aws):
    first = deliver(aws.s3, compose())
    ref = TicketModel.get(first["ticket_id"]).ref

    own = deliver(aws.s3, compose(subject=f"Re: [{ref}] Tidak bisa login", body="update"))
    stranger = deliver(aws.s3, compose(sender="stranger@else.test", subject=f"About {ref}"))

    assert own["outcome"] == "threaded" and own["ticket_id"] == first["ticket_id"]
    assert stranger["outcome"] == "created" and stranger["ticket_id"] != first["ticket_id"]


def _set_status(ticket_id: str, status: str) -> None:
    repo = TicketRepository()
    ticket = repo.get(ticket_id)
    assert ticket is not None
    ticket.status = status
    repo.save(ticket)


def test_customer_reply_reopens_a_resolved_ticket(aws):
    first = deliver(aws.s3, compose(message_id="<r1@pelanggan.co.id>"))
    _set_status(first["ticket_id"], "resolved")

    reply = deliver(aws.s3, compose(body="Still broken!", in_reply_to="<r1@pelanggan.co.id>"))

    ticket = TicketModel.get(first["ticket_id"])
    assert reply["outcome"] == "threaded"
    assert ticket.status == "open" and ticket.reopen_count == 1
    types = [e.type for e in thread(ticket.id)[1]]
    assert "ticket.reopened" in types and "ticket.status_changed" in types


def test_customer_reply_to_a_pending_ticket_puts_it_back_to_work(aws):
    first = deliver(aws.s3, compose(message_id="<p1@pelanggan.co.id>"))
    _set_status(first["ticket_id"], "pending")

    deliver(aws.s3, compose(body="Here is the screenshot", in_reply_to="<p1@pelanggan.co.id>"))

    assert TicketModel.get(first["ticket_id"]).status == "open"


def test_reply_to_a_closed_ticket_opens_a_linked_follow_up(aws):
    first = deliver(aws.s3, compose(message_id="<c1@pelanggan.co.id>"))
    _set_status(first["ticket_id"], "closed")

    follow = deliver(aws.s3, compose(body="It happened again", in_reply_to="<c1@pelanggan.co.id>"))

    assert follow["outcome"] == "follow_up" and follow["ticket_id"] != first["ticket_id"]
    assert TicketModel.get(follow["ticket_id"]).follow_up_of == first["ticket_id"]
    assert TicketModel.get(first["ticket_id"]).status == "closed"
    assert "ticket.follow_up_opened" in [e.type for e in thread(first["ticket_id"])[1]]


def test_out_of_office_reply_is_flagged_suppressed_and_does_not_reopen(aws):
    first = deliver(aws.s3, compose(message_id="<o1@pelanggan.co.id>"))
    _set_status(first["ticket_id"], "resolved")
    aws.route_messages()

    ooo = deliver(
        aws.s3,
        compose(
            subject="Automatic reply: Tidak bisa login",
            body="I am out of the office until Monday.",
            in_reply_to="<o1@pelanggan.co.id>",
            headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"},
        ),
        timestamp="2026-11-02T04:00:00.000Z",
    )

    assert ooo["outcome"] == "threaded" and ooo["suppressed"] is True
    assert TicketModel.get(first["ticket_id"]).status == "resolved"
    message = thread(first["ticket_id"])[0][-1]
    assert message.automated and message.kind == "automatic"
    assert "auto-submitted:auto-replied" in message.automation_reasons
    assert aws.route_messages()[0]["suppress_auto_response"] is True


@pytest.mark.parametrize(
    "headers",
    [
        {"Precedence": "bulk", "List-Unsubscribe": "<mailto:u@x>"},
        {"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
    ],
    ids=["newsletter", "out-of-office"],
)
def test_automated_mail_that_threads_into_nothing_is_quarantined_never_an_agents_work(aws, headers):
    result = deliver(aws.s3, compose(subject="Newsletter / Out of office", headers=headers), delivery_id="auto-1")

    assert result["outcome"] == "quarantined" and result["reason"] == "automated_unthreaded"
    assert tickets() == [] and aws.route_messages() == []  # nothing to route, assign or answer
    [entry] = list(QuarantineModel.scan())
    assert entry.reason == "automated_unthreaded" and entry.raw_key == "inbound/auto-1" and entry.detail


@pytest.mark.parametrize("verdict", ["spam", "virus"])
def test_ses_spam_or_virus_fail_is_quarantined_not_a_ticket(aws, verdict):
    result = deliver(aws.s3, compose(), delivery_id=f"bad-{verdict}", **{verdict: "FAIL"})

    assert result == {"delivery_id": f"bad-{verdict}", "outcome": "quarantined", "reason": f"{verdict}_verdict", "suppressed": False}
    assert tickets() == []
    [entry] = list(QuarantineModel.scan())
    assert entry.reason == f"{verdict}_verdict" and entry.raw_key == f"inbound/bad-{verdict}"


def test_mail_without_a_sender_is_quarantined_with_its_raw_key(aws):
    result = deliver(aws.s3, compose(sender=""), delivery_id="nofrom")

    assert result["outcome"] == "quarantined" and result["reason"] == "missing_sender"
    assert QuarantineModel.get(next(iter(QuarantineModel.scan())).id).raw_key == "inbound/nofrom"


def test_bytes_that_are_not_an_email_are_quarantined(aws):
    result = deliver(aws.s3, b"\x00\x01\x02garbage without any header", delivery_id="junk")

    assert result["outcome"] == "quarantined"
    assert result["reason"] in {"unparseable", "missing_sender"}
    assert tickets() == []


def test_a_sender_over_its_hourly_rate_is_held_in_quarantine(aws, monkeypatch):
    from functions.ingest import handler

    handler._intake = None
    monkeypatch.setenv("SENDER_MAILS_PER_HOUR", "3")
    get_settings.cache_clear()
    try:
        outcomes = [deliver(aws.s3, compose(subject=f"loop {n}"))["outcome"] for n in range(5)]
    finally:
        get_settings.cache_clear()
        handler._intake = None

    assert outcomes == ["created", "created", "created", "quarantined", "quarantined"]
    assert {q.reason for q in QuarantineModel.scan()} == {"rate_limited"}


def test_attachments_are_stored_and_listed_and_oversize_ones_are_noted(aws, monkeypatch):
    from functions.ingest import handler

    handler._intake = None
    monkeypatch.setenv("MAX_ATTACHMENT_BYTES", "1000")
    get_settings.cache_clear()
    try:
        result = deliver(
            aws.s3,
            compose(attachments=[("invoice.pdf", "application/pdf", b"%PDF-1.4 small"), ("big.bin", "application/octet-stream", b"x" * 5000)]),
        )
    finally:
        get_settings.cache_clear()
        handler._intake = None

    [message] = thread(result["ticket_id"])[0]
    small, big = [dict(a) for a in message.attachments]
    assert small["name"] == "invoice.pdf" and small["content_type"] == "application/pdf" and small["size"] == 14
    stored = aws.s3.get_object(Bucket=get_settings().mail_bucket, Key=small["key"])["Body"].read()
    assert stored == b"%PDF-1.4 small"
    assert big["size"] == 5000 and "key" not in big and "exceeds" in big["note"]


def test_one_bad_record_does_not_block_the_batch(aws, monkeypatch):
    from functions.ingest import handler
    import shared.services.email_intake as email_intake

    settings = get_settings()
    real_parse = email_intake.parse_email

    def parse_or_crash(raw: bytes, **kwargs):
        if b"CRASH-ME" in raw:
            raise RuntimeError("parser bug")
        return real_parse(raw, **kwargs)

    monkeypatch.setattr(email_intake, "parse_email", parse_or_crash)
    for delivery_id, raw in [("good-1", compose(subject="one")), ("crash", compose(subject="CRASH-ME")), ("good-2", compose(subject="two"))]:
        aws.s3.put_object(Bucket=settings.mail_bucket, Key=f"inbound/{delivery_id}", Body=raw)
    event = {"Records": [ses_record(d) for d in ("good-1", "crash", "missing-object", "good-2")]}

    with pytest.raises(handler.IngestRetry, match="missing-object"):
        handler.lambda_handler(event, FakeContext())

    assert sorted(t.subject for t in tickets()) == ["one", "two"]
    [entry] = list(QuarantineModel.scan())
    assert entry.reason == "processing_error" and "parser bug" in entry.detail and entry.raw_key == "inbound/crash"


def test_reference_ses_event_from_aws_docs_goes_through(aws):
    from tests.support import SAMPLES

    reference = SAMPLES / "aws" / "sesEvent.json"
    from functions.ingest.handler import lambda_handler

    event = json.loads(reference.read_text())
    mail = event["Records"][0]["ses"]["mail"]
    raw = compose(sender="Jane Doe <janedoe@example.com>", to="support@example.com", subject=mail["commonHeaders"]["subject"], body="Test body")
    aws.s3.put_object(Bucket=get_settings().mail_bucket, Key=f"inbound/{mail['messageId']}", Body=raw)

    result = lambda_handler(event, FakeContext())["results"][0]

    ticket = TicketModel.get(result["ticket_id"])
    assert ticket.subject == "Test Subject" and ticket.customer.email == "janedoe@example.com"


def test_s3_notification_variant_reads_ses_verdict_headers(aws):
    from functions.ingest.handler import lambda_handler
    from tests.support import SAMPLES

    raw = b"X-SES-Spam-Verdict: FAIL\r\n" + compose()
    aws.s3.put_object(Bucket=get_settings().mail_bucket, Key="inbound/k8q2m4v7n1c3x5z9b2d4", Body=raw)
    event = json.loads((SAMPLES / "s3_inbound_put.json").read_text())

    result = lambda_handler(event, FakeContext())["results"][0]

    assert result["outcome"] == "quarantined" and result["reason"] == "spam_verdict"


def test_reply_to_a_mail_the_product_sent_threads_by_its_stored_message_id(aws):
    """SES replaces our Message-ID; the one it returns is stored on the outbound message and must thread."""
    from shared.storage.models import ThreadItemModel

    first = deliver(aws.s3, compose())
    ThreadItemModel(
        ticket_id=first["ticket_id"],
        sk="MSG#2026-11-02T03:16:00.000Z#01OUTBOUND",
        item_type="message",
        at="2026-11-02T03:16:00.000Z",
        message_id="01OUTBOUND",
        direction="outbound",
        kind="automatic",
        email_message_id="<0100018f-ses-generated@email.amazonses.com>",
    ).save()

    reply = deliver(
        aws.s3,
        compose(subject="Re: your request", body="Thanks", in_reply_to="<0100018f-ses-generated@email.amazonses.com>"),
        timestamp="2026-11-02T05:00:00.000Z",
    )

    assert reply["outcome"] == "threaded" and reply["ticket_id"] == first["ticket_id"]


def test_a_concurrent_change_to_the_ticket_is_not_overwritten_by_a_threaded_reply(aws, monkeypatch):
    """Routing may assign the ticket between intake's read and write: intake re-reads instead of clobbering."""
    from shared.storage.tickets import TicketRepository as Repo

    first = deliver(aws.s3, compose(message_id="<race@pelanggan.co.id>"))
    real_get = Repo.get
    raced = []

    def get_then_someone_assigns(self, ticket_id):
        ticket = real_get(self, ticket_id)
        if not raced:
            raced.append(True)
            other = real_get(self, ticket_id)
            other.assignee = "agent-7"
            Repo.save(self, other)
        return ticket

    monkeypatch.setattr(Repo, "get", get_then_someone_assigns)
    reply = deliver(aws.s3, compose(body="more", in_reply_to="<race@pelanggan.co.id>"), timestamp="2026-11-02T04:00:00.000Z")

    ticket = TicketModel.get(first["ticket_id"])
    assert reply["outcome"] == "threaded"
    assert ticket.assignee == "agent-7" and ticket.message_count == 2


# ------------------------------------------------------------------------------ real-world ids and impostors


def test_another_senders_mail_that_reuses_a_message_id_is_a_new_ticket_not_a_duplicate(aws):
    """Message-IDs are not unique in the wild (CPython's own test mails share one): only the same sender's
    same mail to the same mailbox is a duplicate."""
    shared_id = "<15090.61304.110929.45684@aaa.zzz.org>"
    budi = deliver(aws.s3, compose(sender="Budi <budi@pelanggan.co.id>", message_id=shared_id))
    rina = deliver(aws.s3, compose(sender="Rina <rina@pelanggan.co.id>", message_id=shared_id, subject="Invoice"))
    budi_again = deliver(aws.s3, compose(sender="Budi <budi@pelanggan.co.id>", message_id=shared_id))
    budi_other_text = deliver(
        aws.s3, compose(sender="Budi <budi@pelanggan.co.id>", message_id=shared_id, body="A different question.")
    )

    assert budi["outcome"] == rina["outcome"] == "created" and budi["ticket_id"] != rina["ticket_id"]
    assert budi_again["outcome"] == "duplicate" and budi_again["ticket_id"] == budi["ticket_id"]
    assert budi_other_text["outcome"] == "created"  # same id, same sender, but not the same mail
    assert len(tickets()) == 3


def test_a_strangers_in_reply_to_the_victims_message_id_opens_a_new_related_ticket(aws):
    victim = deliver(aws.s3, compose(sender="Budi <budi@pelanggan.co.id>", message_id="<victim-1@pelanggan.co.id>"))
    stranger = deliver(
        aws.s3,
        compose(sender="Eve <eve@evil.example>", subject="Re: Tidak bisa login", body="Send me the password",
                in_reply_to="<victim-1@pelanggan.co.id>", references="<victim-1@pelanggan.co.id>"),
        timestamp="2026-11-02T04:00:00.000Z",
    )  # fmt: skip

    assert stranger["outcome"] == "created" and stranger["ticket_id"] != victim["ticket_id"]
    assert [m.body for m in thread(victim["ticket_id"])[0]] == ["Halo, saya tidak bisa login sejak pagi."]
    impostor = TicketModel.get(stranger["ticket_id"])
    assert impostor.related_to == victim["ticket_id"] and impostor.customer.email == "eve@evil.example"
    linked = [e for e in thread(victim["ticket_id"])[1] if e.type == "ticket.related_opened"]
    assert linked and linked[0].data["related"] == impostor.id


def test_a_delivery_report_still_threads_by_the_message_id_of_mail_we_sent(aws):
    from shared.storage.models import ThreadItemModel

    first = deliver(aws.s3, compose())
    ThreadItemModel(
        ticket_id=first["ticket_id"], sk="MSG#2026-11-02T03:16:00.000Z#01ACK", item_type="message",
        at="2026-11-02T03:16:00.000Z", message_id="01ACK", direction="outbound", kind="automatic",
        email_message_id="<0100018f-ack@email.amazonses.com>",
    ).save()  # fmt: skip
    report = (
        b"From: Mail Delivery Subsystem <mailer-daemon@mx.pelanggan.co.id>\r\nTo: support@example.com\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-1@mx.pelanggan.co.id>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        b"Final-Recipient: rfc822; budi@pelanggan.co.id\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <0100018f-ack@email.amazonses.com>\r\n"
        b"--b--\r\n"
    )
    result = deliver(aws.s3, report, timestamp="2026-11-02T05:00:00.000Z")

    assert result["outcome"] == "threaded" and result["ticket_id"] == first["ticket_id"]


def test_an_encoded_display_name_cannot_change_who_the_customer_is(aws):
    raw = compose(sender="placeholder <eve@evil.example>")
    raw = raw.replace(b"From: placeholder <eve@evil.example>",
                      b"From: =?utf-8?q?Eve=0D=0ABcc:_victim@evil.example?= <eve@evil.example>")  # fmt: skip
    result = deliver(aws.s3, raw)

    ticket = TicketModel.get(result["ticket_id"])
    assert ticket.customer.email == "eve@evil.example"
    assert "\r" not in ticket.customer.name and "\n" not in ticket.customer.name
    assert not list(CustomerModel.scan(CustomerModel.email == "victim@evil.example"))


def test_a_message_counts_once_toward_the_rate_limits_however_often_it_is_retried(aws, monkeypatch):
    """Conflict retries inside one invocation and a redelivery after a failure run the intake again: the rate
    windows must still count the message once (100 mails to one ticket once counted 217)."""
    from botocore.exceptions import ClientError

    from functions.ingest.handler import IngestRetry
    from shared.adapters.route_queue import RouteAnnouncer
    from shared.domain.errors import Conflict
    from shared.storage.models import MarkerModel

    deliver(aws.s3, compose(message_id="<count-1@pelanggan.co.id>"))
    real_add, real_announce = TicketRepository.add_message, RouteAnnouncer.announce
    conflicts: list[int] = []
    failures: list[int] = []

    def add_after_two_conflicts(self, ticket, message, events):
        if len(conflicts) < 2:
            conflicts.append(1)
            raise Conflict("the ticket moved underneath")
        return real_add(self, ticket, message, events)

    def announce_fails_once(self, event):
        if not failures:
            failures.append(1)
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "try again"}}, "SendMessage")
        return real_announce(self, event)

    monkeypatch.setattr(TicketRepository, "add_message", add_after_two_conflicts)
    monkeypatch.setattr(RouteAnnouncer, "announce", announce_fails_once)
    reply = compose(body="Masih belum bisa", in_reply_to="<count-1@pelanggan.co.id>")
    with pytest.raises(IngestRetry):
        deliver(aws.s3, reply, delivery_id="reply-1", timestamp="2026-11-02T03:30:00.000Z")
    again = deliver(aws.s3, reply, delivery_id="reply-1", timestamp="2026-11-02T03:30:00.000Z")

    assert again["outcome"] == "threaded" and len(conflicts) == 2 and failures == [1]
    windows = {m.key.split("#")[1]: len(m.members or ()) for m in MarkerModel.scan() if m.key.startswith("rate#")}
    assert windows == {"sender": 2, "ticket": 1}


def test_a_copy_arriving_while_the_first_is_taken_in_is_a_quiet_duplicate_not_a_retry(aws, monkeypatch):
    """Two routes deliver one mail at once: the second waits for the first to finish (milliseconds) and is then
    a plain duplicate — an INFO line, not an error with a traceback that Lambda retries."""
    import threading

    from shared.services.intake import IntakeService

    raw = compose(message_id="<twice@pelanggan.co.id>")
    real_claimed = IntakeService._accept_claimed
    first_inside, let_first_finish = threading.Event(), threading.Event()

    def slow_first(self, message):
        if not first_inside.is_set():
            first_inside.set()
            let_first_finish.wait(5)
        return real_claimed(self, message)

    monkeypatch.setattr(IntakeService, "_accept_claimed", slow_first)
    results: dict[str, dict] = {}
    first = threading.Thread(target=lambda: results.setdefault("first", deliver(aws.s3, raw, delivery_id="route-a")))
    first.start()
    assert first_inside.wait(5)
    threading.Timer(0.3, let_first_finish.set).start()
    results["second"] = deliver(aws.s3, raw, delivery_id="route-b")  # no IngestRetry raised
    first.join(10)

    assert results["first"]["outcome"] == "created"
    assert results["second"]["outcome"] == "duplicate" and results["second"]["ticket_id"] == results["first"]["ticket_id"]


def test_a_long_body_in_a_wide_script_is_kept_whole_in_s3_and_fits_its_thread_item(aws):
    """100,000 characters is 300 KB of Japanese: the thread item keeps what fits under DynamoDB's 400 KB."""
    from shared.services.intake import MAX_STORED_BODY_BYTES

    text = "問い合わせ内容です。" * 9000  # 90,000 characters, 270 KB of UTF-8
    result = deliver(aws.s3, compose(subject="長い問い合わせ", body=text))

    [message] = thread(result["ticket_id"])[0]
    assert message.body_key and message.body_truncated
    assert len((message.body_full or message.body).encode()) <= MAX_STORED_BODY_BYTES
    whole = aws.s3.get_object(Bucket=get_settings().mail_bucket, Key=message.body_key)["Body"].read().decode()
    assert whole.strip() == text
