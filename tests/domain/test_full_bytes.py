"""The ``full`` detail written straight to bytes (``Decision.full_bytes``) is the same JSON as serialising the
``full`` answer, whether its kept parts are written afresh or reused, and when evidence ids change."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from service.domain import writing
from service.domain.citing import dump_full_bytes
from service.domain.engine import Engine
from service.domain.requirements import Requirements
from tests.conftest import TODAY
from tests.domain.test_decision import REQUESTS, one_digit_short_ids


def _with_tokens(body: dict[str, Any], tokens: int) -> Requirements:
    return Requirements.model_validate({**body, "workload": {"tokens_per_request": tokens}})


@pytest.mark.parametrize("body", REQUESTS)
@pytest.mark.parametrize("exclusions", ["by_rule", "all"])
def test_the_written_full_detail_is_the_serialised_full_answer(
    engine: Engine, body: dict[str, Any], exclusions: Any
) -> None:
    # Several workloads: the fit and its rule's sentence differ, the kept parts are written once and reused.
    for tokens in (4_096, 70_000, 4_096):
        requirements = _with_tokens(body, tokens)
        expected = dump_full_bytes(engine.decide(requirements, TODAY).full(exclusions))
        assert engine.decide(requirements, TODAY).full_bytes(exclusions) == expected


def test_a_decision_explained_already_writes_the_same_bytes(engine: Engine) -> None:
    requirements = Requirements.model_validate(REQUESTS[3])
    decision = engine.decide(requirements, TODAY)
    decision.answer()
    assert decision.full_bytes("by_rule") == dump_full_bytes(engine.decide(requirements, TODAY).full("by_rule"))


@pytest.mark.parametrize("body", [REQUESTS[2], REQUESTS[3], REQUESTS[5]])
def test_kept_parts_are_not_reused_when_the_answer_cites_their_facts_by_other_ids(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, body: dict[str, Any]
) -> None:
    requirements = Requirements.model_validate(body)
    engine.decide(requirements, TODAY).full_bytes("all")  # kept parts written with 10-digit short ids
    kept = sum(len(store) for store in (writing._OUTCOMES, writing._TAILS, writing._EU_STATUSES))
    assert kept
    # The parts kept above name other ids, so each must be written afresh.
    one_digit_short_ids(monkeypatch, engine)
    written = engine.decide(requirements, TODAY).full_bytes("all")
    assert written == dump_full_bytes(engine.decide(requirements, TODAY).full("all"))
    assert b'"evidence":["e' in written
    assert any(len(item.id) == 41 for item in engine.decide(requirements, TODAY).full("all").evidence)


# Requests that differ from the first in one thing a model's caveats read: the minimum context (met only by a
# context extension), the precision (a quantisation), the GPU (formats it does not run natively), the deployment
# (hardware and data-access caveats), EU AI Act questions, the weights (which criteria are listed), the
# workload (which they do not read). Each names the same models, so the caveats kept for one are looked up by
# the next.
_NAMED = ["Qwen/Qwen3.6-35B-A3B", "inclusionAI/Ling-2.5-1T", "moonshotai/Kimi-K2-Instruct"]
_VARIANTS: list[dict[str, Any]] = [
    {"explain": _NAMED, "limit": 3},
    {"explain": _NAMED, "limit": 3, "min_context_tokens": 131_072},
    {"explain": _NAMED, "limit": 3, "min_context_tokens": 524_288},
    {"explain": _NAMED, "limit": 3, "hardware": {"precision": "fp8"}},
    {"explain": _NAMED, "limit": 3, "hardware": {"precision": "fp8", "gpu": "a100-80gb"}},
    {"explain": _NAMED, "limit": 3, "hardware": {"precision": "int4", "gpu": "a100-80gb"}},
    {"explain": _NAMED, "limit": 3, "privacy": {"deployment": "api"}},
    {"explain": _NAMED, "limit": 3, "compliance": {"eu_ai_act": True}},
    {"explain": _NAMED, "limit": 3, "weights": {"capability": 1, "cost": 1}},
    {"explain": _NAMED, "limit": 3, "workload": {"tokens_per_request": 70_000}},
]


def test_kept_caveats_are_the_caveats_of_each_request(engine: Engine) -> None:
    later = TODAY + dt.timedelta(days=800)  # facts go stale, reviews fall due
    for day in (TODAY, later, TODAY):
        for body in _VARIANTS:
            requirements = Requirements.model_validate(body)
            expected = dump_full_bytes(engine.decide(requirements, day).full("by_rule"))
            assert engine.decide(requirements, day).full_bytes("by_rule") == expected, (day, body)


def test_a_caveat_held_by_many_models_is_kept_once(engine: Engine) -> None:
    engine.decide(Requirements.model_validate({"limit": 50, "compliance": {"eu_ai_act": True}}), TODAY).full_bytes()
    held = [text for texts in engine.texts.caveats_written._items.values() for text in texts]
    assert len({bytes(text) for text in held}) < len(held)  # some caveat is held by several models
    assert len({id(text) for text in held}) == len({bytes(text) for text in held})  # ... as one text
