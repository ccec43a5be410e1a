"""The catalogue routes serve their answers written once per engine: the same bytes as writing them afresh, and kept
no longer than the engine (a reload's new data is served: tests/ops/test_access.py)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.serialization import encode_json, get_serializer
from litestar.testing import TestClient
from pydantic import BaseModel

from service.domain.engine import Engine
from service.http import resources
from service.http.app import create_app
from service.http.resources import catalogue_views, licence_out, model_out, profile_out
from service.loading.engine import build_engine
from service.settings import Settings, default_data_dir


@pytest.fixture(scope="module")
def served(engine: Engine) -> Iterator[tuple[TestClient[Litestar], Engine]]:
    app = create_app(Settings(database_url="sqlite://", rate_limit_per_minute=0), engine=engine)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client, engine


def _written(client: TestClient[Litestar], value: Any) -> bytes:
    """``value`` as the app's serialiser writes a route's answer."""
    app = client.app
    return encode_json(value, get_serializer(app.type_encoders))


def _model_view(engine: Engine, model_id: str) -> Any:
    catalogue, model = engine.catalogue, engine.catalogue.models[model_id]
    return model_out(
        model,
        catalogue.organisations[model.organisation],
        engine.rules.licences[model.licence.value],
        catalogue.offers_for(model_id),
    )


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"family": "QWEN"},
        {"licence_kind": "permissive", "limit": 5, "offset": 2},
        {"origin_country": "CN", "organisation": "deepseek-ai"},
        {"licence": "mit", "offset": 10_000},
    ],
)
def test_a_model_listing_is_the_bytes_of_the_listing_written_afresh(
    served: tuple[TestClient[Litestar], Engine], params: dict[str, Any]
) -> None:
    client, engine = served
    for _ in range(2):  # written, then served as kept
        response = client.get("/v1/models", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        selected = [
            model_id
            for model_id, model in sorted(engine.catalogue.models.items())
            if ("family" not in params or model.family.lower() == params["family"].lower())
            and ("organisation" not in params or model.organisation == params["organisation"])
            and ("licence" not in params or model.licence.value == params["licence"])
            and (
                "licence_kind" not in params
                or engine.rules.licences[model.licence.value].kind == params["licence_kind"]
            )
            and (
                "origin_country" not in params
                or engine.catalogue.organisations[model.organisation].country.value == params["origin_country"]
            )
        ]
        offset, limit = params.get("offset", 0), params.get("limit", 1000)
        afresh = {
            "count": len(selected),
            "offset": offset,
            "items": [_model_view(engine, m) for m in selected[offset : offset + limit]],
            "catalogue_version": engine.catalogue_version,
        }
        assert response.content == _written(client, afresh)
        assert body["count"] == len(selected) and len(body["items"]) == len(selected[offset : offset + limit])


def test_every_other_catalogue_answer_is_the_bytes_written_afresh(served: tuple[TestClient[Litestar], Engine]) -> None:
    client, engine = served
    rules = engine.rules
    licences = [licence_out(rules.licences[i]) for i in sorted(rules.licences)]
    profiles = [profile_out(rules.profiles[i]) for i in sorted(rules.profiles)]
    expected = {
        "/v1/models/Qwen/Qwen3-8B": _model_view(engine, "Qwen/Qwen3-8B"),
        "/v1/licences": {"count": len(licences), "items": licences, "rules_version": engine.rules_version},
        "/v1/licences/mit": licence_out(rules.licences["mit"]),
        "/v1/profiles": {"count": len(profiles), "items": profiles, "default": rules.policy.default_profile},
        "/v1/profiles/balanced": profile_out(rules.profiles["balanced"]),
        "/v1/rules": {
            "rules_version": engine.rules_version,
            "eligibility": [rules.eligibility[i].model_dump(mode="json") for i in sorted(rules.eligibility)],
            "criteria": [rules.criteria[i].model_dump(mode="json", exclude_none=True) for i in sorted(rules.criteria)],
        },
    }
    for path, value in expected.items():
        for _ in range(2):
            response = client.get(path)
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == "application/json"
            assert response.content == _written(client, value), path
    for path in ("/v1/models/no/such", "/v1/licences/none-such", "/v1/profiles/none-such"):
        assert client.get(path).status_code == 404


def test_an_engines_views_are_kept_with_it_and_go_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resources, "MODEL_VIEWS_KEPT", 3)
    engine = build_engine(default_data_dir("catalogue"), default_data_dir("rules"))
    writes = []

    def encode(value: Any) -> bytes:
        writes.append(value)
        return value.model_dump_json().encode() if isinstance(value, BaseModel) else encode_json(value)

    views = catalogue_views(engine, lambda: encode)
    assert catalogue_views(engine, lambda: encode) is views
    ids = [m.id for m in views.listed]
    for model_id in ids[:4]:
        views.model(model_id)
    assert len(writes) == 4
    views.model(ids[3])  # kept
    assert len(writes) == 4
    views.model(ids[0])  # the oldest of four was dropped (three are kept): written again, the same bytes
    assert len(writes) == 5 and writes[4] == writes[0]
    gone = weakref.ref(views)
    del views, engine
    gc.collect()
    assert gone() is None
