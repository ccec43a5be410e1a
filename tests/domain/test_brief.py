"""A summary is built from its models in brief (``_Context.brief``): the same summary as of the whole answer, and
each brief holds exactly what the model's full assessment says in those parts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bench.corpus import build_corpus
from service.domain.answer import Assessment, Brief
from service.domain.citing import count_exclusions
from service.domain.engine import Engine
from service.domain.requirements import Requirements
from service.domain.summary import summarise

DAY = dt.date(2026, 12, 1)


@pytest.fixture(scope="module")
def bodies(engine: Engine) -> list[dict[str, Any]]:
    return [{}, {"limit": 50}, *build_corpus(engine, size=30, seed=17)]


def test_a_summary_from_briefs_is_the_summary_of_the_whole_answer(engine: Engine, bodies: list[dict[str, Any]]) -> None:
    for body in bodies:
        requirements = Requirements.model_validate(body)
        whole = engine.recommend(requirements, DAY)
        counted = count_exclusions(whole.excluded, engine.rules.eligibility)
        for exclusions in ("by_rule", "all"):
            brief = engine.decide(requirements, DAY).summary(exclusions)
            assert brief.model_dump_json(exclude_none=True) == summarise(
                whole, counted, exclusions=exclusions
            ).model_dump_json(exclude_none=True), body


def _same_parts(brief: Brief, full: Assessment) -> None:
    assert (brief.model_id, brief.status, brief.rank, brief.score, brief.licence) == (
        full.model_id,
        full.status,
        full.rank,
        full.score,
        full.licence,
    )
    assert brief.rules == full.rules
    leading = sorted((c for c in full.criteria if c.weight > 0), key=lambda c: (-c.contribution, c.criterion))[:3]
    assert brief.criteria == leading
    assert brief.obligations == full.obligations
    for name in ("precision", "gpu", "weights_gb", "kv_cache_gb", "memory_gb", "gpu_memory_gb", "gpus_needed", "fits"):
        assert getattr(brief.fit, name) == getattr(full.fit, name), name
    assert brief.fit.throughput == full.fit.throughput
    assert brief.caveats == full.caveats  # every caveat, message included, in the same order
    assert brief.eu_ai_act == full.eu_ai_act


def test_each_brief_says_what_the_model_s_assessment_says_in_those_parts(
    engine: Engine, bodies: list[dict[str, Any]]
) -> None:
    for body in bodies:
        decision = engine.decide(Requirements.model_validate(body), DAY)
        context = decision._context
        full = decision._returned(context.assess)
        brief = decision._returned(context.brief)
        for briefs, assessments in zip(brief, full, strict=True):
            assert len(briefs) == len(assessments)
            for b, a in zip(briefs, assessments, strict=True):
                _same_parts(b, a)
