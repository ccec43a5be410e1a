"""The ``summary`` detail written straight to bytes (``Decision.summary_bytes``) is the summary serialised as the
API sends it (nulls left out), whether its kept parts are written afresh or reused, for recommended, eligible and
excluded models explained, and when two facts share a short id (then the summary cites them one by one)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from service.domain.engine import Engine
from service.domain.requirements import Requirements
from tests.conftest import TODAY
from tests.domain.test_brief import CAVEAT_REQUESTS, DAYS
from tests.domain.test_decision import REQUESTS, one_digit_short_ids


def _serialised(engine: Engine, requirements: Requirements, exclusions: Any, day: dt.date = TODAY) -> bytes:
    summary = engine.decide(requirements, day).summary(exclusions)
    data: bytes = summary.__pydantic_serializer__.to_json(summary, exclude_none=True)
    return data


@pytest.mark.parametrize("body", REQUESTS)
@pytest.mark.parametrize("exclusions", ["by_rule", "all"])
def test_the_written_summary_is_the_serialised_summary(engine: Engine, body: dict[str, Any], exclusions: Any) -> None:
    # Several workloads: the fit figures and the fit rule's line differ; the kept parts are written once and reused.
    for tokens in (4_096, 70_000, 4_096):
        requirements = Requirements.model_validate({**body, "workload": {"tokens_per_request": tokens}})
        expected = _serialised(engine, requirements, exclusions)
        assert engine.decide(requirements, TODAY).summary_bytes(exclusions) == expected


@pytest.mark.parametrize("body", CAVEAT_REQUESTS)
def test_the_written_summary_states_each_day_s_caveats(engine: Engine, body: dict[str, Any]) -> None:
    requirements = Requirements.model_validate({**body, "limit": 20})
    for day in (*DAYS, DAYS[0]):
        assert engine.decide(requirements, day).summary_bytes("all") == _serialised(engine, requirements, "all", day)


@pytest.mark.parametrize("body", REQUESTS[:4])
def test_explained_models_are_written_as_the_summary_states_them(engine: Engine, body: dict[str, Any]) -> None:
    decision = engine.decide(Requirements.model_validate(body), TODAY)
    ids, limit = engine.features.ids, decision.requirements.limit
    excluded = [ids[i] for i in range(len(ids)) if decision._excluded[i]][:2]
    eligible = [ids[i] for i in decision.order[limit : limit + 2].tolist()]
    recommended = [ids[i] for i in decision.order[:1].tolist()]
    assert excluded or eligible
    requirements = Requirements.model_validate({**body, "explain": [*excluded, *eligible, *recommended]})
    for exclusions in ("by_rule", "all"):
        written = engine.decide(requirements, TODAY).summary_bytes(exclusions)
        assert written == _serialised(engine, requirements, exclusions)
        for status, named in (("excluded", excluded), ("eligible", eligible), ("recommended", recommended)):
            assert (f'"status":"{status}"'.encode() in written) == bool(named)


def test_a_short_id_clash_writes_the_summary_citing_facts_one_by_one(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests = [Requirements.model_validate(body) for body in (REQUESTS[2], REQUESTS[3], REQUESTS[5])]
    for requirements in requests:
        engine.decide(requirements, TODAY).summary_bytes("all")  # kept lines written with 10-digit short ids
    one_digit_short_ids(monkeypatch, engine)
    for requirements in requests:
        for exclusions in ("by_rule", "all"):
            written = engine.decide(requirements, TODAY).summary_bytes(exclusions)
            assert written == _serialised(engine, requirements, exclusions)
            summary = engine.decide(requirements, TODAY).summary(exclusions)
            assert any(len(item.id) == 41 for item in summary.evidence)
            assert all(f'"id":"{item.id}"'.encode() in written for item in summary.evidence)


def test_a_listed_fact_is_kept_once_as_json_whatever_id_its_source_has(engine: Engine) -> None:
    # Two summaries list facts whose sources get different ids (s1, s2, ... in first-listed order): each fact is
    # kept once, as JSON around its source's id, and written as the summary built as objects serialises it.
    from service.domain import summary as summary_module

    summary_module._SUMMARISED.clear()
    for body in REQUESTS[:6]:
        requirements = Requirements.model_validate(body)
        assert engine.decide(requirements, TODAY).summary_bytes("all") == _serialised(engine, requirements, "all")
    kept = list(summary_module._SUMMARISED._items.values())
    assert kept
    assert len({id(item) for item, _, _ in kept}) == len(kept)
    for item, head, tail in kept:
        for source in ("s1", "s27"):
            fact = summary_module._summarised(item, source)
            assert head + source.encode() + tail == fact.__pydantic_serializer__.to_json(fact, exclude_none=True)
