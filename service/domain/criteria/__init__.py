"""Scoring criteria: one module per criterion behind one interface (:class:`CriterionModule`).

:func:`build_criteria` makes one instance of each for a loaded catalogue and rules; the engine then loops over
them in :data:`service.domain.rules.CRITERIA` order.
"""

from __future__ import annotations

from service.domain.catalogue import Catalogue
from service.domain.compliance import ComplianceFeatures
from service.domain.criteria.adoption import AdoptionCriterion
from service.domain.criteria.base import CriterionModule, Explanation, RequestView, Scores
from service.domain.criteria.capability import CapabilityCriterion, FitStore
from service.domain.criteria.cost import CostCriterion
from service.domain.criteria.ecosystem import EcosystemCriterion
from service.domain.criteria.eu_ai_act import EuAiActCriterion
from service.domain.criteria.freshness import FreshnessCriterion
from service.domain.criteria.hardware_efficiency import HardwareEfficiencyCriterion
from service.domain.criteria.openness import OpennessCriterion
from service.domain.criteria.reasoning import ReasoningCriterion
from service.domain.features import Features
from service.domain.rules import CRITERIA, RuleSet

__all__ = ["CriterionModule", "Explanation", "FitStore", "RequestView", "Scores", "build_criteria"]


def build_criteria(
    catalogue: Catalogue,
    rules: RuleSet,
    features: Features,
    compliance: ComplianceFeatures,
    fit_store: FitStore | None = None,
) -> dict[str, CriterionModule]:
    """One module per criterion, keyed and ordered as :data:`CRITERIA` (``fit_store``: see :class:`FitStore`)."""
    spec = rules.criteria
    modules: list[CriterionModule] = [
        CapabilityCriterion(spec["capability"], catalogue, rules, fit_store),
        OpennessCriterion(spec["openness"], features),
        CostCriterion(spec["cost"], features),
        AdoptionCriterion(spec["adoption"], features),
        EcosystemCriterion(spec["ecosystem"], features, catalogue),
        HardwareEfficiencyCriterion(spec["hardware_efficiency"], features),
        FreshnessCriterion(spec["freshness"], features),
        ReasoningCriterion(spec["reasoning"], features),
        EuAiActCriterion(spec["eu_ai_act"], compliance),
    ]
    by_id = {m.id: m for m in modules}
    if set(by_id) != set(CRITERIA):
        raise ValueError(f"criterion modules {sorted(by_id)} do not match the criteria {sorted(CRITERIA)}")
    return {c: by_id[c] for c in CRITERIA}
