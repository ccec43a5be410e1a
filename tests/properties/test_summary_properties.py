"""A decision's summary, built from its arrays without explaining any model whole, is the summary of the whole
answer, byte for byte, and so is the summary written straight to bytes: over generated requests, both exclusion
choices and evaluation dates either side of the catalogue's review-by dates (so that stale and overdue caveats
come and go)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.domain.citing import Exclusions, count_exclusions
from service.domain.requirements import Requirements
from service.domain.summary import summarise
from tests.properties.test_engine_properties import ENGINE, requirement_dicts

SUMMARY_SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DAYS = st.sampled_from([dt.date(2025, 6, 1), dt.date(2026, 12, 1), dt.date(2028, 6, 1)])
EXCLUSIONS: tuple[Exclusions, ...] = ("by_rule", "all")


@SUMMARY_SETTINGS
@given(requirement_dicts(), st.sampled_from(EXCLUSIONS), DAYS)
def test_a_decision_s_summary_is_the_summary_of_its_whole_answer(
    body: dict[str, Any], exclusions: Exclusions, day: dt.date
) -> None:
    requirements = Requirements.model_validate(body)
    whole = ENGINE.recommend(requirements, day)
    expected = summarise(whole, count_exclusions(whole.excluded, ENGINE.rules.eligibility), exclusions=exclusions)
    summary = ENGINE.decide(requirements, day).summary(exclusions)
    assert summary.model_dump_json(exclude_none=True) == expected.model_dump_json(exclude_none=True)
    # ... and written straight to bytes, it is that summary serialised as the API sends it.
    written = summary.__pydantic_serializer__.to_json(summary, exclude_none=True)
    assert ENGINE.decide(requirements, day).summary_bytes(exclusions) == written
