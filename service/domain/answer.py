"""The shape of a decision: what the engine returns (:class:`Answer`) and what the API serialises.

Every sentence a reader sees is backed by structured evidence: the rule id and version, the fact, its source
and its date. In the engine's :class:`Answer` each reason carries its evidence inline; in the ``full`` answer
the API returns, stores and reports (:class:`FullAnswer`, built by :func:`service.domain.citing.cite`) each
fact is listed once in ``evidence`` and every reason, criterion, obligation, fit and exclusion cites it by id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field

from service.domain.facts import Evidence, MeasuredBy, SourceKind, Strict
from service.domain.regulatory import EuAiActStatus, EuAiActStatusFields
from service.domain.requirements import EXCLUSIONS_LISTED, Requirements

__all__ = [
    "EXCLUSIONS_LISTED",
    "Answer",
    "Assessment",
    "Caveat",
    "CaveatKind",
    "CitedAssessment",
    "CitedCriterionScore",
    "CitedEuAiActStatus",
    "CitedEvidence",
    "CitedExclusion",
    "CitedFit",
    "CitedObligation",
    "CitedRuleOutcome",
    "ComparedModel",
    "Comparison",
    "CriterionScore",
    "CriterionScoreFields",
    "Exclusion",
    "Fit",
    "FitFields",
    "FitFigures",
    "FullAnswer",
    "ModelSensitivity",
    "Obligation",
    "ObligationFields",
    "ParetoFront",
    "ParetoPoint",
    "RuleCount",
    "RuleOutcome",
    "RuleOutcomeFields",
    "Sensitivity",
    "Throughput",
    "Tradeoffs",
    "UseCaseEstimate",
    "WeightChange",
    "caveat",
    "trusted",
    "trusted_from",
]

DISCLAIMER = (
    "Decision support, not legal advice: licence terms and regulatory statements (EU AI Act status, "
    "public-sector restrictions, export controls, data-access laws) are paraphrased from the cited sources, "
    "some of them secondary and each dated; provenance allegations are reported as allegations, not findings. "
    "Read the licences and legal texts themselves and take legal advice before relying on them."
)


_M = TypeVar("_M", bound=BaseModel)
#: Per model class: its field names in declaration order, and the fields that have a default.
_LAYOUTS: dict[type[BaseModel], tuple[tuple[str, ...], frozenset[str]]] = {}
#: Per model class: one set of all its field names, shared as the fields set of every instance given them all.
#: Setting an attribute adds its name to the instance's fields set, which this one already holds, and a copy
#: gets a set of its own, so sharing it changes nothing; one set per instance was most of a kept part's memory.
_EVERY_FIELD: dict[type[BaseModel], set[str]] = {}
#: The fields sets of frozen models' instances given some of their fields, one per class and set of names (which
#: the code building them fixes): a frozen instance's fields set never changes.
_FROZEN_FIELDS: dict[tuple[type[BaseModel], frozenset[str]], set[str]] = {}


def _layout(cls: type[BaseModel]) -> tuple[tuple[str, ...], frozenset[str]]:
    found = _LAYOUTS.get(cls)
    if found is None:
        fields = cls.__pydantic_fields__
        if cls.__pydantic_root_model__ or cls.__pydantic_post_init__ or cls.model_config.get("extra") == "allow":
            raise TypeError(f"{cls.__name__} cannot be built by trusted(): use model_construct")
        if any(f.alias is not None or f.validation_alias is not None for f in fields.values()):
            raise TypeError(f"{cls.__name__} has aliased fields: use model_construct")
        found = (tuple(fields), frozenset(name for name, f in fields.items() if not f.is_required()))
        _LAYOUTS[cls] = found
    return found


def trusted(cls: type[_M], /, **values: Any) -> _M:
    """An instance of ``cls`` from values that are already valid (built from validated data), not validated again.

    The same instance as ``cls.model_construct(**values)`` (same fields, same defaults, same fields set), several
    times cheaper: when ``values`` names every field in declaration order, it becomes the instance's ``__dict__``
    as it is. A field that is neither given nor defaulted, or a name that is no field, is a TypeError (a
    programming error: ``model_construct`` would ignore the name or leave the field out). That the values are
    valid is the caller's promise, held by tests that validate every corpus answer from its JSON.
    """
    return trusted_from(cls, values)


def trusted_from(cls: type[_M], values: dict[str, Any], /) -> _M:
    """:func:`trusted` with the values as a dict, which the instance takes over (the caller must not keep it)."""
    names, defaulted = _LAYOUTS.get(cls) or _layout(cls)
    if tuple(values) == names:
        given = _EVERY_FIELD.get(cls) or _EVERY_FIELD.setdefault(cls, set(names))
    else:
        given = set(values)
        fields = cls.__pydantic_fields__
        unknown = given.difference(names)
        if unknown:
            raise TypeError(f"{cls.__name__} has no field(s) {sorted(unknown)}")
        ordered: dict[str, Any] = {}
        for name in names:
            if name in values:
                ordered[name] = values[name]
            elif name in defaulted:
                ordered[name] = fields[name].get_default(call_default_factory=True, validated_data=ordered)
            else:
                raise TypeError(f"{cls.__name__} needs field {name!r}")
        values = ordered
        if len(given) == len(names):
            given = _EVERY_FIELD.get(cls) or _EVERY_FIELD.setdefault(cls, set(names))
        elif cls.model_config.get("frozen"):
            given = _FROZEN_FIELDS.setdefault((cls, frozenset(given)), given)
    m = object.__new__(cls)
    object.__setattr__(m, "__dict__", values)
    object.__setattr__(m, "__pydantic_fields_set__", given)
    object.__setattr__(m, "__pydantic_extra__", None)
    object.__setattr__(m, "__pydantic_private__", None)
    return m


class RuleOutcomeFields(Strict):
    """The result of one eligibility rule for one model, apart from its evidence."""

    rule_id: str
    rule_version: int
    requirement: str = Field(description="The request field the rule answers.")
    outcome: Literal["passed", "failed", "unknown"]
    message: str
    missing_facts: list[str] = Field(default=[], description="Facts whose absence made the outcome unknown.")


class RuleOutcome(RuleOutcomeFields):
    """The result of one eligibility rule for one model, with the facts it rests on."""

    evidence: list[Evidence] = []


class UseCaseEstimate(Strict):
    """The capability estimate for one use case (or general ability), with its uncertainty and its basis."""

    use_case: str = Field(description="A use case, or 'general' for general ability.")
    status: Literal["measured", "inferred", "insufficient_evidence"] = Field(
        description="measured: a measurement bears on this use case; inferred: estimated from the model's other "
        "evidence (wider uncertainty); insufficient_evidence: no usable measurement of the model at all."
    )
    estimate: float | None = Field(description="0-1 value; null when there is insufficient evidence.")
    standard_error: float | None = Field(description="Standard error of the 0-1 value.")
    interval_80: tuple[float, float] | None = Field(description="80% interval of the 0-1 value.")
    measurements: int = Field(description="Measurements used that bear on this use case.")
    independent: int = Field(description="Of those, measured by an independent leaderboard.")


class CriterionScoreFields(Strict):
    """One criterion's part in a score: value (0-1), normalised weight and contribution (value x weight)."""

    criterion: str
    rule_version: int
    value: float
    weight: float
    contribution: float
    missing_data: bool = Field(description="True when the missing-data policy supplied the value.")
    uncertainty: float = Field(default=0.0, description="Standard deviation of the value (0 when exact).")
    explanation: str
    estimates: list[UseCaseEstimate] | None = Field(
        default=None, description="Capability only: the estimate per requested use case (or general ability)."
    )


