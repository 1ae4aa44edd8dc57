"""The dashboard in a real browser: Debian's chromium driven by Playwright, against a real
uvicorn server with the real app, a real SQLite store and the scripted upstream.

The story of issue 5's "done when": a new user chats in the playground, sees a harmful
request refused with an explanation and a benign one answered, reports a wrong refusal;
a reviewer logs in and overturns it; audit search finds it. Screenshots are written to
``artifacts/screenshots/`` (kept by CI as artifacts).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from bastion.gateway import GatewaySettings
from bastion.oversight import OversightStore, Scope, open_store

from ._support import BENIGN, HARMFUL, OVER_REFUSED, PASSWORD, build_app

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if CHROMIUM is None:
    pytest.skip(
        "no chromium on PATH (scripts/system-deps.sh installs Debian's)", allow_module_level=True
    )


@pytest.fixture
def sql_store(tmp_path: Path) -> Iterator[OversightStore]:
    store = open_store(f"sqlite:///{tmp_path / 'oversight.db'}")
    store.create_user("reviewer", PASSWORD, role=Scope.REVIEWER)
    yield store
    store.close()


@pytest.fixture
def base_url(
    sql_store: OversightStore,
    settings: GatewaySettings,
    serve_in_thread: Callable[[Any], AbstractContextManager[str]],
) -> Iterator[str]:
    """The gateway with the dashboard on a free port, served by uvicorn in a thread."""
    with serve_in_thread(build_app(sql_store, settings)) as base:
        yield base


@pytest.fixture
def page(base_url: str) -> Iterator[Any]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30_000)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        yield page
        browser.close()
        # CSP violations and script errors; a refused login's 401 is expected.
        errors = [e for e in errors if "status of 401" not in e]
        assert errors == [], f"browser console errors: {errors}"


def _send(page: Any, message: str) -> Any:
    """Type a message, send it, and return the new turn once it has arrived."""
    before = page.locator(".turn").count()
    page.fill("#message", message)
    page.click("#send button[type=submit]")
    turn = page.locator(".turn").nth(before)
    turn.wait_for(timeout=60_000)
    return turn


def test_the_whole_oversight_story_in_a_browser(page: Any, sql_store: OversightStore) -> None:
    page.goto("/")
    assert page.url.endswith("/dashboard/playground")
    assert page.evaluate("typeof htmx") == "object"  # the vendored file loaded offline

    answered = _send(page, BENIGN)
    assert answered.get_attribute("data-action") == "allow"
    assert "kill PID" in answered.inner_text()
    assert page.input_value("#message") == ""  # cleared by the out-of-band swap

    refused = _send(page, HARMFUL)
    assert refused.get_attribute("data-action") == "refuse"
    assert "can't help" in refused.locator(".explanation").inner_text()

    wrong = _send(page, OVER_REFUSED)
    assert wrong.get_attribute("data-action") == "refuse"
    wrong.get_by_role("button", name="Report: wrong refusal").click()
    page.get_by_text("Reported (wrong refusal)").wait_for()
    page.screenshot(path=str(SHOTS / "playground.png"), full_page=True)

    _overturn_as_reviewer(page)
    (decision,) = sql_store.review_decisions()
    assert (decision.outcome.value, decision.action) == ("overturn", "allow")

    page.click("text=Audit")
    page.fill("#text", "steal the show")
    page.click("main form button[type=submit]")
    page.locator("#audit-rows td", has_text="refuse").first.wait_for()  # found by text
    page.fill("#text", "")
    page.select_option("#kind", "review")
    page.click("main form button[type=submit]")
    page.locator("#audit-rows td", has_text="supersedes").first.wait_for()  # the overturn
    page.click("text=Verify the chain")
    page.get_by_text("Chain intact").wait_for()
    page.screenshot(path=str(SHOTS / "audit.png"), full_page=True)

    page.click("text=Charts")
    loaded = "imgs => imgs.every(i => i.complete && i.naturalWidth > 0)"
    deadline = time.monotonic() + 30
    while not page.locator(".charts img").evaluate_all(loaded):
        assert time.monotonic() < deadline, "the charts did not load"
        time.sleep(0.1)
    page.screenshot(path=str(SHOTS / "charts.png"), full_page=True)


def _overturn_as_reviewer(page: Any) -> None:
    page.click("text=Reviewer login")
    page.fill("#username", "reviewer")
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/dashboard/queue")
    page.screenshot(path=str(SHOTS / "queue.png"), full_page=True)
    page.click("text=steal the show")
    page.get_by_text("Each layer's verdict").wait_for()
    assert page.locator("table td", has_text=" ms").count() >= 1
    page.select_option("#outcome", "overturn")
    page.select_option("#action", "allow")
    page.fill("#rationale", "Stealing the show at a wedding is a figure of speech.")
    page.screenshot(path=str(SHOTS / "item.png"), full_page=True)
    page.click("#decide button[type=submit]")
    page.get_by_text("figure of speech").wait_for()
    assert "resolved" in page.locator("h1").inner_text()


def test_a_wrong_password_shows_an_error(page: Any) -> None:
    page.goto("/dashboard/login")
    page.fill("#username", "reviewer")
    page.fill("#password", "not-the-password")
    page.click("main form button[type=submit]")
    page.get_by_text("Wrong user name or password.").wait_for()
    page.screenshot(path=str(SHOTS / "login-error.png"))
