"""The requirements form and the results page in a real browser, against the API's answer for the same requirements.

A reviewer fills the form, submits, and must read the same shortlist and the same reasons a tool gets from
``POST /v1/recommendations`` (whose reasons cite facts by id from the answer's evidence list: the page writes each
fact out, so the test resolves the ids with the same function before comparing); a wrong value gets a plain
message next to its field; the report and the side-by-side comparison open from the results; and all of it can be
done with the keyboard alone.
"""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import Page

from service.domain.answer import FullAnswer
from service.domain.citing import resolve
from tests.browser.checks import assert_accessible, focus_is_visible, focus_outline
from tests.browser.conftest import Screenshot

EXPLAINED = "moonshotai/Kimi-K2-Instruct"
#: The requirements the browser types into the form, as a tool sends them to the API (the form always names a
#: profile and an empty excluded-countries list).
API_REQUEST: dict[str, Any] = {
    "use_cases": ["coding"],
    "ip": {"commercial_use": True, "licence_kinds": ["permissive"]},
    "hardware": {"gpu_memory_gb": 80, "gpu_count": 2, "precision": "fp8"},
    "profile": "balanced",
    "limit": 3,
    "explain": [EXPLAINED],
    "privacy": {"excluded_origin_countries": []},
    "detail": "full",
}


def _fill_the_form(page: Page) -> None:
    page.check('input[name="use_cases"][value="coding"]')
    page.check("#f-ip-commercial_use")
    page.check('input[name="ip.licence_kinds"][value="permissive"]')
    page.fill("#f-hardware-gpu_memory_gb", "80")
    page.fill("#f-hardware-gpu_count", "2")
    page.select_option("#f-hardware-precision", "fp8")
    page.check('input[name="weighting"][value="profile"]')
    page.select_option("#f-profile", "balanced")
    page.fill("#f-limit", "3")
    page.fill("#f-explain", EXPLAINED)


def _api_answer(server_url: str) -> dict[str, Any]:
    response = httpx.post(f"{server_url}/v1/recommendations", json=API_REQUEST, timeout=120)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _written_out(answer: dict[str, Any]) -> dict[str, list[str]]:
    """Each recommended model's reasons with the facts they cite by id written out, as a page shows them."""
    cited = {name: value for name, value in answer.items() if name in FullAnswer.model_fields}
    return {r.model_id: list(r.reasons) for r in resolve(FullAnswer.model_validate(cited)).recommendations}


def _assert_results_equal_the_api(page: Page, answer: dict[str, Any]) -> None:
    assert page.url.endswith(f"/decisions/{answer['id']}")
    shortlist = page.eval_on_selector_all("#shortlist tr[data-model-id]", "rows => rows.map(r => r.dataset.modelId)")
    assert shortlist == [r["model_id"] for r in answer["recommendations"]]
    written = _written_out(answer)
    for model_id in shortlist:
        shown = page.locator(f'ul.reasons[data-reasons-of="{model_id}"] > li').all_inner_texts()
        assert [s.strip() for s in shown] == written[model_id]
    assert page.locator(f'article.model-card[data-model-id="{EXPLAINED}"]').count() == 1


def test_the_form_submitted_in_the_browser_shows_the_apis_shortlist_and_reasons(
    server_url: str, page: Page, screenshot: Screenshot
) -> None:
    page.goto(f"{server_url}/")
    assert_accessible(page)
    screenshot(page, "form")
    _fill_the_form(page)
    page.get_by_role("button", name="Rank the models").click()
    page.wait_for_url("**/decisions/*")
    _assert_results_equal_the_api(page, _api_answer(server_url))
    assert_accessible(page)
    screenshot(page, "results")


def test_a_wrong_value_gets_a_plain_message_next_to_its_field_and_keeps_what_was_typed(
    server_url: str, page: Page, screenshot: Screenshot
) -> None:
    page.goto(f"{server_url}/")
    page.fill("#f-ip-monthly_active_users", "lots")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Rank the models").click()
    response = navigation.value
    assert response is not None and response.status == 400
    message = page.locator("#f-ip-monthly_active_users-error")
    assert message.is_visible()
    assert message.inner_text().strip()
    described = page.locator("#f-ip-monthly_active_users").get_attribute("aria-describedby") or ""
    assert "f-ip-monthly_active_users-error" in described.split()
    assert page.input_value("#f-ip-monthly_active_users") == "lots"
    assert page.locator("#error-summary a[href='#f-ip-monthly_active_users']").count() == 1
    assert_accessible(page)
    screenshot(page, "form-error")


def test_the_report_and_the_comparison_open_from_the_results_page(
    server_url: str, page: Page, screenshot: Screenshot
) -> None:
    answer = _api_answer(server_url)
    page.goto(f"{server_url}/decisions/{answer['id']}")
    page.get_by_role("link", name="Printable report").click()
    page.wait_for_url("**/report?format=html")
    assert answer["id"] in page.inner_text("body")
    assert answer["recommendations"][0]["model_id"] in page.inner_text("body")
    assert_accessible(page)
    page.go_back()
    page.get_by_role("link", name="Compare the leading models side by side").click()
    page.wait_for_url("**/compare?**")
    body = page.inner_text("main")
    for recommendation in answer["recommendations"]:
        assert recommendation["model_id"] in body
    assert_accessible(page)
    screenshot(page, "compare")


def _tab_to(page: Page, selector: str, limit: int = 400) -> None:
    """Press Tab until the element matching ``selector`` has focus; every stop on the way must show its focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
        style = focus_outline(page)
        assert focus_is_visible(style), f"focus is not visible on {style}"
    raise AssertionError(f"{selector} was not reached by Tab")


def test_a_reviewer_completes_the_form_with_the_keyboard_alone(server_url: str, page: Page) -> None:
    page.goto(f"{server_url}/")
    page.keyboard.press("Tab")
    assert focus_outline(page)["text"] == "Skip to main content"
    page.keyboard.press("Enter")
    _tab_to(page, 'input[name="use_cases"][value="coding"]')
    page.keyboard.press("Space")
    _tab_to(page, "#f-ip-commercial_use")
    page.keyboard.press("Space")
    _tab_to(page, 'input[name="ip.licence_kinds"][value="permissive"]')
    page.keyboard.press("Space")
    _tab_to(page, "#f-hardware-gpu_memory_gb")
    page.keyboard.type("80")
    _tab_to(page, "#f-hardware-gpu_count")
    page.keyboard.type("2")
    _tab_to(page, "#f-hardware-precision")
    _choose_by_keyboard(page, "fp8")
    _tab_to(page, "#f-explain")
    page.keyboard.type(EXPLAINED)
    _tab_to(page, "#f-limit")
    page.keyboard.press("Control+A")
    page.keyboard.type("3")
    _tab_to(page, "button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url("**/decisions/*")
    _assert_results_equal_the_api(page, _api_answer(server_url))


def _choose_by_keyboard(page: Page, value: str) -> None:
    """Move the focused select to ``value`` with the arrow keys (no mouse, no script setting the value)."""
    options: list[str] = page.evaluate("() => [...document.activeElement.options].map(o => o.value)")
    current = options.index(page.evaluate("() => document.activeElement.value"))
    target = options.index(value)
    key = "ArrowDown" if target > current else "ArrowUp"
    for _ in range(abs(target - current)):
        page.keyboard.press(key)
    assert page.evaluate("() => document.activeElement.value") == value
