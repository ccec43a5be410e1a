"""The bench's framework-ceiling app: the service's app plus an echo route that does what a recommendation's
request handling does (the same middleware, guard and validation) and nothing more."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from bench.ceiling import ECHO, echo
from service.domain.engine import Engine
from service.domain.requirements import Requirements
from service.http.app import create_app
from tests.http.test_api import FULL_REQUEST, JSON_HEADERS, RECOMMENDATIONS, SETTINGS, TODAY


@pytest.fixture(scope="module")
def client(engine: Engine) -> Iterator[TestClient[Any]]:
    app = create_app(SETTINGS, engine=engine, clock=lambda: TODAY)
    app.register(echo)
    with TestClient(app=app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize("body", [{}, {"detail": "summary", "workload": {"tokens_per_request": 5000}}, FULL_REQUEST])
def test_the_echo_sends_back_the_validated_requirements(client: TestClient[Any], body: dict[str, Any]) -> None:
    response = client.post(ECHO, content=json.dumps(body).encode(), headers=JSON_HEADERS)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == Requirements.model_validate(body).model_dump(mode="json")


@pytest.mark.parametrize("body", [{"limit": 0}, {"hardware": {"gpu_count": "two"}}, {"unknown_field": 1}])
def test_the_echo_refuses_what_the_recommendations_route_refuses_alike(
    client: TestClient[Any], body: dict[str, Any]
) -> None:
    echoed = client.post(ECHO, content=json.dumps(body).encode(), headers=JSON_HEADERS)
    recommended = client.post(RECOMMENDATIONS, content=json.dumps(body).encode(), headers=JSON_HEADERS)
    assert echoed.status_code == recommended.status_code == 400
    assert echoed.json()["errors"] == recommended.json()["errors"]


def test_the_echo_route_is_not_part_of_the_service_s_schema(client: TestClient[Any]) -> None:
    assert not any("bench" in path for path in client.get("/schema/openapi.json").json()["paths"])
