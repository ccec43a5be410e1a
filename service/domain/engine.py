"""The engine: requirements in, a ranked, explained decision out. Pure Python and NumPy; deterministic.

Steps: hard constraints (eligibility rules, three-valued) -> eligible set and exclusions with every
failing rule; weighted, normalised criteria -> score; rank (score, then id); explanation of each named
model with evidence, licence obligations, hardware fit and caveats.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from functools import lru_cache, partial
from typing import Any, Literal, TypeVar

import numpy as np
import numpy.typing as npt

from service.domain.answer import (
    DISCLAIMER,
    Answer,
    Assessment,
    Caveat,
    CitedAssessment,
    CitedCriterionScore,
    CitedFit,
    CitedObligation,
    ComparedModel,
    Comparison,
    CriterionScore,
    Exclusion,
    Fit,
    FitFigures,
    FullAnswer,
    Obligation,
    RuleCount,
    RuleOutcome,
    Throughput,
    Tradeoffs,
    caveat,
    trusted,
    trusted_from,
)
from service.domain.architecture import Transformer
from service.domain.catalogue import Catalogue
from service.domain.citing import (
    CitedGroup,
    EvidenceTable,
    Exclusions,
    ShortIdClashError,
    assemble,
    cite,
    cite_eu,
    cite_evidence,
    cite_exclusion,
    cite_obligation,
    cite_outcome,
    cite_reasons,
    cited_group,
    dump_full_bytes,
)
from service.domain.compliance import ComplianceFeatures, ComplianceRequest
from service.domain.conditions import RuleSelector, evaluate_checks, placeholders, request_value, template_parts
from service.domain.criteria import CriterionModule, Explanation, FitStore, RequestView, Scores, build_criteria
from service.domain.errors import RequirementError
from service.domain.facts import Evidence, citation
from service.domain.features import (
    Features,
    compile_features,
    fact_evidence,
)
from service.domain.hardware import FitBasis, FitPlan, Gpu, ResolvedWorkload, plan_fit
from service.domain.kept import Kept
from service.domain.requirements import EXCLUSIONS_LISTED, Requirements
from service.domain.rules import CRITERIA, EligibilityRule, RuleSet
from service.domain.summary import (
    STATED_CRITERION,
    AnswerSummary,
    Citations,
    EvidenceSummary,
    ExclusionSummary,
    FitSummary,
    ModelSummary,
    ObligationSummary,
    answer_summary,
    criterion_reason,
    criterion_summary,
    exclusion_reason,
    exclusion_summary,
    leading_cites,
    obligation_summaries,
    rule_reason,
    tradeoff_summary,
    with_citations,
)
from service.domain.tokens import Tokens
from service.domain.tradeoffs import Weighed, weigh
from service.domain.writing import (
    CAVEATS,
    CITED_FIT,
    OBLIGATIONS,
    REASONS,
    assessment_json,
    caveat_texts,
    criterion_json,
    eu_json,
    exclusion_json,
    exclusion_summary_json,
    full_json,
    group_ids,
    joined_caveats,
    kinds_json,
    model_summary_json,
    outcome_json,
    summary_criterion_json,
    summary_json,
    text_json,
)

__all__ = ["Decision", "Engine"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
SIGNAL_PREFIXES = ("adoption.", "offer:")
#: Facts about a published checkpoint that do not change once true (its size, window, release date, scores
#: as reported). An old date on them is not staleness; the entry's review_by date covers re-checking them.
FIXED_FACTS = frozenset(
    {
        "parameters_total_b",
        "parameters_active_b",
        "context_tokens",
        "context_extension",
        "released",
        "architecture",
        "input_modalities",
        "output_modalities",
        "reasoning",
        "training_data",
        "training_compute_flop",
    }
)


def _transformer_summary(t: Transformer) -> str:
    """The [transformer] facts as one line of evidence."""
    parts = [f"{t.layers} layers", t.attention]
    if t.attention == "mla":
        parts.append(f"kv_lora_rank {t.kv_lora_rank}, qk_rope_head_dim {t.qk_rope_head_dim}")
    else:
        parts.append(f"{t.kv_heads} KV heads x {t.head_dim}")
    if t.sliding_window_layers:
        parts.append(f"{t.sliding_window_layers} sliding-window layers ({t.sliding_window} tokens)")
    if t.linear_attention_layers:
        parts.append(f"{t.linear_attention_layers} linear-attention layers")
    if t.experts_total:
        parts.append(f"{t.experts_active} of {t.experts_total} experts per token")
    return ", ".join(parts)


def _round(value: float, places: int = 6) -> float:
    if value == 0.0:  # the commonest value (an exact criterion's uncertainty), and -0.0 becomes 0.0
        return 0.0
    return float(round(value, places)) + 0.0  # + 0.0 turns -0.0 into 0.0


#: Canonical JSON (keys sorted, no spaces), as ``json.dumps(..., sort_keys=True, separators=(",", ":"))`` writes it.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), check_circular=False)  # JSON values: no cycles


def _best_first(eligible: npt.NDArray[np.intp], score: FloatArray, keyed_from: int = 8_192) -> npt.NDArray[np.intp]:
    """``eligible`` (ascending model indices) by ``score``, best first, ties in index order: a stable sort of the
    negated scores.

    From ``keyed_from`` models on, the same order comes from sorting one distinct whole number per model (any sort
    gives it, and NumPy's default sort of integers took half the time of a stable sort of 10,000 floats): the score
    in millionths, negated, times the number of models, plus the model's place. That holds when every score is a
    whole number of millionths (scores are rounded to 6 places) of at most a million in size, which is checked;
    else the stable sort.
    """
    scores = score[eligible]
    count = len(scores)
    if count >= keyed_from:
        millionths = np.rint(scores * 1e6)
        if float(np.abs(scores).max()) <= 1e6 and bool((millionths / 1e6 == scores).all()):
            key = (-millionths).astype(np.int64) * count + np.arange(count)
            keyed: npt.NDArray[np.intp] = eligible[np.argsort(key)]
            return keyed
    ordered: npt.NDArray[np.intp] = eligible[np.argsort(-scores, kind="stable")]
    return ordered


_STR = frozenset({str})


def _kept_value(value: Any) -> Hashable:
    """A request value as part of a key: its type with it (1, 1.0 and True are equal keys), a list or mapping as a
    tuple of its parts."""
    if type(value) is list:
        if set(map(type, value)) <= _STR:  # the commonest list (codes, ids, kinds): its strings as they are
            return (list, str, tuple(value))
        return (list, tuple(_kept_value(v) for v in value))
    if type(value) is dict:
        return (dict, tuple((k, _kept_value(v)) for k, v in value.items()))
    return (type(value), value)


@lru_cache(maxsize=256)
def _stated_weights(weights: tuple[tuple[str, float], ...]) -> tuple[dict[str, float], bytes]:
    """The weights as an answer states them (rounded), and as :meth:`Decision.digest` hashes them (JSON, keys
    sorted), kept: most answers use a profile's (read, never changed)."""
    stated = {c: _round(w) for c, w in weights}
    return stated, json.dumps(stated, sort_keys=True).encode()


class Engine:
    """Holds the loaded catalogue and rules with their per-model features; answers requests."""

    def __init__(
        self,
        catalogue: Catalogue,
        rules: RuleSet,
        catalogue_version: str,
        rules_version: str,
        fit_store: FitStore | None = None,
    ) -> None:
        """``fit_store`` keeps the fitted capability model between processes (see :class:`FitStore`)."""
        self.catalogue = catalogue
        self.rules = rules
        self.catalogue_version = catalogue_version
        self.rules_version = rules_version
        self.features: Features = compile_features(catalogue, rules)
        self.compliance = ComplianceFeatures(catalogue, rules, self.features)
        self.criteria: dict[str, CriterionModule] = build_criteria(
            catalogue, rules, self.features, self.compliance, fit_store
        )
        self._rules = [rules.eligibility[rule_id] for rule_id in sorted(rules.eligibility)]
        self._applied = RuleSelector(self._rules)
        self.texts = _ModelTexts(self.features, rules)
        #: Every catalogue column as the rules read it (field -> values, known, numeric); a request adds its own.
        self._columns: dict[str, tuple[npt.NDArray[Any], BoolArray, bool]] = {
            name: (col.values, col.known, col.numeric) for name, col in self.features.columns.items()
        }
        #: Verdicts of the rules whose checks read only catalogue columns, by rule and the request values the checks
        #: compare with (none for literal values): the same for every request with those values (read-only).
        self._verdicts: Kept[tuple[str, tuple[Hashable, ...]], tuple[BoolArray, BoolArray]] = Kept(
            "engine.verdicts", 512
        )
        #: Per rule whose every check reads a catalogue column: the columns it reads (its verdict is kept unless a
        #: request replaces one of them) and the request fields its checks compare with.
        self._catalogue_checks: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
            rule.id: (fields, tuple(check.ref for check in rule.checks if check.ref is not None))
            for rule in self._rules
            if (fields := frozenset(check.field for check in rule.checks)) <= self._columns.keys()
        }
        #: The decision id's canonical JSON before the date (hashed) and after the requirements (see _decision_id).
        self._id_head = hashlib.sha256(f'{{"catalogue":{_CANONICAL.encode(catalogue_version)},"evaluated_on":'.encode())
        self._id_tail = f',"rules":{_CANONICAL.encode(rules_version)}}}'
        #: Each rule as a decision's digest names it (see :meth:`Decision.digest`).
        self._rule_heads = {rule.id: f"|{rule.id} v{rule.version}|".encode() for rule in self._rules}
        #: A named profile's name and weights, by (profile asked, reasoning preferred, EU AI Act): at most four per
        #: profile of the rules (read, never changed).
        self._profile_weights: dict[tuple[str | None, bool, bool], tuple[str, dict[str, float]]] = {}
        #: The scores of the criteria that are the same for every request, once computed.
        self._fixed_scores: dict[str, Scores] = {}
        f = self.features
        self._fit_basis = FitBasis(f.architecture, f.total_b, f.active_b, rules.hardware)

    # ----------------------------------------------------------------------------------- requests
    def _weights(self, req: Requirements) -> tuple[str, dict[str, float]]:
        """The profile's name and the normalised weight of every criterion (read, never changed: a named profile's
        are kept, per profile and what the request adds to them)."""
        if req.weights is None:
            key = (req.profile, req.reasoning == "preferred", req.compliance.eu_ai_act)
            found = self._profile_weights.get(key)
            if found is None:
                # Bounded: a profile that does not exist is refused before anything is kept.
                found = self._profile_weights[key] = self._weigh(req)
            return found
        return self._weigh(req)

    def _weigh(self, req: Requirements) -> tuple[str, dict[str, float]]:
        raw: dict[str, float]
        if req.weights is not None:
            profile = "custom"
            raw = {str(k): v for k, v in req.weights.items()}
        else:
            profile = req.profile or self.rules.policy.default_profile
            if profile not in self.rules.profiles:
                raise RequirementError(
                    "profile", f"unknown profile {profile!r}; known: {', '.join(sorted(self.rules.profiles))}"
                )
            raw = {str(k): v for k, v in self.rules.profiles[profile].weights.items()}
        if req.reasoning == "preferred" and "reasoning" not in raw:
            raw["reasoning"] = self.rules.policy.preferred_reasoning_weight
        if req.compliance.eu_ai_act and "eu_ai_act" not in raw:
            # A deployer subject to the EU AI Act weighs the provider's readiness unless it chose a weight itself.
            raw["eu_ai_act"] = self.rules.regulatory.eu_ai_act.criterion_weight
        total = sum(raw.values())
        return profile, {c: raw.get(c, 0.0) / total for c in CRITERIA}

    def _check_ids(self, req: Requirements) -> None:
        for i, licence_id in enumerate(req.ip.allowed_licences or []):
            if licence_id not in self.rules.licences:
                raise RequirementError(
                    f"ip.allowed_licences[{i}]",
                    f"unknown licence id {licence_id!r}; see GET /v1/licences",
                )
        if req.hardware.gpu is not None and req.hardware.gpu not in self.rules.gpus:
            raise RequirementError(
                "hardware.gpu", f"unknown GPU profile {req.hardware.gpu!r}; known: {', '.join(sorted(self.rules.gpus))}"
            )
        for i, model_id in enumerate(req.explain):
            if model_id not in self.features.index:
                raise RequirementError(f"explain[{i}]", f"unknown model id {model_id!r}; see GET /v1/models")
        if req.limit > self.rules.policy.max_limit:
            raise RequirementError("limit", f"must be at most {self.rules.policy.max_limit}")

    def _fit_plan(self, req: Requirements) -> FitPlan:
        """Memory, GPUs and decode bound of every model for the request's hardware and workload."""
        hw = self.rules.hardware
        gpu = self.rules.gpus[req.hardware.gpu] if req.hardware.gpu else None
        size = gpu.memory_gb.value if gpu is not None else req.hardware.gpu_memory_gb or hw.reference_gpu_memory_gb
        defaulted = ("tokens_per_request",) if req.workload.tokens_per_request is None else ()
        workload = ResolvedWorkload(
            req.workload.concurrent_requests,
            req.workload.tokens_per_request or hw.default_tokens_per_request,
            req.workload.output_tokens_per_second,
            defaulted,
        )
        f = self.features
        return plan_fit(
            f.models,
            f.architecture,
            f.total_b,
            f.active_b,
            precision=req.hardware.precision,
            fine_tuning=req.customisation.fine_tuning,
            gpu=gpu,
            gpu_memory_gb=size,
            workload=workload,
            policy=hw,
            basis=self._fit_basis,
        )

    def _criteria_matrix(
        self, view: RequestView
    ) -> tuple[dict[str, FloatArray], dict[str, BoolArray], dict[str, FloatArray]]:
        """Every criterion's values, known masks and standard deviations for every model."""
        values: dict[str, FloatArray] = {}
        known: dict[str, BoolArray] = {}
        uncertainty: dict[str, FloatArray] = {}
        for name, module in self.criteria.items():
            scores = self._fixed_scores.get(name)
            if scores is None:
                scores = module.scores(view)
                if module.scores_fixed:  # kept (its arrays are read, never changed)
                    scores.uncertainty.setflags(write=False)
                    self._fixed_scores[name] = scores
            values[name], known[name], uncertainty[name] = scores.value, scores.known, scores.uncertainty
        return values, known, uncertainty

    def criterion_values(self, requirements: Requirements, evaluated_on: dt.date) -> dict[str, FloatArray]:
        """Every criterion's 0-1 value for every model (aligned with ``features.ids``) under ``requirements``."""
        req = requirements.normalised()
        plan = self._fit_plan(req)
        view = RequestView(
            requirements=req, evaluated_on=evaluated_on, memory_gb=plan.memory_gb, precision=plan.precision
        )
        values, _, _ = self._criteria_matrix(view)
        return values

    def decide(self, requirements: Requirements, evaluated_on: dt.date, *, every_criterion: bool = False) -> Decision:
        """Decide ``requirements`` as of ``evaluated_on`` (which dates staleness): the per-request core only.

        Eligibility (every rule's verdict masks), the criteria matrix, scores, the order and the trade-off
        analysis; no model is explained yet (:class:`Decision` builds explanations for what a response returns).
        ``every_criterion`` (used by :meth:`compare`) lists every criterion in each assessment, weighted or not,
        and scores excluded models too.
        """
        req = requirements.normalised()
        self._check_ids(req)
        profile, weights = self._weights(req)
        f = self.features
        n = len(f.ids)
        request = req.model_dump(mode="json")
        decision_id = self._decision_id(request, evaluated_on)  # before the request is filled in below
        plan = self._fit_plan(req)
        memory, gpus, gpu_size = plan.memory_gb, plan.gpus_needed, plan.gpu_memory_gb
        if plan.gpu is not None:
            # Rules read the GPU size from the request; a named GPU profile supplies it.
            request["hardware"]["gpu_memory_gb"] = plan.gpu_memory_gb
        columns = dict(self._columns)
        memory_known = f.columns["model.parameters_total_b"].known
        columns["fit.memory_gb"] = (memory, memory_known, True)
        columns["fit.gpus_needed"] = (gpus, memory_known, True)
        regulatory = self.compliance.for_request(req, evaluated_on)
        columns.update(regulatory.columns)
        replaced = {"fit.memory_gb", "fit.gpus_needed", *regulatory.columns}  # the columns this request sets
        if req.privacy.hosting_countries:
            # A model is judged once one of its providers is recorded in an allowed country, even if the country
            # of another of its providers is not recorded.
            hosting = f.columns["offers.hosting_countries"]
            allowed = set(req.privacy.hosting_countries)
            served = np.fromiter((bool(allowed & v) for v in hosting.values), dtype=bool, count=n)
            columns["offers.hosting_countries"] = (hosting.values, hosting.known | served, False)
            replaced.add("offers.hosting_countries")

        applied = self._applied(request)
        verdicts = {rule.id: self._verdict(rule, columns, request, replaced) for rule in applied}
        excluded_mask = np.zeros(n, dtype=bool)
        for failed, unknown in verdicts.values():
            excluded_mask |= failed | unknown

        view = RequestView(requirements=req, evaluated_on=evaluated_on, memory_gb=memory, precision=plan.precision)
        values, known, uncertainty = self._criteria_matrix(view)
        score = np.zeros(n)
        for criterion, weight in weights.items():
            if weight:
                score += weight * values[criterion]
        raw, score = score, np.round(score, 6)
        eligible = (~excluded_mask).nonzero()[0]
        # Best score first, ties by model id: the features list models sorted by id, so by index.
        order = _best_first(eligible, score)

        context = _Context(
            self,
            req,
            request,
            weights,
            profile,
            values,
            known,
            uncertainty,
            view,
            memory,
            gpus,
            gpu_size,
            applied,
            verdicts,
            evaluated_on,
            regulatory,
        )
        context.every_criterion = every_criterion
        context.plan = plan
        weighed = weigh(f.ids, values, weights, order, req.limit, base=raw[order])
        return Decision(context, score, order, excluded_mask, weighed, decision_id)

    def _verdict(
        self,
        rule: EligibilityRule,
        columns: Mapping[str, tuple[npt.NDArray[Any], BoolArray, bool]],
        request: Any,
        replaced: set[str],
    ) -> tuple[BoolArray, BoolArray]:
        """The rule's (failed, unknown) masks; kept when every check reads a catalogue column, as loaded (not one of
        the ``replaced`` columns): the verdict is then the same for every request that gives the values its checks
        compare with (a literal value, or the request's value of a field, kept by type and value)."""
        reads = self._catalogue_checks.get(rule.id)
        if reads is None or not replaced.isdisjoint(reads[0]):
            return evaluate_checks(rule, columns, request)
        refs = reads[1]
        key = (rule.id, tuple(_kept_value(request_value(request, ref)) for ref in refs) if refs else ())
        kept = self._verdicts.get(key)
        if kept is None:
            verdict = evaluate_checks(rule, columns, request)
            for mask in verdict:
                mask.setflags(write=False)  # shared by the decisions of every such request
            kept = self._verdicts.put(key, verdict)
        return kept

    def recommend(self, requirements: Requirements, evaluated_on: dt.date, *, every_criterion: bool = False) -> Answer:
        """The whole decision on ``requirements`` as of ``evaluated_on``, every returned model explained and
        every exclusion listed with its reasons (:meth:`decide`, then :meth:`Decision.answer`)."""
        return self.decide(requirements, evaluated_on, every_criterion=every_criterion).answer()

    def compare(self, model_ids: list[str], requirements: Requirements, evaluated_on: dt.date) -> Comparison:
        """``model_ids`` side by side under ``requirements``: every criterion, every rule, and what each fails.

        Runs :meth:`recommend` with the models as ``explain``, so the figures are exactly those a
        recommendation would show (ranks and scores among the eligible models; null when excluded).
        """
        for i, model_id in enumerate(model_ids):
            if model_id not in self.features.index:
                raise RequirementError(f"models[{i}]", f"unknown model id {model_id!r}; see GET /v1/models")
        req = requirements.normalised().model_copy(update={"explain": sorted(set(model_ids))})
        answer = self.recommend(req, evaluated_on, every_criterion=True)
        by_id = {a.model_id: a for a in answer.explained}
        trade = answer.tradeoffs.sensitivity
        return Comparison(
            catalogue_version=answer.catalogue_version,
            rules_version=answer.rules_version,
            evaluated_on=answer.evaluated_on,
            requirements=answer.requirements,
            profile=answer.profile,
            weights=answer.weights,
            criteria=list(answer.weights),
            models=[
                ComparedModel(**dict(by_id[m]), fails=[r for r in by_id[m].rules if r.outcome != "passed"])
                for m in model_ids
            ],
            # The trade-off statements describe a ranking's robustness, not this comparison.
            method=[m for m in answer.method if m not in (answer.tradeoffs.pareto.method, trade.method)],
        )

    def decision_id(self, requirements: Requirements, evaluated_on: dt.date) -> str:
        """Content-derived id: the same request on the same catalogue, rules and date gives the same id."""
        return self._decision_id(requirements.normalised().model_dump(mode="json"), evaluated_on)

    def _decision_id(self, requirements: Mapping[str, Any], evaluated_on: dt.date) -> str:
        """The id of the normalised ``requirements`` (as JSON values) on ``evaluated_on``: a digest of the
        canonical JSON (keys sorted, no spaces) of ``{"catalogue", "evaluated_on", "requirements", "rules"}``."""
        h = self._id_head.copy()  # '{"catalogue":<version>,"evaluated_on":' hashed once per engine
        encode = _CANONICAL.encode
        h.update(f'"{evaluated_on.isoformat()}","requirements":{encode(requirements)}{self._id_tail}'.encode())
        return "rec_" + h.hexdigest()[:32]


