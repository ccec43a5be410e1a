"""The catalogue, model, licence and rule pages in a real browser: content equals the API's, accessible, usable."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

from tests.browser.checks import assert_accessible, focus_is_visible, focus_outline
from tests.browser.conftest import Screenshot

MODEL = "deepseek-ai/DeepSeek-V3.2"
PAGES = {
    "catalogue": "/catalogue",
    "catalogue-filtered": "/catalogue?use_case=coding&licence_kind=permissive&sort=capability",
    "model": f"/models/{MODEL}",
    "licence": "/licences/apache-2.0",
    "rule-eligibility": "/rules/hardware.fits",
    "rule-criterion": "/rules/capability",
    "not-found": "/models/no-such-owner/no-such-model",
}


def _api(server_url: str, path: str) -> Any:
    response = httpx.get(f"{server_url}{path}", timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_reference_page_loads_passes_axe_and_fits_both_widths(
    server_url: str, page: Page, screenshot: Screenshot, name: str
) -> None:
    response = page.goto(f"{server_url}{PAGES[name]}")
    assert response is not None
    assert response.status == (404 if name == "not-found" else 200)
    assert page.locator("h1").count() == 1
    assert_accessible(page)
    screenshot(page, name)


def test_the_first_tab_reaches_the_skip_link_and_it_moves_focus_to_the_main_content(
    server_url: str, page: Page
) -> None:
    page.goto(f"{server_url}/models/{MODEL}")
    page.keyboard.press("Tab")
    focused = focus_outline(page)
    assert focused["tag"] == "A" and focused["text"] == "Skip to main content"
    assert focus_is_visible(focused), focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")  # the first link inside the page's content, not the site navigation again
    assert page.evaluate("document.activeElement.closest('main') !== null")
    assert focus_is_visible(focus_outline(page))


def test_every_catalogue_control_is_reached_by_tab_and_shows_its_focus(server_url: str, page: Page) -> None:
    page.goto(f"{server_url}/catalogue")
    controls = page.eval_on_selector_all(
        "form.filter-form select, form.filter-form input, form.filter-form button",
        "els => els.map(e => e.id || e.textContent.trim())",
    )
    reached: list[str] = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")
        if focused in controls and focused not in reached:
            assert focus_is_visible(focus_outline(page)), f"{focused} has no visible focus"
            reached.append(focused)
        if len(reached) == len(controls):
            break
    assert reached == controls


def test_the_catalogue_filters_and_sorts_with_javascript_off_by_keyboard(
    server_url: str, page_without_javascript: Page
) -> None:
    page = page_without_javascript
    page.goto(f"{server_url}/catalogue")
    page.select_option("#f-licence_kind", "permissive")
    page.select_option("#f-sort", "released")
    page.focus("#f-text")
    page.keyboard.press("Enter")  # submits the plain GET form: no script runs on this page
    page.wait_for_url("**/catalogue?**")
    assert "licence_kind=permissive" in page.url and "sort=released" in page.url
    shown = page.eval_on_selector_all("tr[data-model-id]", "rows => rows.map(r => r.dataset.modelId)")
    models = _api(server_url, "/v1/models?licence_kind=permissive&limit=1000")["items"]
    assert sorted(shown) == sorted(m["id"] for m in models)
    released = [next(m["released"] for m in models if m["id"] == model_id) for model_id in shown]
    padded = [r if len(r) == 10 else r + "-01" for r in released]
    assert padded == sorted(padded, reverse=True)


def test_sorting_by_capability_orders_the_estimates_from_highest_and_unknown_last(server_url: str, page: Page) -> None:
    page.goto(f"{server_url}/catalogue?sort=capability")
    cells = page.eval_on_selector_all(
        "tr[data-model-id] td:nth-child(6)", "cells => cells.map(c => c.textContent.trim())"
    )
    known = [float(c.split(" ")[0]) for c in cells if not c.startswith("unknown")]
    assert known == sorted(known, reverse=True)
    assert all(c.startswith("unknown") for c in cells[len(known) :])


def test_a_filter_value_that_is_not_offered_gets_a_plain_message_next_to_its_field(server_url: str, page: Page) -> None:
    response = page.goto(f"{server_url}/catalogue?origin=%3Cb%3EZZ&sort=cheapest")
    assert response is not None and response.status == 400
    message = page.locator("#f-origin-error")
    assert "is not one of them" in message.inner_text()
    assert page.locator("#f-origin").get_attribute("aria-describedby") == "f-origin-hint f-origin-error"
    assert page.locator("#f-sort-error").is_visible()
    assert page.locator("b", has_text="ZZ").count() == 0  # the typed value is shown as text, never as markup
    assert_accessible(page)


def test_the_model_page_shows_every_sourced_fact_of_the_api_with_its_date(server_url: str, page: Page) -> None:
    model = _api(server_url, f"/v1/models/{MODEL}")
    page.goto(f"{server_url}/models/{MODEL}")
    facts_table = page.locator("table", has=page.locator("#facts-caption"))
    rows = {
        row.locator("th").inner_text(): row.locator("td").all_inner_texts()
        for row in facts_table.locator("tbody tr").all()
    }
    for name, label in (("parameters_total_b", "Total parameters"), ("context_tokens", "Native context window")):
        fact = model["facts"][name]
        cells = next(v for k, v in rows.items() if k.startswith(label))
        assert cells[1] == fact["source"] and cells[2] == fact["as_of"]
    body = page.inner_text("main")
    for offer in model["facts"].get("offers", []):
        assert offer["provider"] in body
    assert page.locator(f'a[href="/licences/{model["licence"]}"]').count() >= 1


def test_a_fact_the_catalogue_does_not_have_is_shown_as_unknown_without_a_source(server_url: str, page: Page) -> None:
    models = _api(server_url, "/v1/models?limit=1000")["items"]
    missing = next(m for m in models if m["context_tokens"] is None or m["parameters_active_b"] is None)
    label = "Native context window" if missing["context_tokens"] is None else "Active parameters"
    page.goto(f"{server_url}/models/{missing['id']}")
    row = page.locator("tr", has=page.locator("th", has_text=label)).first
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == "unknown"
    assert "not recorded" in cells[1]


def test_the_capability_estimate_on_the_model_page_is_the_one_an_answer_gives(server_url: str, page: Page) -> None:
    answer = httpx.post(
        f"{server_url}/v1/recommendations",
        json={"use_cases": ["coding"], "explain": [MODEL], "detail": "full", "limit": 1},
        timeout=60,
    ).json()
    explained = next(e for e in answer["explained"] if e["model_id"] == MODEL)
    capability = next(c for c in explained["criteria"] if c["criterion"] == "capability")
    estimate = capability["estimates"][0]
    page.goto(f"{server_url}/models/{MODEL}")
    row = page.locator("#capability ~ div table tr", has=page.locator("th", has_text="coding"))
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == f"{estimate['estimate']:.2f}"
    assert cells[1] == f"{estimate['standard_error']:.2f}"
