"""Openness: the licence kind and whether the training data is published."""

from __future__ import annotations

from service.domain.answer import trusted
from service.domain.criteria.base import CriterionModule, Explanation, RequestView, Scores
from service.domain.facts import Evidence
from service.domain.features import Features, fact_evidence
from service.domain.rules import Criterion

__all__ = ["OpennessCriterion"]


class OpennessCriterion(CriterionModule):
    """Licence-kind score and training-data score, mixed by the criterion's part weights."""

    id = "openness"
    same_for_every_request = True
    scores_fixed = True

    def __init__(self, spec: Criterion, features: Features) -> None:
        super().__init__(spec)
        self.f = features

    def scores(self, request: RequestView) -> Scores:
        return self.exact(self.f.criterion_value["openness"], self.f.criterion_known["openness"])

    def explain(self, request: RequestView, i: int) -> Explanation:
        m, lic = self.f.models[i], self.f.licences[i]
        data = m.training_data.value if m.training_data else "unknown"
        evidence = [
            trusted(
                Evidence,
                fact=f"licence {lic.id}: kind",
                value=lic.kind,
                source=lic.source,
                as_of=lic.as_of,
                note=None,
                source_kind=None,
                measured_by=None,
            )
        ]
        evidence.extend(fact_evidence("training_data", m.training_data))
        return Explanation(f"{lic.kind} licence, training data {data}", evidence)
