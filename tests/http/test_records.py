"""Decision records over HTTP: stored answers, restarts, superseded records, re-runs, reports and comparison."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from service.domain.engine import Engine
from service.http.app import create_app
from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 11, 25)
RECORDS = "/v1/recommendations"
REQUEST: dict[str, Any] = {
    "use_cases": ["coding"],
    "ip": {"commercial_use": True, "licence_kinds": ["permissive"]},
    "hardware": {"gpu_memory_gb": 80, "gpu_count": 2, "precision": "fp8"},
    "limit": 3,
    "explain": ["moonshotai/Kimi-K2-Instruct"],
    "detail": "full",
    # Every exclusion listed, as in the stored decision, so that the answer returned is the one stored.
    "exclusions": "all",
}

AppFactory = Callable[..., Litestar]


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'advisor.db'}"


@pytest.fixture
def make_app(engine: Engine, database: str) -> AppFactory:
    """A fresh app (as after a restart) on the shared test database, with a fixed date."""

    def make(*, with_engine: Engine = engine, today: dt.date = TODAY) -> Litestar:
        settings = Settings(catalogue_dir=ROOT / "catalogue", rules_dir=ROOT / "rules", database_url=database)
        return create_app(settings, engine=with_engine, clock=lambda: today)

    return make


@pytest.fixture
def client(make_app: AppFactory) -> Iterator[TestClient[Litestar]]:
    with TestClient(make_app()) as test_client:
        yield test_client


def test_a_summary_post_and_health_are_served_on_the_event_loop_without_a_worker_thread(
    client: TestClient[Litestar], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A worker thread per request costs a hand-over each way; guards, the decision and its group commit need none.
    handed: list[Any] = []
    hand_over = asyncio.BaseEventLoop.run_in_executor

    def counted(self: asyncio.BaseEventLoop, executor: Any, func: Any, *args: Any) -> Any:
        handed.append(func)
        return hand_over(self, executor, func, *args)

    monkeypatch.setattr(asyncio.BaseEventLoop, "run_in_executor", counted)
    assert client.get("/health").status_code == 200
    assert client.post(RECORDS, json={**REQUEST, "detail": "summary"}).status_code == 200
    assert handed == []


def _without_record(body: bytes) -> bytes:
    """The answer bytes: the response minus the trailing ``"record"`` member the record envelope adds."""
    head, _, _ = body.rpartition(b',"record":')
    return head + b"}"


def test_a_recommendation_is_stored_and_served_again_byte_for_byte(client: TestClient[Litestar]) -> None:
    created = client.post(RECORDS, json=REQUEST)
    assert created.status_code == 200, created.text
    body = created.json()
    record = body["record"]
    assert record["id"] == body["id"]
    assert created.headers["content-location"] == f"{RECORDS}/{body['id']}"
    assert record["superseded"] is False
    assert record["links"]["self"] == f"{RECORDS}/{body['id']}"
    fetched = client.get(record["links"]["self"])
    assert fetched.status_code == 200
    assert fetched.content == created.content
    answer = json.loads(_without_record(fetched.content))
    assert "record" not in answer
    assert answer["id"] == body["id"]
    assert answer["tradeoffs"]["sensitivity"]["samples"] >= 1000


def test_identical_requests_give_identical_ids_and_one_record(client: TestClient[Litestar]) -> None:
    first = client.post(RECORDS, json=REQUEST)
    # The same request written differently (other list order) is the same decision.
    reordered = {**REQUEST, "ip": {"licence_kinds": ["permissive"], "commercial_use": True}}
    second = client.post(RECORDS, json=reordered)
    assert first.json()["id"] == second.json()["id"]
    assert first.content == second.content
    other = client.post(RECORDS, json={**REQUEST, "limit": 4})
    assert other.json()["id"] != first.json()["id"]
    listed = client.get(RECORDS).json()
    assert listed["count"] == 2


def test_the_same_request_on_another_day_is_another_record(make_app: AppFactory) -> None:
    with TestClient(make_app()) as client:
        today = client.post(RECORDS, json=REQUEST).json()["id"]
    with TestClient(make_app(today=TODAY + dt.timedelta(days=1))) as client:
        tomorrow = client.post(RECORDS, json=REQUEST).json()["id"]
    assert today != tomorrow


def test_records_survive_a_restart_of_the_app(make_app: AppFactory) -> None:
    with TestClient(make_app()) as client:
        created = client.post(RECORDS, json=REQUEST)
    with TestClient(make_app()) as client:
        fetched = client.get(f"{RECORDS}/{created.json()['id']}")
        listed = client.get(RECORDS).json()
    assert fetched.status_code == 200
    assert fetched.content == created.content
    assert [item["id"] for item in listed["items"]] == [created.json()["id"]]


def test_records_are_listed_newest_first_in_pages(client: TestClient[Litestar]) -> None:
    ids = [client.post(RECORDS, json={**REQUEST, "limit": limit}).json()["id"] for limit in (1, 2, 3, 4, 5)]
    first = client.get(RECORDS, params={"limit": 2}).json()
    assert first["count"] == 5
    assert [item["id"] for item in first["items"]] == ids[::-1][:2]
    assert first["next_offset"] == 2
    last = client.get(RECORDS, params={"limit": 2, "offset": 4}).json()
    assert [item["id"] for item in last["items"]] == [ids[0]]
    assert last["next_offset"] is None
    item = first["items"][0]
    assert item["superseded"] is False
    assert item["profile"] == "balanced"
    assert len(item["top_models"]) == 5


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "x"}])
def test_a_bad_page_is_refused_naming_the_parameter(client: TestClient[Litestar], params: dict[str, Any]) -> None:
    response = client.get(RECORDS, params=params)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == list(params)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/rec_00000000000000000000000000000000"),
        ("GET", "/rec_00000000000000000000000000000000/report?format=md"),
        ("POST", "/rec_00000000000000000000000000000000/rerun"),
        ("GET", "/not-an-id"),
    ],
)
def test_an_unknown_record_id_gives_404_with_a_json_error_body(
    client: TestClient[Litestar], method: str, path: str
) -> None:
    response = client.request(method, RECORDS + path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status"] == 404
    assert "no decision record" in body["detail"]


def test_a_record_decided_on_an_older_catalogue_is_served_as_decided_and_marked_superseded(
    make_app: AppFactory, engine: Engine
) -> None:
    older = Engine(engine.catalogue, engine.rules, "sha256:" + "0" * 64, engine.rules_version)
    with TestClient(make_app(with_engine=older)) as client:
        created = client.post(RECORDS, json=REQUEST)
    original = created.json()
    with TestClient(make_app()) as client:
        fetched = client.get(f"{RECORDS}/{original['id']}")
        listed = client.get(RECORDS).json()
        report = client.get(f"{RECORDS}/{original['id']}/report", params={"format": "md"})
        rerun = client.post(original["record"]["links"]["rerun"])
        rerun_again = client.post(original["record"]["links"]["rerun"])
        fetched_rerun = client.get(rerun.headers["location"])
    assert _without_record(fetched.content) == _without_record(created.content)
    record = fetched.json()["record"]
    assert record["superseded"] is True
    assert record["superseded_because"] == ["catalogue changed"]
    assert record["current_catalogue_version"] == engine.catalogue_version
    assert listed["items"][0]["superseded"] is True
    assert "Superseded" in report.text
    assert engine.catalogue_version in report.text
    assert rerun.status_code == 201, rerun.text
    fresh = rerun.json()
    assert fresh["id"] != original["id"]
    assert fresh["catalogue_version"] == engine.catalogue_version
    assert fresh["requirements"] == original["requirements"]
    assert fresh["record"]["rerun_of"] == original["id"]
    assert fresh["record"]["superseded"] is False
    assert fresh["record"]["links"]["rerun_of"] == f"{RECORDS}/{original['id']}"
    assert rerun_again.status_code == 200  # the same decision is already stored
    assert rerun_again.content == rerun.content
    assert fetched_rerun.content == rerun.content


@pytest.mark.parametrize(("fmt", "media_type"), [("md", "text/markdown"), ("html", "text/html")])
def test_the_report_is_served_in_each_format(client: TestClient[Litestar], fmt: str, media_type: str) -> None:
    body = client.post(RECORDS, json=REQUEST).json()
    report = client.get(body["record"]["links"][f"report_{fmt}"])
    assert report.status_code == 200
    assert report.headers["content-type"] == f"{media_type}; charset=utf-8"
    assert f'filename="{body["id"]}.{fmt}"' in report.headers["content-disposition"]
    for expected in (body["catalogue_version"], body["rules_version"], body["id"]):
        assert expected in report.text
    for recommendation in body["recommendations"]:
        assert recommendation["model_id"] in report.text


def test_the_report_defaults_to_markdown(client: TestClient[Litestar]) -> None:
    body = client.post(RECORDS, json=REQUEST).json()
    assert client.get(f"{RECORDS}/{body['id']}/report").headers["content-type"].startswith("text/markdown")


@pytest.mark.parametrize("fmt", ["pdf", "MD", ""])
def test_a_bad_report_format_is_refused_naming_the_parameter(client: TestClient[Litestar], fmt: str) -> None:
    body = client.post(RECORDS, json=REQUEST).json()
    response = client.get(f"{RECORDS}/{body['id']}/report", params={"format": fmt})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["format"]


# ---------------------------------------------------------------------------------------------- compare
COMPARED = ["moonshotai/Kimi-K2-Instruct", "Qwen/Qwen3-32B", "openai/gpt-oss-120b"]


def test_compare_puts_models_side_by_side_with_every_criterion_fact_and_failing_rule(
    client: TestClient[Litestar],
) -> None:
    response = client.post("/v1/compare", json={"models": COMPARED, "requirements": {"ip": REQUEST["ip"]}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [m["model_id"] for m in body["models"]] == COMPARED
    for model in body["models"]:
        assert [c["criterion"] for c in model["criteria"]] == body["criteria"]
        assert all(c["evidence"] or c["missing_data"] for c in model["criteria"] if c["criterion"] != "freshness")
        assert model["entry"]["id"] == model["model_id"]
        facts = model["entry"]["facts"]
        assert all(
            {"source", "as_of"} <= set(fact) for fact in facts.values() if isinstance(fact, dict) and "value" in fact
        )
        assert model["fails"] == [r for r in model["rules"] if r["outcome"] != "passed"]
    kimi = body["models"][0]
    assert kimi["status"] == "excluded"
    assert [f["rule_id"] for f in kimi["fails"]] == ["licence.kind"]
    assert kimi["criteria"]  # scored even though excluded
    assert body["models"][1]["fails"] == []


def test_compare_without_requirements_uses_no_constraints(client: TestClient[Litestar]) -> None:
    body = client.post("/v1/compare", json={"models": COMPARED[:2]}).json()
    assert all(m["fails"] == [] and m["rank"] is not None for m in body["models"])
    assert body["profile"] == "balanced"


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"models": ["Qwen/Qwen3-32B"]}, 400, "models"),
        ({"models": [f"org/model-{i}" for i in range(7)]}, 400, "models"),
        ({"models": ["Qwen/Qwen3-32B", "Qwen/Qwen3-32B"]}, 400, "models"),
        ({"models": ["Qwen/Qwen3-32B", "no-such/model"]}, 422, "models[1]"),
        ({"models": ["Qwen/Qwen3-32B", "not an id"]}, 400, "models[1]"),
        ({"models": COMPARED[:2], "colour": "red"}, 400, "colour"),
        ({"models": COMPARED[:2], "requirements": {"limit": 0}}, 400, "requirements.limit"),
        ({}, 400, "models"),
    ],
)
def test_compare_refuses_bad_input_naming_the_field(
    client: TestClient[Litestar], payload: dict[str, Any], status: int, field: str
) -> None:
    response = client.post("/v1/compare", json=payload)
    assert response.status_code == status, response.text
    assert field in [e["field"] for e in response.json()["errors"]]


def test_the_openapi_document_describes_the_record_routes(client: TestClient[Litestar]) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    operations = {
        (path, method): op["operationId"]
        for path, item in paths.items()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }
    assert operations[(RECORDS, "get")] == "listRecommendations"
    assert operations[(f"{RECORDS}/{{record_id}}", "get")] == "getRecommendation"
    assert operations[(f"{RECORDS}/{{record_id}}/rerun", "post")] == "rerunRecommendation"
    assert operations[(f"{RECORDS}/{{record_id}}/report", "get")] == "getRecommendationReport"
    assert operations[("/v1/compare", "post")] == "compareModels"
    get_record = paths[f"{RECORDS}/{{record_id}}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert get_record["schema"]["$ref"].endswith("/RecordedAnswer")


def test_an_unusable_records_database_gives_503_not_500(engine: Engine, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    settings = Settings(
        catalogue_dir=ROOT / "catalogue",
        rules_dir=ROOT / "rules",
        database_url=f"sqlite:///{blocker / 'advisor.db'}",
    )
    with TestClient(create_app(settings, engine=engine, clock=lambda: TODAY)) as client:
        assert client.get("/v1/models").status_code == 200  # the catalogue works without the database
        response = client.post(RECORDS, json=REQUEST)
    assert response.status_code == 503
    assert response.json()["title"] == "Decision records unavailable"
    assert "a-file" not in response.text  # the database location stays in the log
