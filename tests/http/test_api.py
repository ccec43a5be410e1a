"""The HTTP API: every route, every class of bad input, and no input that makes the service answer 500."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.exceptions import LitestarDeprecationWarning
from litestar.testing import TestClient

from service.domain.requirements import IP, Customisation, Hardware, Privacy, Requirements
from service.domain.rules import CRITERIA, USE_CASES
from service.http.app import create_app
from service.settings import Settings
from tests.contract_fields import ANSWER_FIELDS, LICENCE_FIELDS, MODEL_FIELDS, RECOMMENDATION_FIELDS

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 25)
SETTINGS = Settings(catalogue_dir=ROOT / "catalogue", rules_dir=ROOT / "rules")
RECOMMENDATIONS = "/v1/recommendations"
JSON_HEADERS = {"Content-Type": "application/json"}

FIT_FIELDS = ["precision", "memory_gb", "gpus_needed", "allows_for"]

# A request that sets every field of the request sketch in the design.
FULL_REQUEST: dict[str, Any] = {
    "use_cases": ["coding", "long_context"],
    "ip": {
        "commercial_use": True,
        "licence_kinds": ["permissive", "custom"],
        "allowed_licences": ["apache-2.0", "mit"],
        "monthly_active_users": 3_000_000,
        "train_on_outputs": False,
    },
    "privacy": {"deployment": "self_hosted", "excluded_origin_countries": ["RU"], "require_open_training_data": False},
    "customisation": {"fine_tuning": "lora"},
    "hardware": {"gpu_memory_gb": 80, "gpu_count": 2, "precision": "fp8"},
    "min_context_tokens": 32_000,
    "reasoning": "preferred",
    "weights": {"capability": 3, "cost": 1, "openness": 1},
    "limit": 3,
    "explain": ["Qwen/Qwen3-8B"],
}


def build_app() -> Litestar:
    with warnings.catch_warnings():
        # The app's own test below fails on these; ignoring them here lets every other test still run.
        warnings.simplefilter("ignore", LitestarDeprecationWarning)
        return create_app(SETTINGS, clock=lambda: TODAY)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Any]]:
    with TestClient(app=build_app(), raise_server_exceptions=False) as test_client:
        yield test_client


def test_the_app_builds_without_deprecation_warnings() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        create_app(SETTINGS, clock=lambda: TODAY)
    messages = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    assert not messages, "\n".join(messages)


@pytest.fixture(scope="module")
def models(client: TestClient[Any]) -> list[dict[str, Any]]:
    response = client.get("/v1/models")
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    assert items
    return items


def post(client: TestClient[Any], body: Any) -> httpx.Response:
    """POST ``body``; a JSON object that does not choose a ``detail`` asks for the full answer."""
    if isinstance(body, dict) and "detail" not in body:
        body = {**body, "detail": "full"}
    return client.post(RECOMMENDATIONS, content=json.dumps(body).encode(), headers=JSON_HEADERS)


def names(reported: str, field: str) -> bool:
    """Whether an error's ``field`` (``use_cases.0``, ``explain[0]``, ``weights.x.[key]``) points at ``field``."""
    path = re.sub(r"\[(\w+)\]", r".\1", reported).replace("..", ".").strip(".")
    return path == field or path.startswith(field + ".")


def assert_refused(
    response: httpx.Response, fields: tuple[str, ...], problem: str, statuses: tuple[int, ...] = (400, 422)
) -> None:
    """A 4xx whose ``errors`` name one of ``fields`` with a ``problem`` that matches the pattern."""
    assert response.status_code in statuses, f"{response.status_code}: {response.text[:500]}"
    body = response.json()
    assert body["status"] == response.status_code
    errors = body.get("errors")
    assert isinstance(errors, list), body
    assert errors, body
    named = [e for e in errors if any(names(str(e.get("field")), f) for f in fields)]
    assert named, f"no error names any of {fields}: {errors}"
    text = " ".join(str(e.get("problem", "")) for e in named)
    assert re.search(problem, text, flags=re.IGNORECASE), f"problem {text!r} does not say {problem!r}"


