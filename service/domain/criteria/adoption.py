"""Adoption: Hugging Face likes and downloads and OpenRouter token share, each on a log scale."""

from __future__ import annotations

from service.domain.criteria.base import CriterionModule, Explanation, RequestView, Scores
from service.domain.features import Features, fact_evidence
from service.domain.rules import Criterion

__all__ = ["AdoptionCriterion"]


class AdoptionCriterion(CriterionModule):
    """Mean of the recorded adoption signals, each scaled 0-1 on a log scale over the catalogue."""

    id = "adoption"
    same_for_every_request = True
    scores_fixed = True

    def __init__(self, spec: Criterion, features: Features) -> None:
        super().__init__(spec)
        self.f = features

    def scores(self, request: RequestView) -> Scores:
        return self.exact(self.f.criterion_value["adoption"], self.f.criterion_known["adoption"])

    def explain(self, request: RequestView, i: int) -> Explanation:
        a = self.f.models[i].adoption
        evidence = [
            *fact_evidence("adoption.hf_likes", a.hf_likes),
            *fact_evidence("adoption.hf_downloads_30d", a.hf_downloads_30d),
            *fact_evidence("adoption.openrouter_token_share", a.openrouter_token_share),
        ]
        text = f"{len(evidence)} adoption signal(s) recorded" if evidence else "no adoption signal recorded"
        return Explanation(text, evidence)
