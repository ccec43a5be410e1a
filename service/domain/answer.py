"""The shape of a decision: what the engine returns and the API serialises.

Every sentence a reader sees is backed by structured evidence next to it: the rule id and version, the
fact, its source and its date.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from service.domain.facts import Evidence, SourceKind, Strict
from service.domain.regulatory import EuAiActStatus
from service.domain.requirements import Requirements

__all__ = [
    "Answer",
    "Assessment",
    "Caveat",
    "CriterionScore",
    "Exclusion",
    "Fit",
    "Obligation",
    "RuleOutcome",
]

DISCLAIMER = (
    "Decision support, not legal advice: licence terms and regulatory statements (EU AI Act status, "
    "public-sector restrictions, export controls, data-access laws) are paraphrased from the cited sources, "
    "some of them secondary and each dated; provenance allegations are reported as allegations, not findings. "
    "Read the licences and legal texts themselves and take legal advice before relying on them."
)


class RuleOutcome(Strict):
    """The result of one eligibility rule for one model."""

    rule_id: str
    rule_version: int
    requirement: str = Field(description="The request field the rule answers.")
    outcome: Literal["passed", "failed", "unknown"]
    message: str
    missing_facts: list[str] = Field(default=[], description="Facts whose absence made the outcome unknown.")
    evidence: list[Evidence] = []


class CriterionScore(Strict):
    """One criterion's part in a score: value (0-1), normalised weight and contribution (value x weight)."""

    criterion: str
    rule_version: int
    value: float
    weight: float
    contribution: float
    missing_data: bool = Field(description="True when the missing-data policy supplied the value.")
    explanation: str
    evidence: list[Evidence] = []


class Obligation(Strict):
    """A duty the user takes on by using the model under its licence."""

    licence_id: str
    kind: Literal["attribution", "naming", "use_restriction", "threshold", "outputs", "unreviewed"]
    duty: str
    applies: Literal["always", "at_requested_scale", "if_condition_met"]
    source: str
    as_of: dt.date


class Fit(Strict):
    """Hardware fit at the requested precision: what the memory figure allows for and the GPUs it needs."""

    precision: str
    fine_tuning: str
    parameters_total_b: float | None
    weights_gb: float | None
    memory_gb: float | None
    gpu_memory_gb: float
    gpu_memory_assumed: bool = Field(description="True when no GPU size was given and the reference size was used.")
    gpus_needed: int | None
    fits: bool | None = Field(description="Null when no GPU count was given or the parameter count is unknown.")
    allows_for: str


class Caveat(Strict):
    """Something a reviewer should know: missing or stale data, non-comparable benchmarks, unverified terms."""

    kind: Literal[
        "missing_data",
        "stale",
        "review_overdue",
        "comparability",
        "unverified_terms",
        "hosting",
        "eu_ai_act",
        "public_sector",
        "export_control",
        "provenance",
        "data_access",
        "stale_regulatory",
    ]
    message: str
    fact: str | None = None
    source: str | None = None
    as_of: dt.date | None = None
    rule_id: str | None = Field(default=None, description="The rule that raised it, for regulatory caveats.")
    source_kind: SourceKind | None = Field(default=None, description="primary or secondary, where recorded.")


class Assessment(Strict):
    """A model as the engine judged it: recommended, eligible-but-lower, or excluded (for ``explain``)."""

    model_id: str
    name: str
    status: Literal["recommended", "eligible", "excluded"]
    rank: int | None = Field(description="Position among eligible models; null when excluded.")
    score: float | None = Field(description="Weighted score 0-1; null when excluded.")
    licence: str
    reasons: list[str]
    criteria: list[CriterionScore]
    rules: list[RuleOutcome]
    obligations: list[Obligation]
    fit: Fit
    caveats: list[Caveat]
    eu_ai_act: EuAiActStatus | None = Field(
        default=None, description="EU AI Act status of the model: systemic-risk presumption, exemption, questions."
    )


class Exclusion(Strict):
    """A model that failed at least one hard constraint, with every failing rule."""

    model_id: str
    reasons: list[RuleOutcome]


class Answer(Strict):
    """A complete decision."""

    id: str = Field(description="Content hash of the normalised requirements, versions and evaluation date.")
    catalogue_version: str
    rules_version: str
    evaluated_on: dt.date
    requirements: Requirements
    profile: str
    weights: dict[str, float]
    eligible_count: int
    recommendations: list[Assessment]
    excluded: list[Exclusion]
    explained: list[Assessment]
    method: list[str]
    disclaimer: str = DISCLAIMER