# ------------------------------------------------------------------------------------ recommendations
def assert_is_an_answer(body: dict[str, Any]) -> None:
    missing = [f for f in ANSWER_FIELDS if f not in body]
    assert not missing, missing
    for recommendation in body["recommendations"]:
        assert not [f for f in RECOMMENDATION_FIELDS if f not in recommendation], recommendation["model_id"]
        assert not [f for f in FIT_FIELDS if f not in recommendation["fit"]], recommendation["model_id"]
        for criterion in recommendation["criteria"]:
            assert {"criterion", "value", "weight", "contribution"} <= set(criterion)
    for exclusion in body["excluded"]:
        assert {"model_id", "reasons"} <= set(exclusion)


def test_an_empty_object_asks_for_the_balanced_profile_without_constraints(client: TestClient[Any]) -> None:
    response = post(client, {})
    assert response.status_code == 200, response.text
    body = response.json()
    assert_is_an_answer(body)
    assert body["profile"] == client.get("/v1/profiles").json()["default"]
    assert body["excluded"] == []
    assert [r["rank"] for r in body["recommendations"]] == [1, 2, 3, 4, 5]
    assert body["evaluated_on"] == TODAY.isoformat()


def test_a_request_without_a_body_means_the_same_as_an_empty_object(client: TestClient[Any]) -> None:
    bare = client.post(RECOMMENDATIONS)
    assert bare.status_code == 200, bare.text
    assert bare.json() == post(client, {"detail": "summary"}).json()


def test_a_request_with_every_documented_field_is_answered(client: TestClient[Any]) -> None:
    response = post(client, FULL_REQUEST)
    assert response.status_code == 200, response.text
    body = response.json()
    assert_is_an_answer(body)
    assert len(body["recommendations"]) <= 3
    assert body["profile"] == "custom"
    assert body["requirements"]["ip"]["monthly_active_users"] == 3_000_000
    assert [e["model_id"] for e in body["explained"]] == ["Qwen/Qwen3-8B"]
    for recommendation in body["recommendations"]:
        assert recommendation["licence"] in ("apache-2.0", "mit")
        assert recommendation["fit"]["precision"] == "fp8"
        assert recommendation["fit"]["gpus_needed"] <= 2


