"""Errors keep one documented shape, and the OpenAPI document says which errors each route gives."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from service.http.app import create_app
from tests.conftest import TODAY


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(clock=lambda: TODAY), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def document(client: TestClient[Any]) -> dict[str, Any]:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


@pytest.mark.parametrize("path", ["/v1/recommendations", "/v1/models"])
def test_an_absurd_offset_is_refused_not_a_server_error(client: TestClient[Any], path: str) -> None:
    response = client.get(path, params={"offset": 10**20})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["offset"]


def test_a_wrong_method_says_which_methods_are_allowed(client: TestClient[Any]) -> None:
    response = client.delete("/health")
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]
    assert response.json()["status"] == 405


def test_empty_weights_are_refused_and_named(client: TestClient[Any]) -> None:
    response = client.post("/v1/recommendations", json={"weights": {}})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["weights"]


def test_every_error_response_in_the_openapi_document_uses_the_problem_schema(document: dict[str, Any]) -> None:
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"status", "title", "detail"}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for code, response in operation["responses"].items():
                if code.startswith(("4", "5")):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Problem"}, (method, path, code)


def test_routes_with_ids_document_404_and_posts_document_422(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if "{" in path:
                assert "404" in operation["responses"], (method, path)
            if method == "post":
                assert {"400", "413", "422"} <= set(operation["responses"]), path


def test_the_report_is_documented_as_markdown_or_html(document: dict[str, Any]) -> None:
    content = document["paths"]["/v1/recommendations/{record_id}/report"]["get"]["responses"]["200"]["content"]
    assert set(content) == {"text/markdown", "text/html"}


@pytest.mark.parametrize("body", [b'"\x80"', b'{"profile": "\xff"}', b'{"ip": {"allowed_licences": ["\xc3("]}}'])
def test_invalid_utf8_inside_json_is_a_400_not_a_server_error(client: TestClient[Any], body: bytes) -> None:
    response = client.post("/v1/recommendations", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "(body)"
