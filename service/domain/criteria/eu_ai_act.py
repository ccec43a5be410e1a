"""EU AI Act readiness: the provider's status under the General-Purpose AI Code of Practice."""

from __future__ import annotations

from service.domain.compliance import ComplianceFeatures
from service.domain.criteria.base import CriterionModule, Explanation, RequestView, Scores
from service.domain.rules import Criterion

__all__ = ["EuAiActCriterion"]


class EuAiActCriterion(CriterionModule):
    """A score per Code of Practice status of the model's organisation."""

    id = "eu_ai_act"
    same_for_every_request = True
    scores_fixed = True

    def __init__(self, spec: Criterion, compliance: ComplianceFeatures) -> None:
        super().__init__(spec)
        self.compliance = compliance

    def scores(self, request: RequestView) -> Scores:
        return self.exact(self.compliance.criterion_value, self.compliance.criterion_known)

    def explain(self, request: RequestView, i: int) -> Explanation:
        text, evidence = self.compliance.criterion_explanation(i)
        return Explanation(text, evidence)
