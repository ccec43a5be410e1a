"""With API keys configured, pages need a key or a signed-in session, with the scope each page names."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.web.conftest import KEYS, csrf_token
from tests.web.test_requirements_form import FORM


def _sign_in(client: TestClient[Litestar], name: str, next_path: str = "/") -> None:
    token = csrf_token(client.get("/sign-in").text)
    response = client.post(
        "/sign-in", data={"api_key": KEYS[name][0], "_csrf_token": token, "next": next_path}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == next_path
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert KEYS[name][0] not in cookie  # the cookie names the key; it never holds it


def test_a_page_sends_a_person_without_a_session_to_sign_in_and_back(keyed_client: TestClient[Litestar]) -> None:
    response = keyed_client.get("/catalogue", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=/catalogue"
    _sign_in(keyed_client, "reader", "/catalogue")
    page = keyed_client.get("/catalogue")
    assert page.status_code == 200
    assert "Signed in as reader" in page.text


def test_a_wrong_key_is_refused_next_to_the_field(keyed_client: TestClient[Litestar]) -> None:
    token = csrf_token(keyed_client.get("/sign-in").text)
    response = keyed_client.post("/sign-in", data={"api_key": "not-a-key", "_csrf_token": token})
    assert response.status_code == 400
    assert "This key is not recognised" in response.text
    assert "set-cookie" not in response.headers or "advisor_session" not in response.headers["set-cookie"]


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "/x\r\nSet-Cookie: a=b"]
)
def test_sign_in_refuses_to_send_a_person_to_another_site(keyed_client: TestClient[Litestar], target: str) -> None:
    token = csrf_token(keyed_client.get("/sign-in").text)
    response = keyed_client.post(
        "/sign-in",
        data={"api_key": KEYS["reader"][0], "_csrf_token": token, "next": target},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_a_read_session_may_look_but_not_create_a_decision(keyed_client: TestClient[Litestar]) -> None:
    _sign_in(keyed_client, "reader")
    token = csrf_token(keyed_client.get("/").text)
    response = keyed_client.post("/", data={**FORM, "_csrf_token": token}, follow_redirects=False)
    assert response.status_code == 403
    assert "this page needs &#39;write&#39;" in response.text


def test_a_write_session_decides_and_may_read_the_decision_from_the_api_but_not_write_to_it(
    keyed_client: TestClient[Litestar],
) -> None:
    _sign_in(keyed_client, "writer")
    token = csrf_token(keyed_client.get("/").text)
    location = keyed_client.post("/", data={**FORM, "_csrf_token": token}, follow_redirects=False).headers["location"]
    record_id = location.rsplit("/", 1)[1]
    assert keyed_client.get(location).status_code == 200
    stored = keyed_client.get(f"/v1/recommendations/{record_id}")
    assert stored.status_code == 200
    assert keyed_client.get(f"/v1/recommendations/{record_id}/report?format=html").status_code == 200
    assert keyed_client.post("/v1/recommendations", json={}).status_code == 401  # a session never writes to the API


def test_a_key_in_a_header_opens_the_pages_without_a_session(keyed_client: TestClient[Litestar]) -> None:
    assert keyed_client.get("/", headers={"X-API-Key": KEYS["reader"][0]}).status_code == 200
    assert keyed_client.get("/", headers={"X-API-Key": "wrong"}, follow_redirects=False).status_code == 303


def test_a_tampered_or_signed_out_session_is_not_accepted(keyed_client: TestClient[Litestar]) -> None:
    _sign_in(keyed_client, "reader")
    value = keyed_client.cookies["advisor_session"]
    keyed_client.cookies.set("advisor_session", value.replace("reader", "writer"))
    assert keyed_client.get("/", follow_redirects=False).status_code == 303
    _sign_in(keyed_client, "reader")
    token = csrf_token(keyed_client.get("/").text)
    assert keyed_client.post("/sign-out", data={"_csrf_token": token}, follow_redirects=False).status_code == 303
    assert keyed_client.get("/", follow_redirects=False).status_code == 303


def test_the_sign_in_page_and_the_stylesheet_stay_open(keyed_client: TestClient[Litestar]) -> None:
    assert keyed_client.get("/sign-in").status_code == 200
    assert keyed_client.get("/static/site.css").status_code == 200
