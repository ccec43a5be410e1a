"""Invariants of the engine over generated requests, checked against the shipped catalogue and rules.

Hard constraints are re-checked here from the catalogue facts and the licence files themselves, not by
re-reading the answer's own rule outcomes, so a rule that passes a model it should not is caught.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import math
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from service.domain.answer import Answer, Fit
from service.domain.catalogue import Model
from service.domain.measurements import USE_CASES
from service.domain.requirements import Requirements
from service.domain.rules import CRITERIA, LicenceKind
from service.loading.engine import build_engine

ROOT = Path(__file__).resolve().parents[2]
EVALUATED_ON = dt.date(2026, 11, 25)
ENGINE = build_engine(ROOT / "catalogue", ROOT / "rules")
HARDWARE: dict[str, Any] = tomllib.loads((ROOT / "rules" / "hardware.toml").read_text(encoding="utf-8"))

MODEL_IDS = sorted(ENGINE.catalogue.models)
LICENCE_IDS = sorted(ENGINE.rules.licences)
PROFILE_IDS = sorted(ENGINE.rules.profiles)
LICENCE_KINDS: tuple[str, ...] = get_args(LicenceKind)
ORIGIN_COUNTRIES = sorted({org.country.value for org in ENGINE.catalogue.organisations.values()})
PRECISIONS_LOOSEST_FIRST = ("int4", "fp8", "bf16")  # native is at most bf16, so bf16 is never looser
FINE_TUNING_LOOSEST_FIRST = ("none", "lora", "full")
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Verdict = Literal["passed", "failed", "unknown"]


# ------------------------------------------------------------------------------------------ strategies
def _around(values: set[int]) -> list[int]:
    """Each value and its neighbours, where a rule's comparison operator makes the difference."""
    return sorted({v + d for v in values for d in (-1, 0, 1) if v + d >= 1})


USER_CAPS = {
    t.monthly_active_users
    for lic in ENGINE.rules.licences.values()
    for t in lic.thresholds
    if t.monthly_active_users is not None
}
CONTEXT_WINDOWS = {m.context_tokens.value for m in ENGINE.catalogue.models.values() if m.context_tokens is not None}
countries = st.sampled_from(ORIGIN_COUNTRIES) | st.from_regex(r"\A[A-Z]{2}\Z")
gpu_sizes = st.sampled_from([16, 24, 40, 48, 80, 94, 141, 192]) | st.floats(
    min_value=1.0, max_value=4096.0, allow_nan=False, allow_infinity=False
)
context_sizes = st.sampled_from(_around(CONTEXT_WINDOWS | {32_000, 500_000})) | st.integers(
    min_value=1, max_value=100_000_000
)
user_counts = st.sampled_from(_around(USER_CAPS | {1_000, 3_000_000})) | st.integers(
    min_value=0, max_value=2_000_000_000
)
weight_values = st.integers(min_value=0, max_value=100) | st.floats(
    min_value=0.0, max_value=1_000_000.0, allow_nan=False, allow_infinity=False
)
weights = st.dictionaries(st.sampled_from(CRITERIA), weight_values, min_size=1).filter(
    lambda w: any(v > 0 for v in w.values())
)


