"""The client and the OpenAPI document agree: the same operations, parameters and request/answer schemas."""

from __future__ import annotations

import inspect
import re
import tomllib
from pathlib import Path
from typing import Any

import advisor_client
import pytest
from advisor_client import AdvisorClient, AsyncAdvisorClient
from advisor_client._operations import OPERATIONS

import service
from service.http.app import create_app
from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    app = create_app(Settings(api_keys=[], rate_limit_per_minute=0))
    schema: dict[str, Any] = app.openapi_schema.to_schema()
    return schema


def _operations(document: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    found = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "operationId" in operation:
                found[operation["operationId"]] = (method.upper(), path, operation)
    return found


def _snake(operation_id: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()


def _refs(schema: dict[str, Any]) -> set[str]:
    """The component names a schema refers to, itself or as one of its alternatives."""
    candidates = [schema, *schema.get("oneOf", []), *schema.get("anyOf", [])]
    return {str(c["$ref"]).rsplit("/", 1)[-1] for c in candidates if "$ref" in c}


def test_every_operation_in_the_document_has_a_client_operation_and_the_other_way_round(
    document: dict[str, Any],
) -> None:
    assert set(_operations(document)) == set(OPERATIONS)


def test_each_operation_has_the_documents_method_and_path(document: dict[str, Any]) -> None:
    for operation_id, (method, path, _) in _operations(document).items():
        assert (OPERATIONS[operation_id].method, OPERATIONS[operation_id].path) == (method, path), operation_id


def test_request_and_answer_schemas_are_the_clients_models(document: dict[str, Any]) -> None:
    components = document["components"]["schemas"]
    for operation_id, (_, _, operation) in _operations(document).items():
        expected = OPERATIONS[operation_id]
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        requests = _refs(body) if body else set()
        assert requests == ({expected.request.__name__} if expected.request else set()), operation_id
        answers = {
            name
            for status, response in operation["responses"].items()
            if status.startswith("2")
            for content in response.get("content", {}).values()
            for name in _refs(content["schema"])
        }
        assert answers == {model.__name__ for model in expected.answers}, operation_id
        for model in [m for m in (expected.request, *expected.answers) if m is not None]:
            component = components[model.__name__]
            properties = {field.alias or name for name, field in model.model_fields.items()}
            required = {field.alias or name for name, field in model.model_fields.items() if field.is_required()}
            assert set(component["properties"]) == properties, model.__name__
            assert set(component.get("required", [])) == required, model.__name__


@pytest.mark.parametrize("client", [AdvisorClient, AsyncAdvisorClient])
def test_each_client_method_takes_the_documents_parameters(document: dict[str, Any], client: type) -> None:
    methods = {name for name, _ in inspect.getmembers(client, inspect.isfunction) if not name.startswith("_")}
    methods -= {"close", "aclose"}
    assert methods == {_snake(operation_id) for operation_id in OPERATIONS}
    for operation_id, (_, _, operation) in _operations(document).items():
        method = getattr(client, _snake(operation_id))
        taken = set(inspect.signature(method).parameters) - {"self"}
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] in {"query", "path"}}
        if operation_id == "getModel":  # one model id, owner/name, split into the two path segments
            declared = (declared - {"owner", "name"}) | {"model_id"}
        if OPERATIONS[operation_id].request is not None:
            taken -= {"requirements", "request"}
        assert taken == declared, operation_id


def test_the_client_is_released_from_the_services_version() -> None:
    client_project = tomllib.loads((ROOT / "client" / "pyproject.toml").read_text())["project"]
    assert client_project["version"] == service.__version__ == advisor_client.__version__
    assert f"open-model-advisor=={service.__version__}" in client_project["dependencies"]