def test_asking_why_not_an_excluded_model_returns_every_failing_rule(
    client: TestClient[Any], models: list[dict[str, Any]]
) -> None:
    chinese = next(m["id"] for m in models if m["origin_country"] == "CN")
    response = post(
        client, {"privacy": {"excluded_origin_countries": ["CN"]}, "explain": [chinese], "exclusions": "all"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    (explained,) = body["explained"]
    assert explained["model_id"] == chinese
    assert explained["status"] == "excluded"
    assert explained["rank"] is None
    failing = {r["rule_id"]: r for r in explained["rules"] if r["outcome"] != "passed"}
    origin = failing["origin.excluded-country"]
    assert origin["outcome"] == "failed"
    assert "CN" in origin["message"]
    assert origin["evidence"]
    listed = {e["id"]: e for e in body["evidence"]}
    assert all(listed[i]["source"] and listed[i]["as_of"] for i in origin["evidence"])
    assert any("origin.excluded-country" in reason for reason in explained["reasons"])
    exclusion = next(e for e in body["excluded"] if e["model_id"] == chinese)
    assert {r["rule_id"] for r in exclusion["reasons"]} == set(failing)


def test_the_same_request_gets_the_same_answer_and_id(client: TestClient[Any]) -> None:
    first, second = post(client, FULL_REQUEST), post(client, FULL_REQUEST)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert first.json()["id"].startswith("rec_")


# ------------------------------------------------------------------------------------- bad input
BAD_BODIES: list[Any] = [
    pytest.param(
        {"ip": {"comercial_use": True}},
        ("ip.comercial_use",),
        r"not permitted|unknown|unexpected",
        id="a misspelt field",
    ),
    pytest.param({"colour": "blue"}, ("colour",), r"not permitted|unknown|unexpected", id="an unknown top-level field"),
    pytest.param(
        {"hardware": {"gpus": 2}}, ("hardware.gpus",), r"not permitted|unknown|unexpected", id="an unknown nested field"
    ),
    pytest.param({"ip": {"commercial_use": "yes"}}, ("ip.commercial_use",), r"bool", id="a string for a bool"),
    pytest.param(
        {"privacy": {"require_open_training_data": 1}},
        ("privacy.require_open_training_data",),
        r"bool",
        id="a number for a bool",
    ),
    pytest.param({"limit": "5"}, ("limit",), r"int", id="a string for an int"),
    pytest.param({"limit": 5.5}, ("limit",), r"int", id="a fraction for an int"),
    pytest.param({"limit": True}, ("limit",), r"int", id="a bool for an int"),
    pytest.param(
        {"hardware": {"gpu_memory_gb": "80"}}, ("hardware.gpu_memory_gb",), r"number|float", id="a string for a number"
    ),
    pytest.param({"use_cases": {"coding": True}}, ("use_cases",), r"list|array", id="an object for a list"),
    pytest.param({"use_cases": "coding"}, ("use_cases",), r"list|array", id="a string for a list"),
    pytest.param({"hardware": 80}, ("hardware",), r"dict|object", id="a number for a section"),
    pytest.param({"ip": None}, ("ip",), r"dict|object", id="null for a section"),
    pytest.param(
        {"hardware": {"gpu_memory_gb": -1}},
        ("hardware.gpu_memory_gb",),
        r"greater than|positive",
        id="a negative GPU size",
    ),
    pytest.param(
        {"hardware": {"gpu_memory_gb": 0}}, ("hardware.gpu_memory_gb",), r"greater than|positive", id="a zero GPU size"
    ),
    pytest.param({"hardware": {"gpu_count": 0}}, ("hardware.gpu_count",), r"greater than|at least", id="no GPUs"),
    pytest.param(
        {"ip": {"monthly_active_users": -5}},
        ("ip.monthly_active_users",),
        r"greater than|at least",
        id="negative users",
    ),
    pytest.param({"min_context_tokens": 0}, ("min_context_tokens",), r"greater than|at least", id="a zero context"),
    pytest.param(
        {"min_context_tokens": -1}, ("min_context_tokens",), r"greater than|at least", id="a negative context"
    ),
    pytest.param(
        {"weights": {"capability": -1}},
        ("weights.capability", "weights"),
        r"greater than|at least|negative",
        id="a negative weight",
    ),
    pytest.param({"use_cases": ["cooking"]}, ("use_cases",), r"coding", id="an unknown use case"),
    pytest.param({"use_cases": ["coding", "coding"]}, ("use_cases",), r"duplicate", id="a repeated use case"),
    pytest.param({"hardware": {"precision": "fp4"}}, ("hardware.precision",), r"bf16", id="an unknown precision"),
    pytest.param(
        {"privacy": {"deployment": "moon"}}, ("privacy.deployment",), r"self_hosted", id="an unknown deployment"
    ),
    pytest.param(
        {"customisation": {"fine_tuning": "some"}},
        ("customisation.fine_tuning",),
        r"lora",
        id="an unknown fine-tuning mode",
    ),
    pytest.param(
        {"ip": {"licence_kinds": ["free"]}}, ("ip.licence_kinds",), r"permissive", id="an unknown licence kind"
    ),
    pytest.param({"reasoning": "maybe"}, ("reasoning",), r"required", id="an unknown reasoning demand"),
    pytest.param({"weights": {"speed": 1}}, ("weights",), r"capability", id="an unknown criterion"),
    pytest.param(
        {"profile": "balanced", "weights": {"cost": 1}},
        ("weights", "profile"),
        r"either|both|not both",
        id="both weights and a profile",
    ),
    pytest.param({"weights": {"cost": 0, "capability": 0}}, ("weights",), r"positive|zero", id="all-zero weights"),
    pytest.param({"limit": 0}, ("limit",), r"greater than|at least", id="a zero limit"),
    pytest.param({"limit": -1}, ("limit",), r"greater than|at least", id="a negative limit"),
    pytest.param({"limit": 101}, ("limit",), r"less than|at most", id="a limit over 100"),
    pytest.param({"limit": 10**9}, ("limit",), r"less than|at most", id="a limit of a billion"),
    pytest.param(
        {"privacy": {"excluded_origin_countries": ["cn"]}},
        ("privacy.excluded_origin_countries",),
        r"pattern|A-Z|ISO",
        id="a lowercase country",
    ),
    pytest.param(
        {"privacy": {"excluded_origin_countries": ["CHN"]}},
        ("privacy.excluded_origin_countries",),
        r"pattern|A-Z|ISO",
        id="an alpha-3 country",
    ),
    pytest.param(
        {"privacy": {"excluded_origin_countries": ["C1"]}},
        ("privacy.excluded_origin_countries",),
        r"pattern|A-Z|ISO",
        id="a country with a digit",
    ),
    pytest.param(
        {"privacy": {"deployment": "api", "hosting_countries": ["us"]}},
        ("privacy.hosting_countries",),
        r"pattern|A-Z|ISO",
        id="a lowercase hosting country",
    ),
    pytest.param(
        {"privacy": {"deployment": "api", "hosting_countries": []}},
        ("privacy.hosting_countries",),
        r"at least|too short|1",
        id="an empty hosting-country list",
    ),
    pytest.param(
        {"explain": ["not-a-repo-id"]}, ("explain",), r"pattern|id", id="an explain entry that is not a repo id"
    ),
    pytest.param(
        {"explain": [f"org/model-{i}" for i in range(51)]},
        ("explain",),
        r"at most|too long|50",
        id="too many models to explain",
    ),
    pytest.param(
        {"hardware": {"gpu_memory_gb": 1e-310, "gpu_count": 1}},
        ("hardware.gpu_memory_gb",),
        r"greater than|at least|small",
        id="a vanishing GPU size",
    ),
    pytest.param(
        {"ip": {"monthly_active_users": 10**400}},
        ("ip.monthly_active_users",),
        r"less than|at most|large",
        id="an astronomical user count",
    ),
]


@pytest.mark.parametrize(("body", "fields", "problem"), BAD_BODIES)
def test_bad_input_is_refused_with_the_field_and_the_problem_named(
    client: TestClient[Any], body: Any, fields: tuple[str, ...], problem: str
) -> None:
    assert_refused(post(client, body), fields, problem)


def test_a_misspelt_field_is_rejected_and_named(client: TestClient[Any]) -> None:
    response = post(client, {"ip": {"comercial_use": True}})
    assert 400 <= response.status_code < 500
    assert "comercial_use" in response.text


@pytest.mark.parametrize(
    ("body", "field", "identifier"),
    [
        pytest.param({"profile": "no-such-profile"}, "profile", "no-such-profile", id="profile"),
        pytest.param({"ip": {"allowed_licences": ["mit", "gpl-9"]}}, "ip.allowed_licences", "gpl-9", id="licence"),
        pytest.param({"explain": ["no-such-org/no-such-model"]}, "explain", "no-such-org/no-such-model", id="model"),
    ],
)
def test_an_unknown_id_in_a_request_is_unprocessable_and_named(
    client: TestClient[Any], body: dict[str, Any], field: str, identifier: str
) -> None:
    response = post(client, body)
    assert_refused(response, (field,), r"unknown", statuses=(422,))
    assert identifier in response.text


@pytest.mark.parametrize("field", ["licence_kinds", "allowed_licences"])
def test_an_empty_acceptance_list_is_refused_or_admits_no_model(client: TestClient[Any], field: str) -> None:
    response = post(client, {"ip": {field: []}, "limit": 100})
    if response.status_code == 200:
        assert response.json()["recommendations"] == [], f"ip.{field} = [] was read as 'no constraint'"
    else:
        assert_refused(response, (f"ip.{field}",), r".")


@pytest.mark.parametrize(
    "raw",
    [b"{oops", b'{"limit": 5', b'{"limit": 5,}', b"{'limit': 5}", b'{"limit": NaN}', b"\xff\xfe", b"nul"],
    ids=["unquoted key", "unclosed", "trailing comma", "single quotes", "NaN", "not UTF-8", "bare word"],
)
def test_malformed_json_is_a_bad_request(client: TestClient[Any], raw: bytes) -> None:
    response = client.post(RECOMMENDATIONS, content=raw, headers=JSON_HEADERS)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status"] == 400
    assert body["detail"]


@pytest.mark.parametrize(
    "body", [[], [{"limit": 5}], 5, "balanced", True], ids=["empty array", "array", "number", "string", "bool"]
)
def test_a_body_that_is_not_a_json_object_is_refused(client: TestClient[Any], body: Any) -> None:
    assert_refused(post(client, body), ("(body)",), r"object|dict")


def test_a_body_over_the_size_limit_is_too_large(client: TestClient[Any]) -> None:
    padding = "x" * (SETTINGS.max_body_bytes + 1)
    response = client.post(RECOMMENDATIONS, content=json.dumps({"profile": padding}).encode(), headers=JSON_HEADERS)
    assert response.status_code == 413
    assert response.json()["status"] == 413


# ---------------------------------------------------------------------------------------- models
def test_the_model_list_gives_every_model_with_its_headline_fields(
    client: TestClient[Any], models: list[dict[str, Any]]
) -> None:
    body = client.get("/v1/models").json()
    assert body["count"] == len(models) == client.get("/ready").json()["models"]
    ids = [m["id"] for m in models]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    for model in models:
        assert not [f for f in MODEL_FIELDS if f not in model], model["id"]
        assert model["id"].count("/") == 1


@pytest.mark.parametrize("name", ["family", "organisation", "licence", "licence_kind", "origin_country"])
def test_each_model_filter_keeps_exactly_the_matching_models(
    client: TestClient[Any], models: list[dict[str, Any]], name: str
) -> None:
    for value in sorted({m[name] for m in models}):
        response = client.get("/v1/models", params={name: value})
        assert response.status_code == 200, response.text
        body = response.json()
        expected = [m["id"] for m in models if m[name] == value]
        assert [m["id"] for m in body["items"]] == expected, value
        assert body["count"] == len(expected)


def test_model_filters_combine(client: TestClient[Any], models: list[dict[str, Any]]) -> None:
    response = client.get("/v1/models", params={"origin_country": "US", "licence_kind": "permissive"})
    expected = [m["id"] for m in models if m["origin_country"] == "US" and m["licence_kind"] == "permissive"]
    assert [m["id"] for m in response.json()["items"]] == expected


def test_the_model_list_pages_with_limit_and_offset(client: TestClient[Any], models: list[dict[str, Any]]) -> None:
    body = client.get("/v1/models", params={"limit": 3, "offset": 2}).json()
    assert [m["id"] for m in body["items"]] == [m["id"] for m in models[2:5]]
    assert body["count"] == len(models)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"licence_kind": "free"}, "licence_kind"),
        ({"licence_kind": ""}, "licence_kind"),
        ({"origin_country": "us"}, "origin_country"),
        ({"origin_country": "USA"}, "origin_country"),
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"limit": "99999999999999999999"}, "limit"),
        ({"offset": "-1"}, "offset"),
    ],
)
def test_a_bad_model_filter_value_is_a_bad_request_naming_the_parameter(
    client: TestClient[Any], params: dict[str, str], field: str
) -> None:
    assert_refused(client.get("/v1/models", params=params), (field,), r".", statuses=(400,))