class Decision:
    """One request decided by :meth:`Engine.decide`: eligibility, scores, order and the trade-offs' weight-only
    figures, computed whole (the evidence pass of the sensitivity analysis runs when :attr:`tradeoffs` is read).

    Explanations (each model's reasons with evidence, obligations, fit and caveats; each exclusion's failing
    rules with evidence) are built only for what a response returns, and each at most once: :meth:`answer` (the
    whole decision, every exclusion listed), :meth:`full` and :meth:`summary` (the two API details, listing
    the excluded models the request asks for), :meth:`by_rule` (exclusions counted from the rules' verdicts,
    no model explained) and :meth:`digest` (what a decision record fixes at once).
    """

    __slots__ = (
        "_answers",
        "_context",
        "_excluded",
        "_score",
        "_tradeoffs",
        "_weighed",
        "_weights",
        "_weights_json",
        "eligible_count",
        "id",
        "order",
    )

    def __init__(
        self,
        context: _Context,
        score: FloatArray,
        order: npt.NDArray[np.intp],
        excluded: BoolArray,
        weighed: Weighed,
        decision_id: str,
    ) -> None:
        self._context = context
        self._score = score
        self.order = order  #: eligible model indices (into ``features.ids``), best first
        self._excluded = excluded
        self._weighed = weighed  # the trade-offs without the evidence pass (see :attr:`tradeoffs`)
        stated, self._weights_json = _stated_weights(tuple(context.weights.items()))
        self._weights = dict(stated)  # as every answer states them
        self._tradeoffs: Tradeoffs | None = None
        self.id = decision_id
        self.eligible_count = len(order)
        self._answers: dict[str, Answer] = {}

    @property
    def engine(self) -> Engine:
        """The engine that decided."""
        return self._context.engine

    @property
    def requirements(self) -> Requirements:
        """The normalised requirements decided on."""
        return self._context.req

    @property
    def evaluated_on(self) -> dt.date:
        """The date decided on (which dates staleness)."""
        return self._context.evaluated_on

    @property
    def profile(self) -> str:
        """The weight profile's name (``custom`` for the request's own weights)."""
        return self._context.profile

    @property
    def tradeoffs(self) -> Tradeoffs:
        """The whole trade-off analysis, its evidence pass run on first use (a summary does not need it)."""
        if self._tradeoffs is None:
            self._tradeoffs = self._weighed.complete(self._context.uncertainty)
        return self._tradeoffs

    @property
    def excluded_count(self) -> int:
        """How many models the eligibility rules exclude."""
        return int(np.count_nonzero(self._excluded))

    def top_models(self) -> list[str]:
        """The recommended model ids, best first."""
        ids = self._context.f.ids
        return [ids[i] for i in self.order[: self._context.req.limit].tolist()]

    def by_rule(self) -> list[RuleCount]:
        """Excluded models per failing or unknown rule, by rule id, counted from the verdict masks.

        The same counts as :func:`~service.domain.citing.count_exclusions` over every listed exclusion (a model
        failing two rules counts for both; ``unknown`` when the rule lacks a fact it needs and does not fail it).
        """
        context = self._context
        counts = []
        for rule in sorted(context.applied, key=lambda r: r.id):
            failed, unknown = context.verdicts[rule.id]
            count = int(np.count_nonzero(failed | unknown))
            if count:
                counts.append(
                    trusted(
                        RuleCount,
                        rule_id=rule.id,
                        rule_version=rule.version,
                        requirement=rule.requirement,
                        description=rule.description,
                        count=count,
                        unknown=int(np.count_nonzero(unknown & ~failed)),
                    )
                )
        return counts

    def _exclusions(self, exclusions: Exclusions) -> list[Exclusion]:
        """The excluded models an answer lists (all, or the first :data:`EXCLUSIONS_LISTED` by id)."""
        context = self._context
        ids = context.f.ids
        return [
            Exclusion.model_construct(model_id=ids[i], reasons=context.failures(i)) for i in self._listed(exclusions)
        ]

    def _listed(self, exclusions: Exclusions) -> list[int]:
        """The indices of the excluded models an answer lists, by model id."""
        excluded = np.flatnonzero(self._excluded)  # by index, so by model id
        if exclusions != "all":
            excluded = excluded[:EXCLUSIONS_LISTED]
        listed: list[int] = excluded.tolist()
        return listed

    def _answer(self, exclusions: Exclusions) -> Answer:
        """The decision explained, listing the excluded models ``exclusions`` names (built once per choice)."""
        found = self._answers.get(exclusions)
        if found is not None:
            return found
        other = self._answers.get("all" if exclusions != "all" else "by_rule")
        context = self._context
        if other is not None:
            recommendations, explained = other.recommendations, other.explained
        else:
            recommendations, explained = self._returned(context.assess)
        found = self._answers[exclusions] = self._whole(recommendations, self._exclusions(exclusions), explained)
        return found

    def _whole(
        self, recommendations: list[Assessment], excluded: list[Exclusion], explained: list[Assessment]
    ) -> Answer:
        """The decision's answer with these models explained and these exclusions listed."""
        context = self._context
        tradeoffs = self.tradeoffs
        return Answer.model_construct(
            id=self.id,
            catalogue_version=self.engine.catalogue_version,
            rules_version=self.engine.rules_version,
            evaluated_on=context.evaluated_on,
            requirements=context.req,
            profile=context.profile,
            weights=self._weights,
            eligible_count=self.eligible_count,
            recommendations=recommendations,
            excluded=excluded,
            explained=explained,
            tradeoffs=tradeoffs,
            method=[*context.method(), tradeoffs.pareto.method, tradeoffs.sensitivity.method],
            disclaimer=DISCLAIMER,
        )

    def _returned(
        self,
        build: Callable[[int, Literal["recommended", "eligible", "excluded"], int | None, float | None], _T],
        build_explained: Callable[[int, Literal["recommended", "eligible", "excluded"], int | None, float | None], _T]
        | None = None,
    ) -> tuple[list[_T], list[_T]]:
        """The recommended and then the explained models, each built by ``build(i, status, rank, score)`` (the
        explained ones by ``build_explained`` when given)."""
        context = self._context
        req = context.req
        score = self._score
        recommendations = [
            build(i, "recommended", r + 1, float(score[i])) for r, i in enumerate(self.order[: req.limit].tolist())
        ]
        explained: list[_T] = []
        if not req.explain:
            return recommendations, explained
        ranks = np.zeros(len(self._score), dtype=np.int64)
        ranks[self.order] = np.arange(1, len(self.order) + 1)
        build = build_explained or build
        for model_id in req.explain:
            i = context.f.index[model_id]
            if self._excluded[i]:
                explained.append(build(i, "excluded", None, None))
            else:
                rank = int(ranks[i])
                status: Literal["recommended", "eligible"] = "recommended" if rank <= req.limit else "eligible"
                explained.append(build(i, status, rank, float(score[i])))
        return recommendations, explained

    def answer(self) -> Answer:
        """The whole decision: every returned model explained, every excluded model listed with its reasons."""
        return self._answer("all")

    def full(self, exclusions: Exclusions = "all") -> FullAnswer:
        """The ``full`` detail, evidence cited by id; with ``exclusions="all"``, the stored decision.

        The same as citing the whole answer (:func:`~service.domain.citing.cite` of :meth:`answer`), built without
        it: each returned model is explained straight into its cited form (:meth:`_Context.assess_cited`).
        """
        listed = "all" if exclusions == "all" or self.excluded_count <= EXCLUSIONS_LISTED else exclusions
        answer = self._answers.get(listed)
        if answer is not None:  # explained already
            return cite(answer, self.by_rule(), "all", excluded_count=self.excluded_count)
        context = self._context
        table = EvidenceTable()
        duties: dict[str, list[CitedObligation]] = {}
        returned, returned_explained = self._returned(lambda i, status, rank, score: (i, status, rank, score))
        recommendations = [context.assess_cited(*args, table, duties) for args in returned]
        ids = context.f.ids
        excluded = [
            cite_exclusion(ids[i], [(e.outcome, e.kept) for e in context._outcomes(i, only_failures=True)], table)
            for i in self._listed(listed)
        ]
        explained = [context.assess_cited(*args, table, duties) for args in returned_explained]
        return assemble(
            self._whole([], [], []), recommendations, excluded, explained, table, self.by_rule(), self.excluded_count
        )

    def full_bytes(self, exclusions: Exclusions = "all") -> bytes:
        """:meth:`full` as JSON bytes (:func:`~service.domain.citing.dump_full_bytes` of it), written without building
        it: each returned model is written straight to its bytes (:meth:`_Context.write_cited`)."""
        listed = "all" if exclusions == "all" or self.excluded_count <= EXCLUSIONS_LISTED else exclusions
        if listed in self._answers:  # explained already
            return dump_full_bytes(self.full(exclusions))
        context = self._context
        table = EvidenceTable()
        duties: dict[str, bytes] = {}
        returned, returned_explained = self._returned(lambda i, status, rank, score: (i, status, rank, score))
        recommendations = [context.write_cited(*args, table, duties) for args in returned]
        ids = context.f.ids
        kept_outcomes = context._kept_rules
        excluded = [
            exclusion_json(
                ids[i],
                [
                    outcome_json(
                        e.outcome, table, e.kept, kept_outcomes.get((e.outcome.rule_id, e.outcome.outcome), False)
                    )
                    for e in context._outcomes(i, only_failures=True)
                ],
            )
            for i in self._listed(listed)
        ]
        explained = [context.write_cited(*args, table, duties) for args in returned_explained]
        head = assemble(self._whole([], [], []), [], [], [], EvidenceTable(), self.by_rule(), self.excluded_count)
        return full_json(head, recommendations, excluded, explained, table)

    def summary(self, exclusions: Exclusions = "by_rule") -> AnswerSummary:
        """The ``summary`` detail (:mod:`service.domain.summary`): the same summary as of the whole answer, built
        from the decision's arrays without explaining a model whole: the returned models in brief
        (:meth:`_Context.briefed`), the listed exclusions from the rules' verdict masks."""
        self._prepare_briefs()
        return with_citations(lambda cited: self._summary(exclusions, cited))

    def _prepare_briefs(self) -> None:
        context = self._context
        req = context.req
        context.prepare_briefs(
            [*self.order[: req.limit].tolist(), *(context.f.index[model_id] for model_id in req.explain)]
        )

    def _summary(self, exclusions: Exclusions, cited: Citations) -> AnswerSummary:
        """:meth:`summary`, its evidence cited in ``cited``."""
        obligations: dict[str, list[ObligationSummary]] = {}
        recommendations, explained = self._briefs(cited, obligations, _Context.brief)
        listed, sources = cited.listed()
        return self._summary_of(exclusions, recommendations, explained, listed, sources, obligations)

    def summary_bytes(self, exclusions: Exclusions = "by_rule") -> bytes:
        """:meth:`summary` as JSON bytes, serialised with ``exclude_none`` as the API sends it, written without
        building it: each returned model is written straight to its bytes (:meth:`_Context.brief_json`), and each
        listed fact from its kept JSON. When two facts it cites share a short id, the summary is built (citing
        them one by one, see :class:`~service.domain.summary.Citations`) and serialised."""
        self._prepare_briefs()
        cited = Citations()
        obligations: dict[str, list[ObligationSummary]] = {}
        recommendations, explained = self._briefs(cited, obligations, _Context.brief_json)
        try:
            listed, sources = cited.listed_json()
        except ShortIdClashError:
            summary = with_citations(lambda cited: self._summary(exclusions, cited))
            data: bytes = summary.__pydantic_serializer__.to_json(summary, exclude_none=True)
            return data
        context, weighed = self._context, self._weighed
        recommended = self.top_models()
        return summary_json(
            {
                "id": self.id,
                "detail": "summary",
                "catalogue_version": self.engine.catalogue_version,
                "rules_version": self.engine.rules_version,
                "evaluated_on": context.evaluated_on,
                "profile": context.profile,
                "weights": {c: w for c, w in self._weights.items() if w},
                "eligible_count": self.eligible_count,
            },
            recommendations,
            self.excluded_count,
            self.by_rule(),
            [
                exclusion_summary_json(model_id, reasons)
                for model_id, reasons in self._excluded_reasons(exclusions, _written_reason)
            ],
            explained,
            listed,
            sources,
            obligations,
            tradeoff_summary(
                len(weighed.front_ids),
                recommended,
                weighed.front_ids,
                weighed.leader,
                weighed.first_share(weighed.leader) if weighed.leader is not None else None,
            ),
        )

    def _briefs(
        self,
        cited: Citations,
        obligations: dict[str, list[ObligationSummary]],
        finish: Callable[[_Brief], _T],
    ) -> tuple[list[_T], list[_T]]:
        """The recommended and then the explained models in brief (:meth:`_Context.briefed`, citing in ``cited``,
        their duties added to ``obligations``), each finished by ``finish`` (built or written)."""
        context = self._context
        return self._returned(
            lambda i, status, rank, score: finish(context.briefed(i, status, rank, score, cited, obligations)),
            lambda i, status, rank, score: finish(
                context.briefed(i, status, rank, score, cited, obligations, explained=True)
            ),
        )

    def _summary_of(
        self,
        exclusions: Exclusions,
        recommendations: list[ModelSummary],
        explained: list[ModelSummary],
        evidence: list[EvidenceSummary],
        sources: dict[str, str],
        obligations: dict[str, list[ObligationSummary]],
    ) -> AnswerSummary:
        """The summary with these models, evidence and duties (and the recommended models named on the front)."""
        context, weighed = self._context, self._weighed
        return answer_summary(
            id=self.id,
            catalogue_version=self.engine.catalogue_version,
            rules_version=self.engine.rules_version,
            evaluated_on=context.evaluated_on,
            profile=context.profile,
            weights=self._weights,
            eligible_count=self.eligible_count,
            by_rule=self.by_rule(),
            excluded_count=self.excluded_count,
            recommendations=recommendations,
            recommended=self.top_models(),
            excluded=self._listed_exclusions(exclusions),
            explained=explained,
            evidence=evidence,
            sources=sources,
            obligations=obligations,
            front_size=len(weighed.front_ids),
            front=weighed.front_ids,
            leader=weighed.leader,
            leader_share=weighed.first_share(weighed.leader) if weighed.leader is not None else None,
            disclaimer=DISCLAIMER,
        )

    def _listed_exclusions(self, exclusions: Exclusions) -> list[ExclusionSummary]:
        """The excluded models a summary lists, each with its failing or unknown rules, from the verdict masks."""
        return [
            exclusion_summary(model_id, reasons)
            for model_id, reasons in self._excluded_reasons(exclusions, exclusion_reason)
        ]

    def _excluded_reasons(self, exclusions: Exclusions, reason: Callable[[str, str], _T]) -> list[tuple[str, list[_T]]]:
        """The excluded models a summary lists, each with its failing or unknown rules (each ``reason(rule id,
        outcome)``, made once per rule and outcome), from the verdict masks."""
        excluded = np.flatnonzero(self._excluded)  # by index, so by model id
        if exclusions != "all":
            excluded = excluded[:EXCLUSIONS_LISTED]
        context = self._context
        columns = []
        for rule in context.applied:  # the order in which an exclusion lists its reasons
            failed, unknown = context.verdicts[rule.id]
            columns.append(
                (
                    reason(rule.id, "failed"),
                    reason(rule.id, "unknown"),
                    failed[excluded].tolist(),
                    unknown[excluded].tolist(),
                )
            )
        ids = context.f.ids
        listed = []
        for n, i in enumerate(excluded.tolist()):
            reasons = [
                failed_text if failed[n] else unknown_text
                for failed_text, unknown_text, failed, unknown in columns
                if failed[n] or unknown[n]
            ]
            listed.append((ids[i], reasons))
        return listed

    def digest(self) -> str:
        """``sha256:`` and a SHA-256 over what was decided, without explaining any model.

        Covers the decision id (requirements, catalogue and rules versions, date), the weights, the order of
        the eligible models (catalogue indices, which the catalogue version fixes) with their scores, each
        applied rule's id, version and failed and unknown masks, and the trade-offs' weight-only figures (Pareto
        front, sensitivity to the weights; :meth:`Weighed.canonical`; not the evidence pass). A decision record
        stores it when the decision is made; a rebuilt decision must have it (docs/records.md).
        """
        context = self._context
        # One SHA-256 over the parts in turn (the same digest as hashing them one update at a time).
        parts = [
            self.id.encode(),
            self._weights_json,
            self.order.astype("<i8").tobytes(),
            self._score[self.order].astype("<f8").tobytes(),
        ]
        applied = sorted(context.applied, key=lambda r: r.id)
        if applied:
            # Per rule: its id and version, then its failed and its unknown-but-not-failed mask, each packed to
            # bits (all rules' masks packed at once, row by row: the same bytes as one rule at a time).
            verdicts = context.verdicts
            failed = np.array([verdicts[rule.id][0] for rule in applied])
            unknown = np.array([verdicts[rule.id][1] for rule in applied])
            width = (len(self._score) + 7) // 8
            failed_bits = np.packbits(failed, axis=1).tobytes()
            unknown_bits = np.packbits(unknown & ~failed, axis=1).tobytes()
            heads = self.engine._rule_heads
            for j, rule in enumerate(applied):
                parts += (
                    heads[rule.id],
                    failed_bits[j * width : (j + 1) * width],
                    unknown_bits[j * width : (j + 1) * width],
                )
        parts.append(self._weighed.canonical())
        h = hashlib.sha256(b"".join(parts))
        return "sha256:" + h.hexdigest()


