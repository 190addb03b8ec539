"""The self-service screens in Chromium against the running local stack: a customer follows the link in our
acknowledgement on their phone (no sign-in), reads the thread in their language, replies, and rates the resolved
request once; a visitor finds an article in the help centre in Indonesian and in English and says it helped; a
supervisor's dashboard shows the KPIs beside their baselines, an overloaded agent and a goal set through its form,
and an agent sees that goal on their Me screen. Each test fails if the browser logged an error. Screenshots land in
test-artifacts/screenshots/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console
from tests.e2e.conftest import customer_mail, portal_link

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]

SLOW = 30_000  # ms: an upper bound for what crosses the stack (mail, the KPI stream) on a busy machine


def test_a_customer_follows_their_link_on_a_phone_replies_and_rates_once(phone: Console) -> None:
    stack, page = phone.stack, phone.page
    admin = stack.token("admin", "boss")
    address = "dewi@pelanggan.co.id"
    stack.send_mail(customer_mail("Tidak bisa masuk aplikasi kasir", "Selamat pagi, saya tidak bisa login ke aplikasi kasir sejak kemarin.",
                                  f"Dewi Lestari <{address}>"))  # fmt: skip
    ack = stack.wait_until(lambda: stack.mails_to(address), timeout=30)[0]
    ticket_id, token = portal_link(ack["text"])

    page.goto(f"{stack.api_url}/#/portal/{ticket_id}/{token}")  # a fresh context: no session, no saved language
    expect(page.get_by_test_id("portal-status")).to_have_text(re.compile("Diterima|Sedang kami tangani"))
    expect(page.get_by_role("heading", name="Pesan", exact=True)).to_be_visible()
    mine = page.locator(".pmsg[data-from=you]").first
    expect(mine).to_contain_text("Anda")
    expect(mine).to_contain_text("tidak bisa login ke aplikasi kasir")
    expect(page.locator(".pmsg[data-from=automatic]").first).to_contain_text("Otomatis")
    assert page.locator("html").get_attribute("lang") == "id"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the portal scrolls sideways on a phone ({width}px)"
    phone.screenshot("portal-mobile")

    reply = "Sudah saya coba reset kata sandi, tapi emailnya tidak datang."
    page.locator("#portal-reply").fill(reply)
    page.get_by_role("button", name="Kirim pesan").click()
    expect(page.get_by_role("status")).to_contain_text("Pesan Anda sudah ditambahkan")
    expect(page.locator(".pmsg[data-from=you]", has_text=reply)).to_be_visible()
    stored = stack.request("GET", f"/v1/tickets/{ticket_id}", token=admin)[1]
    assert reply in [m["body"] for m in stored["messages"] if m["kind"] == "customer"], stored["messages"]

    status, _ = stack.request("PATCH", f"/v1/tickets/{ticket_id}", token=admin, body={"status": "resolved"})
    assert status == 200
    notice = stack.wait_until(lambda: [m for m in stack.mails_to(address) if "/rate" in m["text"]], timeout=30)[0]
    rate = re.search(r"(/#/portal/[0-9A-Z]+/[A-Za-z0-9_\-.]+/rate)", notice["text"])
    assert rate, notice["text"]
    page.goto(f"{stack.api_url}{rate.group(1)}")
    expect(page.get_by_test_id("portal-status")).to_have_text("Selesai")
    expect(page.locator("input[name=score]").first).to_be_focused()  # the link lands on the rating
    page.get_by_label("5 dari 5: Sangat puas").check()
    page.locator("textarea[name=comment]").fill("Cepat dan ramah, terima kasih!")
    page.get_by_role("button", name="Kirim penilaian").click()
    expect(page.get_by_test_id("thanks")).to_have_text("Terima kasih atas penilaian Anda!")
    expect(page.get_by_test_id("rated")).to_have_text("Anda memberi nilai 5/5")

    page.reload()
    expect(page.get_by_test_id("rated")).to_have_text("Anda memberi nilai 5/5")
    expect(page.locator("form#rate")).to_have_count(0)
    assert stack.portal("POST", f"/v1/portal/tickets/{ticket_id}/csat", token, {"score": 1})[0] == 409
    csat = stack.request("GET", f"/v1/tickets/{ticket_id}", token=admin)[1]["csat"]
    assert csat["score"] == 5 and csat["comment"] == "Cepat dan ramah, terima kasih!", csat


ARTICLES = {
    "dana-kembali": {"title": "Kapan pengembalian dana masuk ke rekening?", "language": "id", "status": "published",
                     "category": "pembayaran", "tags": ["refund"],
                     "body": "Pengembalian dana diproses dalam 5 hari kerja setelah disetujui.\n\n"
                             "Jika lewat dari itu, balas email kami dengan bukti transfer."},
    "reset-password": {"title": "How do I reset my password?", "language": "en", "status": "published",
                       "category": "account", "tags": ["login"],
                       "body": "Open the sign-in page and choose 'Forgot password'.\n\nThe link we send is valid for one hour."},
}  # fmt: skip


def test_a_visitor_finds_an_article_in_both_languages_and_says_it_helped(console: Console) -> None:
    stack, page = console.stack, console.page
    lead = stack.token("supervisor", "sari", "support")
    for article_id, doc in ARTICLES.items():
        status, saved = stack.request("PUT", f"/v1/articles/{article_id}", token=lead, body=doc)
        assert status == 200, saved

    console.open("help")  # public: nobody signed in
    page.select_option("select[name=public-language]", "id")
    expect(page.get_by_role("heading", name="Ada yang bisa kami bantu?")).to_be_visible()
    page.get_by_role("searchbox").fill("kapan dana saya dikembalikan")
    page.get_by_role("button", name="Cari").click()
    expect(page.locator("[data-testid=results] li").first).to_have_attribute("data-article", "dana-kembali")

    page.select_option("select[name=public-language]", "en")
    page.get_by_role("searchbox").fill("forgot my password")
    page.get_by_role("button", name="Search").click()
    first = page.locator("[data-testid=results] li").first
    expect(first).to_have_attribute("data-article", "reset-password")
    console.screenshot("help-centre")

    first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="How do I reset my password?")).to_be_visible()
    expect(page.locator(".help-article .para")).to_have_count(2)  # blank lines part the paragraphs
    page.get_by_role("button", name="Yes").click()
    expect(page.get_by_test_id("feedback-thanks")).to_have_text("Thank you for telling us.")
    counts = {a["id"]: a["counts"] for a in stack.request("GET", "/v1/articles", token=lead)[1]["items"]}
    assert counts["reset-password"]["helpful"] == 1 and counts["reset-password"]["views"] >= 1, counts


def test_a_supervisors_dashboard_shows_kpis_an_overloaded_agent_and_a_goal_the_agent_sees(console: Console) -> None:
    stack, page = console.stack, console.page
    admin = stack.token("admin", "boss")
    status, body = stack.request("PUT", "/v1/agents/budi", token=admin,
                                 body={"team": "support", "capacity": 1, "presence": "online", "name": "Budi"})  # fmt: skip
    assert status in (200, 201), body
    for n, subject in enumerate(["Printer struk macet", "Laporan penjualan kosong", "QRIS gagal tapi saldo terpotong"]):
        stack.send_mail(customer_mail(subject, f"{subject}, mohon dibantu.", f"Pelanggan {n} <toko{n}@pelanggan.co.id>"))

    console.sign_in("sari", "supervisor", "support")
    page.get_by_role("link", name="Dashboard").click()
    volume = page.get_by_test_id("kpi-volume")
    expect(volume.get_by_test_id("baseline")).to_contain_text("Baseline")
    expect(volume.get_by_test_id("value")).to_have_text(re.compile(r"^[1-9]"), timeout=SLOW)  # through the stream
    expect(page.get_by_test_id("kpi-first_response_median").get_by_test_id("baseline")).to_be_visible()
    budi = page.locator("[data-testid=workload-agents] tr[data-agent=budi]")
    expect(budi).to_contain_text("Overloaded", timeout=SLOW)  # full while two tickets wait
    expect(page.get_by_test_id("signal-support")).to_contain_text("automate or hire", timeout=SLOW)
    console.screenshot("dashboard")

    page.get_by_role("button", name="New goal").click()
    page.fill("input[name=goal-id]", "volume-week")
    page.select_option("select[name=goal-metric]", "volume")
    page.select_option("select[name=goal-op]", "<=")
    page.fill("input[name=goal-target]", "200")
    page.fill("input[name=goal-title]", "At most 200 new tickets this week")
    page.get_by_role("button", name="Save goal").click()
    goal = page.get_by_test_id("goal-volume-week")
    expect(goal).to_contain_text("At most 200 new tickets this week")
    expect(goal.locator("progress.goal-bar")).to_have_attribute("value", "100")  # within the target
    expect(goal.get_by_test_id("goal-value")).to_have_text(re.compile(r"^[1-9]"), timeout=SLOW)
    expect(goal).to_contain_text("Met")
    console.screenshot("dashboard-goal")
    goals = stack.request("GET", "/v1/goals", token=admin)[1]["items"]
    assert [(g["metric"], g["op"], g["target"]) for g in goals if g["id"] == "volume-week"] == [("volume", "<=", 200.0)]

    page.get_by_role("button", name="Sign out").click()
    console.sign_in("budi", "agent", "support")
    page.get_by_role("link", name="Me").click()
    seen = page.get_by_test_id("goal-volume-week")
    expect(seen).to_contain_text("At most 200 new tickets this week")
    expect(seen.locator("progress.goal-bar")).to_be_visible()
    expect(seen.get_by_role("button", name="Edit")).to_have_count(0)  # agents read goals, leads set them
