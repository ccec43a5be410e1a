"""The decision page: linkable, with evidence, chart, estimates, exclusions by rule, trade-offs and links."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.testing import TestClient

from tests.web.test_requirements_form import API_REQUEST


def _decision(client: TestClient[Litestar]) -> tuple[dict[str, object], str]:
    answer = client.post("/v1/recommendations", json=API_REQUEST).json()
    page = client.get(f"/decisions/{answer['id']}")
    assert page.status_code == 200
    return answer, page.text


def test_each_recommendation_shows_its_evidence_with_source_date_and_rule(client: TestClient[Litestar]) -> None:
    answer, page = _decision(client)
    first = answer["recommendations"][0]  # type: ignore[index]
    listed = {e["id"]: e for e in answer["evidence"]}  # type: ignore[attr-defined]
    for rule in first["rules"]:
        assert f"<code>{rule['rule_id']}</code> v{rule['rule_version']}" in page
        for evidence in (listed[i] for i in rule["evidence"]):
            if evidence["source"].startswith("https://"):
                assert f'<a href="{evidence["source"]}">' in page
            assert f"as of {evidence['as_of']}" in page


def test_each_model_has_an_accessible_svg_chart_of_its_contributions_with_the_numbers_as_text(
    client: TestClient[Litestar],
) -> None:
    answer, page = _decision(client)
    charts = re.findall(r"<svg class=\"chart\" role=\"img\" aria-labelledby=\"([^\"]+)\".*?</svg>", page, re.S)
    assert len(charts) == len(answer["recommendations"]) + len(answer["explained"])  # type: ignore[arg-type]
    first = answer["recommendations"][0]  # type: ignore[index]
    svg = re.search(r"<svg class=\"chart\".*?</svg>", page, re.S)
    assert svg is not None and '<title id="chart-0-t">' in svg.group(0) and "<desc" in svg.group(0)
    for criterion in first["criteria"]:
        if criterion["weight"] > 0:
            assert f"{criterion['contribution']:.3f} = value {criterion['value']:.2f}" in svg.group(0)


def test_the_capability_estimate_is_shown_with_its_80_percent_interval(client: TestClient[Litestar]) -> None:
    answer, page = _decision(client)
    capability = next(c for c in answer["recommendations"][0]["criteria"] if c["criterion"] == "capability")  # type: ignore[index]
    estimate = capability["estimates"][0]
    low, high = estimate["interval_80"]
    assert f"{low:,.2f} to {high:,.2f}" in page


def test_exclusions_are_grouped_by_rule_and_the_tradeoffs_are_shown(client: TestClient[Litestar]) -> None:
    answer, page = _decision(client)
    rules = {o["rule_id"] for e in answer["excluded"] for o in e["reasons"]}  # type: ignore[attr-defined]
    for rule_id in rules:
        assert re.search(rf"<summary><code>{re.escape(rule_id)}</code> v\d+", page)
    assert "Pareto front" in page and "Sensitivity to the weights" in page
    for model in answer["tradeoffs"]["sensitivity"]["models"]:  # type: ignore[index]
        assert f"{model['first_share'] * 100:.1f} %" in page


def test_the_page_links_to_the_stored_decision_its_reports_and_a_comparison_and_they_answer(
    client: TestClient[Litestar],
) -> None:
    answer, page = _decision(client)
    for link in (
        f"/v1/recommendations/{answer['id']}",
        f"/v1/recommendations/{answer['id']}/report?format=html",
        f"/v1/recommendations/{answer['id']}/report?format=md",
    ):
        assert f'href="{link}"' in page
        assert client.get(link).status_code == 200
    assert 'href="/compare?decision=' in page


def test_an_unknown_decision_is_an_html_404(client: TestClient[Litestar]) -> None:
    response = client.get("/decisions/rec_00000000000000000000000000000000")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "no decision record" in response.text


def test_the_comparison_page_puts_the_linked_models_side_by_side_under_the_decisions_requirements(
    client: TestClient[Litestar],
) -> None:
    answer, page = _decision(client)
    link = re.search(r'href="(/compare\?[^"]+)"', page)
    assert link is not None
    response = client.get(link.group(1).replace("&amp;", "&"))
    assert response.status_code == 200
    compared = client.post(
        "/v1/compare",
        json={
            "models": [r["model_id"] for r in answer["recommendations"]] + ["moonshotai/Kimi-K2-Instruct"],  # type: ignore[attr-defined]
            "requirements": {k: v for k, v in API_REQUEST.items() if k != "detail"},
        },
    ).json()
    for model in compared["models"]:
        assert f'data-model-id="{model["model_id"]}"' in response.text
        if model["score"] is not None:
            assert f"{model['score']:,.3f}" in response.text
        for failure in model["fails"]:
            assert f"<code>{failure['rule_id']}</code>" in response.text


def test_the_comparison_page_says_what_is_wrong_with_its_models_field(client: TestClient[Litestar]) -> None:
    one = client.get("/compare", params={"models": "google/gemma-4-31B-it"})
    assert one.status_code == 400 and "give at least two model ids" in one.text
    unknown = client.get("/compare", params={"models": ["google/gemma-4-31B-it", "nobody/nothing"]})
    assert unknown.status_code == 400 and "unknown model id" in unknown.text
    assert client.get("/compare").status_code == 200
