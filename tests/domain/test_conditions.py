"""The condition language's column comparisons against a plain per-model reading of them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.conditions import evaluate_checks
from service.domain.rules import Check, EligibilityRule, RuleExample

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
