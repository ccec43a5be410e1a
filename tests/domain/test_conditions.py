"""The condition language's column comparisons against a plain per-model reading of them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.conditions import RuleSelector, evaluate_checks, rule_applies
from service.domain.rules import Check, Condition, EligibilityRule, RuleExample
from tests.domain.test_rule_examples import RULESET, _nested

VALUES = st.sampled_from(["a", "b", "c", "d", None])


def _rule(op: Literal["in", "not_in"], match: Literal["all", "any"], checks: int) -> EligibilityRule:
    return EligibilityRule.model_construct(
        id="test.rule",
        version=1,
        requirement="ip.licence_kinds",
        description="test",
        when=[],
        checks=[
            Check.model_construct(field=f"col{k}", op=op, value=None, ref="ip.licence_kinds") for k in range(checks)
        ],
        match=match,
        message="",
        pass_message="",
        unknown_message="",
        review_by=dt.date(2030, 1, 1),
        examples=list[RuleExample](),
    )


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.lists(VALUES, min_size=1, max_size=30), min_size=1, max_size=3).filter(
        lambda cols: len({len(c) for c in cols}) == 1
    ),
    st.lists(st.sampled_from(["a", "b", "c", "x"]), max_size=3),
    st.sampled_from(["in", "not_in"]),
    st.sampled_from(["all", "any"]),
    st.booleans(),
)
def test_membership_checks_give_what_reading_each_model_gives(
    cols: list[list[Any]],
    members: list[str],
    op: Literal["in", "not_in"],
    match: Literal["all", "any"],
    fresh: bool,
) -> None:
    columns = {}
    for k, col in enumerate(cols):
        values = np.array(col, dtype=object)
        columns[f"col{k}"] = (values, np.array([v is not None for v in col]), False)
    rule = _rule(op, match, len(cols))
    request = {"ip": {"licence_kinds": members}}
    failed, unknown = evaluate_checks(rule, columns, request)
    if not fresh:  # the same arrays again: the distinct values kept from the first call
        failed, unknown = evaluate_checks(rule, columns, request)
    n = len(cols[0])
    for i in range(n):
        known = [col[i] is not None for col in cols]
        holds = [known[k] and ((cols[k][i] in members) == (op == "in")) for k in range(len(cols))]
        if match == "all":
            want_failed = any(known[k] and not holds[k] for k in range(len(cols)))
            want_unknown = not want_failed and not all(known)
        else:
            want_unknown = not any(holds) and not all(known)
            want_failed = not any(holds) and not want_unknown
        assert (bool(failed[i]), bool(unknown[i])) == (want_failed, want_unknown), (i, cols, members)


# Values a request field may hold, including each operator's edge (None, empty, a string, a list, a flag).
REQUEST_VALUES = st.sampled_from(
    [None, True, False, "", "api", "self_hosted", "lora", "full", "none", "required", "any", "vision", 0, 1000,
     [], ["vision"], ["coding", "vision"], ["DE"], ["permissive"]]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_the_rule_selector_selects_what_each_rule_applies_to(data: st.DataObject) -> None:
    rules = sorted(RULESET.eligibility.values(), key=lambda r: r.id)
    fields = sorted({c.field for rule in rules for c in rule.when})
    # Every field a condition reads, each set (or left out) independently: a selector that read one field wrong,
    # or another rule's value, would differ from the rule's own reading.
    flat = {field: data.draw(REQUEST_VALUES) for field in fields if data.draw(st.booleans())}
    request = _nested(flat)
    assert RuleSelector(rules)(request) == [rule for rule in rules if rule_applies(rule, request)]


def test_the_rule_selector_reads_each_condition_of_each_rule() -> None:
    for rule in RULESET.eligibility.values():
        selector = RuleSelector([rule])
        for condition in rule.when:
            # A request that meets every condition but this one, then meets this one too.
            others = [c for c in rule.when if c is not condition]
            met = _nested({c.field: _meeting(c) for c in others} | {condition.field: _meeting(condition)})
            unmet = _nested({c.field: _meeting(c) for c in others} | {condition.field: _failing(condition)})
            assert selector(met) == [rule] and rule_applies(rule, met), (rule.id, condition)
            assert selector(unmet) == [] and not rule_applies(rule, unmet), (rule.id, condition)


def _meeting(condition: Condition) -> Any:
    return {
        "is_set": ["x"],
        "is_true": True,
        "eq": condition.value,
        "ne": object(),
        "in": condition.value[0] if isinstance(condition.value, list) else condition.value,
        "contains": [condition.value],
    }[condition.op]


def _failing(condition: Condition) -> Any:
    return {"is_set": [], "is_true": False, "eq": object(), "ne": condition.value, "in": object(), "contains": []}[
        condition.op
    ]


def _order_rule(op: Literal["gt", "gte", "lt", "lte"], match: Literal["all", "any"], checks: int) -> EligibilityRule:
    rule = _rule("in", match, checks)
    return rule.model_copy(
        update={"checks": [Check.model_construct(field=f"col{k}", op=op, value=None, ref="n") for k in range(checks)]}
    )


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.lists(st.one_of(st.none(), st.floats(-5, 5, allow_nan=False)), min_size=1, max_size=20),
        min_size=1,
        max_size=3,
    ).filter(lambda cols: len({len(c) for c in cols}) == 1),
    st.floats(-5, 5, allow_nan=False),
    st.sampled_from(["gt", "gte", "lt", "lte"]),
    st.sampled_from(["all", "any"]),
    st.floats(-10, 10, allow_nan=False) | st.just(float("nan")),
)
def test_an_order_check_reads_a_float_column_as_an_object_column_whatever_an_unknown_value_holds(
    cols: list[list[float | None]],
    target: float,
    op: Literal["gt", "gte", "lt", "lte"],
    match: Literal["all", "any"],
    filler: float,
) -> None:
    # A float column is compared as it is (what it holds where a value is unknown is masked); an object column with
    # None where unknown reads 0.0 there first. Both give every model the same verdict.
    as_floats, as_objects = {}, {}
    for k, col in enumerate(cols):
        known = np.array([v is not None for v in col])
        as_floats[f"col{k}"] = (np.array([filler if v is None else v for v in col], dtype=np.float64), known, True)
        as_objects[f"col{k}"] = (np.array(col, dtype=object), known, True)
    rule = _order_rule(op, match, len(cols))
    floats = evaluate_checks(rule, as_floats, {"n": target})
    objects = evaluate_checks(rule, as_objects, {"n": target})
    assert np.array_equal(floats[0], objects[0]) and np.array_equal(floats[1], objects[1])