def _written_reason(rule_id: str, outcome: str) -> bytes:
    """How a summary lists a failing or unknown rule of an excluded model, written."""
    return text_json(exclusion_reason(rule_id, outcome))


ObligationKind = Literal["attribution", "naming", "use_restriction", "threshold", "outputs", "unreviewed"]
#: What a model's hardware caveats state (see :meth:`_Context._hardware_findings`), and each one's caveat kind.
HardwareFinding = Literal["formats_unrecorded", "quantised", "quantisation_unknown", "not_native", "cache_estimated"]
_HARDWARE_CAVEAT_KINDS: dict[HardwareFinding, str] = {
    "formats_unrecorded": "missing_data",
    "quantised": "quantisation",
    "quantisation_unknown": "quantisation",
    "not_native": "hardware",
    "cache_estimated": "missing_data",
}
Applies = Literal["always", "at_requested_scale", "if_condition_met"]
#: Message placeholders whose value depends on the request (its own values, its fit, its regulatory questions);
#: every other placeholder is a fact of the model (see :class:`_Display`).
REQUEST_PLACEHOLDERS = ("fit.", "request.", "compliance.")
FIT_PLACEHOLDERS = frozenset(
    {"fit.memory_gb", "fit.gpus_needed", "fit.precision", "fit.gpu_memory_gb", "fit.breakdown", "fit.shortfall"}
)


_T = TypeVar("_T")
#: What writes a placeholder of a message: given the request's context, the model, whether its size is recorded and
#: its fit row (see :meth:`_Context._message`).
_Fill = Callable[["_Context", int, bool, tuple[float, float, float, float, float]], str]
#: The fit row a message without a fit placeholder is written with (not read).
_NO_ROW = (0.0, 0.0, 0.0, 0.0, 0.0)
#: A fact that staleness is checked on: its (fact, source) key, and its caveat when it is stale.
Dated = tuple[tuple[str, str], Caveat | None]
#: A licence's duties under a request as a summary states them: their kinds, each duty, and the kinds as JSON.
_Duties = tuple[list[str], list[ObligationSummary], bytes]
#: A criterion's figures as a summary states them, before rounding: criterion, value, weight, contribution,
#: uncertainty and whether the missing-data policy supplied the value.
_Figures = tuple[str, float, float, float, float, bool]
#: A model in a summary, as :meth:`_Context.briefed` gives it: its fields before its criteria, its stated criteria's
#: figures (the leading ones, then capability if not among them), its licence's duties, its fields after its
#: obligations.
_Brief = tuple[dict[str, Any], list[_Figures], _Duties, dict[str, Any]]
#: What a model's listed criteria add to its caveats (see :meth:`_Context._criteria_caveats`).
CriteriaCaveats = tuple[tuple[str, ...], frozenset[tuple[str, str]], bool]


_A = TypeVar("_A", Assessment, CitedAssessment)


def _assessment(
    cls: type[_A],
    head: dict[str, Any],
    reasons: list[str],
    criteria: list[Any],
    rules: list[Any],
    obligations: list[Any],
    fit: Any,
    caveats: list[Caveat],
    eu_ai_act: Any,
) -> _A:
    """An assessment in either form from its fields before its reasons (``head``, taken over) and its parts."""
    head.update(
        reasons=reasons,
        criteria=criteria,
        rules=rules,
        obligations=obligations,
        fit=fit,
        caveats=caveats,
        eu_ai_act=eu_ai_act,
    )
    return trusted_from(cls, head)


class _Said:
    """A rule's outcome for a model and the reason sentence (and summary line) that state it (written when first
    needed). Its :class:`RuleOutcome` is built when first asked for (a summary reads its parts only)."""

    __slots__ = (
        "_outcome",
        "briefed",
        "evidence",
        "kept",
        "message",
        "missing",
        "reason",
        "rule",
        "stale",
        "summary",
        "verdict",
    )

    def __init__(
        self,
        rule: EligibilityRule,
        verdict: Literal["passed", "failed", "unknown"],
        message: str,
        missing: list[str],
        evidence: list[Evidence],
        kept: bool,
    ) -> None:
        self.rule, self.verdict, self.message, self.missing = rule, verdict, message, missing
        self.evidence = evidence  #: the facts the rule's checks read
        self.kept = kept  #: its evidence is a list the engine keeps
        self._outcome: RuleOutcome | None = None
        self.reason: str | None = None
        self.summary: str | None = None
        #: The date and :meth:`_ModelTexts.staleness` of its evidence on that date, when asked (evidence the engine
        #: keeps only).
        self.stale: tuple[dt.date, tuple[frozenset[tuple[str, str]], frozenset[tuple[str, str]]]] | None = None
        #: The summary's reason line with the ids of its evidence, and that evidence as cited (see
        #: :meth:`_Context.brief`), written when first needed.
        self.briefed: tuple[str, CitedGroup] | None = None

    @property
    def outcome(self) -> RuleOutcome:
        """The outcome as an answer states it (built once; concurrent first uses may build equal ones)."""
        built = self._outcome
        if built is None:
            rule = self.rule
            # Built from validated data only, so validation is skipped: a strict request can exclude thousands.
            built = self._outcome = trusted(
                RuleOutcome,
                rule_id=rule.id,
                rule_version=rule.version,
                requirement=rule.requirement,
                outcome=self.verdict,
                message=self.message,
                missing_facts=self.missing,
                evidence=self.evidence,
            )
        return built

    def line(self) -> str:
        """The outcome as a summary's reason line states it, before its evidence ids."""
        line = self.summary
        if line is None:
            line = self.summary = rule_reason(self.rule.id, self.rule.version, self.verdict, self.message)
        return line

    def sentence(self) -> str:
        """``[rule vN, outcome] message Evidence: facts written out.``"""
        reason = self.reason
        if reason is None:
            cited = citation(self.evidence)
            reason = self.reason = f"[{self.rule.id} v{self.rule.version}, {self.verdict}] {self.message}" + (
                f" Evidence: {cited}." if cited else ""
            )
        return reason


