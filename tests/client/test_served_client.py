"""The typed client against the real served app, over the network, with API keys."""

from __future__ import annotations

import asyncio

import pytest
from advisor_client import (
    AdvisorClient,
    AsyncAdvisorClient,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    Requirements,
)
from advisor_client.models import CompareOut, ModelOut, RecordedAnswer, RecordedSummary

from tests.client.conftest import Served

MODELS = ["deepseek-ai/DeepSeek-V3.2", "Qwen/Qwen3-Coder-30B-A3B-Instruct"]


def test_a_recommendation_comes_back_typed_and_can_be_fetched_again_by_its_record_id(served: Served) -> None:
    with AdvisorClient(served.url, served.keys["write"]) as client:
        answer = client.create_recommendation(Requirements(use_cases=["coding"], limit=3, detail="full"))
        brief = client.create_recommendation(Requirements(use_cases=["coding"], limit=3))
        again = client.get_recommendation(answer.id)
        report = client.get_recommendation_report(answer.id)
    assert isinstance(answer, RecordedAnswer)
    assert isinstance(brief, RecordedSummary)
    assert brief.id == answer.id
    assert brief.record.links["self"] == answer.record.links["self"]
    assert [r.model_id for r in brief.recommendations] == [r.model_id for r in answer.recommendations]
    assert 1 <= len(answer.recommendations) <= 3
    assert answer.requirements.use_cases == ["coding"]
    assert again.id == answer.id
    assert [r.model_id for r in again.recommendations] == [r.model_id for r in answer.recommendations]
    assert answer.record.links["self"] == f"/v1/recommendations/{answer.id}"
    assert answer.recommendations[0].model_id in report


def test_the_async_client_answers_as_the_sync_client_does(served: Served) -> None:
    async def run() -> tuple[RecordedSummary | RecordedAnswer, CompareOut, ModelOut, dict[str, object]]:
        async with AsyncAdvisorClient(served.url, served.keys["write"]) as client:
            return await asyncio.gather(
                client.create_recommendation({"use_cases": ["chat"], "limit": 2}),
                client.compare_models({"models": MODELS}),
                client.get_model(MODELS[0]),
                client.list_licences(),
            )

    answer, comparison, model, licences = asyncio.run(run())
    with AdvisorClient(served.url, served.keys["write"]) as client:
        same = client.create_recommendation({"use_cases": ["chat"], "limit": 2})
    assert same.id == answer.id
    assert [m.model_id for m in comparison.models] == MODELS
    assert model.id == MODELS[0]
    assert isinstance(licences["items"], list) and licences["items"]


def test_refusals_carry_the_problem_bodys_errors(served: Served) -> None:
    with AdvisorClient(served.url, served.keys["read"]) as client:
        with pytest.raises(BadRequestError) as bad:
            client.list_models(origin_country="usa")
        with pytest.raises(NotFoundError) as missing:
            client.get_model("nobody/no-such-model")
    assert bad.value.status == 400
    assert [e.field for e in bad.value.errors] == ["origin_country"]
    assert missing.value.status == 404
    assert missing.value.errors and missing.value.errors[0].problem


def test_keys_come_from_the_environment_and_their_scope_is_enforced(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADVISOR_URL", served.url)
    with AdvisorClient() as anonymous, pytest.raises(AuthenticationError) as unauthenticated:
        anonymous.list_licences()
    monkeypatch.setenv("ADVISOR_API_KEY", served.keys["read"])
    with AdvisorClient() as reader:
        assert reader.list_licences()["count"] > 0
        with pytest.raises(PermissionDeniedError) as denied:
            reader.create_recommendation()
    assert unauthenticated.value.status == 401
    assert denied.value.status == 403
    assert denied.value.errors


def test_a_request_the_service_would_refuse_is_refused_before_it_is_sent(served: Served) -> None:
    with AdvisorClient(served.url, served.keys["write"]) as client, pytest.raises(ValueError, match="limit"):
        client.create_recommendation({"limit": 0})
