"""Freshness: how recently the model was released, relative to the evaluation date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable

import numpy as np

from service.domain.criteria.base import CriterionModule, Explanation, RequestView, Scores
from service.domain.features import Features, fact_evidence
from service.domain.kept import Kept
from service.domain.rules import Criterion

__all__ = ["FreshnessCriterion"]

#: Evaluation dates whose scores are kept (answers are mostly for today; records are rebuilt for past dates).
_DATES_KEPT = 4


class FreshnessCriterion(CriterionModule):
    """1 on release day, falling linearly to 0 at the horizon."""

    id = "freshness"

    def __init__(self, spec: Criterion, features: Features) -> None:
        super().__init__(spec)
        self.f = features
        #: The scores of the last few evaluation dates (they read nothing else of a request; arrays read-only).
        self._by_date: Kept[dt.date, Scores] = Kept("criteria.freshness_by_date", _DATES_KEPT)

    def scores(self, request: RequestView) -> Scores:
        on = request.evaluated_on
        kept = self._by_date.get(on)
        if kept is not None:
            return kept
        horizon = self.spec.horizon_days or 730
        age = on.toordinal() - self.f.released_ordinal
        scores = self.exact(np.clip(1.0 - age / horizon, 0.0, 1.0), np.ones(len(self.f.ids), dtype=bool))
        for array in (scores.value, scores.known, scores.uncertainty):
            array.setflags(write=False)
        return self._by_date.put(on, scores)

    def explanation_key(self, request: RequestView) -> Hashable | None:
        return request.evaluated_on  # the age is counted to the evaluation date

    def explain(self, request: RequestView, i: int) -> Explanation:
        m = self.f.models[i]
        age = request.evaluated_on.toordinal() - m.released_on.toordinal()
        return Explanation(
            f"released {m.released.value}, {age} days before {request.evaluated_on.isoformat()}",
            list(fact_evidence("released", m.released)),
        )