class _ModelTexts:
    """What an answer says of a model whatever the request, built on first use and then kept (an engine's data
    does not change): the model's part of its fit evidence, its KV cache formula, the criteria's explanations
    by what each reads of a request, the rule outcomes whose evidence reads nothing of the request (by the request
    values their sentence names), and which facts of each can go stale. Concurrent requests may both build an
    entry: the same one. The stores that grow with requests (explanations per use-case set, say) are bounded."""

    def __init__(self, features: Features, rules: RuleSet) -> None:
        self.f, self.rules = features, rules
        self._fit_evidence: dict[int, tuple[Evidence, ...]] = {}
        self._kv_formulas: dict[int, str] = {}
        self._fit_evidence_on: Kept[tuple[int, str | None], list[Evidence]] = Kept("engine.fit_evidence")
        #: Explanations by (criterion, what it reads of the request, model).
        self.explanations: Kept[tuple[str, Hashable, int], Explanation] = Kept("engine.explanations")
        #: A model's caveats as written for the full detail, each caveat's JSON in order, by the model and what they
        #: read of a request (see :meth:`_Context.caveats_json`).
        self.caveats_written: Kept[Hashable, tuple[bytes, ...]] = Kept("full.caveats")
        #: Outcomes (with their reason sentence) that read nothing of the request to say them but the request values
        #: their sentence names, by (rule, outcome, model, those values).
        self.outcomes: Kept[tuple[str, str, int, tuple[str, ...]], _Said] = Kept("engine.outcomes")
        #: The facts of a kept group (an explanation's or an outcome's evidence) whose age is checked, by the
        #: group's id (each entry holds its group, so that an id is never one of a newer object).
        self._dated: Kept[tuple[int, dt.date], tuple[Sequence[Evidence], tuple[Dated, ...]]] = Kept("engine.dated")
        #: A stale fact's caveat, by the fact, its source and date and the day judged: one object however many groups
        #: cite the fact (the groups of a request's explanations and outcomes cite the same facts again and again).
        self._stale: Kept[tuple[str, str, dt.date, dt.date], Caveat] = Kept("engine.stale_caveats")
        #: Per kept group: the (fact, source) keys of its facts whose age is checked, and those stale, by the group's
        #: id and date (each entry holds its group).
        self._staleness: Kept[
            tuple[int, dt.date],
            tuple[Sequence[Evidence], tuple[frozenset[tuple[str, str]], frozenset[tuple[str, str]]]],
        ] = Kept("engine.staleness")
        #: Numbers for what a request's criteria read (see :meth:`_Context._criteria_caveats`).
        self.token = Tokens("engine.tokens")
        #: A licence's duties as a summary states them (their kinds, each duty, the kinds written), by the licence
        #: and what they read of a request (the monthly active users, whether outputs train other models).
        self.duties: Kept[tuple[str, int | None, bool | None], _Duties] = Kept("engine.duties")
        #: The facts a summary's leading criterion cites (as cited, see :meth:`_Context.briefed`), by the criterion,
        #: what its evidence reads of a request (its ``evidence_key``), the model and how many facts are cited.
        self.leading_refs: Kept[tuple[str, Hashable, int, int], CitedGroup] = Kept("engine.leading_refs")
        #: What a model's listed criteria add to its caveats, by what that reads (see
        #: :meth:`_Context._criteria_caveats`).
        self.criteria_caveats: Kept[Hashable, CriteriaCaveats] = Kept("engine.criteria_caveats")
        self._hardware_evidence: dict[str | None, tuple[Evidence, ...]] = {}
        self._licence_caveats: dict[str, tuple[Caveat, ...]] = {}
        self._regulatory_keys: frozenset[str] | None = None
        #: Per rule and outcome: the request's own placeholders its sentence names (``request.*``), or None when
        #: it names one of the request's fit or regulatory answers (``fit.*``, ``compliance.*``).
        self.sentence_reads: dict[tuple[str, str], tuple[str, ...] | None] = {}
        for rule_id, rule in rules.eligibility.items():
            for outcome, template in (
                ("failed", rule.message),
                ("unknown", rule.unknown_message),
                ("passed", rule.pass_message),
            ):
                names = placeholders(template)
                self.sentence_reads[rule_id, outcome] = (
                    None
                    if any(name.startswith(("fit.", "compliance.")) for name in names)
                    else tuple(dict.fromkeys(name for name in names if name.startswith(REQUEST_PLACEHOLDERS)))
                )

    def dated(self, group: Sequence[Evidence], kept: bool, today: dt.date) -> tuple[Dated, ...]:
        """The facts of ``group`` whose age is checked, the first of each (fact, source) only, in order, each with
        its caveat when it is stale on ``today`` (``kept``: the group is one the engine keeps, so this is kept too).
        """
        if kept:
            found = self._dated.get((id(group), today))
            if found is not None and found[0] is group:
                return found[1]
        policy = self.rules.policy
        result: list[Dated] = []
        seen: set[tuple[str, str]] = set()
        for item in group:
            fact = item.fact
            # A fact of a published checkpoint or a benchmark result as reported does not go stale.
            if fact in FIXED_FACTS or fact.startswith("benchmark "):
                continue
            key = (fact, item.source)
            if key in seen:
                continue
            seen.add(key)
            limit = (
                policy.signal_max_age_days
                if fact.startswith(SIGNAL_PREFIXES) or fact.startswith("price")
                else policy.fact_max_age_days
            )
            age = (today - item.as_of).days
            stale: Caveat | None = None
            if age > limit:
                said = (fact, item.source, item.as_of, today)
                stale = self._stale.get(said)
                if stale is None:
                    stale = self._stale.put(
                        said,
                        caveat(
                            kind="stale",
                            fact=fact,
                            source=item.source,
                            as_of=item.as_of,
                            message=(
                                f"{fact} is {age} days old (as of {item.as_of.isoformat()}), past the {limit}-day "
                                "threshold; it may be out of date."
                            ),
                        ),
                    )
            result.append((key, stale))
        dated = tuple(result)
        if kept:
            self._dated.put((id(group), today), (group, dated))
        return dated

    def staleness(
        self, group: Sequence[Evidence], kept: bool, today: dt.date
    ) -> tuple[frozenset[tuple[str, str]], frozenset[tuple[str, str]]]:
        """The (fact, source) keys of :meth:`dated` ``group``, and those of them stale on ``today`` (``kept``: as
        :meth:`dated`)."""
        if kept:
            found = self._staleness.get((id(group), today))
            if found is not None and found[0] is group:
                return found[1]
        dated = self.dated(group, kept, today)
        result = (frozenset([key for key, _ in dated]), frozenset([key for key, stale in dated if stale is not None]))
        if kept:
            self._staleness.put((id(group), today), (group, result))
        return result

    def regulatory_keys(self, regulatory: ComplianceRequest) -> frozenset[str]:
        """Every placeholder the regulatory view of a request fills for some model (the keys of
        :meth:`ComplianceRequest.display`: the developers' facts, and the request's own regulatory placeholders,
        named alike for every request), found once."""
        found = self._regulatory_keys
        if found is None:
            count = len(self.f.ids)
            keys = set(regulatory.display(0)) if count else set()
            for i in range(count):
                keys.update(regulatory.cf.organisation_display(i))
            found = self._regulatory_keys = frozenset(keys)
        return found

    def hardware_evidence(self, gpu: Gpu | None) -> tuple[Evidence, ...]:
        """The memory rule and the named GPU's profile as evidence."""
        key = gpu.id if gpu is not None else None
        found = self._hardware_evidence.get(key)
        if found is None:
            hw = self.rules.hardware
            evidence = [
                trusted(
                    Evidence,
                    fact="hardware memory rule",
                    value=(
                        f"weights x bytes per parameter + KV cache x {hw.kv_cache_bytes_per_element:g} bytes per "
                        f"element + {hw.runtime_overhead_fraction:.0%} overhead; at most "
                        f"{hw.usable_memory_fraction:.0%} of each GPU used"
                    ),
                    source=hw.source,
                    as_of=hw.as_of,
                    note=None,
                    source_kind=None,
                    measured_by=None,
                )
            ]
            if gpu is not None:
                for name in ("memory_gb", "memory_bandwidth_gb_s"):
                    evidence.extend(fact_evidence(f"GPU {gpu.id}: {name}", getattr(gpu, name)))
            found = self._hardware_evidence[key] = tuple(evidence)
        return found

    def licence_caveats(self, i: int) -> tuple[Caveat, ...]:
        """Model ``i``'s licence terms that come from secondary sources or were not reviewed, as a caveat."""
        lic = self.f.licences[i]
        found = self._licence_caveats.get(lic.id)
        if found is None:
            found = ()
            if lic.source_kind == "secondary" or lic.use_restrictions is None or lic.outputs_training == "unknown":
                found = (
                    caveat(
                        "unverified_terms",
                        (
                            f"Some terms of {lic.name} come from secondary sources or were not reviewed: "
                            f"{lic.notes or ''}"
                        ).strip(),
                        fact=f"licence {lic.id}",
                        source=lic.source,
                        as_of=lic.as_of,
                    ),
                )
            self._licence_caveats[lic.id] = found
        return found

    def fit_evidence(self, i: int) -> tuple[Evidence, ...]:
        """Size, active parameters, architecture and released formats of model ``i``, as evidence."""
        found = self._fit_evidence.get(i)
        if found is None:
            found = self._fit_evidence[i] = tuple(self._new_fit_evidence(i))
        return found

    def fit_evidence_on(self, i: int, gpu: Gpu | None) -> list[Evidence]:
        """The facts model ``i``'s fit rests on with ``gpu`` (or none named): its own, the memory rule, the GPU's.

        One list per model and GPU, kept: an answer's lists are never changed, so answers may share it."""
        key = (i, gpu.id if gpu is not None else None)
        found = self._fit_evidence_on.get(key)
        if found is None:
            found = self._fit_evidence_on.put(key, [*self.fit_evidence(i), *self.hardware_evidence(gpu)])
        return found

    def kv_cache_formula(self, i: int) -> str:
        """How model ``i``'s KV cache is computed, with its inputs."""
        found = self._kv_formulas.get(i)
        if found is None:
            found = self._kv_formulas[i] = self._kv_formula(i)
        return found

    def _new_fit_evidence(self, i: int) -> list[Evidence]:
        m = self.f.models[i]
        evidence = list(self.f.columns["model.parameters_total_b"].evidence[i])
        evidence.extend(fact_evidence("parameters_active_b", m.parameters_active_b))
        if m.transformer is not None:
            t = m.transformer
            evidence.append(
                trusted(
                    Evidence,
                    fact="transformer",
                    value=_transformer_summary(t),
                    source=t.source,
                    as_of=t.as_of,
                    note=t.note,
                    source_kind=t.source_kind,
                    measured_by=None,
                )
            )
        evidence.extend(fact_evidence("released_formats", m.released_formats))
        return evidence

    def _kv_formula(self, i: int) -> str:
        m = self.f.models[i]
        hw = self.rules.hardware
        t = m.transformer
        if t is None:
            return f"Not computed: the model's architecture is not recorded. {hw.fallback_kv_note}"
        per_layer = (
            f"(kv_lora_rank {t.kv_lora_rank} + qk_rope_head_dim {t.qk_rope_head_dim})"
            if t.attention == "mla"
            else f"2 x {t.kv_heads} KV heads x {t.head_dim} dims"
        )
        text = (
            f"{t.full_attention_layers} full-attention layers x {per_layer} x "
            f"{hw.kv_cache_bytes_per_element:g} bytes x tokens"
        )
        if t.sliding_window_layers:
            text += (
                f" + {t.sliding_window_layers} sliding-window layers x the same per layer x "
                f"min(tokens, {t.sliding_window:,})"
            )
        if t.linear_attention_layers:
            text += f"; {t.linear_attention_layers} linear-attention layers hold a fixed-size state, not counted"
        return text + f" ({t.attention}; {t.source}, as of {t.as_of.isoformat()})."


class _Display:
    """A model's message placeholders, looked up lazily: a rule message names a few of them, and an answer
    formats one message per excluded model and failing rule, so computing all of them per model is waste.

    Precedence is that of one merged dict: ``fit.*``, then the request's regulatory placeholders, then the
    request's own values, then the model's features.
    """

    __slots__ = ("_context", "_i", "_sized")

    def __init__(self, context: _Context, i: int) -> None:
        self._context, self._i = context, i
        self._sized: bool | None = None  #: whether the model's size is recorded (read once)

    def get(self, key: str, default: str, /) -> str:
        context = self._context
        if key in FIT_PLACEHOLDERS:
            sized = self._sized
            if sized is None:
                sized = self._sized = bool(context.f.columns["model.parameters_total_b"].known[self._i])
            return context._fit_display(key, self._i, sized)
        found = context.regulatory.display_value(self._i, key)
        if found is None:
            found = context._request_display().get(key)
        if found is None:
            found = context.f.display[self._i].get(key)
        return default if found is None else found


def _fit_numbers(
    p: FitPlan,
    gpu_count: int | None,
    known: bool,
    precision: str,
    weights_gb: float,
    kv_cache_gb: float,
    memory_gb: float,
    gpus_needed: float,
) -> dict[str, Any]:
    """The figures every form of a model's fit states, in the order they state them, from its values in ``p``
    (``known``: its size is recorded) and the GPUs available."""
    gpus = int(gpus_needed) if known else None
    return {
        "precision": precision,
        "gpu": p.gpu.id if p.gpu else None,
        "weights_gb": _round(float(weights_gb), 1) if known else None,
        "kv_cache_gb": _round(float(kv_cache_gb), 2),
        "memory_gb": _round(float(memory_gb), 1) if known else None,
        "gpu_memory_gb": p.gpu_memory_gb,
        "gpus_needed": gpus,
        "fits": (gpus <= gpu_count) if (gpus is not None and gpu_count is not None) else None,
    }


