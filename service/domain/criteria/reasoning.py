"""Reasoning: whether the model has a reasoning (thinking) mode, when the request prefers one."""

from __future__ import annotations

from service.domain.criteria.base import CriterionModule, Explanation, RequestView, Scores
from service.domain.features import Features, fact_evidence
from service.domain.rules import Criterion

__all__ = ["ReasoningCriterion"]


class ReasoningCriterion(CriterionModule):
    """A score per reasoning mode (none, hybrid, always)."""

    id = "reasoning"
    same_for_every_request = True
    scores_fixed = True

    def __init__(self, spec: Criterion, features: Features) -> None:
        super().__init__(spec)
        self.f = features

    def scores(self, request: RequestView) -> Scores:
        return self.exact(self.f.criterion_value["reasoning"], self.f.criterion_known["reasoning"])

    def explain(self, request: RequestView, i: int) -> Explanation:
        m = self.f.models[i]
        mode = m.reasoning.value if m.reasoning else "unknown"
        return Explanation(f"reasoning mode {mode}", list(fact_evidence("reasoning", m.reasoning)))