class CriterionScore(CriterionScoreFields):
    """One criterion's part in a score, with the facts its value rests on."""

    evidence: list[Evidence] = []


class ObligationFields(Strict):
    """A duty the user takes on by using the model under its licence, apart from where the licence is stated."""

    licence_id: str
    kind: Literal["attribution", "naming", "use_restriction", "threshold", "outputs", "unreviewed"]
    duty: str
    applies: Literal["always", "at_requested_scale", "if_condition_met"]


class Obligation(ObligationFields):
    """A duty the user takes on by using the model under its licence, with the licence text's source and date."""

    source: str
    as_of: dt.date


class Throughput(Strict):
    """Decode speed as an upper bound from memory bandwidth (and dense compute), with its stated efficiency."""

    tokens_per_second_per_request: float
    tokens_per_second_total: float
    limited_by: Literal["memory_bandwidth", "compute"]
    efficiency: float = Field(description="Share of peak bandwidth and compute assumed reachable.")
    basis: str = Field(description="How the figure was computed, with its inputs.")


class FitFields(Strict):
    """Hardware fit for the workload: weights, KV cache and overhead, the GPUs they need, headroom and speed."""

    precision: str = Field(description="The weight format costed (native resolved to the released format).")
    precision_requested: str
    fine_tuning: str
    parameters_total_b: float | None
    parameters_active_b: float | None
    gpu: str | None = Field(description="GPU profile id, when the request named one.")
    gpu_name: str | None
    concurrent_requests: int
    tokens_per_request: int
    output_tokens_per_second: float | None
    weights_gb: float | None
    kv_cache_gb: float | None
    kv_cache_bytes_per_token: float | None = Field(description="Averaged over the request's tokens.")
    kv_cache_formula: str = Field(description="The formula and its inputs, or the stated fallback.")
    overhead_gb: float | None
    memory_gb: float | None = Field(description="Weights + KV cache + runtime overhead.")
    gpu_memory_gb: float
    gpu_memory_assumed: bool = Field(description="True when no GPU was given and the reference size was used.")
    usable_memory_gb: float | None = Field(description="Memory a fit may use on the GPUs needed (headroom rule).")
    headroom_gb: float | None = Field(description="Usable memory left on the GPUs needed.")
    gpus_for_memory: int | None
    gpus_for_throughput: int | None = Field(description="GPUs the requested decode speed needs, when one was set.")
    gpus_needed: int | None
    fits: bool | None = Field(description="Null when no GPU count was given or the parameter count is unknown.")
    throughput: Throughput | None = Field(description="Null when the GPU's bandwidth is not known.")
    allows_for: str
    assumptions: list[str]


