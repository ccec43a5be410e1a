"""A summary is built from the decision's arrays, each returned model in brief (``_Context.brief``): the same
summary as of the whole answer, and the parts it reads without writing them (the kinds of caveat) are those of
the whole answer's caveats, for every model."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bench.corpus import build_corpus
from service.domain.citing import count_exclusions
from service.domain.engine import _HARDWARE_CAVEAT_KINDS, Engine
from service.domain.requirements import Requirements
from service.domain.summary import summarise

DAY = dt.date(2026, 12, 1)
#: Dates before and after most review-by dates and fact ages, so that stale and overdue caveats come and go.
DAYS = (dt.date(2025, 6, 1), DAY, dt.date(2028, 6, 1))
#: Requests that raise every kind of regulatory and hardware caveat somewhere in the catalogue.
CAVEAT_REQUESTS: list[dict[str, Any]] = [
    {},
    {"privacy": {"deployment": "api"}, "compliance": {"eu_ai_act": True, "public_sector_jurisdictions": ["US", "TW"]}},
    {"compliance": {"public_sector_jurisdictions": ["TW", "AU", "ZZ"]}, "privacy": {"deployment": "private_cloud"}},
    {"hardware": {"gpu": "h100-sxm", "gpu_count": 2, "precision": "fp8"}, "min_context_tokens": 500_000},
    {"hardware": {"gpu": "l40s", "precision": "int4"}, "customisation": {"fine_tuning": "lora"}},
    {"hardware": {"gpu_memory_gb": 24, "precision": "bf16"}, "privacy": {"deployment": "self_hosted"}},
]


@pytest.fixture(scope="module")
def bodies(engine: Engine) -> list[dict[str, Any]]:
    return [{}, {"limit": 50}, *CAVEAT_REQUESTS, *build_corpus(engine, size=30, seed=17)]


def test_a_summary_from_briefs_is_the_summary_of_the_whole_answer(engine: Engine, bodies: list[dict[str, Any]]) -> None:
    for day in DAYS:
        for body in bodies:
            requirements = Requirements.model_validate(body)
            whole = engine.recommend(requirements, day)
            counted = count_exclusions(whole.excluded, engine.rules.eligibility)
            decision = engine.decide(requirements, day)
            for exclusions in ("by_rule", "all"):
                assert decision.summary(exclusions).model_dump_json(exclude_none=True) == summarise(
                    whole, counted, exclusions=exclusions
                ).model_dump_json(exclude_none=True), (day, body)


@pytest.mark.parametrize("body", CAVEAT_REQUESTS)
@pytest.mark.parametrize("day", DAYS)
def test_the_kinds_of_caveat_a_brief_reads_are_those_of_every_model_s_caveats(
    engine: Engine, body: dict[str, Any], day: dt.date
) -> None:
    context = engine.decide(Requirements.model_validate(body), day)._context
    regulatory_kinds: set[str] = set()
    for i in range(len(engine.features.ids)):
        regulatory = [c.kind for c in context.regulatory.caveats(i)]
        assert list(context.regulatory.caveat_kinds(i)) == list(dict.fromkeys(regulatory)), i
        regulatory_kinds.update(regulatory)
        hardware = [c.kind for c in context._hardware_caveats(i)]
        assert [_HARDWARE_CAVEAT_KINDS[f] for f in context._hardware_findings(i)] == hardware, i
        rules = context.outcomes(i)
        criteria = context.criteria(i)
        said = context._outcomes(i)
        listed = [(c.criterion, c.missing_data) for c in criteria]
        assert context._caveat_kinds(i, listed, said) == list(
            dict.fromkeys(c.kind for c in context.caveats(i, criteria, rules))
        ), i
    if body.get("compliance", {}).get("eu_ai_act"):
        assert "eu_ai_act" in regulatory_kinds  # the requests above do raise regulatory caveats


@pytest.mark.parametrize("body", CAVEAT_REQUESTS[:4])
def test_the_request_values_a_rule_sentence_names_are_the_same_for_every_model(
    engine: Engine, body: dict[str, Any]
) -> None:
    # A kept rule outcome is found by them, read once per request.
    context = engine.decide(Requirements.model_validate(body), DAY)._context
    for (rule_id, outcome), names in engine.texts.sentence_reads.items():
        if names:
            values = {
                tuple(context._display(i).get(name, "unknown") for name in names)
                for i in range(len(engine.features.ids))
            }
            assert len(values) == 1, (rule_id, outcome, values)
