"""The typical questions of the design brief, answered on the shipped catalogue."""

from __future__ import annotations

import math
from typing import Any

import pytest

from service.domain.engine import Engine
from service.domain.requirements import Requirements
from tests.conftest import TODAY


def ask(engine: Engine, request: dict[str, Any]) -> Any:
    return engine.recommend(Requirements.model_validate(request), TODAY)


def test_a_hospital_on_two_80gb_gpus_gets_models_that_fit_and_their_licence_duties(engine: Engine) -> None:
    answer = ask(
        engine,
        {
            "use_cases": ["chat", "reasoning"],
            "privacy": {"deployment": "self_hosted"},
            "customisation": {"fine_tuning": "lora"},
            "hardware": {"gpu_memory_gb": 80, "gpu_count": 2, "precision": "bf16"},
            "profile": "regulated-data",
        },
    )
    assert answer.recommendations
    for rec in answer.recommendations:
        assert rec.fit.fits is True
        assert rec.fit.gpus_needed is not None and rec.fit.gpus_needed <= 2
        assert rec.fit.memory_gb is not None and rec.fit.memory_gb <= 160
        assert rec.fit.fine_tuning == "lora" and "LoRA" in rec.fit.allows_for
        assert rec.obligations, "every licence imposes at least a notice duty"
    big = {e.model_id for e in answer.excluded}
    assert "deepseek-ai/DeepSeek-V3.1" in big


def test_lora_memory_is_the_weights_plus_the_stated_allowance_cache_and_overhead(engine: Engine) -> None:
    answer = ask(
        engine,
        {
            "customisation": {"fine_tuning": "lora"},
            "hardware": {"precision": "fp8"},
            "explain": ["openai/gpt-oss-120b"],
        },
    )
    fit = answer.explained[0].fit
    hw = engine.rules.hardware
    assert fit.weights_gb == round(116.8 * hw.bytes_per_parameter["fp8"], 1)
    assert fit.kv_cache_gb is not None and fit.tokens_per_request == hw.default_tokens_per_request
    base = 116.8 * (1 + hw.lora_overhead_fraction) + fit.kv_cache_gb
    expected = base * (1 + hw.runtime_overhead_fraction)
    assert fit.memory_gb == pytest.approx(expected, abs=0.1)
    usable = hw.reference_gpu_memory_gb * hw.usable_memory_fraction
    assert fit.gpu_memory_assumed and fit.gpus_needed == math.ceil(expected / usable)


def test_a_commercial_product_wanting_a_permissive_licence_is_told_why_not_kimi(engine: Engine) -> None:
    answer = ask(
        engine,
        {
            "use_cases": ["coding"],
            "ip": {"commercial_use": True, "licence_kinds": ["permissive"], "monthly_active_users": 3_000_000},
            "profile": "product-embedding",
            "explain": ["moonshotai/Kimi-K2-Instruct"],
        },
    )
    for rec in answer.recommendations:
        assert engine.rules.licences[rec.licence].kind == "permissive"
    kimi = answer.explained[0]
    assert kimi.status == "excluded"
    failing = [o for o in kimi.rules if o.outcome != "passed"]
    assert [o.rule_id for o in failing] == ["licence.kind"]
    assert "custom" in failing[0].message
    assert failing[0].evidence[0].source == engine.rules.licences["modified-mit-moonshot"].source


def test_an_agency_excluding_a_jurisdiction_sees_every_exclusion_and_its_source(engine: Engine) -> None:
    answer = ask(engine, {"privacy": {"excluded_origin_countries": ["CN"]}, "limit": 100})
    chinese = {
        m.id
        for m in engine.catalogue.models.values()
        if engine.catalogue.organisations[m.organisation].country.value == "CN"
    }
    excluded = {e.model_id: e for e in answer.excluded}
    assert chinese <= set(excluded)
    assert not chinese & {r.model_id for r in answer.recommendations}
    for model_id in chinese:
        [reason] = [r for r in excluded[model_id].reasons if r.rule_id == "origin.excluded-country"]
        assert reason.evidence[0].fact.endswith("country") and reason.evidence[0].source and reason.evidence[0].as_of


def test_a_lab_that_audits_training_data_gets_only_fully_open_models(engine: Engine) -> None:
    answer = ask(engine, {"privacy": {"require_open_training_data": True}})
    open_data = {
        m.id
        for m in engine.catalogue.models.values()
        if m.training_data is not None and m.training_data.value == "open"
    }
    assert "allenai/OLMo-2-0325-32B-Instruct" in open_data
    assert answer.eligible_count == len(open_data)
    assert answer.recommendations
    assert {r.model_id for r in answer.recommendations} <= open_data


def test_long_documents_over_an_api_get_the_cheapest_acceptable_model_with_its_price_date(engine: Engine) -> None:
    answer = ask(engine, {"privacy": {"deployment": "api"}, "min_context_tokens": 500_000, "weights": {"cost": 1}})
    top = answer.recommendations[0]
    cost = next(c for c in top.criteria if c.criterion == "cost")
    assert "price as of" in cost.explanation
    assert all(e.as_of for e in cost.evidence)
    prices = {}
    for rec in answer.recommendations:
        model = engine.catalogue.models[rec.model_id]
        # The largest stated window counts: the extended one where a source gives one (with a caveat).
        window = model.context_extension.tokens if model.context_extension else None
        window = window or (model.context_tokens.value if model.context_tokens else 0)
        assert window >= 500_000
        # Only active offers on a price that holds at every hour (flat or peak) rank; off-peak and retired do not.
        ranked = [
            h.offer
            for h in engine.catalogue.offers_for(rec.model_id)
            if h.offer.status == "active" and h.offer.price_basis in ("flat", "peak")
        ]
        prices[rec.model_id] = min(0.75 * o.input_usd_per_m + 0.25 * o.output_usd_per_m for o in ranked)
    assert min(prices, key=prices.__getitem__) == top.model_id