class Fit(FitFields):
    """Hardware fit for the workload, with the facts its figures rest on."""

    evidence: list[Evidence] = Field(description="The facts the figures rest on, each with source and date.")


CaveatKind = Literal[
    "missing_data",
    "stale",
    "review_overdue",
    "comparability",
    "unverified_terms",
    "hosting",
    "context_extension",
    "eu_ai_act",
    "public_sector",
    "export_control",
    "provenance",
    "data_access",
    "stale_regulatory",
    "quantisation",
    "hardware",
]


class Caveat(Strict):
    """Something a reviewer should know: missing or stale data, non-comparable benchmarks, unverified terms."""

    kind: CaveatKind
    message: str
    fact: str | None = None
    source: str | None = None
    as_of: dt.date | None = None
    rule_id: str | None = Field(default=None, description="The rule that raised it, for regulatory caveats.")
    source_kind: SourceKind | None = Field(default=None, description="primary or secondary, where recorded.")


def caveat(
    kind: CaveatKind,
    message: str,
    fact: str | None = None,
    source: str | None = None,
    as_of: dt.date | None = None,
    rule_id: str | None = None,
    source_kind: SourceKind | None = None,
) -> Caveat:
    """A caveat built from trusted values (see :func:`trusted`), every field given."""
    return trusted(
        Caveat,
        kind=kind,
        message=message,
        fact=fact,
        source=source,
        as_of=as_of,
        rule_id=rule_id,
        source_kind=source_kind,
    )


class AssessmentFields(Strict):
    """What an assessment says of a model before its evidence: the same in both forms (inline and cited)."""

    model_id: str
    name: str
    status: Literal["recommended", "eligible", "excluded"]
    rank: int | None = Field(description="Position among eligible models; null when excluded.")
    score: float | None = Field(description="Weighted score 0-1; null when excluded.")
    licence: str
    reasons: list[str]


class Assessment(AssessmentFields):
    """A model as the engine judged it: recommended, eligible-but-lower, or excluded (for ``explain``)."""

    criteria: list[CriterionScore]
    rules: list[RuleOutcome]
    obligations: list[Obligation]
    fit: Fit
    caveats: list[Caveat]
    eu_ai_act: EuAiActStatus | None = Field(
        default=None, description="EU AI Act status of the model: systemic-risk presumption, exemption, questions."
    )


@dataclass(frozen=True, slots=True)
class FitFigures:
    """The figures of a model's :class:`Fit` (the same values; no texts or evidence)."""

    precision: str
    gpu: str | None
    weights_gb: float | None
    kv_cache_gb: float | None
    memory_gb: float | None
    gpu_memory_gb: float
    gpus_needed: int | None
    fits: bool | None
    throughput: Throughput | None


