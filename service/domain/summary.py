"""The ``summary`` detail of an answer: what an internal tool needs, sized to the question.

A summary holds, per recommended (or explained) model: rank, id, score, one-line reasons, the three
criteria contributing most (value, weight, contribution), the kinds of licence obligation (the duties are
listed once per licence), the fit figures and the kinds
of caveat that apply (their text: ``full`` detail). Each reason cites its evidence by id: the evidence
(``evidence``) is listed once per answer, however many reasons cite it, with the same ids as the ``full``
detail (:mod:`service.domain.citing`). Nulls are left out. Exclusions are counted by rule; the excluded models
are listed (with the rules they fail or leave unknown) up to :data:`EXCLUDED_LISTED` unless the request asks
for all. The ``full`` detail, the stored decision and its report keep every reason's evidence in full.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from service.domain.answer import (
    DISCLAIMER,
    Answer,
    Assessment,
    Brief,
    BriefAnswer,
    FullAnswer,
    RuleCount,
    trusted,
)
from service.domain.citing import EvidenceTable, Exclusions, listed_exclusions, resolve
from service.domain.facts import Evidence, SourceKind, Strict
from service.domain.requirements import EXCLUSIONS_LISTED

__all__ = ["EXCLUDED_LISTED", "AnswerSummary", "summarise", "summarise_full"]

#: How many excluded models a summary lists by id unless asked for all; the counts by rule cover all of them.
EXCLUDED_LISTED = EXCLUSIONS_LISTED


class CriterionSummary(Strict):
    """One weighted criterion's part in a score, to 3 decimal places (``full`` detail: 6)."""

    criterion: str
    value: float
    weight: float
    contribution: float


class ObligationSummary(Strict):
    """A duty the user takes on under a licence (source and date: ``full`` detail)."""

    kind: str
    applies: str
    duty: str


class FitSummary(Strict):
    """The hardware fit figures (the formulas, assumptions and evidence: ``full`` detail)."""

    precision: str
    gpu: str | None = None
    weights_gb: float | None = None
    kv_cache_gb: float | None = None
    memory_gb: float | None = None
    gpu_memory_gb: float
    gpus_needed: int | None = None
    fits: bool | None = None
    tokens_per_second_per_request: float | None = None


class EvidenceSummary(Strict):
    """A fact as cited: what, its value, its source and date (who measured it, how it was read: ``full`` detail)."""

    id: str = Field(description="The fact's id, the same in the `full` detail of this and every other answer.")
    fact: str
    value: object
    source: str = Field(description="A key of the answer's `sources`: the public URL that states the value.")
    as_of: dt.date
    source_kind: SourceKind | None = None


class ModelSummary(Strict):
    """A recommended or explained model in brief; ``evidence`` ids point into the answer's ``evidence``."""

    rank: int | None = None
    model_id: str
    status: Literal["recommended", "eligible", "excluded"] | None = Field(
        default=None, description="For an explained model (recommendations leave it out: they are recommended)."
    )
    score: float | None = None
    licence: str
    reasons: list[str] = Field(
        description="One line per rule outcome and per leading criterion; the ids in [...] are those of the "
        "answer's `evidence`."
    )
    criteria: list[CriterionSummary] = Field(description="The three criteria contributing most (all: `full` detail).")
    obligations: list[str] = Field(
        description="The kinds of duty its licence imposes; the duties are in the answer's `licence_obligations`."
    )
    fit: FitSummary
    caveats: list[str] = Field(description="The kinds of caveat that apply (their text: `full` detail).")
    eu_ai_act_systemic_risk: str | None = Field(
        default=None, description="The model's EU AI Act systemic-risk presumption (presumed, not_presumed, unknown)."
    )


class ExclusionSummary(Strict):
    """An excluded model and the rules it fails (or leaves unknown)."""

    model_id: str
    reasons: list[str] = Field(description="`rule_id: outcome` for each failing or unknown rule.")


class TradeoffSummary(Strict):
    """The Pareto front and how robust first place is (the full analysis: ``full`` detail)."""

    pareto_front_size: int = Field(description="Eligible models no other eligible model beats on every criterion.")
    recommended_on_front: list[str] = Field(description="The recommended models on the Pareto front.")
    leader: str | None = None
    leader_first_share: float | None = Field(
        default=None, description="Share of weight perturbations under which the leader stays first."
    )


class AnswerSummary(Strict):
    """An answer in ``summary`` detail. The same decision (same ``id``) in ``full`` detail holds every fact."""

    id: str
    detail: Literal["summary"] = "summary"
    catalogue_version: str
    rules_version: str
    evaluated_on: dt.date
    profile: str
    weights: dict[str, float] = Field(description="The normalised weights of the weighted criteria.")
    eligible_count: int
    recommendations: list[ModelSummary]
    excluded_count: int
    excluded_by_rule: list[RuleCount] = Field(description="Excluded models per failing or unknown rule, by rule id.")
    excluded: list[ExclusionSummary] = Field(
        description=f"Excluded models by id: the first {EXCLUDED_LISTED} unless the request asks `exclusions: all`; "
        "`full` detail gives their reasons with evidence."
    )
    explained: list[ModelSummary]
    evidence: list[EvidenceSummary] = Field(description="Every fact cited above, once each, in first-cited order.")
    sources: dict[str, str] = Field(description="The sources of that evidence, once each, by id (s1, ...).")
    licence_obligations: dict[str, list[ObligationSummary]] = Field(
        description="Per licence of the models above, the duties a user takes on, once each."
    )
    tradeoffs: TradeoffSummary
    disclaimer: str = DISCLAIMER