def sections(**optional: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A request section in which every field may be left out."""
    return st.fixed_dictionaries({}, optional=optional)


def requirement_dicts(limit: int | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Valid request bodies over every field of the request sketch in the design (``limit`` fixes the limit)."""
    body = sections(
        use_cases=st.lists(st.sampled_from(USE_CASES), unique=True),
        ip=sections(
            commercial_use=st.none() | st.booleans(),
            # Empty acceptance lists have a test of their own below, so that one defect cannot mask others.
            licence_kinds=st.none() | st.lists(st.sampled_from(LICENCE_KINDS), unique=True, min_size=1),
            allowed_licences=st.none() | st.lists(st.sampled_from(LICENCE_IDS), unique=True, min_size=1, max_size=5),
            monthly_active_users=st.none() | user_counts,
            train_on_outputs=st.none() | st.booleans(),
        ),
        privacy=sections(
            deployment=st.none() | st.sampled_from(["self_hosted", "private_cloud", "api"]),
            excluded_origin_countries=st.lists(countries, max_size=4),
            hosting_countries=st.none() | st.lists(countries, unique=True, min_size=1, max_size=3),
            require_open_training_data=st.booleans(),
        ),
        customisation=sections(fine_tuning=st.sampled_from(FINE_TUNING_LOOSEST_FIRST)),
        hardware=sections(
            gpu_memory_gb=st.none() | gpu_sizes,
            gpu_count=st.none() | st.integers(min_value=1, max_value=16) | st.integers(min_value=1, max_value=100_000),
            precision=st.sampled_from(PRECISIONS_LOOSEST_FIRST),
        ),
        min_context_tokens=st.none() | context_sizes,
        reasoning=st.sampled_from(["required", "preferred", "any"]),
        limit=st.integers(min_value=1, max_value=100),
        explain=st.lists(st.sampled_from(MODEL_IDS), unique=True, max_size=3),
    )
    choice = st.sampled_from(["neither", "weights", "profile"])
    bodies = st.tuples(body, choice, weights, st.sampled_from(PROFILE_IDS)).map(_with_weighting)
    return bodies if limit is None else bodies.map(lambda b: {**b, "limit": limit})


def _with_weighting(parts: tuple[dict[str, Any], str, dict[str, Any], str]) -> dict[str, Any]:
    body, choice, custom, profile = parts
    if choice == "weights":
        return {**body, "weights": custom}
    if choice == "profile":
        return {**body, "profile": profile}
    return body


def recommend(body: dict[str, Any]) -> Answer:
    return ENGINE.recommend(Requirements.model_validate(body), EVALUATED_ON)


def eligible_ids(answer: Answer) -> set[str]:
    """Every catalogue model that is not excluded."""
    return set(MODEL_IDS) - {exclusion.model_id for exclusion in answer.excluded}


# --------------------------------------------------------------------- independent hard-constraint check
def _known(value: Any, holds: Callable[[Any], bool]) -> Verdict:
    if value is None:
        return "unknown"
    return "passed" if holds(value) else "failed"


def bytes_per_parameter(model: Model, precision: str) -> float:
    """The request's precision, or for ``native`` the most compact released format (bf16 when unrecorded)."""
    table = HARDWARE["bytes_per_parameter"]
    if precision != "native":
        return float(table[precision])
    formats = model.released_formats.value if model.released_formats else ["bf16"]
    return float(min(table[f] for f in formats))


def kv_cache_gb(model: Model, tokens: int) -> float:
    """One request's cache, from the [transformer] facts as rules/hardware.toml and the README state it."""
    t = model.transformer
    if t is None:
        return float(HARDWARE["fallback_kv_bytes_per_token"]) * tokens / 1e9
    per_layer = (
        (t.kv_lora_rank or 0) + (t.qk_rope_head_dim or 0) if t.attention == "mla" else 2 * t.kv_heads * t.head_dim
    )  # type: ignore[operator]
    sliding = t.sliding_window_layers or 0
    full = t.layers - sliding - (t.linear_attention_layers or 0)
    window_per_layer = (
        2 * (t.sliding_window_kv_heads or t.kv_heads or 0) * (t.sliding_window_head_dim or t.head_dim or 0)
    )
    if t.attention == "mla" and t.sliding_window_kv_heads is None:
        window_per_layer = per_layer
    elements = full * per_layer * tokens + sliding * window_per_layer * min(tokens, t.sliding_window or 0)
    return elements * float(HARDWARE["kv_cache_bytes_per_element"]) / 1e9


def memory_needed_gb(model: Model, precision: str, fine_tuning: str) -> float:
    """Memory from the constants of rules/hardware.toml for the default workload (one request of the default
    length): base (weights, or the fine-tuning footprint) + KV cache, plus the runtime overhead on both."""
    parameters_b = model.parameters_total_b.value  # type: ignore[union-attr]
    if fine_tuning == "full":
        base = parameters_b * HARDWARE["full_fine_tuning_bytes_per_parameter"]
    else:
        base = parameters_b * bytes_per_parameter(model, precision)
        if fine_tuning == "lora":
            base *= 1 + HARDWARE["lora_overhead_fraction"]
    cache = HARDWARE["default_concurrent_requests"] * kv_cache_gb(model, HARDWARE["default_tokens_per_request"])
    return float((base + cache) * (1 + HARDWARE["runtime_overhead_fraction"]))


def gpus_needed(memory_gb: float, gpu_memory_gb: float) -> int:
    """GPUs a memory figure needs when a fit may use only the stated share of each GPU."""
    return max(1, math.ceil(memory_gb / (gpu_memory_gb * HARDWARE["usable_memory_fraction"])))


def independent_verdicts(model: Model, req: Requirements) -> dict[str, Verdict]:
    """Each hard constraint the request sets, judged from the catalogue facts and licence terms, by rule id."""
    lic = ENGINE.rules.licences[model.licence.value]
    org = ENGINE.catalogue.organisations[model.organisation]
    verdicts: dict[str, Verdict] = {}
    ip, privacy, hardware = req.ip, req.privacy, req.hardware
    if ip.commercial_use is True:
        verdicts["licence.commercial-use"] = _known(lic.commercial_use, lambda v: v is True)
    if ip.licence_kinds is not None:
        # An empty list of accepted kinds accepts no kind; it is never read as "any kind".
        verdicts["licence.kind"] = "passed" if lic.kind in ip.licence_kinds else "failed"
    if ip.allowed_licences is not None:
        verdicts["licence.allowed-list"] = "passed" if lic.id in ip.allowed_licences else "failed"
    if ip.monthly_active_users is not None:
        caps = [
            t.monthly_active_users
            for t in lic.thresholds
            if t.effect == "separate_licence" and t.monthly_active_users is not None and t.applies_to is None
        ]
        verdicts["licence.user-cap"] = "passed" if all(ip.monthly_active_users <= cap for cap in caps) else "failed"
    if ip.train_on_outputs is True:
        terms = None if lic.outputs_training == "unknown" else lic.outputs_training
        verdicts["licence.outputs-training"] = _known(terms, lambda v: v in ("permitted", "conditional"))
    if req.customisation.fine_tuning != "none":
        verdicts["licence.derivatives"] = _known(lic.derivatives_permitted, lambda v: v is True)
    if privacy.excluded_origin_countries:
        verdicts["origin.excluded-country"] = _known(
            org.country.value, lambda v: v not in privacy.excluded_origin_countries
        )
    if privacy.require_open_training_data:
        verdicts["data.open-training-data"] = _known(
            model.training_data.value if model.training_data else None, lambda v: v == "open"
        )
    if req.min_context_tokens is not None:
        minimum = req.min_context_tokens
        # The largest window a source states: the extended one where recorded, else the native one.
        window = model.context_extension.tokens if model.context_extension else None
        window = window or (model.context_tokens.value if model.context_tokens else None)
        verdicts["context.minimum"] = _known(window, lambda v: v >= minimum)
    if req.reasoning == "required":
        verdicts["reasoning.required"] = _known(
            model.reasoning.value if model.reasoning else None, lambda v: v in ("hybrid", "always")
        )
    if "vision" in req.use_cases:
        verdicts["use-case.vision"] = _known(
            model.input_modalities.value if model.input_modalities else None, lambda v: "image" in v
        )
    if privacy.deployment == "api":
        active = [h for h in ENGINE.catalogue.offers_for(model.id) if h.offer.status == "active"]
        verdicts["deployment.hosted-offer"] = "passed" if active else "failed"
        if privacy.hosting_countries:
            countries = [h.country.value if h.country else None for h in active]
            if any(c in privacy.hosting_countries for c in countries if c is not None):
                verdicts["privacy.hosting-country"] = "passed"
            else:
                verdicts["privacy.hosting-country"] = "unknown" if None in countries else "failed"
    if hardware.gpu_count is not None and hardware.gpu_memory_gb is not None and privacy.deployment != "api":
        count, size = hardware.gpu_count, hardware.gpu_memory_gb
        verdicts["hardware.fits"] = _known(
            model.parameters_total_b.value if model.parameters_total_b else None,
            lambda _: (
                gpus_needed(memory_needed_gb(model, hardware.precision, req.customisation.fine_tuning), size) <= count
            ),
        )
    return verdicts


def assert_fit_follows_the_hardware_rule(fit: Fit, model: Model, req: Requirements) -> None:
    """The answer's own fit figures agree with the hardware constants and, when GPUs are given, fit them."""
    reference = float(HARDWARE["reference_gpu_memory_gb"])
    assert fit.precision_requested == req.hardware.precision
    assert fit.fine_tuning == req.customisation.fine_tuning
    assert fit.gpu_memory_gb == (req.hardware.gpu_memory_gb or reference)
    assert fit.gpu_memory_assumed is (req.hardware.gpu_memory_gb is None)
    if model.parameters_total_b is None:
        assert fit.memory_gb is None
        assert fit.gpus_needed is None
        return
    expected = memory_needed_gb(model, req.hardware.precision, req.customisation.fine_tuning)
    assert fit.memory_gb == pytest.approx(expected, abs=0.051)
    assert fit.gpus_needed == gpus_needed(expected, fit.gpu_memory_gb)
    if req.hardware.gpu_count is not None:
        assert fit.fits is (fit.gpus_needed <= req.hardware.gpu_count)
    else:
        assert fit.fits is None


# --------------------------------------------------------------------------------------- properties
@PROPERTY_SETTINGS
@given(requirement_dicts())
def test_every_eligible_model_satisfies_every_hard_constraint_checked_from_the_facts(body: dict[str, Any]) -> None:
    req = Requirements.model_validate(body)
    answer = recommend(body)
    for model_id in sorted(eligible_ids(answer)):
        verdicts = independent_verdicts(ENGINE.catalogue.models[model_id], req)
        broken = {rule: verdict for rule, verdict in verdicts.items() if verdict != "passed"}
        assert not broken, f"{model_id} is eligible but {broken}"
    for assessment in answer.recommendations:
        model = ENGINE.catalogue.models[assessment.model_id]
        assert_fit_follows_the_hardware_rule(assessment.fit, model, req)
        if "hardware.fits" in independent_verdicts(model, req):
            assert assessment.fit.fits is True, f"{assessment.model_id}: {assessment.fit}"


@PROPERTY_SETTINGS
@given(requirement_dicts())
def test_every_exclusion_names_exactly_the_constraints_the_facts_break(body: dict[str, Any]) -> None:
    req = Requirements.model_validate(body)
    answer = recommend(body)
    for exclusion in answer.excluded:
        verdicts = independent_verdicts(ENGINE.catalogue.models[exclusion.model_id], req)
        # Rules added later may exclude for reasons this test does not know; those it knows must agree.
        stated = {o.rule_id: o.outcome for o in exclusion.reasons if o.rule_id in verdicts}
        expected = {rule: verdict for rule, verdict in verdicts.items() if verdict != "passed"}
        assert stated == expected, exclusion.model_id


@st.composite
def looser_and_stricter(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A request and the same request with one to three constraints tightened."""
    looser = draw(requirement_dicts(limit=100))
    stricter = copy.deepcopy(looser)
    for tighten in draw(st.lists(st.sampled_from(TIGHTENINGS), min_size=1, max_size=3, unique=True)):
        tighten(draw, stricter)
    return looser, stricter


def _section(body: dict[str, Any], name: str) -> dict[str, Any]:
    section: dict[str, Any] = body.setdefault(name, {})
    return section


def _exclude_another_country(draw: st.DrawFn, body: dict[str, Any]) -> None:
    privacy = _section(body, "privacy")
    privacy["excluded_origin_countries"] = [*privacy.get("excluded_origin_countries", []), draw(countries)]


def _narrow_licence_kinds(draw: st.DrawFn, body: dict[str, Any]) -> None:
    # Narrowing to an empty list is tested on its own, so that one defect cannot mask others here.
    ip = _section(body, "ip")
    current = ip.get("licence_kinds") or list(LICENCE_KINDS)
    ip["licence_kinds"] = draw(st.lists(st.sampled_from(current), unique=True, min_size=1))


def _narrow_allowed_licences(draw: st.DrawFn, body: dict[str, Any]) -> None:
    ip = _section(body, "ip")
    current = ip.get("allowed_licences") or LICENCE_IDS
    ip["allowed_licences"] = draw(st.lists(st.sampled_from(current), unique=True, min_size=1))


def _raise_min_context(draw: st.DrawFn, body: dict[str, Any]) -> None:
    body["min_context_tokens"] = draw(st.integers(min_value=body.get("min_context_tokens") or 1, max_value=100_000_000))


def _require_commercial_use(_: st.DrawFn, body: dict[str, Any]) -> None:
    _section(body, "ip")["commercial_use"] = True


def _train_on_outputs(_: st.DrawFn, body: dict[str, Any]) -> None:
    _section(body, "ip")["train_on_outputs"] = True


def _require_open_training_data(_: st.DrawFn, body: dict[str, Any]) -> None:
    _section(body, "privacy")["require_open_training_data"] = True


def _more_users(draw: st.DrawFn, body: dict[str, Any]) -> None:
    ip = _section(body, "ip")
    ip["monthly_active_users"] = draw(
        st.integers(min_value=ip.get("monthly_active_users") or 0, max_value=2_000_000_000)
    )


def _require_reasoning(_: st.DrawFn, body: dict[str, Any]) -> None:
    body["reasoning"] = "required"


def _add_vision(_: st.DrawFn, body: dict[str, Any]) -> None:
    cases = body.get("use_cases", [])
    body["use_cases"] = cases if "vision" in cases else [*cases, "vision"]


def _fewer_gpus(draw: st.DrawFn, body: dict[str, Any]) -> None:
    hardware = _section(body, "hardware")
    if hardware.get("gpu_memory_gb") is None:
        hardware["gpu_memory_gb"] = draw(gpu_sizes)
    hardware["gpu_count"] = draw(st.integers(min_value=1, max_value=hardware.get("gpu_count") or 16))


def _smaller_gpus(draw: st.DrawFn, body: dict[str, Any]) -> None:
    hardware = _section(body, "hardware")
    size = hardware.get("gpu_memory_gb") or 4096.0
    hardware["gpu_memory_gb"] = draw(st.floats(min_value=1.0, max_value=float(size)))
    if hardware.get("gpu_count") is None:
        hardware["gpu_count"] = draw(st.integers(min_value=1, max_value=16))


def _wider_precision(draw: st.DrawFn, body: dict[str, Any]) -> None:
    hardware = _section(body, "hardware")
    start = PRECISIONS_LOOSEST_FIRST.index(hardware.get("precision", "bf16"))
    hardware["precision"] = draw(st.sampled_from(PRECISIONS_LOOSEST_FIRST[start:]))


def _heavier_fine_tuning(draw: st.DrawFn, body: dict[str, Any]) -> None:
    customisation = _section(body, "customisation")
    start = FINE_TUNING_LOOSEST_FIRST.index(customisation.get("fine_tuning", "none"))
    customisation["fine_tuning"] = draw(st.sampled_from(FINE_TUNING_LOOSEST_FIRST[start:]))


TIGHTENINGS: list[Callable[[st.DrawFn, dict[str, Any]], None]] = [
    _exclude_another_country,
    _narrow_licence_kinds,
    _narrow_allowed_licences,
    _raise_min_context,
    _require_commercial_use,
    _train_on_outputs,
    _require_open_training_data,
    _more_users,
    _require_reasoning,
    _add_vision,
    _fewer_gpus,
    _smaller_gpus,
    _wider_precision,
    _heavier_fine_tuning,
]


@PROPERTY_SETTINGS
@given(looser_and_stricter())
def test_a_stricter_request_never_adds_models(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    looser, stricter = pair
    loose_answer, strict_answer = recommend(looser), recommend(stricter)
    for answer in (loose_answer, strict_answer):
        eligible = eligible_ids(answer)
        assert answer.eligible_count == len(eligible)
        listed = {a.model_id for a in answer.recommendations}
        # limit 100 lists every eligible model, or the first 100 of them once more than 100 are eligible
        assert listed <= eligible and len(listed) == min(len(eligible), 100)
    added = eligible_ids(strict_answer) - eligible_ids(loose_answer)
    assert not added, f"the stricter request admits {sorted(added)}"


@PROPERTY_SETTINGS
@given(requirement_dicts())
def test_ranks_are_contiguous_and_follow_scores_with_ties_broken_by_model_id(body: dict[str, Any]) -> None:
    answer = recommend(body)
    recs = answer.recommendations
    assert [a.rank for a in recs] == list(range(1, len(recs) + 1))
    assert len(recs) == min(answer.eligible_count, Requirements.model_validate(body).limit)
    assert all(a.status == "recommended" for a in recs)
    for higher, lower in itertools.pairwise(recs):
        assert higher.score is not None
        assert lower.score is not None
        assert (-higher.score, higher.model_id) < (-lower.score, lower.model_id)


@st.composite
def request_and_reordering(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A request and the same request with every list field in another order."""
    body = draw(requirement_dicts())
    shuffled = copy.deepcopy(body)
    for path in (
        ("use_cases",),
        ("explain",),
        ("ip", "licence_kinds"),
        ("ip", "allowed_licences"),
        ("privacy", "excluded_origin_countries"),
    ):
        node: Any = shuffled
        for part in path[:-1]:
            node = node.get(part, {})
        if isinstance(node.get(path[-1]), list):
            node[path[-1]] = draw(st.permutations(node[path[-1]]))
    return body, shuffled


@PROPERTY_SETTINGS
@given(request_and_reordering())
def test_the_same_request_gives_the_same_answer_byte_for_byte_in_any_list_order(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    body, shuffled = pair
    first = recommend(body).model_dump_json()
    assert recommend(copy.deepcopy(body)).model_dump_json() == first
    assert recommend(shuffled).model_dump_json() == first


def test_an_engine_built_again_from_the_same_files_gives_the_same_answer() -> None:
    body = {
        "use_cases": ["coding", "vision"],
        "ip": {"commercial_use": True, "monthly_active_users": 3_000_000},
        "hardware": {"gpu_memory_gb": 80, "gpu_count": 2},
        "limit": 100,
        "explain": [MODEL_IDS[0], MODEL_IDS[-1]],
    }
    again = build_engine(ROOT / "catalogue", ROOT / "rules")
    assert (again.catalogue_version, again.rules_version) == (ENGINE.catalogue_version, ENGINE.rules_version)
    repeat = again.recommend(Requirements.model_validate(body), EVALUATED_ON)
    assert repeat.model_dump_json() == recommend(body).model_dump_json()


@PROPERTY_SETTINGS
@given(requirement_dicts())
def test_scores_lie_in_the_unit_interval_and_are_the_sum_of_value_times_weight(body: dict[str, Any]) -> None:
    answer = recommend(body)
    assert sorted(answer.weights) == sorted(CRITERIA)
    assert all(w >= 0 for w in answer.weights.values())
    assert sum(answer.weights.values()) == pytest.approx(1.0, abs=1e-5)
    scored = [a for a in answer.recommendations + answer.explained if a.status != "excluded"]
    for assessment in scored:
        assert assessment.score is not None
        assert 0.0 <= assessment.score <= 1.0, assessment.model_id
        listed = {c.criterion for c in assessment.criteria}
        assert {c for c, w in answer.weights.items() if w > 1e-6} <= listed <= set(CRITERIA)
        for item in assessment.criteria:
            assert 0.0 <= item.value <= 1.0, (assessment.model_id, item.criterion)
            assert item.weight == pytest.approx(answer.weights[item.criterion], abs=1e-6)
            assert item.contribution == pytest.approx(item.value * item.weight, abs=2e-6)
        total = sum(c.contribution for c in assessment.criteria)
        assert assessment.score == pytest.approx(total, abs=1e-5), assessment.model_id


@PROPERTY_SETTINGS
@given(requirement_dicts())
def test_every_exclusion_gives_a_rule_and_a_sentence_and_every_unknown_names_the_missing_fact(
    body: dict[str, Any],
) -> None:
    answer = recommend(body)
    outcomes = [o for e in answer.excluded for o in e.reasons] + [o for a in answer.explained for o in a.rules]
    for exclusion in answer.excluded:
        assert exclusion.reasons, f"{exclusion.model_id} is excluded without a reason"
        assert all(o.outcome in ("failed", "unknown") for o in exclusion.reasons)
    for outcome in outcomes:
        assert outcome.rule_id in ENGINE.rules.eligibility
        assert outcome.message.strip()
        assert "{" not in outcome.message, f"unfilled placeholder in {outcome.message!r}"
        if outcome.outcome == "unknown":
            assert outcome.missing_facts, f"{outcome.rule_id} is unknown without naming the missing fact"
        else:
            assert not outcome.missing_facts


@PROPERTY_SETTINGS
@given(requirement_dicts())
def test_every_model_asked_about_is_explained_with_the_status_it_has_in_the_answer(body: dict[str, Any]) -> None:
    answer = recommend(body)
    req = Requirements.model_validate(body)
    excluded = {e.model_id for e in answer.excluded}
    ranked = {a.model_id: a.rank for a in answer.recommendations}
    assert sorted(a.model_id for a in answer.explained) == sorted(req.explain)
    for assessment in answer.explained:
        if assessment.model_id in excluded:
            assert assessment.status == "excluded"
            assert assessment.rank is None
            assert assessment.score is None
            assert any(o.outcome != "passed" for o in assessment.rules)
        elif assessment.model_id in ranked:
            assert assessment.status == "recommended"
            assert assessment.rank == ranked[assessment.model_id]
        else:
            assert assessment.status == "eligible"
            assert assessment.rank is not None
            assert assessment.rank > req.limit


@pytest.mark.parametrize("field", ["licence_kinds", "allowed_licences"])
def test_an_empty_acceptance_list_never_admits_more_models_than_a_non_empty_one(field: str) -> None:
    value = ["permissive"] if field == "licence_kinds" else ["mit"]
    narrow = recommend({"ip": {field: value}, "limit": 100})
    try:
        empty = Requirements.model_validate({"ip": {field: []}, "limit": 100})
    except ValidationError:
        return  # refusing an empty list outright is as good as reading it strictly
    admitted = eligible_ids(ENGINE.recommend(empty, EVALUATED_ON))
    assert admitted <= eligible_ids(narrow), f"ip.{field} = [] admits {len(admitted)} models, as if unset"
