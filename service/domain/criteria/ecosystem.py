"""Ecosystem: derivative repositories (fine-tunes, adapters, quantisations) of the model or its organisation."""

from __future__ import annotations

from service.domain.catalogue import Catalogue
from service.domain.criteria.base import CriterionModule, Explanation, RequestView, Scores
from service.domain.features import Features, fact_evidence
from service.domain.rules import Criterion

__all__ = ["EcosystemCriterion"]


class EcosystemCriterion(CriterionModule):
    """Derivative count on a log scale; the organisation-wide count when the model's own is not recorded."""

    id = "ecosystem"
    same_for_every_request = True
    scores_fixed = True

    def __init__(self, spec: Criterion, features: Features, catalogue: Catalogue) -> None:
        super().__init__(spec)
        self.f = features
        self.catalogue = catalogue

    def scores(self, request: RequestView) -> Scores:
        return self.exact(self.f.criterion_value["ecosystem"], self.f.criterion_known["ecosystem"])

    def explain(self, request: RequestView, i: int) -> Explanation:
        m = self.f.models[i]
        org = self.catalogue.organisations[m.organisation]
        if m.adoption.hf_derivatives is not None:
            return Explanation(
                f"{m.adoption.hf_derivatives.value:,} derivative repos of this model",
                list(fact_evidence("adoption.hf_derivatives", m.adoption.hf_derivatives)),
            )
        if org.derivative_models is not None:
            return Explanation(
                f"{org.derivative_models.value:,} derivative repos across {org.name} models (organisation-wide count)",
                list(fact_evidence(f"organisation {org.id}: derivative_models", org.derivative_models)),
            )
        return Explanation("no derivative count recorded", [])