def test_an_empty_request_uses_the_balanced_profile_and_excludes_nobody(engine: Engine) -> None:
    answer = ask(engine, {})
    assert answer.profile == "balanced"
    assert answer.excluded == []
    assert answer.eligible_count == len(engine.catalogue.models)
    assert len(answer.recommendations) == 5
    assert answer.catalogue_version.startswith("sha256:") and answer.rules_version.startswith("sha256:")


def test_every_recommendation_reason_names_its_evidence(engine: Engine) -> None:
    answer = ask(engine, {"ip": {"commercial_use": True}, "use_cases": ["coding"]})
    for rec in answer.recommendations:
        rule_reasons = [r for r in rec.reasons if r.startswith("[licence.")]
        assert rule_reasons and all("Evidence:" in r and "as of" in r for r in rule_reasons)
        for criterion in rec.criteria:
            assert math.isclose(criterion.contribution, criterion.value * criterion.weight, abs_tol=1e-5)


def test_unknown_facts_exclude_with_the_missing_fact_named(engine: Engine) -> None:
    answer = ask(engine, {"ip": {"train_on_outputs": True}, "explain": ["Qwen/Qwen3.8-2.4T-A95B"]})
    [reason] = [r for r in answer.explained[0].rules if r.outcome == "unknown"]
    assert reason.missing_facts == ["licence.outputs_training"]
    assert "not established" in reason.message


def test_a_model_without_measurements_is_insufficient_evidence_at_the_stated_bound(engine: Engine) -> None:
    [unmeasured] = [m for m in sorted(engine.catalogue.models) if not engine.catalogue.measurements()[m]][:1]
    answer = ask(engine, {"use_cases": ["coding"], "explain": [unmeasured]})
    model = answer.explained[0]
    capability = next(c for c in model.criteria if c.criterion == "capability")
    policy = engine.rules.criteria["capability"].insufficient_evidence
    assert policy is not None
    assert capability.missing_data and capability.value == policy.quantile
    assert capability.estimates is not None and capability.estimates[0].status == "insufficient_evidence"
    assert "insufficient evidence" in capability.explanation and policy.note in capability.explanation
    assert any(c.kind == "missing_data" and c.fact == "capability" for c in model.caveats)
    assert any(policy.note in line for line in answer.method)


def test_a_use_case_without_direct_evidence_is_inferred_with_wider_uncertainty(engine: Engine) -> None:
    from service.domain.criteria.capability import CapabilityCriterion
    from service.domain.measurements import USE_CASES

    module = engine.criteria["capability"]
    assert isinstance(module, CapabilityCriterion)
    fit = module.fit
    # A model measured on coding but not on some other use case (vision is left out: it is also a hard rule).
    cases = [c for c in USE_CASES if c not in ("coding", "vision")]
    i, other = next(
        (i, c)
        for i in range(len(fit.model_ids))
        for c in cases
        if fit.direct[i, USE_CASES.index("coding")] and not fit.direct[i, USE_CASES.index(c)]
    )
    model_id = fit.model_ids[i]
    answer = ask(engine, {"use_cases": ["coding", other], "explain": [model_id]})
    capability = next(c for c in answer.explained[0].criteria if c.criterion == "capability")
    assert capability.estimates is not None
    by_case = {e.use_case: e for e in capability.estimates}  # the answer lists use cases in its own order
    coding, inferred = by_case["coding"], by_case[other]
    assert (coding.status, inferred.status) == ("measured", "inferred")
    assert inferred.standard_error is not None and coding.standard_error is not None
    assert inferred.standard_error > coding.standard_error
    assert coding.measurements >= 1 and inferred.measurements == 0
    assert any(c.fact == f"capability.{other}" for c in answer.explained[0].caveats)


def test_stale_signals_are_flagged_against_the_evaluation_date(engine: Engine) -> None:
    import datetime as dt

    answer = engine.recommend(Requirements(explain=["deepseek-ai/DeepSeek-V4-Flash"]), dt.date(2027, 6, 1))
    stale = [c for c in answer.explained[0].caveats if c.kind == "stale"]
    assert any(c.fact == "adoption.hf_likes" for c in stale)
    fresh = engine.recommend(Requirements(explain=["deepseek-ai/DeepSeek-V4-Flash"]), dt.date(2026, 8, 20))
    assert not [c for c in fresh.explained[0].caveats if c.kind == "stale" and c.fact == "adoption.hf_likes"]


def test_preferring_reasoning_adds_the_reasoning_criterion(engine: Engine) -> None:
    answer = ask(engine, {"reasoning": "preferred"})
    assert answer.weights["reasoning"] > 0
    assert ask(engine, {}).weights["reasoning"] == 0


def test_an_old_date_on_a_fixed_fact_is_not_called_stale(engine: Engine) -> None:
    import datetime as dt

    later = dt.date(2028, 1, 1)
    answer = engine.recommend(
        Requirements(explain=["moonshotai/Kimi-K2-Instruct"], hardware={"gpu_memory_gb": 80, "gpu_count": 2}), later
    )
    stale = {c.fact for c in answer.explained[0].caveats if c.kind == "stale"}
    assert "parameters_total_b" not in stale
    overdue = {c.fact for c in answer.explained[0].caveats if c.kind == "review_overdue"}
    assert "model moonshotai/Kimi-K2-Instruct" in overdue, "the entry's review date still asks for a re-check"
