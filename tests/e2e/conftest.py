"""Browser test harness: the real app on a live 127.0.0.1 port, driven by the system Chromium.

One server per test session, initialised exactly like a laptop install (`flask clea init`
then `flask clea demo`) on a throw-away SQLite database. Each test gets a fresh browser
context (no shared cookies). Screenshots go to test-artifacts/screenshots/ (gitignored).
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.serveur import servir

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
# Playwright's default 30 s hides hangs; a local page answers in well under a second.
TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(config, items):
    """Every test under tests/e2e is a browser test (`-m "not e2e"` skips them all)."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so that `page` can save a screenshot on failure."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


def _browser_required() -> bool:
    return os.environ.get("CLEA_REQUIRE_BROWSER", "").strip().lower() in ("1", "true", "yes", "oui")


LIVE: dict = {}


@pytest.fixture
def live_app(live_server):
    """The served application, to prepare data through the services as an admin would."""
    return LIVE["app"]


@pytest.fixture(scope="session")
def live_server():
    """Base URL of the app served by werkzeug in a daemon thread; data = init + demo."""
    from app import create_app

    tmp = Path(tempfile.mkdtemp(prefix="clea-e2e-"))
    app = create_app(
        "config.Config",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp / 'e2e.db'}",
        RATELIMIT_ENABLED=False,
        AUTH_RATE_LIMITED=False,
        UPLOAD_DIR=str(tmp / "uploads"),
        UPLOAD_FOLDER=str(tmp / "uploads"),
        MAIL_SERVER=None,
    )
    runner = app.test_cli_runner()
    for args in (["clea", "init"], ["clea", "demo"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, f"flask {' '.join(args)} failed:\n{result.output}\n{result.exception!r}"

    LIVE["app"] = app
    try:
        with servir(app, "clea-e2e-server") as url:
            yield url
    finally:
        with app.app_context():
            from app.extensions import db

            db.session.remove()
            db.engine.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"Chromium introuvable ({CHROMIUM}) : tests navigateur ignorés."
        if _browser_required():
            pytest.fail(message + " CLEA_REQUIRE_BROWSER=1 les rend obligatoires.")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(request, browser, live_server, screenshot_dir):
    """A fresh French-speaking browser context per test, rooted at the live server.
    A failed test leaves test-artifacts/screenshots/ECHEC-<test>.png behind."""
    context = browser.new_context(base_url=live_server, locale="fr-FR",
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    try:
        yield page
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
            page.screenshot(path=str(screenshot_dir / f"ECHEC-{name}.png"), full_page=True)
    finally:
        context.close()


@pytest.fixture
def open_gestion():
    """open_gestion(page) opens the "Gestion" dropdown of the main navigation and returns
    its <li> (menu entries are its links)."""
    from playwright.sync_api import expect

    from .ui import gestion_menu

    def _open(page):
        menu = gestion_menu(page)
        menu.locator("> a.dropdown-toggle").click()
        expect(menu.locator("> .dropdown-menu")).to_be_visible()
        return menu
    return _open


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def shoot(screenshot_dir):
    """shoot(page, "name") saves a full-page PNG under test-artifacts/screenshots/."""
    def _shoot(page, name: str) -> Path:
        path = screenshot_dir / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path
    return _shoot


@pytest.fixture
def sign_in():
    """sign_in(page, username) logs in through the login page, as a user would, and waits for
    the home page ("Bonjour ...")."""
    from playwright.sync_api import expect

    from app.services.demo import DEMO_PASSWORD

    def _login(page, username: str, password: str = DEMO_PASSWORD) -> None:
        page.goto("/login/")
        page.locator("#username").fill(username)
        page.locator("#password").fill(password)
        page.get_by_role("button", name="Se connecter").click()
        expect(page.locator("main h1")).to_contain_text("Bonjour")
    return _login
