"""The ``detail`` choice: a ``summary`` answer is small, cites evidence by id, and stands for the full decision."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from litestar.exceptions import LitestarDeprecationWarning
from litestar.testing import TestClient

from service.http.app import create_app
from service.settings import Settings
from tests.contract_fields import ANSWER_FIELDS, RECOMMENDATION_FIELDS

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = Settings(catalogue_dir=ROOT / "catalogue", rules_dir=ROOT / "rules")
RECOMMENDATIONS = "/v1/recommendations"
REQUEST: dict[str, Any] = {
    "use_cases": ["coding"],
    "ip": {"commercial_use": True, "licence_kinds": ["permissive"]},
    "hardware": {"gpu": "h100-sxm", "gpu_count": 2},
    "limit": 4,
    "explain": ["moonshotai/Kimi-K2-Instruct"],
}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Any]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LitestarDeprecationWarning)
        app = create_app(SETTINGS, clock=lambda: date(2026, 11, 25))
    with TestClient(app=app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_summary_is_the_default_and_the_answer_for_an_empty_request_is_at_most_8_kb(
    client: TestClient[Any],
) -> None:
    response = client.post(RECOMMENDATIONS, json={})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["detail"] == "summary"
    assert len(response.content) <= 8 * 1024, len(response.content)
    assert body == client.post(RECOMMENDATIONS, json={"detail": "summary"}).json()
    # The public contract's fields are all there.
    assert not [f for f in ANSWER_FIELDS if f not in body]
    for recommendation in body["recommendations"]:
        assert not [f for f in RECOMMENDATION_FIELDS if f not in recommendation]


def test_summary_and_full_are_the_same_decision_and_the_record_keeps_the_full_answer(
    client: TestClient[Any],
) -> None:
    summary = client.post(RECOMMENDATIONS, json=REQUEST)
    full = client.post(RECOMMENDATIONS, json={**REQUEST, "detail": "full"})
    assert summary.status_code == full.status_code == 200
    s, f = summary.json(), full.json()
    assert s["id"] == f["id"]
    assert len(summary.content) < len(full.content) / 3
    assert [r["model_id"] for r in s["recommendations"]] == [r["model_id"] for r in f["recommendations"]]
    assert [r["score"] for r in s["recommendations"]] == [r["score"] for r in f["recommendations"]]
    assert s["eligible_count"] == f["eligible_count"]
    # The detail asked for is not part of the decision: the stored record is the full answer, and says nothing
    # of detail in its requirements.
    stored = client.get(s["record"]["links"]["self"])
    assert stored.status_code == 200
    assert stored.content == full.content
    assert "detail" not in f["requirements"]


def test_every_evidence_id_a_summary_cites_is_listed_once_with_its_source(client: TestClient[Any]) -> None:
    body = client.post(RECOMMENDATIONS, json=REQUEST).json()
    cited = {
        ref
        for model in [*body["recommendations"], *body["explained"]]
        for reason in model["reasons"]
        for group in re.findall(r"\[(e\d+(?:, e\d+)*)\]", reason)
        for ref in group.split(", ")
    }
    assert cited, "no reason cites evidence"
    assert cited == set(body["evidence"])
    for item in body["evidence"].values():
        assert item["source"] in body["sources"]
        assert body["sources"][item["source"]].startswith("http")
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", item["as_of"])
    # Listed once: no two entries are the same fact.
    entries = [json.dumps(e, sort_keys=True) for e in body["evidence"].values()]
    assert len(entries) == len(set(entries))


def test_exclusions_are_counted_by_rule_and_explain_still_works(client: TestClient[Any]) -> None:
    body = client.post(RECOMMENDATIONS, json=REQUEST).json()
    full = client.post(RECOMMENDATIONS, json={**REQUEST, "detail": "full"}).json()
    assert body["excluded_count"] == len(full["excluded"]) > 0
    expected: dict[str, int] = {}
    for exclusion in full["excluded"]:
        for rule in {r["rule_id"] for r in exclusion["reasons"]}:
            expected[rule] = expected.get(rule, 0) + 1
    assert body["excluded_by_rule"] == expected
    listed = sorted(e["model_id"] for e in full["excluded"])[: len(body["excluded"])]
    assert [e["model_id"] for e in body["excluded"]] == listed
    (explained,) = body["explained"]
    assert explained["model_id"] == "moonshotai/Kimi-K2-Instruct"
    assert explained["status"] == "excluded"
    assert any(reason.startswith("hardware.fits") for reason in explained["reasons"])


def test_detail_takes_only_summary_or_full(client: TestClient[Any]) -> None:
    response = client.post(RECOMMENDATIONS, json={"detail": "brief"})
    assert response.status_code in (400, 422)
    assert any(e["field"] == "detail" for e in response.json()["errors"])
