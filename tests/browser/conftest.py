"""Browser tests: the real app on a loopback server, driven by Playwright in Debian's Chromium.

Chromium must be at /usr/bin/chromium (``apt-get install chromium``; `.ci/run` installs it). A
missing browser fails the run: a browser test that cannot run is a failure, never a skip.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from core import create_app
from core.extensions import db
from tests.conftest import FreshContextClient, base_config
from tests.support.database import sqlite_url

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent / "screenshots"
AXE = Path(__file__).resolve().parents[2] / "core/static/vendor/axe.min.js"
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
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}


class LiveServer:
    """The app served by Werkzeug on 127.0.0.1 in a background thread."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> LiveServer:
        """Start serving."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self.server.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """A migrated SQLite app with the demo data of the installed districts."""
    from flask_migrate import upgrade

    folder = tmp_path_factory.mktemp("browser-db")
    app = create_app(base_config(sqlite_url(folder), folder / "instance"))
    app.test_client_class = FreshContextClient
    with app.app_context():
        upgrade()
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(browser_app: Flask) -> Iterator[LiveServer]:
    """The browser app on a real loopback port."""
    server = LiveServer(browser_app).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright (fails clearly when it is not installed)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `apt-get install chromium` (as .ci/run does)")
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make assets`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium: Any, live_server: LiveServer) -> Iterator[Any]:
    """Open pages in fresh browser contexts: ``new_page("it", PHONE, javascript=False)``."""
    contexts: list[Any] = []

    def factory(
        locale: str = "it", viewport: dict[str, int] | None = None, *, javascript: bool = True
    ) -> Any:
        context = chromium.new_context(
            java_script_enabled=javascript,
            base_url=live_server.url,
            locale=locale,
            extra_http_headers={"Accept-Language": locale},
            viewport=viewport or DESKTOP,
            bypass_csp=False,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield factory
    for context in contexts:
        context.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core's WCAG 2.1 A/AA rules on the page; return serious and critical violations.

    axe is loaded from the app's own static files (allowed by the CSP's ``script-src 'self'``), so
    the browser caches it and its compiled code between pages.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url="/static/vendor/axe.min.js")
    result = page.evaluate(
        """async () => await window.axe.run(document, {
            resultTypes: ['violations'],
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}
        })"""
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under tests/browser/screenshots/ for a person to look at."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
