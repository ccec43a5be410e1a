"""Errors keep one documented shape, and the OpenAPI document says which errors each route gives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from pydantic import BaseModel

from service.domain.requirements import Requirements
from service.http.app import create_app
from service.http.boundary import MAX_JSON_DEPTH, json_depth
from service.http.errors import field_path
from service.http.records import CompareRequest
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
    assert set(problem["required"]) == {"status", "title", "detail", "errors"}
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


# ------------------------------------------------------------------------------ one contract for every 4xx
POSTS = ["/v1/recommendations", "/v1/compare"]
JSON = {"content-type": "application/json"}


def assert_problem(response: Any, status: int, field: str | None = None) -> list[dict[str, str]]:
    """The response is a problem body with ``status`` and at least one error (naming ``field`` if given)."""
    assert response.status_code == status, response.text[:500]
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    errors: list[dict[str, str]] = body["errors"]
    assert errors, body
    assert all(set(e) == {"field", "problem"} and e["field"] and e["problem"] for e in errors), errors
    if field is not None:
        assert field in [e["field"] for e in errors], errors
    return errors


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize(
    "raw",
    [
        b'{"profile": "\xff"}',
        b'{"profile": "\\ud800"}',
        b'{"profile": "\\udc00x"}',
        b'{"limit": NaN}',
        b'{"limit": Infinity}',
        b'{"limit": -Infinity}',
        b'{"limit": 1e999}',
        b'\xef\xbb\xbf{"limit": 5}',
        b"{oops",
        b'{"limit": 5',
        b'{"limit": 5,}',
    ],
    ids=["bad UTF-8", "lone high surrogate", "lone low surrogate", "NaN", "Infinity", "-Infinity", "1e999", "BOM",
         "unquoted", "unclosed", "trailing comma"],
)  # fmt: skip
def test_a_body_the_json_decoder_refuses_is_a_400_naming_the_body(
    client: TestClient[Any], path: str, raw: bytes
) -> None:
    assert_problem(client.post(path, content=raw, headers=JSON), 400, "(body)")


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize("depth", [65, 975, 5000, 10_000])
@pytest.mark.parametrize("opening", [b"[", b'{"a":'])
def test_json_nested_beyond_the_bound_is_a_400_before_decoding(
    client: TestClient[Any], path: str, depth: int, opening: bytes
) -> None:
    closing = b"]" if opening == b"[" else b"}"
    raw = opening * depth + b"1" + closing * depth
    errors = assert_problem(client.post(path, content=raw, headers=JSON), 400, "(body)")
    assert f"more than {MAX_JSON_DEPTH}" in errors[0]["problem"]


def test_json_nested_to_the_bound_is_decoded_and_judged_on_its_fields(client: TestClient[Any]) -> None:
    raw = b'{"explain": ' + b"[" * (MAX_JSON_DEPTH - 1) + b"]" * (MAX_JSON_DEPTH - 1) + b"}"
    assert json_depth(raw) == MAX_JSON_DEPTH
    assert_problem(client.post("/v1/recommendations", content=raw, headers=JSON), 400, "explain[0]")


@pytest.mark.parametrize(
    ("raw", "depth"),
    [
        (b"{}", 1),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'{"a": "[[[[{{{{"}', 1),
        (b'{"a": "\\"[[[["}', 1),
        (b'["\\\\", [[]]]', 3),
        (b"", 0),
        (b"[[[", 3),
    ],
)
def test_json_depth_counts_brackets_outside_strings_only(raw: bytes, depth: int) -> None:
    assert json_depth(raw) == depth


@pytest.mark.parametrize("path", POSTS)
def test_a_body_over_the_size_limit_is_a_413_naming_the_body(client: TestClient[Any], path: str) -> None:
    raw = json.dumps({"profile": "x" * 70_000}).encode()
    errors = assert_problem(client.post(path, content=raw, headers=JSON), 413, "(body)")
    assert "65536" in errors[0]["problem"]


@pytest.mark.parametrize(
    ("body", "bad_type_field", "unknown_id_field"),
    [
        ({"explain": [1]}, "explain[0]", None),
        ({"explain": ["nope/nope"]}, None, "explain[0]"),
        ({"ip": {"allowed_licences": ["mit", 7]}}, "ip.allowed_licences[1]", None),
        ({"ip": {"allowed_licences": ["mit", "no-such-licence"]}}, None, "ip.allowed_licences[1]"),
    ],
)
def test_400_and_422_spell_a_list_item_the_same_way(
    client: TestClient[Any], body: dict[str, Any], bad_type_field: str | None, unknown_id_field: str | None
) -> None:
    response = client.post("/v1/recommendations", json=body)
    if bad_type_field is not None:
        assert_problem(response, 400, bad_type_field)
    else:
        assert_problem(response, 422, unknown_id_field)


def test_a_nested_list_item_in_compare_is_spelt_with_brackets(client: TestClient[Any]) -> None:
    body = {"models": ["Qwen/Qwen3-8B", "Qwen/Qwen3-32B"], "requirements": {"explain": ["x/y", 3]}}
    assert_problem(client.post("/v1/compare", json=body), 400, "requirements.explain[1]")


def test_field_path_spells_members_with_dots_and_items_with_brackets() -> None:
    assert field_path(("ip", "allowed_licences", 2)) == "ip.allowed_licences[2]"
    assert field_path(("weights", "bogus", "[key]")) == "weights.bogus"
    assert field_path(()) == "(body)"


# -------------------------------------------------------------------------------------- content type
@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin-1",
        "application/jsonx",
        "",
    ],
)
def test_a_json_route_refuses_other_media_types_with_415(client: TestClient[Any], path: str, content_type: str) -> None:
    response = client.post(path, content=b"{}", headers={"content-type": content_type})
    assert_problem(response, 415, "(body)")


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"])
def test_a_json_route_accepts_json_with_or_without_a_utf8_charset(client: TestClient[Any], content_type: str) -> None:
    response = client.post("/v1/recommendations", content=b"{}", headers={"content-type": content_type})
    assert response.status_code == 200, response.text


def test_a_form_post_from_another_site_creates_no_record(client: TestClient[Any]) -> None:
    before = client.get("/v1/recommendations").json()["count"]
    response = client.post("/v1/recommendations", data={"limit": "3"})
    assert_problem(response, 415, "(body)")
    assert client.get("/v1/recommendations").json()["count"] == before


def test_a_body_without_a_content_type_is_refused(client: TestClient[Any]) -> None:
    response = client.post("/v1/recommendations", content=b'{"limit": 3}', headers={"content-type": ""})
    assert_problem(response, 415, "(body)")


# ------------------------------------------------------------------------------- every other 4xx
def test_not_found_wrong_method_and_unknown_ids_keep_the_contract(client: TestClient[Any]) -> None:
    assert_problem(client.get("/v1/nothing-here"), 404, "(path)")
    assert_problem(client.delete("/v1/models"), 405, "(method)")
    assert_problem(client.get("/v1/models/nobody/nothing"), 404, "(path)")
    assert_problem(client.get("/v1/licences/nothing"), 404, "(path)")
    assert_problem(client.get("/v1/profiles/nothing"), 404, "(path)")
    assert_problem(client.get("/v1/recommendations/rec_" + "0" * 32), 404, "(path)")
    assert_problem(client.post("/v1/recommendations", json={"profile": "nothing"}), 422, "profile")


# ------------------------------------------------------------------------------------------ bounds
def _unbounded(schema: Any, where: str, definitions: dict[str, Any]) -> list[str]:
    """Places in a JSON Schema where an array has no maxItems or a string no maxLength, enum or pattern."""
    found: list[str] = []
    if isinstance(schema, dict):
        if schema.get("type") == "array" and "maxItems" not in schema:
            found.append(where)
        if schema.get("type") == "string" and not {"maxLength", "enum", "const", "pattern"} & set(schema):
            found.append(where)
        for key, value in schema.items():
            if key in ("$defs", "not"):  # "not" describes what is refused, not what is accepted
                continue
            found += _unbounded(value, f"{where}.{key}", definitions)
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            found += _unbounded(value, f"{where}[{i}]", definitions)
    return found


@pytest.mark.parametrize("model", [Requirements, CompareRequest], ids=lambda m: m.__name__)
def test_every_list_and_string_in_a_request_body_is_bounded(model: type[BaseModel]) -> None:
    schema = model.model_json_schema()
    definitions = schema.get("$defs", {})
    unbounded = _unbounded(schema, model.__name__, definitions)
    for name, definition in definitions.items():
        unbounded += _unbounded(definition, name, definitions)
    assert not unbounded, f"give these a documented maximum: {unbounded}"


@pytest.mark.parametrize(
    ("section", "field", "item"),
    [("ip", "allowed_licences", "mit"), ("privacy", "excluded_origin_countries", "US")],
)
def test_ten_thousand_items_in_a_list_are_refused_naming_the_list(
    client: TestClient[Any], section: str, field: str, item: str
) -> None:
    raw = json.dumps({section: {field: [item] * 10_000}}, separators=(",", ":")).encode()
    assert len(raw) < 65_536
    assert_problem(client.post("/v1/recommendations", content=raw, headers=JSON), 400, f"{section}.{field}")


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/models/{x}/b", "owner"),
        ("/v1/models/a/{x}", "name"),
        ("/v1/licences/{x}", "licence_id"),
        ("/v1/profiles/{x}", "profile_id"),
        ("/v1/recommendations/{x}", "record_id"),
    ],
)
def test_an_overlong_path_id_is_refused_without_being_echoed(client: TestClient[Any], path: str, field: str) -> None:
    response = client.get(path.format(x="a" * 5000))
    assert_problem(response, 400, field)
    assert len(response.content) < 1000


def test_a_404_does_not_echo_more_than_a_short_id(client: TestClient[Any]) -> None:
    response = client.get("/v1/licences/" + "z" * 100)
    assert_problem(response, 404, "(path)")
    assert len(response.content) < 600


def _operations(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post"} and path.startswith(("/v1", "/health", "/ready"))
    ]


def test_unknown_query_parameters_are_refused_on_every_route(client: TestClient[Any], document: dict[str, Any]) -> None:
    record = client.post("/v1/recommendations", json={}).json()["id"]
    values = {"owner": "Qwen", "name": "Qwen3-8B", "licence_id": "mit", "profile_id": "balanced", "record_id": record}
    bodies = {"/v1/compare": {"models": ["Qwen/Qwen3-8B", "Qwen/Qwen3-32B"]}}
    operations = _operations(document)
    assert len(operations) >= 14
    for method, template in operations:
        path = template.format(**values)
        response = client.request(method, path, params={"colour": "red"}, json=bodies.get(template, {}))
        assert_problem(response, 400, "colour")
        good = client.request(method, path, json=bodies.get(template, {}))
        assert good.status_code < 300, (method, path, good.text[:300])


def test_options_lists_every_method_of_a_path(client: TestClient[Any], document: dict[str, Any]) -> None:
    values = {"owner": "a", "name": "b", "licence_id": "mit", "profile_id": "balanced", "record_id": "rec_x"}
    for template, item in document["paths"].items():
        documented = {m.upper() for m in item if m in {"get", "post", "put", "patch", "delete"}}
        response = client.options(template.format(**values))
        assert response.status_code == 204, template
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        assert documented | {"OPTIONS"} == allowed, (template, allowed)


def _non_null(prop: dict[str, Any]) -> dict[str, Any]:
    options = [o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"]
    return options[0]


def test_the_document_states_the_constraints_validation_enforces(
    client: TestClient[Any], document: dict[str, Any]
) -> None:
    schemas = document["components"]["schemas"]
    requirements = schemas["Requirements"]["properties"]
    weights = _non_null(requirements["weights"])
    assert weights["minProperties"] == 1
    assert weights["additionalProperties"]["maximum"] == 1_000_000
    assert requirements["weights"]["not"], "at least one weight must be positive"
    explain = requirements["explain"]
    assert explain["uniqueItems"] and explain["maxItems"] == 50
    assert {"pattern", "maxLength", "enum"} <= set(explain["items"])
    models = schemas["CompareRequest"]["properties"]["models"]
    assert models["uniqueItems"] and {"pattern", "maxLength", "enum"} <= set(models["items"])
    licences = _non_null(schemas["IP"]["properties"]["allowed_licences"])["items"]["enum"]
    assert licences == sorted(item["id"] for item in client.get("/v1/licences").json()["items"])
    profiles = _non_null(requirements["profile"])["enum"]
    assert profiles == sorted(item["id"] for item in client.get("/v1/profiles").json()["items"])
    assert schemas["Requirements"]["not"], "weights and profile are not both given"
