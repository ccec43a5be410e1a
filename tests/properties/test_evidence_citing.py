"""Evidence is listed once per answer and cited by id: over generated requests, in both details.

Every id an answer cites is listed in its ``evidence``, every listed fact is cited, no fact is listed twice,
ids are digests of the fact (the same fact has the same id in every answer and detail), and resolving the ids
gives back the engine's answer exactly.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.domain import citing
from service.domain.answer import Answer, FullAnswer
from service.domain.citing import Exclusions, cite, count_exclusions, encode_full, evidence_id, resolve
from service.domain.facts import Evidence
from service.domain.requirements import EXCLUSIONS_LISTED
from service.domain.summary import summarise, summarise_full
from tests.properties.test_engine_properties import ENGINE, recommend, requirement_dicts

CITING_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RULES = ENGINE.rules.eligibility
WRITTEN_BY_ID = re.compile(r" Evidence: \[(e[0-9a-f]+(?:, e[0-9a-f]+)*)\]\.$")
IDS_IN_A_REASON = re.compile(r"\[(e[0-9a-f]+(?:, e[0-9a-f]+)*)\]")


def cited_ids(node: Any) -> Iterator[str]:
    """Every id in an ``evidence`` list of ids anywhere below ``node`` (the top-level list holds objects)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "evidence" and isinstance(value, list) and all(isinstance(v, str) for v in value):
                yield from value
            else:
                yield from cited_ids(value)
    elif isinstance(node, list):
        for item in node:
            yield from cited_ids(item)


def full_json(answer: Answer, exclusions: Exclusions) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        cite(answer, count_exclusions(answer.excluded, RULES), exclusions).model_dump_json()
    )
    return data


EXCLUSIONS: tuple[Exclusions, ...] = ("all", "by_rule")
bodies = st.tuples(requirement_dicts(), st.sampled_from(EXCLUSIONS))


@CITING_SETTINGS
@given(bodies)
def test_every_cited_id_is_listed_and_every_listed_fact_is_cited_once(case: tuple[dict[str, Any], Exclusions]) -> None:
    body, exclusions = case
    answer = recommend(body)
    full = full_json(answer, exclusions)
    listed = [item["id"] for item in full["evidence"]]
    cited = set(cited_ids({k: v for k, v in full.items() if k != "evidence"}))
    assert len(listed) == len(set(listed)), "an id is listed twice"
    assert cited == set(listed), (cited - set(listed), set(listed) - cited)
    contents = [json.dumps({k: v for k, v in item.items() if k != "id"}, sort_keys=True) for item in full["evidence"]]
    assert len(contents) == len(set(contents)), "a fact is listed under two ids"
    for item in full["evidence"]:
        # Every reason still names its evidence: the fact, its public source and its date.
        assert item["fact"] and item["source"] and re.fullmatch(r"\d{4}-\d{2}-\d{2}", item["as_of"])
    # Reason sentences name their facts by id, never written out again.
    for model in [*full["recommendations"], *full["explained"]]:
        for reason in model["reasons"]:
            assert " Evidence: " not in reason or WRITTEN_BY_ID.search(reason), reason
            for group in WRITTEN_BY_ID.findall(reason):
                assert set(group.split(", ")) <= set(listed)
    # Every rule outcome that rests on facts cites them, and names its rule.
    for exclusion in full["excluded"]:
        for reason in exclusion["reasons"]:
            assert reason["rule_id"] and isinstance(reason["evidence"], list)


@CITING_SETTINGS
@given(requirement_dicts())
def test_resolving_the_ids_gives_back_the_engines_answer_and_ids_are_digests_of_the_fact(
    body: dict[str, Any],
) -> None:
    answer = recommend(body)
    by_rule = count_exclusions(answer.excluded, RULES)
    text = cite(answer, by_rule, "all").model_dump_json()
    assert cite(answer, by_rule, "all").model_dump_json() == text, "not deterministic"
    citing._LISTED.clear()  # the facts kept from earlier answers change nothing
    assert encode_full(answer, RULES) == text
    full = FullAnswer.model_validate_json(text)
    expected = answer.model_copy(update={"excluded": sorted(answer.excluded, key=lambda e: e.model_id)})
    assert resolve(full).model_dump_json() == expected.model_dump_json()
    # An id is the digest of its fact's content (a longer one only where two facts share the short digest), so
    # the same fact has the same id in every answer.
    for item in full.evidence:
        fact = Evidence(**item.model_dump(exclude={"id"}))
        assert item.id == evidence_id(fact) or (len(item.id) == 41 and item.id.startswith(evidence_id(fact)))


@CITING_SETTINGS
@given(requirement_dicts())
def test_exclusions_are_counted_by_rule_and_listed_up_to_the_stated_number(body: dict[str, Any]) -> None:
    answer = recommend(body)
    full = full_json(answer, "by_rule")
    expected: Counter[str] = Counter(r.rule_id for x in answer.excluded for r in x.reasons)
    unknown: Counter[str] = Counter(r.rule_id for x in answer.excluded for r in x.reasons if r.outcome == "unknown")
    assert {c["rule_id"]: c["count"] for c in full["excluded_by_rule"]} == dict(expected)
    assert {c["rule_id"]: c["unknown"] for c in full["excluded_by_rule"] if c["unknown"]} == dict(unknown)
    assert all(c["description"] == RULES[c["rule_id"]].description for c in full["excluded_by_rule"])
    assert full["excluded_count"] == len(answer.excluded)
    ids = sorted(x.model_id for x in answer.excluded)
    assert [x["model_id"] for x in full["excluded"]] == ids[:EXCLUSIONS_LISTED]
    assert [x["model_id"] for x in full_json(answer, "all")["excluded"]] == ids


@CITING_SETTINGS
@given(requirement_dicts())
def test_a_summary_cites_the_ids_of_the_full_answer_and_lists_exactly_what_it_cites(body: dict[str, Any]) -> None:
    answer = recommend(body)
    by_rule = count_exclusions(answer.excluded, RULES)
    summary = json.loads(summarise(answer, by_rule).model_dump_json(exclude_none=True))
    cited = {
        ref
        for model in [*summary["recommendations"], *summary["explained"]]
        for reason in model["reasons"]
        for group in IDS_IN_A_REASON.findall(reason)
        for ref in group.split(", ")
    }
    listed = [item["id"] for item in summary["evidence"]]
    assert len(listed) == len(set(listed))
    assert cited == set(listed)
    assert {item["source"] for item in summary["evidence"]} == set(summary["sources"])
    full = cite(answer, by_rule, "all")
    full_ids = {item.id for item in full.evidence}
    assert set(listed) <= full_ids
    # A stored full answer summarises to the summary the engine's answer gives.
    stored = FullAnswer.model_validate_json(full.model_dump_json())
    assert json.loads(summarise_full(stored).model_dump_json(exclude_none=True)) == summary
