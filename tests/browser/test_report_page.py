"""The printable decision report (HTML) in a real browser: it loads, passes axe-core and fits both widths."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page

from tests.browser.checks import assert_accessible
from tests.browser.conftest import Screenshot


def test_the_html_report_of_a_stored_decision_is_accessible_at_both_widths(
    server_url: str, page: Page, screenshot: Screenshot
) -> None:
    answer = httpx.post(f"{server_url}/v1/recommendations", json={"use_cases": ["coding"], "limit": 3}, timeout=60)
    assert answer.status_code == 200, answer.text
    record_id = answer.json()["id"]
    response = page.goto(f"{server_url}/v1/recommendations/{record_id}/report?format=html")
    assert response is not None and response.status == 200
    first = answer.json()["recommendations"][0]["model_id"]
    assert first in page.inner_text("body")
    assert_accessible(page)
    screenshot(page, "report")
