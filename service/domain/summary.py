"""The ``summary`` detail of an answer: what an internal tool needs, sized to the question.

A summary holds, per recommended (or explained) model: rank, id, score, one-line reasons, the three
criteria contributing most (value, weight, contribution, and the value's uncertainty and whether the missing-data
policy supplied it), then capability if its assessment lists it and it is not among them (so the capability
estimate and its uncertainty are stated whenever capability is weighted), the kinds of licence obligation (the
duties are listed once per licence), the fit figures and the kinds of caveat that apply (their text: ``full``
detail). Each reason cites its evidence by id: the evidence (``evidence``) is listed once per answer, however many
reasons cite it, with the same ids as the ``full`` detail (:mod:`service.domain.citing`). Nulls are left out.
Exclusions are counted by rule; the excluded models are listed (with the rules they fail or leave unknown) up to
:data:`EXCLUDED_LISTED` unless the request asks for all. The ``full`` detail, the stored decision and its report
keep every reason's evidence in full.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from typing import Any, Literal, TypeVar

from pydantic import Field

from service.domain.answer import (
    DISCLAIMER,
    Answer,
    Assessment,
    CitedEvidence,
    FullAnswer,
    Obligation,
    RuleCount,
    trusted,
)
from service.domain.citing import (
    CitedGroup,
    EvidenceTable,
    Exclusions,
    ShortIdClashError,
    cited_group,
    listed_exclusions,
    resolve,
)
from service.domain.facts import Evidence, SourceKind, Strict
from service.domain.kept import Kept
from service.domain.requirements import EXCLUSIONS_LISTED

__all__ = [
    "EXCLUDED_LISTED",
    "STATED_CRITERION",
    "AnswerSummary",
    "Citations",
    "EvidenceSummary",
    "ExclusionSummary",
    "FitSummary",
    "ModelSummary",
    "ObligationSummary",
    "TradeoffSummary",
    "answer_summary",
    "criterion_figures",
    "criterion_reason",
    "criterion_summary",
    "exclusion_reason",
    "exclusion_summary",
    "leading_cites",
    "obligation_summaries",
    "rule_reason",
    "summarise",
    "summarise_full",
    "tradeoff_summary",
    "with_citations",
]

_T = TypeVar("_T")
#: How many excluded models a summary lists by id unless asked for all; the counts by rule cover all of them.
EXCLUDED_LISTED = EXCLUSIONS_LISTED
#: The criterion whose figures a summary states for every model whose assessment lists it, leading or not: its
#: value is the model's capability estimate, and its uncertainty that estimate's.
STATED_CRITERION = "capability"


class CriterionSummary(Strict):
    """One criterion's part in a score, to 3 decimal places (``full`` detail: 6), with how sure its value is."""

    criterion: str
    value: float
    weight: float
    contribution: float
    missing_data: bool | None = Field(
        default=None, description="True when the missing-data policy supplied the value (left out otherwise)."
    )
    uncertainty: float | None = Field(
        default=None,
        description="Standard deviation of the value (capability: of its estimate); left out when the value is exact.",
    )


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
    criteria: list[CriterionSummary] = Field(
        description="The three weighted criteria contributing most, then capability when the model's assessment "
        "lists it and it is not among them, so that its capability estimate and uncertainty are always stated "
        "(every criterion: `full` detail)."
    )
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