class _BriefTable:
    """The request's columns for the models a summary returns, read once as lists: per criterion an assessment
    lists, its rounded weight, values, known flags and contributions (value x weight, as an assessment rounds it),
    the rules' verdicts and the fit figures. ``position`` maps a model index to its place in the lists."""

    __slots__ = (
        "_fit",
        "_gpu",
        "_gpu_count",
        "_gpu_memory_gb",
        "_has_gpu",
        "fit_rows",
        "leading",
        "missing",
        "position",
        "rows",
        "stated",
        "verdicts",
    )

    def __init__(self, context: _Context, indices: list[int]) -> None:
        self.position = {i: n for n, i in enumerate(indices)}
        at = np.array(indices, dtype=np.intp)
        #: Per criterion an assessment lists: its name, rounded weight, the models' values, their contributions (as
        #: an assessment rounds them) and their values' uncertainties (rounded only where a summary states them).
        self.rows: list[tuple[str, float, list[float], list[float], list[float]]] = []
        #: The row of the criterion a summary always states (:data:`STATED_CRITERION`), if an assessment lists it.
        self.stated: int | None = None
        known_at = []
        for criterion, weight, rounded_weight, _, _, values, known, uncertainty in context._scored():
            picked = values[at].tolist()
            known_at.append(known[at])
            w = float(weight)
            if criterion == STATED_CRITERION:
                self.stated = len(self.rows)
            # _round(v * w), written out: for a float, round(x, 6) + 0.0 is the same value (0.0 for -0.0).
            self.rows.append(
                (
                    criterion,
                    rounded_weight,
                    picked,
                    [round(v * w, 6) + 0.0 for v in picked],
                    uncertainty[at].tolist(),
                )
            )
        #: Per model: which criteria an assessment lists lack its data, bit ``n`` for the ``n``-th.
        self.missing: list[int] = [0] * len(indices)
        #: Per model: the rows of the (at most three) weighted criteria a summary leads with, by contribution (largest
        #: first) then name: every model's ranking sorted at once.
        self.leading: list[list[int]] = [[] for _ in indices]
        if known_at and indices:
            bits = np.left_shift(1, np.arange(len(known_at), dtype=np.int64))
            self.missing = (bits @ np.logical_not(known_at)).tolist()
            # The weighted rows by name: a stable sort by contribution (largest first) then keeps ties by name, as
            # sorted((-contribution, name)) orders them (the contributions are exact floats, never NaN).
            weighted = sorted([(row[0], n) for n, row in enumerate(self.rows) if row[1] > 0])
            if weighted:
                contributions = np.array([self.rows[n][3] for _, n in weighted], dtype=np.float64)
                order = np.argsort(np.negative(contributions), axis=0, kind="stable")[:3]
                self.leading = np.array([n for _, n in weighted], dtype=np.int64)[order].T.tolist()
        #: Per applied rule (in the order outcomes are listed), whether each model fails it or leaves it unknown, and
        #: per outcome of it that the engine keeps, the request values its sentence names (filled when first found).
        self.verdicts: list[tuple[Any, list[bool], list[bool], dict[str, tuple[str, ...]]]] = []
        for rule in context.applied:
            failed, unknown = context.verdicts[rule.id]
            self.verdicts.append((rule, failed[at].tolist(), unknown[at].tolist(), {}))
        p = context.plan
        self._gpu_count = context.req.hardware.gpu_count
        self._gpu, self._has_gpu, self._gpu_memory_gb = p.gpu.id if p.gpu else None, p.gpu is not None, p.gpu_memory_gb
        # The figures as floats (so rounded as floats, see fit()).
        self._fit = (
            p.known[at].tolist(),
            [p.precision[i] for i in indices],
            p.weights_gb[at].astype(np.float64, copy=False).tolist(),
            p.kv_cache_gb[at].astype(np.float64, copy=False).tolist(),
            p.memory_gb[at].astype(np.float64, copy=False).tolist(),
            p.gpus_needed[at].tolist(),
            p.decode_tps_per_request[at].astype(np.float64, copy=False).tolist(),
        )
        overhead = p.overhead_gb[at].astype(np.float64, copy=False).tolist()
        _, _, weights, kv_cache, memory, gpus, _ = self._fit
        #: Per model index: its memory, GPUs needed, weights, KV cache and overhead (see :meth:`_Context._fit_row`).
        self.fit_rows = {i: (memory[j], gpus[j], weights[j], kv_cache[j], overhead[j]) for j, i in enumerate(indices)}

    def figures(self, n: int, j: int) -> _Figures:
        """Row ``n``'s figures for the ``j``-th model as a summary states them (each as an assessment rounds it:
        for a float, ``round(x, 6) + 0.0`` is :func:`_round`'s)."""
        criterion, weight, column, contributions, spread = self.rows[n]
        missing = self.missing[j] >> n & 1 == 1
        return (criterion, round(column[j], 6) + 0.0, weight, contributions[j], round(spread[j], 6) + 0.0, missing)

    def fit(self, j: int) -> dict[str, Any]:
        """The ``j``-th model's fit figures (:meth:`_Context.fit_figures`) as a summary shows them (a
        :class:`FitSummary`'s fields): the figures of :func:`_fit_numbers`, rounded as it rounds them (a float's
        ``round(x, n) + 0.0`` is :func:`_round`'s)."""
        known, precision, weights, kv_cache, memory, gpus, speed = self._fit
        sized = known[j]
        needed = int(gpus[j]) if sized else None
        count = self._gpu_count
        rate = speed[j]
        return {
            "precision": precision[j],
            "gpu": self._gpu,
            "weights_gb": round(weights[j], 1) + 0.0 if sized else None,
            "kv_cache_gb": round(kv_cache[j], 2) + 0.0,
            "memory_gb": round(memory[j], 1) + 0.0 if sized else None,
            "gpu_memory_gb": self._gpu_memory_gb,
            "gpus_needed": needed,
            "fits": (needed <= count) if (needed is not None and count is not None) else None,
            "tokens_per_second_per_request": (
                round(rate, 1) + 0.0 if sized and self._has_gpu and not math.isnan(rate) else None
            ),
        }


def _display_value(key: str, context: _Context, i: int, sized: bool, row: object, /) -> str:
    """:meth:`_Display.get` of a placeholder that is not the fit's, for model ``i`` (``sized`` and ``row`` are not
    read)."""
    found = context.regulatory.display_value(i, key)
    if found is None:
        found = context._request_display().get(key)
    if found is None:
        found = context.f.display[i].get(key)
    return "unknown" if found is None else found


def _model_value(key: str, context: _Context, i: int, sized: bool, row: object, /) -> str:
    """A placeholder of model ``i``'s own facts (one the regulatory view and the request do not fill)."""
    found = context.f.display[i].get(key)
    return "unknown" if found is None else found


