"""Issue 11's console, used as a support team uses it, in Chromium against the running local stack: an agent signs
in and watches an emailed ticket appear without reloading, answers it with a template and changes its status; a
supervisor's board moves when the agent's load does; an admin saving a bad SLA policy sees the API's error beside
the field. Each test fails if the browser logged an error. Screenshots land in test-artifacts/screenshots/."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console
from tests.e2e.conftest import RunningStack, customer_mail

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]

CUSTOMER = "Sinta Maharani <sinta@pelanggan.co.id>"


def _agent(stack: RunningStack, agent: str, team: str = "support", capacity: int = 20) -> None:
    lead = stack.token("admin", "boss")
    status, body = stack.request("PUT", f"/v1/agents/{agent}", token=lead,
                                 body={"team": team, "capacity": capacity, "presence": "online", "name": agent.title()})  # fmt: skip
    assert status in (200, 201), body


def _ticket(stack: RunningStack, subject: str) -> dict[str, Any]:
    token = stack.token("admin", "boss")

    def found() -> dict[str, Any] | None:
        items = stack.request("GET", "/v1/tickets?limit=100", token=token)[1]["items"]
        return next((t for t in items if t["subject"] == subject), None)

    return stack.wait_until(found, timeout=30)


SEED = [
    ("chat", "Aplikasi error total saat checkout"), ("web", "Minta faktur pajak bulan November"),
    ("phone", "Pelanggan tidak bisa login, mendesak"), ("chat", "Cara ganti alamat pengiriman"),
    ("web", "Refund belum masuk rekening"), ("phone", "Printer kasir macet"),
    ("chat", "Promo tidak terpakai di keranjang"), ("web", "Akun terkunci setelah ganti HP"),
    ("chat", "Website down sejak jam 9"), ("web", "Pertanyaan paket langganan tahunan"),
    ("phone", "Pembayaran QRIS gagal tapi saldo terpotong"), ("chat", "Laporan penjualan kosong"),
]  # fmt: skip


def _seed(stack: RunningStack) -> None:
    """A morning's worth of work in several channels, so the inbox looks like one."""
    token = stack.token("admin", "boss")
    for n, (channel, subject) in enumerate(SEED):
        body = {"channel": channel, "customer": {"handle": f"pelanggan-{n}", "name": f"Pelanggan {n + 1}"},
                "subject": subject, "body": f"{subject}. Mohon dibantu."}  # fmt: skip
        status, created = stack.request("POST", "/v1/tickets", token=token, body=body)
        assert status == 201, created


def _row(console: Console, subject: str) -> Any:
    return console.page.locator("table.tickets tbody tr", has_text=subject)


def test_an_emailed_ticket_appears_in_the_inbox_without_a_reload(console: Console) -> None:
    stack, page = console.stack, console.page
    _agent(stack, "rina")
    _seed(stack)
    console.sign_in("rina", "agent", "support")
    page.wait_for_selector("[data-folder=unassigned]")
    page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page

    stack.send_mail(customer_mail("Tidak bisa login ke aplikasi kasir", "Sejak pagi tidak bisa login.", CUSTOMER))
    row = _row(console, "Tidak bisa login ke aplikasi kasir")
    row.wait_for(timeout=30_000)
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded to show the ticket"
    assert "Sinta Maharani" in row.inner_text()
    expect(page.locator("[data-testid=count-mine]")).not_to_have_text("0")
    expect(row).to_contain_text("rina")  # routed to the only agent online: the row follows
    countdown = row.locator("[data-testid=countdown]").inner_text()
    assert re.search(r"\d", countdown), countdown  # the next SLA step counts down
    console.screenshot("inbox")

    page.keyboard.press("j")  # keyboard: the first ticket opens
    page.wait_for_selector(".ticket .msg[data-kind=customer]")
    page.keyboard.press("/")
    expect(page.locator("input[name=filter-q]")).to_be_focused()


