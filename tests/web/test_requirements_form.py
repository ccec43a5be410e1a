"""The requirements form: labelled controls, CSRF, errors next to their field, and the API's answer."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient
from markupsafe import escape

from service.domain.citing import resolve
from service.http.records import RecordedAnswer
from service.web.forms import LABELS
from tests.web.conftest import csrf_token

FORM = {
    "use_cases": ["coding"],
    "ip.commercial_use": "yes",
    "ip.licence_kinds": ["permissive"],
    "hardware.gpu_memory_gb": "80",
    "hardware.gpu_count": "2",
    "hardware.precision": "fp8",
    "weighting": "profile",
    "profile": "balanced",
    "limit": "3",
    "explain": "moonshotai/Kimi-K2-Instruct",
}
#: The same requirements as FORM, as a tool sends them to the API.
API_REQUEST: dict[str, Any] = {
    "use_cases": ["coding"],
    "ip": {"commercial_use": True, "licence_kinds": ["permissive"]},
    "hardware": {"gpu_memory_gb": 80, "gpu_count": 2, "precision": "fp8"},
    "profile": "balanced",
    "limit": 3,
    "explain": ["moonshotai/Kimi-K2-Instruct"],
    "privacy": {"excluded_origin_countries": []},
    "detail": "full",
}


class _Controls(HTMLParser):
    """Collects form controls, labels and element ids."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str]] = []
        self.labelled: set[str] = set()
        self.ids: set[str] = set()
        self.fieldsets: list[str] = []  # the aria-describedby of each open fieldset

    def handle_endtag(self, tag: str) -> None:
        if tag == "fieldset":
            self.fieldsets.pop()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "fieldset":
            self.fieldsets.append(a.get("aria-describedby", ""))
        if tag == "label" and "for" in a:
            self.labelled.add(a["for"])
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            # A choice in a group is described by the group's hint (and by its own, when it has one).
            group = self.fieldsets[-1] if self.fieldsets else ""
            self.controls.append({"tag": tag, **a, "aria-describedby": f"{a.get('aria-describedby', '')} {group}"})


def _form_page(client: TestClient[Litestar]) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.text


def _post(client: TestClient[Litestar], form: dict[str, Any], token: str | None = None) -> Any:
    token = token if token is not None else csrf_token(_form_page(client))
    return client.post("/", data={**form, "_csrf_token": token}, follow_redirects=False)


def _error_next_to(page: str, name: str) -> str:
    found = re.search(
        rf'<p class="error-message" id="f-{re.escape(name.replace(".", "-"))}-error">(.*?)</p>', page, re.S
    )
    assert found is not None, f"no error shown next to {name}"
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def test_every_control_has_a_label_and_a_hint(client: TestClient[Litestar]) -> None:
    parser = _Controls()
    parser.feed(_form_page(client))
    assert len(parser.controls) > 40
    for control in parser.controls:
        assert control["id"] in parser.labelled, f"control {control.get('name')} has no label"
        described = control.get("aria-describedby", "").split()
        assert described and all(d in parser.ids for d in described), f"control {control.get('name')} has no hint"


def test_each_group_of_choices_starts_with_the_requests_default_chosen(client: TestClient[Litestar]) -> None:
    page = _form_page(client)
    for name, value in [
        ("privacy.deployment", ""),
        ("customisation.fine_tuning", "none"),
        ("reasoning", "any"),
        ("weighting", "profile"),
    ]:
        assert re.search(rf'name="{re.escape(name)}" value="{value}" checked', page), name


def test_every_api_section_has_a_control(client: TestClient[Litestar]) -> None:
    page = _form_page(client)
    names = set(re.findall(r' name="([^"]+)"', page))
    for name in LABELS:
        if name not in ("(form)", "weights"):
            assert name in names, f"the form has no control for {name}"


def test_a_post_without_the_csrf_token_is_refused_and_stores_nothing(client: TestClient[Litestar]) -> None:
    _form_page(client)  # sets the CSRF cookie, but the token is not sent
    response = client.post("/", data=FORM, follow_redirects=False)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "This form has expired" in response.text
    assert client.get("/v1/recommendations").json()["count"] == 0


def test_a_forged_token_is_refused(client: TestClient[Litestar]) -> None:
    _form_page(client)
    assert _post(client, FORM, token="forged" * 20).status_code == 403


