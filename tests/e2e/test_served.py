"""The real server, started as `advisor serve` in its own process and called over the network.

The public contract's key checks are repeated here so that this test needs nothing outside the repository;
when the contract checker itself sits beside the checkout (``../shared/contract/check``), it runs too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.contract_fields import ANSWER_FIELDS, LICENCE_FIELDS, MODEL_FIELDS, RECOMMENDATION_FIELDS
from tests.served import ROOT

CONTRACT_CHECK = ROOT.parent / "shared" / "contract" / "check"


@pytest.fixture
def client(server_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server_url, timeout=30.0) as http:
        yield http


def _items(payload: Any) -> list[dict[str, Any]]:
    assert isinstance(payload, dict)
    items = payload["items"]
    assert isinstance(items, list)
    return items


def test_the_served_app_is_healthy_and_ready(client: httpx.Client) -> None:
    assert client.get("/health").status_code == 200
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["models"] > 0


def test_the_served_app_answers_a_recommendation_request(client: httpx.Client) -> None:
    hardware = {"gpu_memory_gb": 80, "gpu_count": 2}
    request = {"use_cases": ["coding"], "ip": {"commercial_use": True}, "hardware": hardware}
    response = client.post("/v1/recommendations", json=request)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["recommendations"]
    assert body["recommendations"][0]["rank"] == 1
    assert body["catalogue_version"] == client.get("/ready").json()["catalogue_version"]


def test_the_served_app_guards_its_request_boundary(client: httpx.Client) -> None:
    def problem(response: httpx.Response, status: int) -> list[str]:
        assert response.status_code == status, response.text[:300]
        body = response.json()
        assert body["status"] == status and body["errors"], body
        return [error["field"] for error in body["errors"]]

    json_type = {"Content-Type": "application/json"}
    deep = b"[" * 2000 + b"]" * 2000
    assert problem(client.post("/v1/recommendations", content=deep, headers=json_type), 400) == ["(body)"]
    assert problem(client.post("/v1/compare", content=b'{"a": NaN}', headers=json_type), 400) == ["(body)"]
    form = client.post("/v1/recommendations", data={"limit": "3"})
    assert problem(form, 415) == ["(body)"]
    oversized = client.post("/v1/recommendations", content=b" " * 70_000, headers=json_type)
    assert problem(oversized, 413) == ["(body)"]
    assert problem(client.get("/v1/recommendations", params={"colour": "red"}), 400) == ["colour"]
    allowed = client.options("/v1/recommendations").headers["allow"]
    assert {m.strip() for m in allowed.split(",")} == {"GET", "POST", "OPTIONS"}


def test_the_served_app_keeps_the_public_contract(client: httpx.Client) -> None:
    models = _items(client.get("/v1/models").json())
    assert models
    for model in models:
        assert not [f for f in MODEL_FIELDS if f not in model], model.get("id")
    first = models[0]["id"]
    one = client.get(f"/v1/models/{first}")
    assert one.status_code == 200
    assert one.json()["id"] == first
    assert client.get("/v1/models/no-such-org/no-such-model").status_code == 404

    licences = _items(client.get("/v1/licences").json())
    assert licences
    for licence in licences:
        assert not [f for f in LICENCE_FIELDS if f not in licence], licence.get("id")
        assert licence["kind"] in ("permissive", "copyleft", "custom")
    assert {m["licence"] for m in models} <= {lic["id"] for lic in licences}
    assert _items(client.get("/v1/profiles").json())

    empty = client.post("/v1/recommendations", json={})
    assert empty.status_code in (200, 201)
    answer = empty.json()
    assert not [f for f in ANSWER_FIELDS if f not in answer]
    for recommendation in answer["recommendations"]:
        assert not [f for f in RECOMMENDATION_FIELDS if f not in recommendation], recommendation["model_id"]
        for criterion in recommendation["criteria"]:
            assert {"criterion", "value", "weight", "contribution"} <= set(criterion)
    for exclusion in answer["excluded"]:
        assert {"model_id", "reasons"} <= set(exclusion)

    full = {
        "use_cases": ["coding"],
        "ip": {"commercial_use": True, "licence_kinds": ["permissive"], "monthly_active_users": 1000},
        "privacy": {"deployment": "self_hosted", "excluded_origin_countries": [], "require_open_training_data": False},
        "customisation": {"fine_tuning": "lora"},
        "hardware": {"gpu_memory_gb": 80, "gpu_count": 2, "precision": "fp8"},
        "min_context_tokens": 32000,
        "reasoning": "any",
        "limit": 3,
    }
    assert client.post("/v1/recommendations", json=full).status_code in (200, 201)
    misspelt = client.post("/v1/recommendations", json={"ip": {"comercial_use": True}})
    assert 400 <= misspelt.status_code < 500
    assert "comercial_use" in json.dumps(misspelt.json())
    malformed = client.post("/v1/recommendations", content=b"{oops", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400


def test_the_public_contract_checker_passes_when_it_is_beside_the_checkout(server_url: str) -> None:
    if not CONTRACT_CHECK.is_file():
        pytest.skip("the public contract checker is not beside this checkout; its key checks run above")
    result = subprocess.run(
        [sys.executable, str(CONTRACT_CHECK), server_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout + result.stderr