class Citations:
    """The evidence a summary cites (with the ids of the ``full`` detail), each fact listed once in first-cited order,
    and their sources (s1, ... in first-listed order).

    Each fact is cited by its short id, and the facts are listed once the summary is built (:meth:`listed`): when
    two different facts of the summary share a short id, that raises
    :class:`~service.domain.citing.ShortIdClashError`, and the summary is built again with ``exact`` citations
    (each fact listed as it is cited, the second of two such facts under its whole digest), as
    :func:`with_citations` does."""

    __slots__ = ("exact", "groups", "table")

    def __init__(self, exact: bool = False) -> None:
        self.exact = exact
        self.table = EvidenceTable()
        #: The groups cited so far, in order (not ``exact``).
        self.groups: list[CitedGroup] = []

    def refs(self, group: Sequence[Evidence], count: int | None = None, *, kept: bool = False) -> str:
        """`` [id, ...]``: the ids of ``group[:count]`` (all by default), each once, listing them; empty for none.
        ``kept``: ``group`` is a list the engine keeps (see :meth:`EvidenceTable.cite_group`)."""
        count = len(group) if count is None else count
        if self.exact:
            return self.table.cite_refs(group, count, kept)
        facts = cited_group(group, count, kept)
        self.groups.append(facts)
        return facts.text()

    def listed(self) -> tuple[list[EvidenceSummary], dict[str, str]]:
        """The evidence as the summary lists it, and its sources by id.

        Raises :class:`~service.domain.citing.ShortIdClashError` (not ``exact``) when two different facts share a
        short id."""
        facts, sources = self._listed()
        return [_summarised(item, source) for item, source in facts], sources

    def listed_json(self) -> tuple[list[bytes], dict[str, str]]:
        """:meth:`listed` with each fact as JSON (as a summary serialised with ``exclude_none`` writes it)."""
        facts, sources = self._listed()
        return [_summarised_json(item, source) for item, source in facts], sources

    def _listed(self) -> tuple[list[tuple[CitedEvidence, str]], dict[str, str]]:
        """The facts listed, each with its source's id, and the sources by id."""
        source_ids: dict[str, str] = {}
        facts = []
        if self.exact:
            for item in self.table.items.values():
                source = source_ids.get(item.source)
                if source is None:
                    source = source_ids[item.source] = f"s{len(source_ids) + 1}"
                facts.append((item, source))
            return facts, {key: url for url, key in source_ids.items()}
        # The facts in order of first citation, each once (by short id), as citing them one by one lists them.
        owners: dict[str, tuple[object, ...]] = {}
        for group in self.groups:
            if group.clash:
                raise ShortIdClashError
            for identity, short, item in group.listed:
                owner = owners.get(short)
                if owner is None:
                    owners[short] = identity
                    source = source_ids.get(item.source)
                    if source is None:
                        source = source_ids[item.source] = f"s{len(source_ids) + 1}"
                    facts.append((item, source))
                elif owner is not identity and owner != identity:  # a different fact under the same short id
                    raise ShortIdClashError
        return facts, {key: url for url, key in source_ids.items()}


#: Summary parts (a criterion's figures, an exclusion), kept and shared by the summaries that state them (an answer's
#: objects and lists are never changed).
_CRITERIA: Kept[tuple[str, float, float, float, float, bool], CriterionSummary] = Kept("summary.criteria")
_EXCLUSIONS: Kept[tuple[str, ...], ExclusionSummary] = Kept("summary.exclusions")
#: Facts as a summary lists them, as JSON before and after their source's id (which depends on the summary, not on
#: the fact), by the listed fact (held, so that an ``id()`` is never one of a newer object): one entry per fact
#: whatever id its source has in a summary, built once, not in every summary that lists it. Only the JSON is kept:
#: a summary built as objects (not the API's bytes path) builds its facts afresh.
_SUMMARISED: Kept[int, tuple[CitedEvidence, bytes, bytes]] = Kept("summary.evidence")
#: The source id a fact's JSON is written with before it is split around it (``_summarised_json``).
_SOURCE_MARK = "s0"
_SOURCE_FIELD = f'"source":"{_SOURCE_MARK}"'.encode()


def _summarised(item: CitedEvidence, source: str) -> EvidenceSummary:
    """``item`` as a summary lists it, its source under the summary's id ``source``."""
    return trusted(
        EvidenceSummary,
        id=item.id,
        fact=item.fact,
        value=item.value,
        source=source,
        as_of=item.as_of,
        source_kind=item.source_kind,
    )


def _summarised_json(item: CitedEvidence, source: str) -> bytes:
    """:func:`_summarised` as JSON (serialised with ``exclude_none``), from the kept JSON around the source's id."""
    found = _SUMMARISED.get(id(item))
    if found is None or found[0] is not item:
        summary = _summarised(item, _SOURCE_MARK)
        data = summary.__pydantic_serializer__.to_json(summary, exclude_none=True)
        # The last such field is the source's: only the date and the source's kind (a name) follow it.
        head, field, tail = data.rpartition(_SOURCE_FIELD)
        if not field:  # never: the source is a required field
            raise ValueError(f"no source in a listed fact's JSON: {data!r}")
        found = _SUMMARISED.put(id(item), (item, head + b'"source":"', b'"' + tail))
    return b"".join((found[1], source.encode(), found[2]))


def rule_reason(rule_id: str, version: int, outcome: str, message: str) -> str:
    """A rule outcome's reason line, before the ids of its evidence."""
    return f"{rule_id} v{version} {outcome}: {message}"


