"""Hardware efficiency: the memory the model needs at the requested precision and fine-tuning mode."""

from __future__ import annotations

from collections.abc import Hashable

from service.domain.criteria.base import CriterionModule, Explanation, RequestView, Scores
from service.domain.facts import Evidence
from service.domain.features import Features, fact_evidence
from service.domain.rules import Criterion

__all__ = ["HardwareEfficiencyCriterion"]


class HardwareEfficiencyCriterion(CriterionModule):
    """Memory estimate on a log scale over the catalogue, less is better."""

    id = "hardware_efficiency"

    def __init__(self, spec: Criterion, features: Features) -> None:
        super().__init__(spec)
        self.f = features
        # The fact an explanation cites, per model: the same whatever the request (its text reads the request); one
        # list per model, shared by its explanations (an answer's lists are never changed).
        self._evidence: dict[int, list[Evidence]] = {}
        self._scores: dict[tuple[str, str], Scores] = {}

    def scores(self, request: RequestView) -> Scores:
        req = request.requirements
        key = (req.hardware.precision, req.customisation.fine_tuning)
        found = self._scores.get(key)
        if found is None:  # one per precision and fine-tuning mode (a few), read and never changed
            found = self._scores[key] = self.exact(
                self.f.hardware_efficiency[key], self.f.columns["model.parameters_total_b"].known
            )
        return found

    def explain(self, request: RequestView, i: int) -> Explanation:
        m = self.f.models[i]
        req = request.requirements
        key = (req.hardware.precision, req.customisation.fine_tuning)
        text = (
            f"weights and allowance about {self.f.memory_gb[key][i]:,.0f} GB at {request.precision[i]}, "
            f"compared across models on a log scale (the fit counts the workload: {request.memory_gb[i]:,.0f} GB)"
            if m.parameters_total_b
            else "parameter count unknown"
        )
        evidence = self._evidence.get(i)
        if evidence is None:
            evidence = self._evidence[i] = list(fact_evidence("parameters_total_b", m.parameters_total_b))
        return Explanation(text, evidence)

    def evidence_key(self, request: RequestView) -> Hashable | None:
        return ()  # the text reads the request's fit; the evidence (one fact of the model) and caveats (none) do not