class _Table:
    """Evidence (with the ids of the ``full`` detail) and its sources (s1, ... in first-seen order), listed once."""

    def __init__(self) -> None:
        self.cited = EvidenceTable()
        self.items: dict[str, EvidenceSummary] = {}
        self.source_ids: dict[str, str] = {}

    def cite(self, e: Evidence) -> str:
        found = self.cited.cite(e)
        if found not in self.items:
            source = self.source_ids.setdefault(e.source, f"s{len(self.source_ids) + 1}")
            self.items[found] = trusted(
                EvidenceSummary,
                id=found,
                fact=e.fact,
                value=e.value,
                source=source,
                as_of=e.as_of,
                source_kind=e.source_kind,
            )
        return found

    def sources(self) -> dict[str, str]:
        return {key: url for url, key in self.source_ids.items()}


def _model(a: Assessment | Brief, evidence: _Table, *, explained: bool = False) -> ModelSummary:
    def refs(items: list[Evidence]) -> str:
        ids = [evidence.cite(e) for e in items]
        return f" [{', '.join(dict.fromkeys(ids))}]" if ids else ""

    reasons = [f"{r.rule_id} v{r.rule_version} {r.outcome}: {r.message}{refs(r.evidence)}" for r in a.rules]
    # The three criteria contributing most: the first cites the first two facts its full reason cites, the
    # others the first one (every fact: ``full`` detail).
    leading = sorted((c for c in a.criteria if c.weight > 0), key=lambda c: (-c.contribution, c.criterion))[:3]
    reasons.extend(
        f"{c.criterion} adds {c.contribution:.3f}{refs(c.evidence[: 2 if n == 0 else 1])}"
        for n, c in enumerate(leading)
    )
    fit = a.fit
    return trusted(
        ModelSummary,
        rank=a.rank,
        model_id=a.model_id,
        status=a.status if explained else None,
        score=a.score,
        licence=a.licence,
        reasons=reasons,
        criteria=[
            trusted(
                CriterionSummary,
                criterion=c.criterion,
                value=round(c.value, 3),
                weight=round(c.weight, 3),
                contribution=round(c.contribution, 3),
            )
            for c in leading
        ],
        obligations=list(dict.fromkeys(o.kind for o in a.obligations)),
        fit=trusted(
            FitSummary,
            precision=fit.precision,
            gpu=fit.gpu,
            weights_gb=fit.weights_gb,
            kv_cache_gb=fit.kv_cache_gb,
            memory_gb=fit.memory_gb,
            gpu_memory_gb=fit.gpu_memory_gb,
            gpus_needed=fit.gpus_needed,
            fits=fit.fits,
            tokens_per_second_per_request=fit.throughput.tokens_per_second_per_request if fit.throughput else None,
        ),
        caveats=list(dict.fromkeys(c.kind for c in a.caveats)),
        eu_ai_act_systemic_risk=a.eu_ai_act.systemic_risk if a.eu_ai_act is not None else None,
    )


def summarise(
    answer: Answer | BriefAnswer,
    by_rule: list[RuleCount],
    excluded_count: int | None = None,
    exclusions: Exclusions = "by_rule",
) -> AnswerSummary:
    """``answer`` in ``summary`` detail (built without re-validating the engine's own objects).

    ``by_rule`` counts every exclusion (:func:`service.domain.citing.count_exclusions`); ``excluded_count`` is
    how many there are (default: every one ``answer`` holds); ``exclusions`` says which are listed.
    """
    evidence = _Table()
    obligations = {
        a.licence: [trusted(ObligationSummary, kind=o.kind, applies=o.applies, duty=o.duty) for o in a.obligations]
        for a in [*answer.recommendations, *answer.explained]
    }
    recommendations = [_model(a, evidence) for a in answer.recommendations]
    explained = [_model(a, evidence, explained=True) for a in answer.explained]
    if isinstance(answer, BriefAnswer):
        pareto, leader, leader_share = answer.pareto, answer.leader, answer.leader_first_share
    else:
        sensitivity = answer.tradeoffs.sensitivity
        pareto, leader = answer.tradeoffs.pareto, sensitivity.leader
        first = next((m for m in sensitivity.models if m.model_id == leader), None)
        leader_share = first.first_share if first is not None else None
    on_front = {p.model_id for p in pareto.models}
    return trusted(
        AnswerSummary,
        id=answer.id,
        detail="summary",
        catalogue_version=answer.catalogue_version,
        rules_version=answer.rules_version,
        evaluated_on=answer.evaluated_on,
        profile=answer.profile,
        weights={c: w for c, w in answer.weights.items() if w},
        eligible_count=answer.eligible_count,
        recommendations=recommendations,
        excluded_count=len(answer.excluded) if excluded_count is None else excluded_count,
        excluded_by_rule=by_rule,
        excluded=[
            trusted(ExclusionSummary, model_id=e.model_id, reasons=[f"{r.rule_id}: {r.outcome}" for r in e.reasons])
            for e in listed_exclusions(answer.excluded, exclusions)
        ],
        explained=explained,
        evidence=list(evidence.items.values()),
        sources=evidence.sources(),
        licence_obligations=dict(sorted(obligations.items())),
        tradeoffs=trusted(
            TradeoffSummary,
            pareto_front_size=pareto.size,
            recommended_on_front=[a.model_id for a in answer.recommendations if a.model_id in on_front],
            leader=leader,
            leader_first_share=leader_share,
        ),
        disclaimer=answer.disclaimer,
    )


def summarise_full(full: FullAnswer) -> AnswerSummary:
    """A ``full`` answer (e.g. a stored decision) in ``summary`` detail: the summary the API gives for it."""
    return summarise(resolve(full), full.excluded_by_rule, full.excluded_count)