def criterion_reason(criterion: str, contribution: float) -> str:
    """A leading criterion's reason line (``contribution`` to 6 places), before the ids of its evidence."""
    return f"{criterion} adds {contribution:.3f}"


def leading_cites(n: int) -> int:
    """How many facts the ``n``-th leading criterion (from 0) cites: the first two for the first, else the first
    (every fact: ``full`` detail)."""
    return 2 if n == 0 else 1


def criterion_figures(
    criterion: str, value: float, weight: float, contribution: float, uncertainty: float, missing: bool
) -> CriterionSummary:
    """A criterion's figures (each as the ``full`` detail states it, to 6 places), to 3 places; ``missing``: the
    missing-data policy supplied the value."""
    return trusted(
        CriterionSummary,
        criterion=criterion,
        value=round(value, 3),
        weight=round(weight, 3),
        contribution=round(contribution, 3),
        missing_data=True if missing else None,
        uncertainty=round(uncertainty, 3) if uncertainty else None,
    )


def criterion_summary(
    criterion: str, value: float, weight: float, contribution: float, uncertainty: float, missing: bool
) -> CriterionSummary:
    """:func:`criterion_figures`, built once for the same figures and kept (bounded), for summaries built as
    objects."""
    key = (criterion, value, weight, contribution, uncertainty, missing)
    found = _CRITERIA.get(key)
    if found is None:
        found = _CRITERIA.put(key, criterion_figures(criterion, value, weight, contribution, uncertainty, missing))
    return found


def obligation_summaries(obligations: Sequence[Obligation]) -> tuple[list[str], list[ObligationSummary]]:
    """The kinds of ``obligations`` (each once, in order) and the duties as listed once per licence."""
    return list(dict.fromkeys(o.kind for o in obligations)), [
        trusted(ObligationSummary, kind=o.kind, applies=o.applies, duty=o.duty) for o in obligations
    ]


def exclusion_summary(model_id: str, reasons: list[str]) -> ExclusionSummary:
    """An excluded model with ``rule_id: outcome`` for each failing or unknown rule (built once for the same
    reasons, and kept: bounded)."""
    key = (model_id, *reasons)
    found = _EXCLUSIONS.get(key)
    if found is None:
        found = _EXCLUSIONS.put(key, trusted(ExclusionSummary, model_id=model_id, reasons=reasons))
    return found


def _model(a: Assessment, evidence: Citations, *, explained: bool = False) -> ModelSummary:
    reasons = [
        rule_reason(r.rule_id, r.rule_version, r.outcome, r.message) + evidence.refs(r.evidence) for r in a.rules
    ]
    # The three criteria contributing most, each citing the first facts its full reason cites.
    leading = sorted((c for c in a.criteria if c.weight > 0), key=lambda c: (-c.contribution, c.criterion))[:3]
    reasons.extend(
        criterion_reason(c.criterion, c.contribution) + evidence.refs(c.evidence, leading_cites(n))
        for n, c in enumerate(leading)
    )
    # Then the criterion always stated, when listed but not leading (its figures only: it gives no reason).
    stated = leading
    if all(c.criterion != STATED_CRITERION for c in leading):
        stated = leading + [c for c in a.criteria if c.criterion == STATED_CRITERION]
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
            criterion_summary(c.criterion, c.value, c.weight, c.contribution, c.uncertainty, c.missing_data)
            for c in stated
        ],
        obligations=obligation_summaries(a.obligations)[0],
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


def exclusion_reason(rule_id: str, outcome: str) -> str:
    """How a summary lists a failing or unknown rule of an excluded model."""
    return f"{rule_id}: {outcome}"


