"""The browser checks themselves can fail: axe-core flags a serious violation, an invisible focus is noticed."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.checks import assert_accessible, blocking_violations, focus_is_visible, focus_outline


def test_axe_reports_an_image_without_alternative_text_as_a_blocking_violation(page: Page) -> None:
    page.set_content('<html lang="en"><head><title>t</title></head><body><main><img src="x.png"></main></body></html>')
    assert [violation["id"] for violation in blocking_violations(page)] == ["image-alt"]
    with pytest.raises(AssertionError, match="image-alt"):
        assert_accessible(page)


def test_a_focused_control_without_outline_or_shadow_is_not_visibly_focused(page: Page) -> None:
    page.set_content(
        '<html lang="en"><head><title>t</title><style>#bare:focus { outline: none; }'
        " #ringed:focus { outline: 3px solid #1f4e79; }</style></head>"
        '<body><main><button id="bare">a</button><button id="ringed">b</button></main></body></html>'
    )
    page.focus("#bare")
    assert not focus_is_visible(focus_outline(page))
    page.focus("#ringed")
    assert focus_is_visible(focus_outline(page))