def test_a_misspelt_model_filter_is_a_bad_request_not_the_whole_catalogue(client: TestClient[Any]) -> None:
    response = client.get("/v1/models", params={"licence_knd": "permissive"})
    assert_refused(response, ("licence_knd",), r".", statuses=(400,))


def test_every_model_is_served_by_its_repo_id_with_sourced_facts(
    client: TestClient[Any], models: list[dict[str, Any]]
) -> None:
    for listed in models:
        response = client.get(f"/v1/models/{listed['id']}")
        assert response.status_code == 200, listed["id"]
        model = response.json()
        assert model["id"] == listed["id"]
        assert {k: model[k] for k in MODEL_FIELDS} == {k: listed[k] for k in MODEL_FIELDS}
        facts = list(_facts(model["facts"]))
        assert facts, listed["id"]
        for path, fact in facts:
            assert fact.get("source"), f"{listed['id']}: {path} has no source"
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(fact.get("as_of"))), f"{listed['id']}: {path} has no date"


def test_hosting_countries_exclude_offers_served_elsewhere_over_http(client: TestClient[Any]) -> None:
    models = client.get("/v1/models", params={"limit": 500}).json()["items"]
    hosts = {
        m["id"]: [
            (o["provider"], (o.get("provider_country") or {}).get("value"))
            for o in m["facts"].get("offers", [])
            if o["status"] == "active"
        ]
        for m in models
    }
    country = "FR"
    response = post(
        client,
        {"privacy": {"deployment": "api", "hosting_countries": [country]}, "limit": 100, "exclusions": "all"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    for rec in body["recommendations"]:
        assert any(c == country for _, c in hosts[rec["model_id"]]), rec["model_id"]
    reasons = {
        e["model_id"]: r for e in body["excluded"] for r in e["reasons"] if r["rule_id"] == "privacy.hosting-country"
    }
    elsewhere = [m for m, offers in hosts.items() if offers and all(c not in (None, country) for _, c in offers)]
    assert elsewhere, "the shipped catalogue has a model served only outside FR"
    for model_id in elsewhere:
        assert reasons[model_id]["outcome"] == "failed"
        for provider, provider_country in hosts[model_id]:
            assert f"{provider} ({provider_country})" in reasons[model_id]["message"]


def test_a_model_resource_lists_its_offers_with_provider_country_basis_and_status(client: TestClient[Any]) -> None:
    offers = client.get("/v1/models/deepseek-ai/DeepSeek-V4-Pro").json()["facts"]["offers"]
    own = [o for o in offers if o["provider_id"] == "deepseek"]
    assert {(o["price_basis"], o["status"]) for o in own} >= {("peak", "active"), ("off_peak", "active")}
    for offer in own:
        assert offer["developer_hosted"] is True
        assert offer["provider_country"]["value"] == "CN" and offer["provider_country"]["source"]
    for offer in offers:
        assert offer["source"] and offer["as_of"] and offer["price_basis"] in ("flat", "peak", "off_peak")
    flash = client.get("/v1/models/deepseek-ai/DeepSeek-V4-Flash").json()["facts"]["offers"]
    assert ("deepseek", "retired") in {(o["provider_id"], o["status"]) for o in flash}


def _facts(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every sourced fact (a mapping with a ``value``) in a model's ``facts``."""
    if isinstance(node, dict):
        if "value" in node:
            yield path, node
            return
        for key, child in node.items():
            yield from _facts(child, f"{path}.{key}")
    elif isinstance(node, list):
        for i, child in enumerate(node):
            if isinstance(child, dict) and "source" in child:
                assert child.get("as_of"), f"{path}[{i}] has no date"
            yield from _facts(child, f"{path}[{i}]")


def test_a_model_id_with_a_slash_is_served(client: TestClient[Any], models: list[dict[str, Any]]) -> None:
    qwen = "Qwen/Qwen3-8B" if any(m["id"] == "Qwen/Qwen3-8B" for m in models) else models[0]["id"]
    assert client.get(f"/v1/models/{qwen}").json()["id"] == qwen


@pytest.mark.parametrize("path", ["no-such-org/no-such-model", "Qwen/no-such-model", "no-slash", "a/b/c"])
def test_an_unknown_model_is_not_found_with_a_json_body(client: TestClient[Any], path: str) -> None:
    response = client.get(f"/v1/models/{path}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["status"] == 404
    if path.count("/") == 1:
        assert path in response.json()["detail"]


# -------------------------------------------------------------------------------- licences, profiles
def test_every_licence_is_listed_with_its_kind_and_commercial_use(
    client: TestClient[Any], models: list[dict[str, Any]]
) -> None:
    body = client.get("/v1/licences").json()
    licences = body["items"]
    assert body["count"] == len(licences) > 0
    for licence in licences:
        assert not [f for f in LICENCE_FIELDS if f not in licence], licence["id"]
        assert licence["kind"] in ("permissive", "copyleft", "custom")
        assert licence["commercial_use"] in (True, False, None)
    assert {m["licence"] for m in models} <= {lic["id"] for lic in licences}


def test_every_licence_is_served_by_its_id(client: TestClient[Any]) -> None:
    for listed in client.get("/v1/licences").json()["items"]:
        response = client.get(f"/v1/licences/{listed['id']}")
        assert response.status_code == 200
        assert response.json() == listed


def test_an_unknown_licence_is_not_found(client: TestClient[Any]) -> None:
    response = client.get("/v1/licences/gpl-9")
    assert response.status_code == 404
    assert "gpl-9" in response.json()["detail"]


def test_every_profile_is_listed_and_served_and_the_default_is_one_of_them(client: TestClient[Any]) -> None:
    body = client.get("/v1/profiles").json()
    profiles = body["items"]
    assert body["count"] == len(profiles) > 0
    assert body["default"] in {p["id"] for p in profiles}
    for listed in profiles:
        assert set(listed["weights"]) <= set(CRITERIA)
        assert any(w > 0 for w in listed["weights"].values())
        response = client.get(f"/v1/profiles/{listed['id']}")
        assert response.status_code == 200
        assert response.json() == listed
        chosen = post(client, {"profile": listed["id"]})
        assert chosen.status_code == 200
        assert chosen.json()["profile"] == listed["id"]


def test_an_unknown_profile_is_not_found(client: TestClient[Any]) -> None:
    response = client.get("/v1/profiles/no-such-profile")
    assert response.status_code == 404
    assert "no-such-profile" in response.json()["detail"]


def test_the_rules_list_every_eligibility_rule_and_criterion(client: TestClient[Any]) -> None:
    body = client.get("/v1/rules").json()
    assert body["rules_version"] == client.get("/ready").json()["rules_version"]
    ids = [rule["id"] for rule in body["eligibility"]]
    assert ids == sorted(set(ids))
    for rule in body["eligibility"]:
        assert {"id", "version", "requirement", "message", "review_by"} <= set(rule)
    assert {c["id"] for c in body["criteria"]} == set(CRITERIA)


# ------------------------------------------------------------------------------------- operations
def test_health_says_ok(client: TestClient[Any]) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_ready_names_the_loaded_data(client: TestClient[Any]) -> None:
    body = client.get("/ready").json()
    assert body["status"] == "ready"
    assert body["models"] > 0
    assert body["catalogue_version"] == post(client, {}).json()["catalogue_version"]


def test_the_openapi_document_is_openapi_3_with_an_operation_id_for_every_route(client: TestClient[Any]) -> None:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert re.fullmatch(r"3\.\d+\.\d+", document["openapi"])
    assert document["info"]["title"]
    assert document["info"]["version"]
    operation_ids = []
    for path, operations in document["paths"].items():
        assert path.startswith("/")
        templated = set(re.findall(r"\{(\w+)\}", path))
        for method, operation in operations.items():
            if method not in ("get", "put", "post", "delete", "patch", "head", "options", "trace"):
                continue
            assert operation.get("operationId"), f"{method.upper()} {path} has no operationId"
            assert operation.get("responses"), f"{method.upper()} {path} documents no response"
            operation_ids.append(operation["operationId"])
            declared = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"}
            assert templated == declared, f"{method.upper()} {path}: path parameters {declared}"
    assert len(operation_ids) == len(set(operation_ids))
    expected = {
        ("post", "/v1/recommendations"),
        ("get", "/v1/models"),
        ("get", "/v1/models/{owner}/{name}"),
        ("get", "/v1/licences"),
        ("get", "/v1/licences/{licence_id}"),
        ("get", "/v1/profiles"),
        ("get", "/v1/profiles/{profile_id}"),
        ("get", "/v1/rules"),
        ("get", "/health"),
        ("get", "/ready"),
    }
    documented = {(m, p) for p, ops in document["paths"].items() for m in ops}
    assert expected <= documented


def test_the_openapi_request_schemas_say_that_unknown_fields_are_refused(client: TestClient[Any]) -> None:
    schemas = client.get("/schema/openapi.json").json()["components"]["schemas"]
    sections = ["Requirements", "IP", "Privacy", "Customisation", "Hardware"]
    assert set(sections) <= set(schemas)
    open_ended = [name for name in sections if schemas[name].get("additionalProperties") is not False]
    assert not open_ended, f"{open_ended} do not say additionalProperties: false, yet unknown fields get a 400"


def test_the_openapi_document_says_the_request_body_is_optional(client: TestClient[Any]) -> None:
    document = client.get("/schema/openapi.json").json()
    body = document["paths"]["/v1/recommendations"]["post"]["requestBody"]
    assert client.post(RECOMMENDATIONS).status_code == 200
    assert body.get("required") is not True, "the document demands a body that the service does not need"


def test_an_unknown_route_and_a_wrong_method_get_json_errors(client: TestClient[Any]) -> None:
    missing = client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["status"] == 404
    wrong = client.delete("/v1/models")
    assert wrong.status_code == 405
    assert wrong.json()["status"] == 405


# ------------------------------------------------------------------------------ nothing answers 500
def _schema_words() -> list[str]:
    words: set[str] = set(USE_CASES) | set(CRITERIA)
    for section in (Requirements, IP, Privacy, Customisation, Hardware):
        words |= set(section.model_fields)
    words |= {"bf16", "fp8", "int4", "self_hosted", "private_cloud", "api", "none", "lora", "full"}
    words |= {"permissive", "copyleft", "custom", "required", "preferred", "any", "balanced", "mit", "CN", "US"}
    return sorted(words)


SCHEMA_WORDS = _schema_words()
EXTREME_NUMBERS = [0, -1, 5e-324, 1e-310, 1e-12, 0.5, 1e308, -1e308, 2**31, 2**63, 2**64, 10**30, 10**400, -(10**400)]
NUMERIC_FIELDS = [
    ("hardware", "gpu_memory_gb"),
    ("hardware", "gpu_count"),
    ("ip", "monthly_active_users"),
    ("min_context_tokens",),
    ("limit",),
    ("weights", "capability"),
]
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(EXTREME_NUMBERS)
    | st.text(max_size=12)
    | st.sampled_from(SCHEMA_WORDS)
    | st.just("Qwen/Qwen3-8B")
)
keys = st.sampled_from(SCHEMA_WORDS) | st.text(max_size=8)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    # A named function, not a lambda: hypothesis reads the extend function's source to check that it recurses,
    # and a lambda's source line is read back less reliably than a definition's.
    return st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4)


json_values = st.recursive(scalars, _containers, max_leaves=20)


def _section_like(fields: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=dict.fromkeys(fields, json_values))


shaped_bodies = st.fixed_dictionaries(
    {},
    optional={
        **dict.fromkeys(Requirements.model_fields, json_values),
        "ip": _section_like(IP.model_fields) | json_values,
        "privacy": _section_like(Privacy.model_fields) | json_values,
        "customisation": _section_like(Customisation.model_fields) | json_values,
        "hardware": _section_like(Hardware.model_fields) | json_values,
    },
)


def _nest(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    return {path[0]: value} if len(path) == 1 else {path[0]: _nest(path[1:], value)}


extreme_bodies = st.builds(_nest, st.sampled_from(NUMERIC_FIELDS), st.sampled_from(EXTREME_NUMBERS))
FUZZ_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_handled(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        body = response.json()
        assert body["status"] == response.status_code
        assert body["title"] and body["detail"]
        assert body["errors"] and all(e["field"] and e["problem"] for e in body["errors"]), body


@FUZZ_SETTINGS
@given(body=extreme_bodies | shaped_bodies | json_values)
def test_no_json_body_makes_the_service_answer_500(client: TestClient[Any], body: Any) -> None:
    assert_handled(post(client, body))


@FUZZ_SETTINGS
@given(raw=st.binary(max_size=200))
def test_no_byte_string_body_makes_the_service_answer_500(client: TestClient[Any], raw: bytes) -> None:
    assert_handled(client.post(RECOMMENDATIONS, content=raw, headers=JSON_HEADERS))


@FUZZ_SETTINGS
@given(
    params=st.dictionaries(
        st.sampled_from(["family", "organisation", "licence", "licence_kind", "origin_country", "limit", "offset"])
        | st.text(min_size=1, max_size=8),
        st.text(max_size=12),
        max_size=4,
    )
)
def test_no_model_filter_makes_the_service_answer_500(client: TestClient[Any], params: dict[str, str]) -> None:
    assert_handled(client.get("/v1/models", params=params))


@FUZZ_SETTINGS
@given(
    owner=st.text(min_size=1, max_size=12),
    name=st.text(min_size=1, max_size=12),
    kind=st.sampled_from(["models", "licences", "profiles"]),
)
def test_no_resource_id_makes_the_service_answer_500(client: TestClient[Any], owner: str, name: str, kind: str) -> None:
    path = f"{quote(owner, safe='')}/{quote(name, safe='')}" if kind == "models" else quote(owner, safe="")
    assert_handled(client.get(f"/v1/{kind}/{path}"))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"hardware": {"gpu": "h1000"}}, "hardware.gpu"),
        ({"hardware": {"gpu": "h100-sxm", "gpu_memory_gb": 80}}, "hardware.gpu_memory_gb"),
        ({"hardware": {"precision": "q4_k_m"}}, "hardware.precision"),
        ({"workload": {"concurrent_requests": 0}}, "workload.concurrent_requests"),
        ({"workload": {"output_tokens_per_second": -1}}, "workload.output_tokens_per_second"),
    ],
)
def test_a_bad_gpu_precision_or_workload_is_a_4xx_naming_the_field(
    client: TestClient[Any], body: dict[str, Any], field: str
) -> None:
    response = post(client, body)
    assert 400 <= response.status_code < 500
    assert any(names(e["field"], field) for e in response.json()["errors"]), response.json()


def test_a_named_gpu_gives_a_fit_with_cache_headroom_and_speed(client: TestClient[Any]) -> None:
    body = {
        "hardware": {"gpu": "h200", "gpu_count": 2},
        "workload": {"concurrent_requests": 8, "tokens_per_request": 16384},
        "explain": ["openai/gpt-oss-120b"],
    }
    response = post(client, body)
    assert response.status_code in (200, 201)
    fit = response.json()["explained"][0]["fit"]
    assert fit["gpu"] == "h200" and fit["precision"] == "mxfp4" and fit["kv_cache_gb"] > 0
    assert fit["headroom_gb"] >= 0 and fit["throughput"]["tokens_per_second_total"] > 0
