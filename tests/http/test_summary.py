"""The ``detail`` choice: a ``summary`` answer is small, cites evidence by id, and stands for the full decision."""

from __future__ import annotations

import asyncio
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

from service.domain.requirements import EXCLUSIONS_LISTED
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
    full = client.post(RECOMMENDATIONS, json={**REQUEST, "detail": "full", "exclusions": "all"})
    assert summary.status_code == full.status_code == 200
    s, f = summary.json(), full.json()
    assert s["id"] == f["id"]
    assert len(summary.content) < len(full.content) / 3
    assert [r["model_id"] for r in s["recommendations"]] == [r["model_id"] for r in f["recommendations"]]
    assert [r["score"] for r in s["recommendations"]] == [r["score"] for r in f["recommendations"]]
    assert s["eligible_count"] == f["eligible_count"]
    # The detail asked for is not part of the decision: the stored record is the full answer with every
    # exclusion, and says nothing of detail or exclusions in its requirements.
    stored = client.get(s["record"]["links"]["self"])
    assert stored.status_code == 200
    assert stored.content == full.content
    assert "detail" not in f["requirements"]
    assert "exclusions" not in f["requirements"]
    assert f["detail"] == "full"


def _stated(summarised: dict[str, Any], full: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The summary's criteria of one model, checked against the full answer's figures of the same criteria."""
    figures = {c["criterion"]: c for c in full["criteria"]}
    stated = {c["criterion"]: c for c in summarised["criteria"]}
    for name, criterion in stated.items():
        whole = figures[name]
        for field in ("value", "weight", "contribution"):
            assert criterion[field] == round(whole[field], 3), (name, field)
        assert criterion.get("uncertainty") == (round(whole["uncertainty"], 3) if whole["uncertainty"] else None)
        assert criterion.get("missing_data") == (True if whole["missing_data"] else None)
    return stated


@pytest.mark.parametrize(
    "weights",
    [
        None,  # the default profile: capability leads
        {"cost": 0.4, "openness": 0.3, "adoption": 0.2, "capability": 0.1},  # weighted, but seldom among the leaders
        {"cost": 0.5, "openness": 0.5},  # unweighted: the full answer does not list it either
    ],
)
def test_each_model_states_its_capability_estimate_and_uncertainty_as_the_full_answer_does(
    client: TestClient[Any], weights: dict[str, float] | None
) -> None:
    request = {**REQUEST, "limit": 10, "explain": ["moonshotai/Kimi-K2-Instruct", "Qwen/Qwen3-8B"]}
    if weights is not None:
        request["weights"] = weights
    summary = client.post(RECOMMENDATIONS, json=request).json()
    full = client.post(RECOMMENDATIONS, json={**request, "detail": "full"}).json()
    assert summary["id"] == full["id"]
    pairs = list(zip(summary["recommendations"], full["recommendations"], strict=True))
    pairs += list(zip(summary["explained"], full["explained"], strict=True))
    assert len(pairs) == 12
    flagged = 0
    for summarised, whole in pairs:
        assert summarised["model_id"] == whole["model_id"]
        stated = _stated(summarised, whole)
        flagged += sum(1 for c in stated.values() if c.get("missing_data"))
        leading = [line.split(" adds ")[0] for line in summarised["reasons"] if " adds " in line]
        listed = {c["criterion"] for c in whole["criteria"]}  # none for an excluded model
        weighted = sorted(
            (c for c in whole["criteria"] if c["weight"] > 0), key=lambda c: (-c["contribution"], c["criterion"])
        )
        assert leading == [c["criterion"] for c in weighted[:3]]
        # The leading criteria, then capability whenever the full answer lists it: never a reason of its own.
        expected = leading + (["capability"] if "capability" in listed and "capability" not in leading else [])
        assert list(stated) == expected
        if "capability" in listed:
            # An estimate is uncertain; a value the missing-data policy supplied is stated as such.
            capability = stated["capability"]
            assert ("uncertainty" in capability) != bool(capability.get("missing_data")), capability
    if weights is None:
        assert all(s["criteria"][0]["criterion"] == "capability" for s, _ in pairs[:10])
    elif "capability" in weights:
        assert any(s["criteria"][3:] and s["criteria"][3]["criterion"] == "capability" for s, _ in pairs[:10])
    else:
        assert not any(c["criterion"] == "capability" for s, _ in pairs for c in s["criteria"])
    if weights is not None and "adoption" in weights:  # a leading criterion some of these models have no data for
        assert flagged, "no stated criterion's value came from the missing-data policy: the flag went untested"


def test_every_evidence_id_a_summary_cites_is_listed_once_with_its_source(client: TestClient[Any]) -> None:
    body = client.post(RECOMMENDATIONS, json=REQUEST).json()
    cited = {
        ref
        for model in [*body["recommendations"], *body["explained"]]
        for reason in model["reasons"]
        for group in re.findall(r"\[(e[0-9a-f]+(?:, e[0-9a-f]+)*)\]", reason)
        for ref in group.split(", ")
    }
    assert cited, "no reason cites evidence"
    assert cited == {item["id"] for item in body["evidence"]}
    for item in body["evidence"]:
        assert item["source"] in body["sources"]
        assert body["sources"][item["source"]].startswith("http")
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", item["as_of"])
    # Listed once: no two entries are the same fact, and each id is the one the full answer gives that fact.
    entries = [json.dumps({k: v for k, v in e.items() if k != "id"}, sort_keys=True) for e in body["evidence"]]
    assert len(entries) == len(set(entries))
    full = client.get(body["record"]["links"]["self"]).json()
    listed = {item["id"]: item for item in full["evidence"]}
    for item in body["evidence"]:
        assert listed[item["id"]]["fact"] == item["fact"]
        assert listed[item["id"]]["source"] == body["sources"][item["source"]]


def _cited(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "evidence" and isinstance(value, list) and all(isinstance(v, str) for v in value):
                yield from value
            else:
                yield from _cited(value)
    elif isinstance(node, list):
        for item in node:
            yield from _cited(item)


def test_a_full_answer_lists_each_fact_once_and_cites_it_by_id_everywhere(client: TestClient[Any]) -> None:
    full = client.post(RECOMMENDATIONS, json={**REQUEST, "detail": "full"}).json()
    listed = [item["id"] for item in full["evidence"]]
    assert len(listed) == len(set(listed))
    assert set(_cited({k: v for k, v in full.items() if k != "evidence"})) == set(listed)
    (top,) = [m for m in full["recommendations"] if m["rank"] == 1]
    assert all(isinstance(i, str) for c in top["criteria"] for i in c["evidence"])
    assert all(o["evidence"] for o in top["obligations"])
    by_id = {item["id"]: item for item in full["evidence"]}
    for obligation in top["obligations"]:
        (text,) = obligation["evidence"]
        assert by_id[text]["fact"] == "licence text"
        assert by_id[text]["value"] == obligation["licence_id"]
    benchmarks = [by_id[i] for c in top["criteria"] for i in c["evidence"] if by_id[i]["fact"].startswith("benchmark")]
    assert benchmarks and all(b["measured_by"] for b in benchmarks)


def test_exclusions_are_counted_by_rule_and_explain_still_works(client: TestClient[Any]) -> None:
    body = client.post(RECOMMENDATIONS, json=REQUEST).json()
    stored = client.get(body["record"]["links"]["self"]).json()
    assert body["excluded_count"] == stored["excluded_count"] == len(stored["excluded"]) > EXCLUSIONS_LISTED
    expected: dict[str, int] = {}
    for exclusion in stored["excluded"]:
        for rule in {r["rule_id"] for r in exclusion["reasons"]}:
            expected[rule] = expected.get(rule, 0) + 1
    assert {c["rule_id"]: c["count"] for c in body["excluded_by_rule"]} == expected
    assert body["excluded_by_rule"] == stored["excluded_by_rule"]
    assert all(c["description"] for c in body["excluded_by_rule"])
    listed = sorted(e["model_id"] for e in stored["excluded"])
    assert [e["model_id"] for e in body["excluded"]] == listed[:EXCLUSIONS_LISTED]
    (explained,) = body["explained"]
    assert explained["model_id"] == "moonshotai/Kimi-K2-Instruct"
    assert explained["status"] == "excluded"
    assert any(reason.startswith("hardware.fits") for reason in explained["reasons"])
    # In full detail too, the first ones are listed with their reasons unless every one is asked for.
    full = client.post(RECOMMENDATIONS, json={**REQUEST, "detail": "full"}).json()
    assert full["excluded_by_rule"] == stored["excluded_by_rule"]
    assert [e["model_id"] for e in full["excluded"]] == listed[:EXCLUSIONS_LISTED]
    assert full["excluded"] == [e for e in stored["excluded"] if e["model_id"] in listed[:EXCLUSIONS_LISTED]]
    every = client.post(RECOMMENDATIONS, json={**REQUEST, "exclusions": "all"}).json()
    assert [e["model_id"] for e in every["excluded"]] == listed


@pytest.mark.parametrize("field", ["detail", "exclusions"])
@pytest.mark.parametrize("value", ["brief", 1, None, ["all"]])
def test_detail_and_exclusions_take_only_their_values(client: TestClient[Any], field: str, value: Any) -> None:
    response = client.post(RECOMMENDATIONS, json={field: value})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_only_the_whole_answer_listing_more_than_the_listed_exclusions_is_built_off_the_event_loop(
    client: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.http import records

    built: list[tuple[str, bool]] = []
    original = records._record

    def watched(decision: Any, archive: Any, **kwargs: Any) -> Any:
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:  # a worker thread has no running loop
            on_loop = False
        built.append((decision.requirements.detail, on_loop))
        return original(decision, archive, **kwargs)

    monkeypatch.setattr(records, "_record", watched)
    every = {"ip": {"licence_kinds": ["copyleft"]}, "detail": "full", "exclusions": "all"}
    response = client.post(RECOMMENDATIONS, json=every)
    assert response.status_code == 200, response.text
    assert response.json()["excluded_count"] > EXCLUSIONS_LISTED  # unbounded work: kept off the loop
    listed = client.post(RECOMMENDATIONS, json={**every, "exclusions": "by_rule"})
    brief = client.post(RECOMMENDATIONS, json={**every, "detail": "summary"})
    assert listed.status_code == brief.status_code == 200
    assert built == [("full", False), ("full", True), ("summary", True)]