class _Context:
    """Per-request state for building explanations of individual models."""

    plan: FitPlan
    _table: _BriefTable  #: the returned models' columns, read for a summary (see :meth:`prepare_briefs`)

    def __init__(
        self,
        engine: Engine,
        req: Requirements,
        request: Mapping[str, Any],
        weights: dict[str, float],
        profile: str,
        values: dict[str, FloatArray],
        known: dict[str, BoolArray],
        uncertainty: dict[str, FloatArray],
        view: RequestView,
        memory: FloatArray,
        gpus: FloatArray,
        gpu_size: float,
        applied: list[Any],
        verdicts: dict[str, tuple[BoolArray, BoolArray]],
        evaluated_on: dt.date,
        regulatory: ComplianceRequest | None = None,
    ) -> None:
        self.engine, self.req, self.request = engine, req, request
        self.regulatory = regulatory or engine.compliance.for_request(req, evaluated_on)
        self.f = engine.features
        self.weights, self.profile = weights, profile
        self.values, self.known, self.uncertainty, self.view = values, known, uncertainty, view
        self._explanations: dict[tuple[str, int], Explanation] = {}
        self._explanation_keys: dict[str, Hashable | None] = {}
        self._evidence_keys: dict[str, Hashable | None] = {}
        self._kept_rules: dict[tuple[str, str], bool] = {}
        self._sentence_values_read: dict[tuple[str, str], tuple[str, ...]] = {}
        self._assumptions: dict[tuple[bool, bool], list[str]] = {}
        self._allows: dict[tuple[float, str], str] = {}
        #: Per licence: the kinds of its duties and the duties as a summary lists them, under this request.
        self._duties: dict[str, _Duties] = {}
        self.memory, self.gpus, self.gpu_size = memory, gpus, gpu_size
        #: The plan's figures for the models a summary returns, as floats (see :meth:`_fit_row`).
        self._fit_rows: dict[int, tuple[float, float, float, float, float]] = {}
        #: Message templates as :meth:`_message` fills them, by template.
        self._messages: dict[str, tuple[list[str | _Fill], bool]] = {}
        self.applied, self.verdicts = applied, verdicts
        self.evaluated_on = evaluated_on
        self.every_criterion = False

    # -------------------------------------------------------------------------------- rule outcomes
    def _request_display(self) -> dict[str, str]:
        """Request values as message placeholders, computed once per request."""
        cached: dict[str, str] | None = getattr(self, "_request_text", None)
        if cached is not None:
            return cached
        values: dict[str, str] = {}
        for path in (
            "ip.licence_kinds",
            "ip.allowed_licences",
            "ip.monthly_active_users",
            "hardware.precision",
            "hardware.gpu_memory_gb",
            "hardware.gpu_count",
            "min_context_tokens",
            "privacy.excluded_origin_countries",
            "privacy.hosting_countries",
        ):
            node: Any = self.request
            for part in path.split("."):
                node = node.get(part) if isinstance(node, Mapping) else None
            if isinstance(node, list):
                text = ", ".join(str(v) for v in node)
            elif isinstance(node, int | float) and not isinstance(node, bool):
                text = f"{node:,}" if float(node).is_integer() else f"{node:,.1f}"
            else:
                text = str(node)
            values[f"request.{path}"] = text
        self._request_text = values
        return values

    def _display(self, i: int) -> _Display:
        """Message placeholders for model ``i``, each computed only when a message names it."""
        return _Display(self, i)

    def _message(self, template: str, i: int) -> str:
        """``template`` filled from :meth:`_display` of model ``i`` (the same text as ``format_message``), its
        placeholders sorted once per request into those with the same value for every model (written into the
        template's text at once), the fit's, and those read per model."""
        compiled = self._messages.get(template)
        if compiled is None:
            compiled = self._messages[template] = self._compiled(template)
        parts, fitted = compiled
        if len(parts) == 1:
            return str(parts[0])
        if fitted:
            sized, row = bool(self.f.columns["model.parameters_total_b"].known[i]), self._fit_row(i)
        else:
            sized, row = False, _NO_ROW
        return "".join([part if isinstance(part, str) else part(self, i, sized, row) for part in parts])

    def _compiled(self, template: str) -> tuple[list[str | _Fill], bool]:
        """``template`` as :meth:`_message` fills it: its texts and, per placeholder, its value when it is the same
        for every model (joined with the texts) or what writes it for a model (given whether its size is recorded
        and its fit row), and whether any placeholder is the fit's. A placeholder is looked up as :class:`_Display`
        looks it up, and a fit's written as :meth:`_fit_display` writes it."""
        texts, names = template_parts(template)
        regulatory = self.engine.texts.regulatory_keys(self.regulatory)
        request = self._request_display()
        parts: list[str | _Fill] = [texts[0]]
        fitted = False
        for name, text in zip(names, texts[1:], strict=True):
            fill: str | _Fill
            if name in FIT_PLACEHOLDERS:
                fill, fitted = self._fit_fill(name), True
            elif name in regulatory:
                fill = partial(_display_value, name)
            else:
                value = request.get(name)
                fill = value if value is not None else partial(_model_value, name)
            for part in (fill, text):
                last = parts[-1]
                if isinstance(part, str) and isinstance(last, str):
                    parts[-1] = last + part
                else:
                    parts.append(part)
        return parts, fitted

    def _fit_fill(self, key: str) -> str | _Fill:
        """What writes ``fit.*`` placeholder ``key`` for a model, as :meth:`_fit_display` does (its text when it is
        the same for every model)."""
        # None of these holds the context (it is given): a context's stores never lead back to it, so a decision is
        # freed as soon as it is let go.
        p = self.plan
        if key == "fit.memory_gb":
            return lambda context, i, sized, row: f"{row[0]:,.0f}" if sized else "unknown"
        if key == "fit.gpus_needed":
            return lambda context, i, sized, row: f"{int(row[1])}" if sized else "unknown"
        if key == "fit.precision":
            precision = p.precision
            return lambda context, i, sized, row: str(precision[i])
        if key == "fit.gpu_memory_gb":
            return f"{p.gpu_memory_gb:g}"
        if key == "fit.breakdown":
            tuning_name, workload = self.req.customisation.fine_tuning, self._workload_text()

            def breakdown(context: _Context, i: int, sized: bool, row: tuple[float, float, float, float, float]) -> str:
                if not sized:
                    return "unknown"
                memory, _, weights, kv_cache, overhead = row
                tuning = float(memory - weights - kv_cache - overhead)  # as _tuning_gb
                tuning_text = f" + {tuning_name} fine-tuning {tuning:,.1f} GB" if tuning >= 0.05 else ""
                return (
                    f"weights {weights:,.1f} GB + KV cache {kv_cache:,.1f} GB for {workload}{tuning_text} + "
                    f"overhead {overhead:,.1f} GB"
                )

            return breakdown
        return lambda context, i, sized, row: context._fit_display(key, i, sized)

    def _fit_row(self, i: int) -> tuple[float, float, float, float, float]:
        """Model ``i``'s memory, GPUs needed, weights, KV cache and overhead (GB) in the plan, read once per request
        (for the models a summary returns, all at once: :meth:`prepare_briefs`)."""
        found = self._fit_rows.get(i)
        if found is None:
            p = self.plan
            found = self._fit_rows[i] = (
                p.memory_gb[i],
                p.gpus_needed[i],
                p.weights_gb[i],
                p.kv_cache_gb[i],
                p.overhead_gb[i],
            )
        return found

    def _fit_display(self, key: str, i: int, known: bool) -> str:
        """One ``fit.*`` placeholder for model ``i`` (``known``: its size is recorded)."""
        p = self.plan
        if key == "fit.memory_gb":
            return f"{self._fit_row(i)[0]:,.0f}" if known else "unknown"
        if key == "fit.gpus_needed":
            return f"{int(self._fit_row(i)[1])}" if known else "unknown"
        if key == "fit.precision":
            return str(p.precision[i])
        if key == "fit.gpu_memory_gb":
            return f"{p.gpu_memory_gb:g}"
        if key == "fit.breakdown":
            if not known:
                return "unknown"
            # Fine-tuning memory (LoRA adapters and their optimiser state, or full-training state) is what the
            # total holds beyond weights, cache and overhead: named so that the parts add up to the total.
            tuning = self._tuning_gb(i)
            tuning_text = (
                f" + {self.req.customisation.fine_tuning} fine-tuning {tuning:,.1f} GB" if tuning >= 0.05 else ""
            )
            _, _, weights, kv_cache, overhead = self._fit_row(i)
            return (
                f"weights {weights:,.1f} GB + KV cache {kv_cache:,.1f} GB for {self._workload_text()}{tuning_text} + "
                f"overhead {overhead:,.1f} GB"
            )
        return self._shortfall(i) if known else "unknown"  # fit.shortfall

    def _workload_text(self) -> str:
        """The request's workload as a fit's breakdown names it (written once per request)."""
        found: str | None = getattr(self, "_workload", None)
        if found is None:
            workload = self.plan.workload
            found = self._workload = f"{workload.concurrent_requests:,} x {workload.tokens_per_request:,} tokens"
        return found

    def _shortfall(self, i: int) -> str:
        """By how much and for which part a model misses the GPUs available."""
        p = self.plan
        count = self.req.hardware.gpu_count
        if count is None:
            return "no GPU count given"
        usable = count * p.usable_gb_per_gpu
        parts = []
        if p.gpus_for_memory[i] > count:
            parts.append(
                f"memory: {p.memory_gb[i] - usable:,.1f} GB more than the {usable:,.1f} GB usable on {count} GPUs "
                f"(largest part: {self._largest_part(i)})"
            )
        speed = p.gpus_for_throughput[i]
        if not np.isnan(speed) and speed > count:
            parts.append(
                f"speed: {p.workload.output_tokens_per_second:g} tokens/s per request needs {int(speed)} GPUs "
                f"(about {p.decode_tps_per_request[i]:,.1f} tokens/s on {int(p.gpus_for_memory[i])})"
            )
        return "; ".join(parts) or "none"

    def _tuning_gb(self, i: int) -> float:
        """Fine-tuning memory: what the total holds beyond weights, KV cache and overhead (0 without tuning)."""
        memory, _, weights, kv_cache, overhead = self._fit_row(i)
        return float(memory - weights - kv_cache - overhead)

    def _largest_part(self, i: int) -> str:
        p = self.plan
        parts = {"weights": p.weights_gb[i], "KV cache": p.kv_cache_gb[i], "overhead": p.overhead_gb[i]}
        if self._tuning_gb(i) >= 0.05:
            parts[f"{self.req.customisation.fine_tuning} fine-tuning"] = self._tuning_gb(i)
        name = max(parts, key=lambda k: float(parts[k]))
        return f"{name} {parts[name]:,.1f} GB"

    def _fit_evidence(self, i: int) -> list[Evidence]:
        """Facts a model's fit rests on: size, architecture, released formats, the memory rule and GPU (kept)."""
        return self.engine.texts.fit_evidence_on(i, self.plan.gpu)

    def _rule_evidence(self, rule: Any, i: int) -> tuple[list[Evidence], list[str], bool]:
        """The facts ``rule``'s checks read of model ``i``, the facts it lacks, and whether the list is one the
        engine keeps (a rule with a single check of the fit cites the model's kept fit evidence itself)."""
        if (
            len(rule.checks) == 1
            and rule.checks[0].field.startswith("fit.")
            and rule.checks[0].field not in (self.regulatory.columns)
        ):
            absent = ["parameters_total_b"] if self.f.models[i].parameters_total_b is None else []
            return self._fit_evidence(i), absent, True
        evidence: list[Evidence] = []
        missing: list[str] = []
        for check in rule.checks:
            if check.field in self.regulatory.columns:
                found, absent = self.regulatory.evidence(check.field, i)
                evidence.extend(found)
                missing.extend(absent)
                continue
            if check.field.startswith("fit."):
                model = self.f.models[i]
                evidence.extend(self._fit_evidence(i))
                if model.parameters_total_b is None:
                    missing.append("parameters_total_b")
                continue
            column = self.f.columns[check.field]
            evidence.extend(column.evidence[i])
            if check.field == "offers.hosting_countries":
                missing.extend(
                    f"country of provider {o.provider} (providers/{o.provider_id}.toml)"
                    for o in self.f.offers[i]
                    if o.usable and o.country is None
                )
                continue
            if not column.known[i]:
                missing.append(check.field)
        return evidence, missing, False

    def _kept_rule(self, rule: Any, outcome: str) -> bool:
        """Whether ``rule``'s ``outcome`` reads nothing of this request but its verdict and the request's own values
        its sentence names (so the engine keeps it, by those values)."""
        key = (rule.id, outcome)
        found = self._kept_rules.get(key)
        if found is None:
            columns = self.regulatory.columns
            found = self._kept_rules[key] = self.engine.texts.sentence_reads[key] is not None and not any(
                check.field in columns or check.field.startswith("fit.") for check in rule.checks
            )
        return found

    def _sentence_values(self, rule_id: str, outcome: str, display: _Display) -> tuple[str, ...]:
        """The values of the request's own placeholders (``request.*``) that ``rule_id``'s ``outcome`` sentence names:
        the same for every model, so read once per request (from the first model's ``display``)."""
        key = (rule_id, outcome)
        found = self._sentence_values_read.get(key)
        if found is None:
            reads = self.engine.texts.sentence_reads[key] or ()
            found = self._sentence_values_read[key] = tuple([display.get(name, "unknown") for name in reads])
        return found

    def _outcome(self, rule: Any, i: int, outcome: Literal["passed", "failed", "unknown"]) -> _Said:
        """Rule ``rule``'s outcome for model ``i`` and (filled when first asked) its reason sentence."""
        kept: tuple[str, str, int, tuple[str, ...]] | None = None
        if self._kept_rule(rule, outcome):
            values = self._sentence_values_read.get((rule.id, outcome))
            if values is None:
                values = self._sentence_values(rule.id, outcome, self._display(i))
            kept = (rule.id, outcome, i, values)
            found = self.engine.texts.outcomes.get(kept)
            if found is not None:
                return found
        evidence, missing, shared = self._rule_evidence(rule, i)
        if outcome == "failed":
            template = rule.message
        elif outcome == "unknown":
            template = rule.unknown_message + " The model is excluded until the fact is known."
        else:
            template = rule.pass_message
        missing_facts = missing if outcome == "unknown" else []
        entry = _Said(rule, outcome, self._message(template, i), missing_facts, evidence, kept is not None or shared)
        return self.engine.texts.outcomes.put(kept, entry) if kept is not None else entry

    def _outcomes(self, i: int, only_failures: bool = False) -> list[_Said]:
        result = []
        for rule in self.applied:
            failed, unknown = self.verdicts[rule.id]
            outcome: Literal["passed", "failed", "unknown"]
            if failed[i]:
                outcome = "failed"
            elif unknown[i]:
                outcome = "unknown"
            elif only_failures:
                continue
            else:
                outcome = "passed"
            result.append(self._outcome(rule, i, outcome))
        return result

    def outcomes(self, i: int, only_failures: bool = False) -> list[RuleOutcome]:
        """Every applied rule's outcome for model ``i`` (or only the failed and unknown ones), by rule id."""
        return [entry.outcome for entry in self._outcomes(i, only_failures)]

    def failures(self, i: int) -> list[RuleOutcome]:
        """The failed and unknown outcomes: why model ``i`` is excluded."""
        return self.outcomes(i, only_failures=True)

    # ------------------------------------------------------------------------------------ criteria
    def _explain(self, criterion: str, i: int) -> Explanation:
        key = (criterion, i)
        found = self._explanations.get(key)
        if found is None:
            module = self.engine.criteria[criterion]
            if criterion in self._explanation_keys:
                reads = self._explanation_keys[criterion]
            else:
                reads = self._explanation_keys[criterion] = module.explanation_key(self.view)
            if reads is None:
                found = module.explain(self.view, i)
            else:
                kept = self.engine.texts.explanations
                found = kept.get((criterion, reads, i))
                if found is None:
                    found = kept.put((criterion, reads, i), module.explain(self.view, i))
            self._explanations[key] = found
        return found

    def _scored(self) -> list[tuple[str, float, float, int, str, FloatArray, BoolArray, FloatArray]]:
        """Per criterion an assessment lists: name, weight (and rounded), rule version, missing-data note, and the
        request's value, known and uncertainty columns; computed once per request."""
        found: list[tuple[str, float, float, int, str, FloatArray, BoolArray, FloatArray]] | None = getattr(
            self, "_scored_criteria", None
        )
        if found is None:
            specs = self.engine.rules.criteria
            found = self._scored_criteria = [
                (
                    criterion,
                    weight,
                    _round(weight),
                    specs[criterion].version,
                    specs[criterion].missing_note,
                    self.values[criterion],
                    self.known[criterion],
                    self.uncertainty[criterion],
                )
                for criterion in CRITERIA
                if (weight := self.weights[criterion]) or self.every_criterion
            ]
        return found

    def _score(
        self, row: tuple[str, float, float, int, str, FloatArray, BoolArray, FloatArray], i: int
    ) -> CriterionScore:
        fields, explained = self._criterion_fields(row, i)
        fields["evidence"] = explained.evidence  # shared: an answer's lists are never changed
        return trusted_from(CriterionScore, fields)

    def _criterion_fields(
        self, row: tuple[str, float, float, int, str, FloatArray, BoolArray, FloatArray], i: int
    ) -> tuple[dict[str, Any], Explanation]:
        """A criterion's score for model ``i`` (its fields in order, but its evidence) and its explanation."""
        criterion, weight, rounded_weight, version, missing_note, values, known, uncertainty = row
        value = values.item(i)
        missing = not known.item(i)
        explained = self._explain(criterion, i)
        text = explained.text
        if missing:
            text += f". Missing data: {missing_note}"
        return {
            "criterion": criterion,
            "rule_version": version,
            "value": _round(value),
            "weight": rounded_weight,
            "contribution": _round(value * weight),
            "missing_data": missing,
            "uncertainty": _round(uncertainty.item(i)),
            "explanation": text,
            "estimates": list(explained.estimates) if explained.estimates is not None else None,
        }, explained

    def criteria(self, i: int) -> list[CriterionScore]:
        """Each criterion's value, weight and contribution for model ``i`` (criteria with weight 0 omitted)."""
        return [self._score(row, i) for row in self._scored()]

    # ---------------------------------------------------------------------- obligations, fit, caveats
    def obligations(self, i: int) -> list[Obligation]:
        """The licence duties the user takes on, given the requested scale and uses."""
        lic = self.f.licences[i]
        duties: list[Obligation] = []

        def duty(kind: ObligationKind, text: str, applies: Applies) -> None:
            duties.append(
                trusted(
                    Obligation,
                    licence_id=lic.id,
                    kind=kind,
                    duty=text,
                    applies=applies,
                    source=lic.source,
                    as_of=lic.as_of,
                )
            )

        if lic.attribution:
            duty("attribution", lic.attribution, "always")
        if lic.naming_duty:
            duty("naming", lic.naming_duty, "if_condition_met")
        for restriction in lic.use_restrictions or []:
            duty("use_restriction", restriction, "always")
        if lic.use_restrictions is None:
            duty(
                "unreviewed", "The licence's use restrictions were not reviewed; read the licence before use.", "always"
            )
        mau = self.req.ip.monthly_active_users
        for threshold in lic.thresholds:
            at_scale = (
                mau is not None
                and threshold.monthly_active_users is not None
                and mau > threshold.monthly_active_users
                and threshold.applies_to is None
            )
            duty("threshold", threshold.duty, "at_requested_scale" if at_scale else "if_condition_met")
        if self.req.ip.train_on_outputs and lic.outputs_training == "conditional":
            duty("outputs", lic.outputs_clause, "always")
        return duties

    def fit(self, i: int) -> Fit:
        """Weights, KV cache and overhead for the workload, the GPUs they need, headroom and decode speed."""
        fields = self._fit_fields(i)
        fields["evidence"] = self._fit_evidence(i)
        return trusted_from(Fit, fields)

    def _fit_fields(self, i: int) -> dict[str, Any]:
        """:meth:`fit`'s fields in order, but its evidence."""
        m = self.f.models[i]
        hw = self.engine.rules.hardware
        p = self.plan
        tuning = self.req.customisation.fine_tuning
        known = bool(p.known[i])
        precision = p.precision[i]
        allows_key = (p.bytes_per_parameter.item(i), precision)
        allows = self._allows.get(allows_key)
        if allows is None:
            if tuning == "full":
                note = hw.full_fine_tuning_note
            elif tuning == "lora":
                note = hw.lora_overhead_note
            else:
                note = hw.runtime_overhead_note
            allows = self._allows[allows_key] = (
                f"Weights: total parameters x {allows_key[0]:g} bytes ({precision}); every expert of a "
                f"mixture-of-experts model must be in memory. KV cache for {p.workload.concurrent_requests:,} "
                f"request(s) of {p.workload.tokens_per_request:,} tokens. {note} GB = 10^9 bytes."
            )
        figures = self.fit_figures(i)
        gpus = figures.gpus_needed
        usable = p.usable_gb_per_gpu * gpus if gpus is not None else None
        speed = p.gpus_for_throughput[i]
        return {
            "precision": precision,
            "precision_requested": self.req.hardware.precision,
            "fine_tuning": tuning,
            "parameters_total_b": m.parameters_total_b.value if m.parameters_total_b else None,
            "parameters_active_b": m.parameters_active_b.value if m.parameters_active_b else None,
            "gpu": p.gpu.id if p.gpu else None,
            "gpu_name": p.gpu.name if p.gpu else None,
            "concurrent_requests": p.workload.concurrent_requests,
            "tokens_per_request": p.workload.tokens_per_request,
            "output_tokens_per_second": p.workload.output_tokens_per_second,
            "weights_gb": figures.weights_gb,
            "kv_cache_gb": figures.kv_cache_gb,
            "kv_cache_bytes_per_token": _round(float(p.kv_bytes_per_token[i]), 1),
            "kv_cache_formula": self.engine.texts.kv_cache_formula(i),
            "overhead_gb": _round(float(p.overhead_gb[i]), 1) if known else None,
            "memory_gb": figures.memory_gb,
            "gpu_memory_gb": figures.gpu_memory_gb,
            "gpu_memory_assumed": p.gpu is None and self.req.hardware.gpu_memory_gb is None,
            "usable_memory_gb": _round(usable, 1) if usable is not None else None,
            "headroom_gb": _round(usable - float(p.memory_gb[i]), 1) if usable is not None else None,
            "gpus_for_memory": int(p.gpus_for_memory[i]) if known else None,
            "gpus_for_throughput": int(speed) if known and not np.isnan(speed) else None,
            "gpus_needed": gpus,
            "fits": figures.fits,
            "throughput": figures.throughput,
            "allows_for": allows,
            "assumptions": self._fit_assumptions(i),
        }

    def fit_figures(self, i: int) -> FitFigures:
        """The figures of model ``i``'s fit (see :meth:`fit`), before its texts."""
        p = self.plan
        known = bool(p.known[i])
        numbers = _fit_numbers(
            p,
            self.req.hardware.gpu_count,
            known,
            p.precision[i],
            p.weights_gb[i],
            p.kv_cache_gb[i],
            p.memory_gb[i],
            p.gpus_needed[i],
        )
        return FitFigures(**numbers, throughput=self._throughput(i) if known else None)

    def prepare_briefs(self, indices: list[int]) -> None:
        """Read what :meth:`briefed` needs of the models ``indices`` (the ones a summary returns) from the request's
        columns at once, their fit figures included."""
        table = self._table = _BriefTable(self, indices)
        self._fit_rows = table.fit_rows

    def _throughput(self, i: int) -> Throughput | None:
        p = self.plan
        hw = self.engine.rules.hardware
        if p.gpu is None or np.isnan(p.decode_tps_per_request[i]):
            return None
        gpus = int(p.gpus_for_memory[i])
        return trusted(
            Throughput,
            tokens_per_second_per_request=_round(float(p.decode_tps_per_request[i]), 1),
            tokens_per_second_total=_round(float(p.decode_tps_total[i]), 1),
            limited_by="compute" if p.compute_bound[i] else "memory_bandwidth",
            efficiency=hw.decode_efficiency,
            basis=(
                f"Upper bound: {gpus} x {p.gpu.memory_bandwidth_gb_s.value:,.0f} GB/s x {hw.decode_efficiency:g} / "
                f"(active parameters x {p.bytes_per_parameter[i]:g} bytes + {p.workload.concurrent_requests:,} x "
                f"the KV cache of one request) per decode step; {hw.decode_efficiency_note}"
            ),
        )

    def _fit_assumptions(self, i: int) -> list[str]:
        # The same lines for every model with the same cache estimate and active-parameter record: built once each.
        key = (bool(self.plan.kv_estimated[i]), self.f.models[i].parameters_active_b is None)
        found = self._assumptions.get(key)
        if found is None:
            found = self._assumptions[key] = self._new_fit_assumptions(i)
        return list(found)

    def _new_fit_assumptions(self, i: int) -> list[str]:
        hw = self.engine.rules.hardware
        p = self.plan
        lines = [hw.bytes_per_parameter_note, hw.kv_cache_note, hw.runtime_overhead_note, hw.usable_memory_note]
        if p.workload.defaulted:
            lines.append(hw.default_workload_note)
        if p.kv_estimated[i]:
            lines.append(hw.fallback_kv_note)
        if p.gpu is None:
            lines.append(
                "No GPU profile was named, so no memory bandwidth is known and no decode speed is estimated."
                + (
                    f" GPU size {p.gpu_memory_gb:g} GB is the reference size (none was given)."
                    if self.req.hardware.gpu_memory_gb is None
                    else ""
                )
            )
        if self.f.models[i].parameters_active_b is None:
            lines.append("Active parameters are not recorded: the decode bound reads every parameter per token.")
        return lines

    def _extended_context(self, i: int) -> bool:
        """Whether model ``i`` meets min_context_tokens only through a context extension."""
        minimum = self.req.min_context_tokens
        m = self.f.models[i]
        extension = m.context_extension
        if minimum is None or extension is None or extension.tokens < minimum:
            return False
        return m.context_tokens is None or m.context_tokens.value < minimum

    def _context_caveats(self, i: int) -> list[Caveat]:
        """When min_context_tokens is met only through a context extension: which method, and its source."""
        if not self._extended_context(i):
            return []
        minimum = self.req.min_context_tokens
        m = self.f.models[i]
        extension = m.context_extension
        if minimum is None or extension is None:  # not so once _extended_context holds
            return []
        native = f"{m.context_tokens.value:,}" if m.context_tokens else "an unrecorded number of"
        return [
            caveat(
                kind="context_extension",
                fact="context_extension",
                source=extension.source,
                as_of=extension.as_of,
                source_kind=extension.source_kind,
                rule_id="context.minimum",
                message=(
                    f"{m.name} holds {minimum:,} tokens only with {extension.method} (up to {extension.tokens:,} "
                    f"tokens; native window {native} tokens): the serving stack must enable it, and quality beyond "
                    "the native window is only as the source reports. A hosted offer may serve less; check the "
                    f"provider's context limit.{' Source note: ' + extension.note if extension.note else ''}"
                ),
            )
        ]

    def caveats(self, i: int, criteria: list[CriterionScore], rules: list[RuleOutcome]) -> list[Caveat]:
        """Missing data, stale or overdue facts, unverified licence terms and benchmark comparability."""
        return self._caveats(i, [(c.criterion, c.missing_data) for c in criteria], rules)

    def _caveats(self, i: int, criteria: list[tuple[str, bool]], rules: list[RuleOutcome]) -> list[Caveat]:
        """:meth:`caveats` given each listed criterion's name and whether its data is missing."""
        m = self.f.models[i]
        lic = self.f.licences[i]
        today = self.evaluated_on
        result: list[Caveat] = []
        for criterion, missing in criteria:
            if missing:
                result.append(
                    caveat(
                        kind="missing_data",
                        fact=criterion,
                        message=f"No data for {criterion}: {self.engine.rules.criteria[criterion].missing_note}",
                    )
                )
        for criterion, _ in criteria:
            result.extend(self._explain(criterion, i).caveats)
        result.extend(self.engine.texts.licence_caveats(i))
        result.extend(self._context_caveats(i))
        # Stale facts: each (fact, source) once, as first cited (criteria, then rules); which facts of a group are
        # checked is kept with the groups the engine keeps.
        texts = self.engine.texts
        groups = [
            texts.dated(self._explain(criterion, i).evidence, self._explanation_keys.get(criterion) is not None, today)
            for criterion, _ in criteria
        ]
        groups.extend(
            texts.dated(r.evidence, self._kept_rules.get((r.rule_id, r.outcome), False), today) for r in rules
        )
        seen: set[tuple[str, str]] = set()
        for group in groups:
            for key, stale in group:
                if key in seen:
                    continue
                seen.add(key)
                if stale is not None:
                    result.append(stale)
        due = [
            (m.review_by, f"model {m.id}", f"The catalogue entry for {m.name}"),
            (lic.review_by, f"licence {lic.id}", f"The licence summary of {lic.name}"),
            *(
                (self.engine.rules.eligibility[r.rule_id].review_by, f"rule {r.rule_id}", f"Rule {r.rule_id}")
                for r in rules
            ),
        ]
        for review_by, fact, what in due:
            if review_by < today:
                result.append(
                    caveat(
                        kind="review_overdue",
                        fact=fact,
                        as_of=review_by,
                        message=f"{what} was due for review on {review_by.isoformat()}.",
                    )
                )
        result.extend(self.regulatory.caveats(i))
        if self.req.privacy.deployment != "api":
            result.extend(self._hardware_caveats(i))
        return result

    def _hardware_findings(self, i: int) -> list[HardwareFinding]:
        """What :meth:`_hardware_caveats` states of model ``i``, in order, before writing it."""
        p = self.plan
        precision, requested = p.precision[i], self.req.hardware.precision
        released = self.f.models[i].released_formats
        found: list[HardwareFinding] = []
        if p.precision_assumed[i]:
            found.append("formats_unrecorded")
        elif requested != "native" and released is not None and precision not in released.value:
            found.append("quantised")
        elif requested != "native" and released is None:
            found.append("quantisation_unknown")
        gpu = p.gpu
        if gpu is not None and precision != "int4":
            native = gpu.native_formats
            if native is None or precision not in native.value:
                found.append("not_native")
        if p.kv_estimated[i]:
            found.append("cache_estimated")
        return found

    def _hardware_caveats(self, i: int) -> list[Caveat]:
        """Precision the model is not released in, formats the GPU does not run natively, estimated caches."""
        m = self.f.models[i]
        p = self.plan
        precision = p.precision[i]
        released = m.released_formats
        result: list[Caveat] = []
        for finding in self._hardware_findings(i):
            if finding == "formats_unrecorded":
                result.append(
                    caveat(
                        kind="missing_data",
                        fact="released_formats",
                        message=(
                            f"The formats {m.name} is released in are not recorded; its native precision is taken "
                            "as bf16 (2 bytes per parameter)."
                        ),
                    )
                )
            elif finding == "quantised" and released is not None:
                result.append(
                    caveat(
                        kind="quantisation",
                        fact="released_formats",
                        source=released.source,
                        as_of=released.as_of,
                        source_kind=released.source_kind,
                        message=(
                            f"{m.name} is released as {', '.join(released.value)}, not {precision}: running it at "
                            f"{precision} means converting or quantising the weights yourself. Quality at "
                            f"{precision} is not the developer's and is not reflected in its reported scores."
                        ),
                    )
                )
            elif finding == "quantisation_unknown":
                result.append(
                    caveat(
                        kind="quantisation",
                        fact="released_formats",
                        message=(
                            f"The formats {m.name} is released in are not recorded, so whether {precision} is a "
                            "quantisation by the user cannot be told."
                        ),
                    )
                )
            elif finding == "not_native" and p.gpu is not None:
                gpu, native = p.gpu, p.gpu.native_formats
                result.append(
                    caveat(
                        kind="hardware",
                        fact=f"GPU {gpu.id}: native_formats",
                        source=native.source if native else None,
                        as_of=native.as_of if native else None,
                        message=(
                            f"{gpu.name} is not recorded as running {precision} natively; the weights would be "
                            "unpacked to a format it runs, which slows decoding below the estimate."
                        ),
                    )
                )
            elif finding == "cache_estimated":
                result.append(
                    caveat(
                        kind="missing_data",
                        fact="transformer",
                        message=(
                            f"The architecture of {m.name} is not recorded, so its KV cache is the stated "
                            f"conservative estimate ({self.engine.rules.hardware.fallback_kv_bytes_per_token:,.0f} "
                            "bytes per token)."
                        ),
                    )
                )
        return result

    # ----------------------------------------------------------------------------------- assembling
    def _assessed(
        self, i: int, status: Literal["recommended", "eligible", "excluded"], rank: int | None, score: float | None
    ) -> tuple[dict[str, Any], list[_Said], list[tuple[dict[str, Any], Explanation]], list[str]]:
        """What both forms of model ``i``'s assessment state first: its fields before its reasons, its rule
        outcomes, its criteria (fields but evidence, with their explanations) and its reason sentences, the facts
        written out."""
        m = self.f.models[i]
        head = {
            "model_id": m.id,
            "name": m.name,
            "status": status,
            "rank": rank,
            "score": _round(score) if score is not None else None,
            "licence": m.licence.value,
        }
        said = self._outcomes(i)
        rows = self._scored() if status != "excluded" or self.every_criterion else []
        criteria = [self._criterion_fields(row, i) for row in rows]
        reasons: list[str] = []
        if rank is not None and score is not None:
            reasons.append(
                f"Ranked {rank} of the eligible models with score {score:.3f} under the {self.profile!r} weights."
            )
        reasons.extend(entry.sentence() for entry in said)
        for item, explained in sorted(criteria, key=lambda c: (-c[0]["contribution"], c[0]["criterion"]))[:3]:
            cited = explained.cited
            reasons.append(
                f"[criterion {item['criterion']} v{item['rule_version']}] value {item['value']:.2f} x weight "
                f"{item['weight']:.2f} = {item['contribution']:.3f}: {item['explanation']}."
                + (f" Evidence: {cited}." if cited else "")
            )
        return head, said, criteria, reasons

    def assess(
        self, i: int, status: Literal["recommended", "eligible", "excluded"], rank: int | None, score: float | None
    ) -> Assessment:
        """The full explanation of model ``i``."""
        head, said, scored, reasons = self._assessed(i, status, rank, score)
        rules = [entry.outcome for entry in said]
        criteria = []
        for fields, explained in scored:
            fields["evidence"] = explained.evidence  # shared: an answer's lists are never changed
            criteria.append(trusted_from(CriterionScore, fields))
        obligations, fit = self.obligations(i), self.fit(i)
        caveats = self.caveats(i, criteria, rules)
        return _assessment(
            Assessment, head, reasons, criteria, rules, obligations, fit, caveats, self.engine.compliance.eu_ai_act[i]
        )

    def assess_cited(
        self,
        i: int,
        status: Literal["recommended", "eligible", "excluded"],
        rank: int | None,
        score: float | None,
        table: EvidenceTable,
        duties: dict[str, list[CitedObligation]],
    ) -> CitedAssessment:
        """:meth:`assess` in ``full`` detail, its facts cited in ``table``: the same as citing the assessment
        (:func:`~service.domain.citing.cite`), built without it. Facts are cited in the same order: the reasons',
        then the criteria's, the rules', the obligations', the fit's and the EU AI Act status's. ``duties``: the
        answer's obligations by licence (a licence's duties under one request are the same for every model)."""
        head, scored, rules, kept_rules, kept_criteria, reasons = self._cited_start(i, status, rank, score, table)
        listed = [(fields["criterion"], fields["missing_data"]) for fields, _ in scored]
        criteria = []
        for (fields, explained), kept in zip(scored, kept_criteria, strict=True):
            fields["evidence"] = cite_evidence(explained.evidence, table, kept)
            criteria.append(trusted_from(CitedCriterionScore, fields))
        cited_rules = [cite_outcome(r, table, kept) for r, kept in zip(rules, kept_rules, strict=True)]
        licence = self.f.licences[i].id
        obligations = duties.get(licence)
        if obligations is None:
            obligations = duties[licence] = [cite_obligation(o, table) for o in self.obligations(i)]
        fit = self._fit_fields(i)
        fit["evidence"] = cite_evidence(self._fit_evidence(i), table, True)
        eu = cite_eu(self.engine.compliance.eu_ai_act[i], table)
        caveats = self._caveats(i, listed, rules)
        return _assessment(
            CitedAssessment, head, reasons, criteria, cited_rules, obligations, trusted_from(CitedFit, fit), caveats, eu
        )

    def _cited_start(
        self,
        i: int,
        status: Literal["recommended", "eligible", "excluded"],
        rank: int | None,
        score: float | None,
        table: EvidenceTable,
    ) -> tuple[
        dict[str, Any], list[tuple[dict[str, Any], Explanation]], list[RuleOutcome], list[bool], list[bool], list[str]
    ]:
        """What :meth:`assess_cited` and :meth:`write_cited` start from: :meth:`_assessed`'s head and scored
        criteria, the rule outcomes, whether each outcome and each criterion's explanation is one the engine keeps,
        and the reasons with their facts cited in ``table`` (the reasons' facts are cited first)."""
        head, said, scored, written = self._assessed(i, status, rank, score)
        rules = [entry.outcome for entry in said]
        kept_rules = [entry.kept for entry in said]
        kept_criteria = [self._explanation_keys.get(fields["criterion"]) is not None for fields, _ in scored]
        reasons = cite_reasons(
            written,
            [(r.evidence, kept) for r, kept in zip(rules, kept_rules, strict=True)],
            [(e.evidence, kept) for (_, e), kept in zip(scored, kept_criteria, strict=True)],
            table,
        )
        return head, scored, rules, kept_rules, kept_criteria, reasons

    def write_cited(
        self,
        i: int,
        status: Literal["recommended", "eligible", "excluded"],
        rank: int | None,
        score: float | None,
        table: EvidenceTable,
        duties: dict[str, bytes],
    ) -> bytes:
        """:meth:`assess_cited` written straight to its JSON bytes (:mod:`service.domain.writing`): the same facts
        cited in ``table`` in the same order, the same bytes as serialising it. ``duties``: the answer's obligations
        by licence, written."""
        head, scored, rules, kept_rules, kept_criteria, reasons = self._cited_start(i, status, rank, score, table)
        criteria = [
            criterion_json(fields, explained.evidence, table, explained if kept else None)
            for (fields, explained), kept in zip(scored, kept_criteria, strict=True)
        ]
        kept_outcomes = self._kept_rules
        cited_rules = [
            outcome_json(r, table, kept, kept_outcomes.get((r.rule_id, r.outcome), False))
            for r, kept in zip(rules, kept_rules, strict=True)
        ]
        licence = self.f.licences[i].id
        obligations = duties.get(licence)
        if obligations is None:
            cited = [cite_obligation(o, table) for o in self.obligations(i)]
            obligations = duties[licence] = OBLIGATIONS.to_json(cited)
        fit = self._fit_fields(i)
        fit["evidence"] = list(group_ids(self._fit_evidence(i), table, True))
        eu = eu_json(self.engine.compliance.eu_ai_act[i], table)
        caveats = self.caveats_json(i, [(fields["criterion"], fields["missing_data"]) for fields, _ in scored], rules)
        return assessment_json(
            head, REASONS.to_json(reasons), criteria, cited_rules, obligations, CITED_FIT.to_json(fit), caveats, eu
        )

    def caveats_json(self, i: int, criteria: list[tuple[str, bool]], rules: list[RuleOutcome]) -> bytes:
        """:meth:`_caveats` written as JSON, kept (bounded, per engine; each caveat's text shared by every model's
        list that holds it) by the model and everything they read of a request: the date, the listed criteria and
        whether their data is missing, what each criterion's evidence and caveats read
        (:meth:`CriterionModule.evidence_key`), the applied rules' outcomes, what the regulatory caveats read
        (deployment, jurisdictions, EU AI Act questions), the GPU, the precision asked and the minimum context.
        Written afresh when a criterion's evidence reads more than a key says."""
        keys, view, modules = self._evidence_keys, self.view, self.engine.criteria
        for criterion, _ in criteria:
            if criterion not in keys:
                keys[criterion] = modules[criterion].evidence_key(view)
        reads = tuple([keys[criterion] for criterion, _ in criteria])
        if any(read is None for read in reads):
            return bytes(CAVEATS.to_json(self._caveats(i, criteria, rules)))
        gpu = self.plan.gpu
        key = (
            i,
            self.evaluated_on,
            tuple(criteria),
            reads,
            tuple([(r.rule_id, r.outcome) for r in rules]),
            self.regulatory._reads_token,
            gpu.id if gpu is not None else None,
            self.req.hardware.precision,
            self.req.min_context_tokens,
        )
        kept = self.engine.texts.caveats_written
        found = kept.get(key)
        if found is None:
            found = kept.put(key, caveat_texts(self._caveats(i, criteria, rules)))
        return joined_caveats(found)

    def briefed(
        self,
        i: int,
        status: Literal["recommended", "eligible", "excluded"],
        rank: int | None,
        score: float | None,
        cited: Citations,
        obligations: dict[str, list[ObligationSummary]],
        *,
        explained: bool = False,
    ) -> _Brief:
        """Model ``i`` in a summary (what :func:`~service.domain.summary.summarise` makes of its :meth:`assess`, the
        same values), as :meth:`brief` builds it and :meth:`brief_json` writes it: built without the reason
        sentences, the criteria a summary does not state, the fit's texts and the caveats' messages.
        Its evidence is cited in ``cited``; its licence's duties are added to ``obligations`` (by licence)."""
        table = self._table
        j = table.position[i]
        said = []
        kept = self.engine.texts.outcomes
        for rule, failed, unknown, kept_values in table.verdicts:
            outcome: Literal["passed", "failed", "unknown"] = (
                "failed" if failed[j] else "unknown" if unknown[j] else "passed"
            )
            # The outcomes the engine keeps, found at once (else _outcome finds or builds it).
            values = kept_values.get(outcome)
            entry = kept.get((rule.id, outcome, i, values)) if values is not None else None
            if entry is None:
                entry = self._outcome(rule, i, outcome)
                if self._kept_rules.get((rule.id, outcome)):  # the values its sentence names are read now
                    kept_values[outcome] = self._sentence_values_read[rule.id, outcome]
            said.append(entry)
        if cited.exact:
            reasons = [entry.line() + cited.refs(entry.evidence, kept=entry.kept) for entry in said]
        else:  # each outcome's line with its ids, written once per outcome (the engine keeps most outcomes)
            reasons = []
            groups = cited.groups
            for entry in said:
                briefed = entry.briefed
                if briefed is None:
                    evidence = entry.evidence
                    facts = cited_group(evidence, len(evidence), entry.kept)
                    briefed = entry.briefed = (entry.line() + facts.text(), facts)
                reasons.append(briefed[0])
                groups.append(briefed[1])
        # The criteria an assessment lists (none for an excluded model), and the weighted ones a summary leads with.
        listed = status != "excluded" or self.every_criterion
        shown: list[_Figures] = []
        evidence_keys, kept_refs = self._evidence_keys, self.engine.texts.leading_refs
        rows = table.rows
        leads = table.leading[j] if listed else ()
        for place, n in enumerate(leads):
            criterion, _, _, contributions, _ = rows[n]
            contribution = contributions[j]
            count = leading_cites(place)
            reads = evidence_keys.get(criterion)
            if cited.exact or reads is None:
                refs = cited.refs(self._explain(criterion, i).evidence, count, kept=reads is not None)
            else:  # the facts cited, kept by what the criterion's evidence reads (the same for the same key)
                refs_key = (criterion, reads, i, count)
                leading_facts = kept_refs.get(refs_key)
                if leading_facts is None:
                    leading_facts = kept_refs.put(
                        refs_key, cited_group(self._explain(criterion, i).evidence, count, True)
                    )
                cited.groups.append(leading_facts)
                refs = leading_facts.text()
            reasons.append(criterion_reason(criterion, contribution) + refs)
            shown.append(table.figures(n, j))
        stated = table.stated
        if listed and stated is not None and stated not in leads:  # its figures only: it gives no reason
            shown.append(table.figures(stated, j))
        lic = self.f.licences[i]
        duties = self._duties.get(lic.id)
        if duties is None:
            # What obligations() reads: the licence, the requested scale and whether outputs train other models.
            ip = self.req.ip
            key = (lic.id, ip.monthly_active_users, ip.train_on_outputs)
            duties = self.engine.texts.duties.get(key)
            if duties is None:
                kinds, summaries = obligation_summaries(self.obligations(i))
                duties = self.engine.texts.duties.put(key, (kinds, summaries, kinds_json(kinds)))
            self._duties[lic.id] = duties
        m = self.f.models[i]
        obligations[m.licence.value] = duties[1]
        eu = self.engine.compliance.eu_ai_act[i]
        head = {
            "rank": rank,
            "model_id": m.id,
            "status": status if explained else None,
            "score": _round(score) if score is not None else None,
            "licence": m.licence.value,
            "reasons": reasons,
        }
        tail = {
            "fit": table.fit(j),
            "caveats": self._kinds(i, listed, table.missing[j] if listed else 0, said),
            "eu_ai_act_systemic_risk": eu.systemic_risk if eu is not None else None,
        }
        return head, shown, duties, tail

    @staticmethod
    def brief(parts: _Brief) -> ModelSummary:
        """A model in a summary from its :meth:`briefed` parts."""
        head, shown, duties, tail = parts
        head.update(
            criteria=[criterion_summary(*figures) for figures in shown],
            obligations=duties[0],
            fit=trusted_from(FitSummary, tail["fit"]),
            caveats=tail["caveats"],
            eu_ai_act_systemic_risk=tail["eu_ai_act_systemic_risk"],
        )
        return trusted_from(ModelSummary, head)

    @staticmethod
    def brief_json(parts: _Brief) -> bytes:
        """:meth:`brief` as JSON (serialised with ``exclude_none``), written without building it (a stated
        criterion's figures and the kinds of a licence's duties kept written)."""
        head, shown, duties, tail = parts
        return model_summary_json(head, [summary_criterion_json(*figures) for figures in shown], duties[2], tail)

    def _caveat_kinds(self, i: int, criteria: list[tuple[str, bool]], said: list[_Said]) -> list[str]:
        """The kinds of :meth:`_caveats` for model ``i`` (given the same criteria, as (name, data missing), and its
        rule outcomes), each once in order of first appearance, without writing a caveat's message."""
        if criteria and [name for name, _ in criteria] != [name for name, _ in self._criteria_reads()]:
            raise ValueError("the criteria listed are those of an assessment, or none")
        missing = sum(1 << n for n, (_, lacking) in enumerate(criteria) if lacking)
        return self._kinds(i, bool(criteria), missing, said)

    def _kinds(self, i: int, listed: bool, missing: int, said: list[_Said]) -> list[str]:
        """:meth:`_caveat_kinds` of model ``i`` whose assessment lists every criterion it lists (``listed``) or
        none, those lacking data given as bits (bit ``n`` for the ``n``-th), and its rule outcomes ``said``."""
        texts = self.engine.texts
        today = self.evaluated_on
        criteria_kinds, seen, stale = self._criteria_caveats(i, listed, missing)
        kinds = list(criteria_kinds)
        if texts.licence_caveats(i):
            kinds.append("unverified_terms")
        if self.req.min_context_tokens is not None and self._extended_context(i):
            kinds.append("context_extension")
        # Stale facts: each (fact, source) judged as first cited (criteria, then rules), as :meth:`_caveats` does:
        # a rule's stale fact counts unless an earlier group cited it, so the facts cited before are gathered only
        # up to the last group holding a stale fact (most hold none).
        if not stale and said:
            groups = [self._staleness(entry) for entry in said]
            last = -1
            for n, (_, stale_keys) in enumerate(groups):
                if stale_keys:
                    last = n
            for n in range(last + 1):
                keys, stale_keys = groups[n]
                if stale_keys and not stale_keys <= seen:
                    stale = True
                    break
                if n < last:
                    seen = seen | keys
        if stale:
            kinds.append("stale")
        m, lic = self.f.models[i], self.f.licences[i]
        if m.review_by < today or lic.review_by < today or (said and self._rules_overdue()):
            kinds.append("review_overdue")
        kinds.extend(self.regulatory.caveat_kinds(i))
        if self.req.privacy.deployment != "api":
            kinds.extend(_HARDWARE_CAVEAT_KINDS[finding] for finding in self._hardware_findings(i))
        return list(dict.fromkeys(kinds))

    def _staleness(self, said: _Said) -> tuple[frozenset[tuple[str, str]], frozenset[tuple[str, str]]]:
        """:meth:`_ModelTexts.staleness` of ``said``'s evidence on the evaluation date (kept with ``said`` when its
        evidence is a list the engine keeps)."""
        today = self.evaluated_on
        if not said.kept:
            return self.engine.texts.staleness(said.evidence, False, today)
        found = said.stale
        if found is not None and found[0] == today:
            return found[1]
        result = self.engine.texts.staleness(said.evidence, True, today)
        said.stale = (today, result)
        return result

    def _criteria_caveats(self, i: int, listed: bool, missing: int) -> CriteriaCaveats:
        """What the criteria an assessment lists (when ``listed``; else none), those lacking data given as bits
        (bit ``n`` for the ``n``-th), add to model ``i``'s caveats in :meth:`_caveats`: the kinds (missing data,
        then their explanations' caveats), the (fact, source) keys of their facts whose age is checked, and whether
        one of those is stale as first cited. Kept by exactly what it reads: the model, the date, each criterion
        with what its evidence and caveats read of the request (its ``evidence_key``) and whether its data is
        missing, and, for a criterion without such a key, what its explanation says of these."""
        texts, today = self.engine.texts, self.evaluated_on
        reads = self._criteria_reads() if listed else ()
        live = (
            tuple([self._explained_caveats(criterion, i, kept=False)[:2] for criterion in self._unkeyed])
            if reads and self._unkeyed
            else ()
        )
        # The request's part of the key as a number (see _ModelTexts.token): a tuple's hash is not kept.
        key = (i, today, self._reads_token if reads else 0, missing, live)
        found = texts.criteria_caveats.get(key)
        if found is None:
            kinds = ["missing_data"] if missing else []
            seen: set[tuple[str, str]] = set()
            stale = False
            for criterion, read in reads:
                caveat_kinds, dated, _ = self._explained_caveats(criterion, i, kept=read is not None)
                kinds.extend(caveat_kinds)
                for fact, is_stale in dated:
                    if fact not in seen:
                        seen.add(fact)
                        stale |= is_stale
            found = texts.criteria_caveats.put(key, (tuple(kinds), frozenset(seen), stale))
        return found

    def _explained_caveats(
        self, criterion: str, i: int, *, kept: bool
    ) -> tuple[tuple[str, ...], tuple[tuple[tuple[str, str], bool], ...], Explanation]:
        """Criterion ``criterion``'s explanation of model ``i``: its caveats' kinds, its facts whose age is checked
        (each with whether it is stale), and the explanation (``kept``: one the engine keeps)."""
        explanation = self._explain(criterion, i)
        dated = self.engine.texts.dated(explanation.evidence, kept, self.evaluated_on)
        return (
            tuple([c.kind for c in explanation.caveats]),
            tuple([(fact, stale is not None) for fact, stale in dated]),
            explanation,
        )

    def _criteria_reads(self) -> tuple[tuple[str, Hashable | None], ...]:
        """Each criterion an assessment lists, with what its evidence and caveats read of this request (None: more
        than a key says), computed once per request."""
        found: tuple[tuple[str, Hashable | None], ...] | None = getattr(self, "_reads", None)
        if found is None:
            view, criteria = self.view, self.engine.criteria
            reads = []
            for row in self._scored():
                criterion = row[0]
                if criterion not in self._evidence_keys:
                    self._evidence_keys[criterion] = criteria[criterion].evidence_key(view)
                reads.append((criterion, self._evidence_keys[criterion]))
            found = self._reads = tuple(reads)
            self._reads_token = self.engine.texts.token(found)
            #: The criteria whose evidence and caveats read more of the request than a key says.
            self._unkeyed = tuple([criterion for criterion, read in found if read is None])
        return found

    def _rules_overdue(self) -> bool:
        """Whether an applied rule was due for review before the evaluation date (computed once per request)."""
        found: bool | None = getattr(self, "_overdue", None)
        if found is None:
            found = self._overdue = any(rule.review_by < self.evaluated_on for rule in self.applied)
        return found

    def method(self) -> list[str]:
        """Plain statements of how this answer was computed."""
        hw = self.engine.rules.hardware
        lines = [
            f"Hard constraints applied: {', '.join(r.id for r in self.applied) or 'none'}. A model whose needed "
            "fact is unknown is excluded, with the missing fact named.",
            f"Weights ({self.profile}): " + ", ".join(f"{c} {w:.3f}" for c, w in self.weights.items() if w) + ".",
            "Score = sum of weight x criterion value (each 0-1); ties are broken by model id.",
            *(line for c, m in self.engine.criteria.items() if self.weights[c] for line in m.method(self.view)),
            f"Memory: weights (total parameters x bytes per parameter at the {self.req.hardware.precision} "
            f"precision) + KV cache for {self.plan.workload.concurrent_requests:,} request(s) of "
            f"{self.plan.workload.tokens_per_request:,} tokens + {hw.runtime_overhead_fraction:.0%} runtime "
            f"overhead ({hw.source}); a fit uses at most {hw.usable_memory_fraction:.0%} of each GPU of "
            f"{self.gpu_size:g} GB"
            + (
                f" ({self.plan.gpu.name})."
                if self.plan.gpu is not None
                else " (reference size: none was given)."
                if self.req.hardware.gpu_memory_gb is None
                else "."
            ),
            f"Evaluated on {self.evaluated_on.isoformat()}; freshness and staleness are measured to that date.",
            *self.regulatory.method(),
        ]
        return lines
