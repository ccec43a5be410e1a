"""The layout every page shares: skip link, navigation, one local stylesheet, security headers, HTML errors."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import TestClient

PAGES = ["/", "/catalogue", "/sign-in"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_the_skip_link_navigation_and_only_the_local_stylesheet(
    client: TestClient[Litestar], path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html
    for href in ('href="/"', 'href="/catalogue"', 'href="/schema"'):
        assert href in html
    assert "<script" not in html
    sheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert len(sheets) == 1 and sheets[0].startswith("/static/site.css?v=")


def test_the_stylesheet_is_served_and_has_focus_and_print_styles(client: TestClient[Litestar]) -> None:
    html = client.get("/").text
    href = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)[0]
    response = client.get(href)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert ":focus-visible" in response.text and "@media print" in response.text
    assert "url(" not in response.text and "@import" not in response.text  # nothing loaded from elsewhere


def test_pages_carry_the_security_headers_and_a_policy_that_allows_no_script(client: TestClient[Litestar]) -> None:
    headers = client.get("/").headers
    policy = headers["content-security-policy"]
    assert "script-src" not in policy and "default-src 'none'" in policy
    assert "style-src 'self'" in policy and "form-action 'self'" in policy
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-request-id"]


def test_an_unknown_page_is_an_html_404_and_an_unknown_api_path_stays_json(client: TestClient[Litestar]) -> None:
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in page.text
    api = client.get("/v1/no-such-thing")
    assert api.status_code == 404
    assert api.json()["errors"][0]["field"] == "(path)"


def test_the_api_sets_no_csrf_cookie_and_pages_do(client: TestClient[Litestar]) -> None:
    assert "set-cookie" not in client.get("/v1/profiles").headers
    cookie = client.get("/").headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
