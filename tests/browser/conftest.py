"""The agent console in a real browser: Playwright for Python driving Debian's Chromium (installed by
`make test` through tools/ensure-chromium; Playwright's own browser download is not used) against a local stack
started the way a user starts it. Missing Chromium fails the run with a message, in CI as anywhere: never a skip.

`console` (per test) is a fresh browser page with every console error and uncaught exception collected; the test
fails at teardown if there were any. `phone` is the same in a context of its own at a phone's 390 x 844 (the
customer's side: the portal link opened from their mail). Screenshots go to test-artifacts/screenshots/ (not committed).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import REPO, RunningStack, local_stack  # noqa: F401 - the module-scoped stack fixture

SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
# What the machine's probe found Chromium needs here: no sandbox as root, and no background traffic to Google
# (the network is closed; those connections fail noisily).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]  # fmt: skip
VIEWPORT = {"width": 1366, "height": 820}  # a laptop screen
TIMEOUT_MS = float(os.environ.get("TICKETING_BROWSER_TIMEOUT_MS", "20000"))


def chromium_path() -> str:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser",
                      shutil.which("chromium")):  # fmt: skip
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(
        "Chromium is not installed, so the console's browser tests cannot run. `make test` installs Debian's "
        "chromium with tools/ensure-chromium (apt-get, sudo when not root); run it, or set CHROMIUM_PATH.",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)  # `expect` waits as long as any other step (a busy, shared machine)

    executable = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Console:
    """One browser tab on the console, with what went wrong in it."""

    page: Any
    stack: RunningStack
    problems: list[str] = field(default_factory=list)
    refusals: set[int] = field(default_factory=set)

    def expect_refusal(self, status: int) -> None:
        """The test makes the API refuse something on purpose: Chromium logs that response as a console error."""
        self.refusals.add(status)

    def unexpected(self) -> list[str]:
        allowed = [f"status of {status} " for status in self.refusals]
        return [p for p in self.problems if not ("Failed to load resource" in p and any(a in p for a in allowed))]

    def open(self, screen: str = "") -> None:
        self.page.goto(f"{self.stack.api_url}/{('#/' + screen) if screen else ''}")

    def sign_in(self, agent: str | None, role: str = "agent", *teams: str) -> None:
        """Through the dev sign-in form, as a person does it."""
        self.open()
        page = self.page
        page.wait_for_selector("form[aria-labelledby=signin-title]")
        page.fill("input[name=agent-id]", agent or "")
        page.select_option("select[name=role]", role)
        page.fill("input[name=teams]", ", ".join(teams))
        page.click("form button[type=submit]")
        page.wait_for_selector("[data-testid=who]")

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_OUTCOME] = report
    return report


_OUTCOME = pytest.StashKey[pytest.TestReport]()


@pytest.fixture
def console(request: pytest.FixtureRequest, browser: Any, local_stack: RunningStack) -> Iterator[Console]:  # noqa: F811
    yield from _tab(request, browser, local_stack, VIEWPORT)


@pytest.fixture
def phone(request: pytest.FixtureRequest, browser: Any, local_stack: RunningStack) -> Iterator[Console]:  # noqa: F811
    """A customer's phone: a browser context of its own (nothing shared with `console`) at 390 x 844."""
    yield from _tab(request, browser, local_stack, PHONE, touch=True)


PHONE = {"width": 390, "height": 844}


def _tab(request: pytest.FixtureRequest, browser: Any, local_stack: RunningStack, viewport: dict[str, int],  # noqa: F811
         touch: bool = False) -> Iterator[Console]:  # fmt: skip
    context = browser.new_context(viewport=viewport, locale="en-GB", timezone_id="Asia/Jakarta", has_touch=touch,
                                  is_mobile=touch)  # fmt: skip
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    tab = Console(page, local_stack)
    page.on("console", lambda message: message.type == "error" and tab.problems.append(f"console: {message.text}"))
    page.on("pageerror", lambda error: tab.problems.append(f"uncaught: {error}"))
    try:
        yield tab
        outcome = request.node.stash.get(_OUTCOME, None)
        if outcome is not None and outcome.failed:  # what the page showed when it went wrong
            tab.screenshot(f"failed-{request.node.name}-{viewport['width']}")
    finally:
        context.close()
    assert not tab.unexpected(), f"the browser reported errors: {tab.unexpected()}"
