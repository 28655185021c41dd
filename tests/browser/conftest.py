"""Browser harness: Playwright drives the machine's Chromium against pytest-django's live_server.

No browser is ever downloaded. Chromium is found through ``CHROMIUM_PATH``, then ``chromium`` or
``chromium-browser`` on the PATH, then ``/usr/bin/chromium``; when there is none, every browser
test is skipped with the reason.

Browser tests use ``live_server`` and carry two marks, as ``test_smoke.py`` does:
``browser``, and ``django_db(transaction=True, serialized_rollback=True)`` so each starts from
the migrated database (staff groups included) and the transactional tests after it do too.

Fixtures:

* ``chromium_path`` - the executable, or a skip;
* ``browser`` - one headless Chromium per test module;
* ``new_page(width=..., height=...)`` - a page in a fresh context (own cookies), closed after
  the test; ``page`` is a 1280x800 desktop one, ``phone_page`` a 375x812 phone one.
"""

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.db import connections

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

playwright_sync = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed"
)

CHROMIUM_NAMES = ("chromium", "chromium-browser")
CHROMIUM_FALLBACK = "/usr/bin/chromium"
# Headless, as root, with the network closed: nothing may phone home or wait for a GPU.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_MS = 10_000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}


def chromium_find() -> tuple[str | None, str]:
    """The Chromium executable to use and, when there is none, why."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        if os.access(configured, os.X_OK):
            return configured, ""
        return None, f"CHROMIUM_PATH={configured} is not an executable file"
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found, ""
    if os.access(CHROMIUM_FALLBACK, os.X_OK):
        return CHROMIUM_FALLBACK, ""
    return None, (
        f"no Chromium found (set CHROMIUM_PATH, or install {' or '.join(CHROMIUM_NAMES)}; "
        "browser tests never download one)"
    )


def is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[: len(PNG_SIGNATURE)] == PNG_SIGNATURE


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path, reason = chromium_find()
    if path is None:
        pytest.skip(reason)
    return path


@pytest.fixture(scope="module")
def browser(chromium_path: str, django_db_setup: None) -> Iterator["Browser"]:
    # While Playwright's sync API is started it keeps an asyncio loop running in this thread.
    # Django then (1) refuses ORM calls from "async" code, and (2) looks connections up in a
    # per-task store, where it would open fresh ones that know nothing of the test database's
    # transaction and serialized state. The tests' ORM calls are plain synchronous ones: lift
    # the check and keep the thread's own connections (the test database is set up on them
    # first: hence django_db_setup), exactly while Playwright runs.
    thread_connections = {alias: connections[alias] for alias in connections}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with playwright_sync.sync_playwright() as playwright:
            for alias, connection in thread_connections.items():
                connections[alias] = connection
            chromium = playwright.chromium.launch(
                executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()


@pytest.fixture
def new_page(browser) -> Iterator[Callable[..., "Page"]]:
    contexts = []

    def make(width: int = DESKTOP["width"], height: int = DESKTOP["height"]):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page(**DESKTOP)


@pytest.fixture
def phone_page(new_page):
    return new_page(**PHONE)
