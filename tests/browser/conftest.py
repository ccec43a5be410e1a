"""Pages tested in a real headless browser: the system's Chromium driven by Playwright, checked by axe-core.

The browser is never downloaded: Playwright launches the Chromium that the machine's package manager installed
(`.ci/run` installs Debian's `chromium`), found at ``$ADVISOR_TEST_CHROMIUM`` or as ``chromium`` on PATH. Without
one these tests skip, saying so; with ``ADVISOR_TEST_REQUIRE_BROWSER=1`` (set by `.ci/run` once it has installed
the browser) a missing or broken browser fails them instead, so CI cannot pass by skipping.

Screenshots of every page at 375 px and 1440 px wide are saved, full page, under ``test-artifacts/screenshots/``
(or ``$ADVISOR_TEST_ARTIFACTS/screenshots/``) as ``<page>-<width>.png``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Error, Page, sync_playwright

from tests.served import ROOT

CHROMIUM_ENV = "ADVISOR_TEST_CHROMIUM"
REQUIRE_ENV = "ADVISOR_TEST_REQUIRE_BROWSER"
ARTIFACTS_ENV = "ADVISOR_TEST_ARTIFACTS"
WIDTHS = (375, 1440)
"""The narrow (phone) and wide (desktop) widths every page is checked and photographed at."""


def chromium_path() -> str | None:
    """The system Chromium: ``$ADVISOR_TEST_CHROMIUM`` when set, else ``chromium`` (or ``chromium-browser``) on PATH."""
    named = os.environ.get(CHROMIUM_ENV)
    if named:
        return named if Path(named).is_file() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason}, and {REQUIRE_ENV}=1 says the browser tests must run")
    pytest.skip(reason)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the browser tests (the system's, never a downloaded build).

    Package-scoped: Playwright's synchronous API keeps an event loop running in this thread while it is open,
    which tests elsewhere that call ``asyncio.run`` must not see.
    """
    path = chromium_path()
    if path is None:
        where = os.environ.get(CHROMIUM_ENV) or "chromium on PATH"
        _unavailable(
            f"chromium is missing ({where}): install the distribution's chromium package to run the browser tests"
        )
        return
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=path, headless=True)
        except Error as error:
            _unavailable(f"chromium at {path} could not be started: {error.message.splitlines()[0]}")
            return
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page (its own cookies and storage) at the wide width, JavaScript on."""
    context = browser.new_context(viewport={"width": WIDTHS[-1], "height": 900})
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture
def page_without_javascript(browser: Browser) -> Iterator[Page]:
    """A fresh page with JavaScript off: every page must work without it."""
    context = browser.new_context(viewport={"width": WIDTHS[-1], "height": 900}, java_script_enabled=False)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def artifacts_dir() -> Path:
    """Where the browser tests save their artefacts (screenshots)."""
    base = os.environ.get(ARTIFACTS_ENV)
    return Path(base) if base else ROOT / "test-artifacts"


Screenshot = Callable[[Page, str], list[Path]]


@pytest.fixture
def screenshot() -> Screenshot:
    """Save full-page PNGs of a page at each width in `WIDTHS` as ``<name>-<width>.png``; returns their paths.

    The page is resized, photographed and, at each width, checked to fit it: no horizontal scrolling of the
    page as a whole (a wide table may scroll inside its own box). The page is left at the last width.
    """
    folder = artifacts_dir() / "screenshots"

    def shoot(page: Page, name: str) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        saved = []
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{name} scrolls sideways by {overflow} px at {width} px wide"
            path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}-{width}.png"
            page.screenshot(path=str(path), full_page=True)
            saved.append(path)
        return saved

    return shoot