def answer_summary(
    *,
    id: str,
    catalogue_version: str,
    rules_version: str,
    evaluated_on: dt.date,
    profile: str,
    weights: dict[str, float],
    eligible_count: int,
    by_rule: list[RuleCount],
    excluded_count: int,
    recommendations: list[ModelSummary],
    recommended: Sequence[str],
    excluded: list[ExclusionSummary],
    explained: list[ModelSummary],
    evidence: list[EvidenceSummary],
    sources: dict[str, str],
    obligations: dict[str, list[ObligationSummary]],
    front_size: int,
    front: Collection[str],
    leader: str | None,
    leader_share: float | None,
    disclaimer: str,
) -> AnswerSummary:
    """An answer's summary from its parts (``recommended``: the recommended models' ids, in order; ``evidence`` and
    ``sources``: what the models' reasons cite, as :meth:`Citations.listed` lists it; ``front_size`` and ``front``:
    how many and which models are on the Pareto front). A summary written to bytes is written from the same parts
    without building it (:func:`~service.domain.writing.summary_json`)."""
    return trusted(
        AnswerSummary,
        id=id,
        detail="summary",
        catalogue_version=catalogue_version,
        rules_version=rules_version,
        evaluated_on=evaluated_on,
        profile=profile,
        weights={c: w for c, w in weights.items() if w},
        eligible_count=eligible_count,
        recommendations=recommendations,
        excluded_count=excluded_count,
        excluded_by_rule=by_rule,
        excluded=excluded,
        explained=explained,
        evidence=evidence,
        sources=sources,
        licence_obligations=dict(sorted(obligations.items())),
        tradeoffs=trusted(TradeoffSummary, **tradeoff_summary(front_size, recommended, front, leader, leader_share)),
        disclaimer=disclaimer,
    )


def tradeoff_summary(
    front_size: int, recommended: Sequence[str], front: Collection[str], leader: str | None, leader_share: float | None
) -> dict[str, Any]:
    """A :class:`TradeoffSummary`'s fields: how many models are on the Pareto front, which of the ``recommended``
    ones (in order) are among ``front``, the leader and its first-place share."""
    on_front = set(front)
    return {
        "pareto_front_size": front_size,
        "recommended_on_front": [model_id for model_id in recommended if model_id in on_front],
        "leader": leader,
        "leader_first_share": leader_share,
    }


def with_citations(build: Callable[[Citations], _T]) -> _T:
    """``build(Citations())``, or, when two different facts it cites share a short id, ``build`` again with exact
    citations (see :class:`Citations`)."""
    try:
        return build(Citations())
    except ShortIdClashError:
        return build(Citations(exact=True))


def summarise(
    answer: Answer,
    by_rule: list[RuleCount],
    excluded_count: int | None = None,
    exclusions: Exclusions = "by_rule",
) -> AnswerSummary:
    """The whole ``answer`` in ``summary`` detail (built without re-validating the engine's own objects).

    ``by_rule`` counts every exclusion (:func:`service.domain.citing.count_exclusions`); ``excluded_count`` is
    how many there are (default: every one ``answer`` holds); ``exclusions`` says which are listed. A decision
    builds the same summary without explaining its models whole (:meth:`service.domain.engine.Decision.summary`).
    """
    return with_citations(lambda evidence: _summarise(answer, by_rule, excluded_count, exclusions, evidence))


def _summarise(
    answer: Answer,
    by_rule: list[RuleCount],
    excluded_count: int | None,
    exclusions: Exclusions,
    evidence: Citations,
) -> AnswerSummary:
    obligations = {
        a.licence: obligation_summaries(a.obligations)[1] for a in [*answer.recommendations, *answer.explained]
    }
    recommendations = [_model(a, evidence) for a in answer.recommendations]
    explained = [_model(a, evidence, explained=True) for a in answer.explained]
    sensitivity = answer.tradeoffs.sensitivity
    leader = sensitivity.leader
    first = next((m for m in sensitivity.models if m.model_id == leader), None)
    listed, sources = evidence.listed()
    return answer_summary(
        id=answer.id,
        catalogue_version=answer.catalogue_version,
        rules_version=answer.rules_version,
        evaluated_on=answer.evaluated_on,
        profile=answer.profile,
        weights=answer.weights,
        eligible_count=answer.eligible_count,
        by_rule=by_rule,
        excluded_count=len(answer.excluded) if excluded_count is None else excluded_count,
        recommendations=recommendations,
        recommended=[a.model_id for a in recommendations],
        excluded=[
            exclusion_summary(e.model_id, [exclusion_reason(r.rule_id, r.outcome) for r in e.reasons])
            for e in listed_exclusions(answer.excluded, exclusions)
        ],
        explained=explained,
        evidence=listed,
        sources=sources,
        obligations=obligations,
        front_size=answer.tradeoffs.pareto.size,
        front=[p.model_id for p in answer.tradeoffs.pareto.models],
        leader=leader,
        leader_share=first.first_share if first is not None else None,
        disclaimer=answer.disclaimer,
    )


def summarise_full(full: FullAnswer) -> AnswerSummary:
    """A ``full`` answer (e.g. a stored decision) in ``summary`` detail: the summary the API gives for it."""
    return summarise(resolve(full), full.excluded_by_rule, full.excluded_count)
