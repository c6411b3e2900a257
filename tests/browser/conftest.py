"""Browser fixtures: the app on a free loopback port, driven by Debian's Chromium.

Playwright is told to use ``/usr/bin/chromium`` (it never downloads a browser). Without
Chromium the browser tests are skipped with a message saying so, except in CI, where
they fail.

Every test here is ``committed`` (see tests/conftest.py): the live server answers from its own
threads, each with its own connection, as gunicorn's workers would, so it must see committed
rows. They run on one backend: PostgreSQL, the production database, when
``TEST_DATABASE_URL`` is set (always in CI), else SQLite. What a browser test checks is the
page and its scripts; the SQL underneath is covered on both backends by the other tests.
"""

import os
import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import POSTGRES_URL, skip_or_fail

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


BROWSER_BACKEND = "postgresql" if POSTGRES_URL else "sqlite"


def pytest_collection_modifyitems(items):
    """Everything in this folder is a browser test, on committed data."""
    for item in items:
        if "/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.committed)


@pytest.fixture(scope="session", params=[BROWSER_BACKEND])
def database_url(database_url):
    """The browser tests' one backend (the parent fixture's database of that name)."""
    return database_url


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run."""
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium), "
                     "so the browser tests are skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live_server(app):
    """The app served by a threaded WSGI server on a free loopback port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) and page; console errors are collected."""
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda message: message.type == "error"
            and page.console_errors.append(message.text))
    yield page
    context.close()