class Exclusion(Strict):
    """A model that failed at least one hard constraint, with every failing rule."""

    model_id: str
    reasons: list[RuleOutcome]


class ParetoPoint(Strict):
    """An eligible model on the Pareto front, with the criterion values the front is computed over."""

    model_id: str
    rank: int = Field(description="Position among eligible models.")
    values: dict[str, float] = Field(description="Criterion values (0-1, higher is better) used for the front.")


class ParetoFront(Strict):
    """The eligible models that no other eligible model beats on every trade-off criterion at once."""

    criteria: list[str]
    size: int = Field(description="How many eligible models are on the front.")
    models: list[ParetoPoint] = Field(description="Every model on the front, best ranked first.")
    dominated: dict[str, str] = Field(
        description="For each recommended model not on the front: the best-ranked front model that dominates it."
    )
    method: str


class ModelSensitivity(Strict):
    """How often a recommended model stays first, and in the top 3, when the weights are perturbed."""

    model_id: str
    rank: int
    first_count: int = Field(description="Samples under which the model ranks first.")
    first_share: float = Field(description="first_count / samples, rounded to 4 places.")
    top3_count: int = Field(description="Samples under which the model ranks in the top 3.")
    top3_share: float = Field(description="top3_count / samples, rounded to 4 places.")
    first_share_with_evidence: float = Field(
        description="Share of samples ranking first when the values are also drawn from their uncertainty."
    )
    top3_share_with_evidence: float = Field(
        description="Share of samples in the top 3 when the values are also drawn from their uncertainty."
    )


class WeightChange(Strict):
    """The smallest change of one criterion's weight (others rescaled in proportion) that changes first place."""

    criterion: str
    direction: Literal["raise", "lower"]
    from_weight: float = Field(description="The criterion's normalised weight in this answer.")
    to_weight: float = Field(description="The normalised weight at which new_leader ties the leader.")
    change: float = Field(description="abs(to_weight - from_weight).")
    new_leader: str = Field(description="The model that ties, then overtakes, the leader past to_weight.")


class Sensitivity(Strict):
    """Robustness of the ranking under uncertain weights."""

    samples: int
    seed: int
    concentration: float = Field(description="Total Dirichlet concentration: alpha = concentration x weight.")
    perturbed: list[str] = Field(description="The criteria whose weights were perturbed (the weighted ones).")
    evidence_perturbed: list[str] = Field(
        description="The weighted criteria whose values were also drawn from their uncertainty (e.g. capability)."
    )
    leader: str | None = Field(description="The first-ranked model; null when no model is eligible.")
    close_call: bool = Field(
        description="True when the leader ranks first in fewer than half of the draws (weights, or weights and "
        "evidence): the first place is a close call."
    )
    models: list[ModelSensitivity] = Field(description="The recommended models, in rank order.")
    first_elsewhere: int = Field(description="Samples under which a model outside the recommendations ranks first.")
    top3_places: int = Field(description="samples x min(3, eligible models): the top-3 places handed out.")
    top3_elsewhere: int = Field(description="Top-3 places taken by models outside the recommendations.")
    smallest_change: WeightChange | None = Field(
        description="The smallest single-weight change that changes first place; null when none does."
    )
    changes: list[WeightChange] = Field(
        description="Per criterion and direction, the smallest change that changes first place (where one exists)."
    )
    method: str


class Tradeoffs(Strict):
    """Trade-offs among the eligible models: the Pareto front and the ranking's sensitivity to the weights."""

    pareto: ParetoFront
    sensitivity: Sensitivity


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
    tradeoffs: Tradeoffs
    method: list[str]
    disclaimer: str = DISCLAIMER


# ------------------------------------------------------------------ the full answer: evidence cited by id
_IDS = "Ids of the facts it rests on, each listed once in the answer's `evidence`."


def _absent(value: object) -> bool:
    return value is None