def test_errors_are_said_in_plain_words_next_to_each_field_and_what_was_typed_stays(
    client: TestClient[Litestar],
) -> None:
    form = {
        **FORM,
        "ip.monthly_active_users": "lots",
        "limit": "0",
        "privacy.hosting_countries": "us, Germany",
        "explain": "kimi",
    }
    response = _post(client, form)
    assert response.status_code == 400
    page = response.text
    assert "whole number" in _error_next_to(page, "ip.monthly_active_users")
    assert _error_next_to(page, "limit") == "Error: enter 1 or more"
    assert "'GERMANY'" in _error_next_to(page, "privacy.hosting_countries")
    assert "owner/name" in _error_next_to(page, "explain")
    assert 'value="lots"' in page and 'value="us, Germany"' in page
    assert 'aria-invalid="true"' in page
    assert 'href="#f-ip-monthly_active_users"' in page  # the summary links to the field
    assert client.get("/v1/recommendations").json()["count"] == 0


def test_an_unknown_model_to_explain_is_reported_next_to_its_field(client: TestClient[Litestar]) -> None:
    response = _post(client, {**FORM, "explain": "nobody/no-such-model"})
    assert response.status_code == 400
    assert "unknown model id 'nobody/no-such-model'" in _error_next_to(response.text, "explain")


def test_custom_weights_all_zero_are_refused_next_to_the_sliders(client: TestClient[Litestar]) -> None:
    zeros = {f"weights.{c}": "0" for c in ("capability", "cost", "openness")}
    response = _post(client, {**FORM, "weighting": "custom", **zeros})
    assert response.status_code == 400
    assert "at least one weight must be positive" in _error_next_to(response.text, "weights")


def test_the_page_and_the_api_decide_the_same_request_identically(client: TestClient[Litestar]) -> None:
    response = _post(client, FORM)
    assert response.status_code == 303
    location = response.headers["location"]
    api = client.post("/v1/recommendations", json=API_REQUEST).json()
    assert location == f"/decisions/{api['id']}"  # same requirements, same content-hashed decision
    page = client.get(location).text
    shown = re.findall(r'<td><a href="#model-\d+">[^<]*</a><br><code>([^<]+)</code>', page)
    assert shown == [r["model_id"] for r in api["recommendations"]]
    # The page shows each reason with its facts written out; the API's full answer cites them by id.
    for recommendation in resolve(RecordedAnswer.model_validate(api)).recommendations:
        for reason in recommendation.reasons:
            assert str(escape(reason)) in page


def test_custom_weights_reach_the_engine_as_the_api_would_send_them(client: TestClient[Litestar]) -> None:
    sliders = {"weights.capability": "6", "weights.cost": "3", "weights.openness": "1"}
    location = _post(client, {**FORM, "weighting": "custom", "profile": "", **sliders}).headers["location"]
    weights = {"capability": 6, "cost": 3, "openness": 1}
    request = {**API_REQUEST, "weights": {**dict.fromkeys(LABELS_CRITERIA, 0), **weights}}
    del request["profile"]
    api = client.post("/v1/recommendations", json=request).json()
    assert location == f"/decisions/{api['id']}"


LABELS_CRITERIA = [name.removeprefix("weights.") for name in LABELS if name.startswith("weights.")]


def test_a_stored_decision_fills_the_form_again(client: TestClient[Litestar]) -> None:
    location = _post(client, FORM).headers["location"]
    page = client.get("/?from=" + location.rsplit("/", 1)[1]).text
    assert re.search(r'name="use_cases" value="coding" checked', page)
    assert 'name="hardware.gpu_count" value="2"' in page
    assert "moonshotai/Kimi-K2-Instruct</textarea>" in page
    assert client.get("/?from=rec_nothing").status_code == 404


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*LABELS, "weighting", "unknown.field"]),
        st.one_of(st.text(max_size=30), st.sampled_from(["-1", "1e9", "0", "99999999999999999999", "yes", "custom"])),
        max_size=6,
    )
)
def test_no_input_gives_a_server_error(client: TestClient[Litestar], form: dict[str, str]) -> None:
    response = _post(client, form)
    assert response.status_code in (303, 400), response.text[:500]