def test_an_agent_replies_with_a_template_and_changes_the_status(console: Console) -> None:
    stack, page = console.stack, console.page
    _agent(stack, "rina")
    template = {"subject": "[{{ ref }}] {{ subject }}", "text": "Halo {{ customer_name }}, tiket {{ ref }} sedang kami periksa."}
    admin = stack.token("admin", "boss")
    assert stack.request("PUT", "/v1/templates/checking/id/email", token=admin, body=template)[0] in (200, 201)
    stack.send_mail(customer_mail("Struk tidak tercetak", "Printer struk diam saja.", CUSTOMER))
    ticket = _ticket(stack, "Struk tidak tercetak")

    console.sign_in("rina", "agent", "support")
    _row(console, "Struk tidak tercetak").click()
    page.wait_for_selector(".ticket .msg[data-kind=customer]")
    page.select_option("select[name=template]", "checking")
    composer = page.locator("#composer")
    expected = f"Halo Sinta Maharani, tiket {ticket['ref']} sedang kami periksa."
    expect(composer).to_have_value(expected)
    page.get_by_role("button", name=re.compile("Send reply")).click()
    page.locator(".msg[data-kind=agent]", has_text=expected).wait_for()
    assert composer.input_value() == ""
    console.screenshot("ticket")

    page.select_option("select[name=status]", "pending")
    page.locator("[data-testid=ticket-status]", has_text="Pending").wait_for()
    status, stored = stack.request("GET", f"/v1/tickets/{ticket['id']}", token=admin)
    assert stored["status"] == "pending", stored["status"]
    assert [m["body"] for m in stored["messages"] if m["kind"] == "agent"] == [expected]

    def mailed() -> bool:
        result = stack.cli("outbox", "--to", "sinta@pelanggan.co.id", "--json")
        return expected in json.dumps(json.loads(result.stdout)["items"], ensure_ascii=False)

    stack.wait_until(mailed, timeout=30)


def test_a_supervisors_board_moves_when_an_agents_load_does(console: Console) -> None:
    stack, page = console.stack, console.page
    _agent(stack, "joko", team="billing", capacity=1)
    console.sign_in("sari", "supervisor", "billing")
    page.goto(f"{stack.api_url}/#/board")
    load = page.locator("[data-testid=load-joko]")
    load.wait_for()
    before = int(load.inner_text())
    lead = stack.token("supervisor", "sari", "support", "billing")
    status, created = stack.request("POST", "/v1/tickets", token=lead, body={
        "channel": "phone", "customer": {"handle": "+62811000111", "name": "Pak Darto"},
        "subject": "Tagihan dobel bulan ini", "body": "Pelanggan menelepon: tagihan terpotong dua kali.",
    })  # fmt: skip
    assert status == 201, created
    status, moved = stack.request("POST", f"/v1/tickets/{created['id']}/move", token=lead,
                                  body={"team": "billing", "assignee": "joko", "reason": "billing question"})  # fmt: skip
    assert status == 200 and moved["assignee"] == "joko", moved
    expect(load).to_have_text(str(before + 1))
    assert "full" in (page.locator("tr[data-agent=joko]").get_attribute("class") or "")
    console.screenshot("team-board")


def test_an_admin_saving_a_bad_sla_policy_sees_the_error_beside_the_field(console: Console) -> None:
    page = console.page
    console.sign_in("boss", "admin", "support")
    page.goto(f"{console.stack.api_url}/#/admin/sla")
    page.get_by_role("button", name=re.compile("New policy")).click()
    console.expect_refusal(400)
    page.fill("input[name=id]", "vip-fast")
    page.fill("input[name=name]", "")
    page.fill("input[name='targets.first_response']", "-5")
    page.get_by_role("button", name="Save policy").click()
    beside = page.locator(".field-error[data-field='targets.first_response']")
    beside.wait_for()
    assert "at least 1" in beside.inner_text()
    assert page.locator(".field-error[data-field=name]").is_visible()
    assert "invalid" in (page.locator("label.field", has=page.locator("input[name=name]")).get_attribute("class") or "")
    console.screenshot("admin-sla")

    page.fill("input[name=name]", "VIP fast")
    page.fill("input[name='targets.first_response']", "600")
    page.get_by_role("button", name="Save policy").click()
    page.get_by_role("status").filter(has_text="Policy saved").wait_for()
    policies = console.stack.request("GET", "/v1/sla-policies", token=console.stack.token("admin"))[1]["items"]
    assert [p["targets"]["first_response"] for p in policies if p["id"] == "vip-fast"] == [600]


def test_an_agent_in_indonesian_steps_away_and_comes_back(console: Console) -> None:
    stack, page = console.stack, console.page
    _agent(stack, "rina")
    console.sign_in("rina", "agent", "support")
    page.select_option("header select[aria-label=Language]", "id")
    page.get_by_role("link", name="Kotak masuk").wait_for()
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.get_by_role("button", name="Keluar").is_visible()

    page.get_by_role("link", name="Saya").click()
    page.get_by_label("istirahat").check()  # away
    page.get_by_role("status").filter(has_text="Kehadiran disimpan").wait_for()
    lead = stack.token("supervisor", "sari")
    assert stack.request("GET", "/v1/agents/rina", token=lead)[1]["presence"] == "away"
    page.get_by_label("online").check()
    expect(page.get_by_label("online")).to_be_checked()
    stack.wait_until(lambda: stack.request("GET", "/v1/agents/rina", token=lead)[1]["presence"] == "online")