class CitedEvidence(Strict):
    """A fact an answer cites, listed once: what, its value, the public source that states it and when."""

    id: str = Field(description="A digest of the fact's content: the same fact has the same id in every answer.")
    fact: str
    value: object
    source: str = Field(description="The public URL (or citation) that states the value.")
    as_of: dt.date = Field(description="The date the source stated the value (or was read).")
    # Left out when not recorded or not relevant (who measured a licence term?), rather than sent as null.
    source_kind: SourceKind | None = Field(
        default=None, exclude_if=_absent, description="primary or secondary, where recorded."
    )
    measured_by: MeasuredBy | None = Field(
        default=None, exclude_if=_absent, description="Who measured it, for a benchmark result."
    )
    note: str | None = Field(default=None, exclude_if=_absent, description="How the value was read or what it means.")


class CitedRuleOutcome(RuleOutcomeFields):
    """The result of one eligibility rule for one model; its evidence by id."""

    evidence: list[str] = Field(default=[], description=_IDS)


class CitedCriterionScore(CriterionScoreFields):
    """One criterion's part in a score; its evidence by id."""

    evidence: list[str] = Field(default=[], description=_IDS)


class CitedObligation(ObligationFields):
    """A licence duty the user takes on; the licence text it is read from by id."""

    evidence: list[str] = Field(description=_IDS)


class CitedFit(FitFields):
    """Hardware fit for the workload; the facts its figures rest on by id."""

    evidence: list[str] = Field(description=_IDS)


class CitedEuAiActStatus(EuAiActStatusFields):
    """A model's EU AI Act status; the facts and legal texts it rests on by id."""

    evidence: list[str] = Field(description=_IDS)


class CitedAssessment(AssessmentFields):
    """A recommended or explained model in full, its evidence cited by id (see :class:`Assessment`)."""

    criteria: list[CitedCriterionScore]
    rules: list[CitedRuleOutcome]
    obligations: list[CitedObligation]
    fit: CitedFit
    caveats: list[Caveat]
    eu_ai_act: CitedEuAiActStatus | None = Field(
        default=None, description="EU AI Act status of the model: systemic-risk presumption, exemption, questions."
    )


class CitedExclusion(Strict):
    """A model that failed at least one hard constraint, with every failing (or unknown) rule."""

    model_id: str
    reasons: list[CitedRuleOutcome]


class RuleCount(Strict):
    """How many models one eligibility rule excludes, by failing them or by lacking a fact it needs."""

    rule_id: str
    rule_version: int
    requirement: str = Field(description="The request field the rule answers.")
    description: str = Field(description="What the rule checks (`GET /v1/rules`).")
    count: int = Field(description="Excluded models this rule fails or leaves unknown.")
    unknown: int = Field(description="Of those, the models left unknown: a fact the rule needs is not recorded.")


class FullAnswer(Strict):
    """A decision in ``full`` detail, as stored and reported: every reason with its evidence, each fact listed
    once in ``evidence`` and cited by id wherever it is used."""

    id: str = Field(description="Content hash of the normalised requirements, versions and evaluation date.")
    detail: Literal["full"] = "full"
    catalogue_version: str
    rules_version: str
    evaluated_on: dt.date
    requirements: Requirements
    profile: str
    weights: dict[str, float]
    eligible_count: int
    recommendations: list[CitedAssessment]
    excluded_count: int = Field(description="How many models failed a hard constraint (or could not be checked).")
    excluded_by_rule: list[RuleCount] = Field(description="Excluded models per failing or unknown rule, by rule id.")
    excluded: list[CitedExclusion] = Field(
        description=f"Every excluded model by id when at most {EXCLUSIONS_LISTED} are excluded or the request "
        f"asks `exclusions: all` (the stored decision always lists all); otherwise the first {EXCLUSIONS_LISTED}."
    )
    explained: list[CitedAssessment]
    tradeoffs: Tradeoffs
    method: list[str]
    evidence: list[CitedEvidence] = Field(description="Every fact cited above, once each, in order of first citation.")
    disclaimer: str = DISCLAIMER


class ComparedModel(Assessment):
    """A model in a side-by-side comparison: its assessment with every criterion, and the rules it fails."""

    fails: list[RuleOutcome] = Field(description="The failed and unknown rule outcomes: why it would be excluded.")


class Comparison(Strict):
    """Two to six models side by side under one set of requirements."""

    catalogue_version: str
    rules_version: str
    evaluated_on: dt.date
    requirements: Requirements
    profile: str
    weights: dict[str, float]
    criteria: list[str] = Field(description="Every scoring criterion, in the order each model lists them.")
    models: list[ComparedModel]
    method: list[str]
    disclaimer: str = DISCLAIMER
