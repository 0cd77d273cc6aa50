"""Browser tests: Playwright for Python driving Debian's chromium, headless, against a live
server. Never a downloaded browser: the executable is /usr/bin/chromium (apt-get install
chromium), or CDP_CHROMIUM."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator

from django.contrib.auth.models import Group, User

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

# Playwright's sync API keeps an event loop in this thread for the whole session (the browser
# is session-scoped); the tests' own ORM calls are synchronous and safe. Subprocesses that run
# the deploy check drop this variable (tests/cdp/test_settings.py).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CDP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# As the machine notes say: without the background-networking flags chromium keeps trying to
# reach Google's hosts, which this closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Debian's chromium is not installed at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def staff_user(transactional_db) -> Callable[[str | None, str], User]:
    def make(role: str | None, username: str) -> User:
        user = User.objects.create_user(
            username, f"{username}@staff.example", "pw-" + username, is_staff=True
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def login(live_server) -> Callable[[Page, User], None]:
    def sign_in(page: Page, user: User) -> None:
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", "pw-" + user.username)
        page.click("input[type=submit]")
        page.wait_for_selector("#role-home, #content-main")

    return sign_in
