"""What the decision page shows, computed from a stored answer: charts, groupings and links.

Everything comes from the stored :class:`~service.domain.answer.Answer` (the bytes the API returned), so the
page shows exactly what ``GET /v1/recommendations/{id}`` serves; only "superseded" compares with today's data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from markupsafe import Markup

from service.domain.answer import Answer, Assessment, RuleOutcome, UseCaseEstimate
from service.domain.engine import Engine
from service.reporting import describe_requirements
from service.storage import DecisionRecord
from service.web.charts import Bar, contribution_chart

__all__ = ["DecisionView", "ExclusionGroup", "ModelView", "decision_view"]

RECORDS = "/v1/recommendations"


@dataclass(frozen=True)
class ModelView:
    """One assessed model with its chart and capability estimates."""

    assessment: Assessment
    chart: Markup
    estimates: list[UseCaseEstimate]
    capability_uncertainty: float | None


@dataclass(frozen=True)
class ExcludedModel:
    """A model excluded by a rule, with what the rule said about it."""

    model_id: str
    outcome: RuleOutcome


@dataclass(frozen=True)
class ExclusionGroup:
    """Every model one rule excluded."""

    rule_id: str
    rule_version: int
    requirement: str
    models: list[ExcludedModel]


@dataclass(frozen=True)
class DecisionView:
    """The decision page's content besides the answer itself."""

    record: DecisionRecord
    superseded: list[str]
    requirements: list[str]
    models: list[ModelView]
    explained: list[ModelView]
    exclusions: list[ExclusionGroup]
    links: dict[str, str]


def _chart(assessment: Assessment, scale: float, index: int) -> Markup:
    weighted = [c for c in assessment.criteria if c.weight > 0]
    bars = [
        Bar(
            label=c.criterion.replace("_", " "),
            length=c.contribution / scale if scale > 0 else 0.0,
            text=f"{c.contribution:.3f} = value {c.value:.2f} × weight {c.weight:.2f}"
            + (" (value missing: policy)" if c.missing_data else ""),
            missing=c.missing_data,
        )
        for c in weighted
    ]
    score = f"{assessment.score:.3f}" if assessment.score is not None else "none (excluded)"
    return contribution_chart(
        f"chart-{index}",
        f"Criteria contributions to the score of {assessment.name}",
        f"Each weighted criterion's contribution (value times weight); they add up to the score, {score}. "
        "A dashed outline marks a value supplied by the missing-data policy.",
        bars,
        axis_end=f"{scale:.3f}",
    )


def _model_view(assessment: Assessment, scale: float, index: int) -> ModelView:
    capability = next((c for c in assessment.criteria if c.criterion == "capability"), None)
    return ModelView(
        assessment=assessment,
        chart=_chart(assessment, scale, index),
        estimates=list(capability.estimates or []) if capability is not None else [],
        capability_uncertainty=capability.uncertainty if capability is not None else None,
    )


def _groups(answer: Answer) -> list[ExclusionGroup]:
    groups: dict[str, ExclusionGroup] = {}
    for exclusion in answer.excluded:
        for outcome in exclusion.reasons:
            group = groups.setdefault(
                outcome.rule_id, ExclusionGroup(outcome.rule_id, outcome.rule_version, outcome.requirement, [])
            )
            group.models.append(ExcludedModel(exclusion.model_id, outcome))
    return sorted(groups.values(), key=lambda g: (-len(g.models), g.rule_id))


def _largest_contribution(models: Sequence[Assessment]) -> float:
    return max((c.contribution for m in models for c in m.criteria), default=0.0)


def decision_view(answer: Answer, record: DecisionRecord, engine: Engine) -> DecisionView:
    """The page's view of ``answer`` stored as ``record``; ``engine`` holds today's data (for "superseded")."""
    superseded = []
    if record.catalogue_version != engine.catalogue_version:
        superseded.append("the catalogue has changed")
    if record.rules_version != engine.rules_version:
        superseded.append("the rules have changed")
    scale = _largest_contribution([*answer.recommendations, *answer.explained])
    models = [_model_view(a, scale, i) for i, a in enumerate(answer.recommendations)]
    explained = [_model_view(a, scale, len(models) + i) for i, a in enumerate(answer.explained)]
    compared = [a.model_id for a in answer.recommendations[:3]] + [a.model_id for a in answer.explained[:1]]
    links = {
        "json": f"{RECORDS}/{record.id}",
        "report_html": f"{RECORDS}/{record.id}/report?format=html",
        "report_md": f"{RECORDS}/{record.id}/report?format=md",
        "change": "/?" + urlencode({"from": record.id}),
    }
    if len(compared) >= 2:
        links["compare"] = "/compare?" + urlencode([("decision", record.id), *(("models", m) for m in compared)])
    return DecisionView(
        record=record,
        superseded=superseded,
        requirements=describe_requirements(answer.requirements, answer.profile),
        models=models,
        explained=explained,
        exclusions=_groups(answer),
        links=links,
    )
