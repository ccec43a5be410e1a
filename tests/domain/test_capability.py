"""The capability model: one scale for models measured on different variants, with stated uncertainty."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.domain.ability import Observation, design_rows, fit_abilities, from_logit, spearman, to_logit
from service.domain.criteria.capability import CapabilityCriterion, fit_catalogue, settings_of
from service.domain.engine import Engine
from service.domain.evaluation import evaluate
from service.domain.measurements import Measurement
from service.domain.requirements import Requirements

TODAY = dt.date(2026, 12, 1)


def _capability(engine: Engine) -> CapabilityCriterion:
    module = engine.criteria["capability"]
    assert isinstance(module, CapabilityCriterion)
    return module


def _general(engine: Engine) -> dict[str, float]:
    values = engine.criterion_values(Requirements(), TODAY)["capability"]
    return dict(zip(engine.features.ids, values.tolist(), strict=True))


def test_gpt_oss_120b_is_at_least_as_capable_as_gpt_oss_20b_in_general(engine: Engine) -> None:
    general = _general(engine)
    assert general["openai/gpt-oss-120b"] >= general["openai/gpt-oss-20b"]


def test_the_fit_is_deterministic_and_quick(engine: Engine) -> None:
    fit = _capability(engine).fit
    again = fit_abilities(
        fit.model_ids,
        [engine.rules.benchmarks[b] for b in fit.variant_ids],
        fit.observations,
        settings_of(engine.rules.criteria["capability"]),
    )
    assert np.array_equal(again.theta, fit.theta) and np.array_equal(again.covariance, fit.covariance)
    assert again.seconds < 30  # reported by `advisor evaluate`; about a tenth of a second on one core
    assert fit.iterations < settings_of(engine.rules.criteria["capability"]).max_iterations  # it converged


def test_logits_round_trip_on_every_scale(engine: Engine) -> None:
    for benchmark in engine.rules.benchmarks.values():
        low = benchmark.min if benchmark.min is not None else 900.0
        high = benchmark.max if benchmark.max is not None else 1500.0
        for value in np.linspace(low + 0.1 * (high - low), high - 0.1 * (high - low), 5):
            assert from_logit(benchmark, to_logit(benchmark, float(value), 0.005)) == pytest.approx(value)


def test_an_unmeasured_model_gets_the_stated_bound_and_no_estimate(engine: Engine) -> None:
    module = _capability(engine)
    policy = engine.rules.criteria["capability"].insufficient_evidence
    assert policy is not None
    general = _general(engine)
    unmeasured = [m for i, m in enumerate(module.fit.model_ids) if not module.fit.evidenced[i]]
    for model_id in unmeasured:
        assert general[model_id] == policy.quantile
    measured = [general[m] for i, m in enumerate(module.fit.model_ids) if module.fit.evidenced[i]]
    assert np.mean(np.array(measured) < policy.quantile) <= policy.quantile + 0.1


def _with(engine: Engine, model_id: str, measurement: Measurement) -> tuple[float, float]:
    """General ability and its standard error of ``model_id`` after adding ``measurement``."""
    module = _capability(engine)
    fit = module.fit
    benchmark = engine.rules.benchmarks[measurement.benchmark]
    spec = settings_of(engine.rules.criteria["capability"])
    weight = spec.measurer_weights[measurement.measured_by] * (spec.saturated_factor if benchmark.saturated else 1)
    i, b = fit.model_ids.index(model_id), fit.variant_ids.index(measurement.benchmark)
    added = Observation(i, b, to_logit(benchmark, measurement.value, spec.clip), weight, measurement)
    variants = [engine.rules.benchmarks[v] for v in fit.variant_ids]
    refit = fit_abilities(fit.model_ids, variants, [*fit.observations, added], spec, start=fit)
    mean, se = refit.latent(module.direction([]))
    return float(mean[i]), float(se[i])


def _measurement(benchmark: str, value: float, measured_by: str = "developer") -> Measurement:
    return Measurement.model_validate(
        {
            "benchmark": benchmark,
            "value": value,
            "measured_by": measured_by,
            "source": "https://example.org/test",
            "as_of": TODAY,
        }
    )


def test_an_independent_measurement_moves_the_estimate_more_than_a_developer_one(engine: Engine) -> None:
    fit = _capability(engine).fit
    # The evidenced model with the fewest measurements, given a GPQA Diamond figure well above its prediction.
    i = min(np.flatnonzero(fit.evidenced).tolist(), key=lambda k: (int(fit.counts[k]), fit.model_ids[k]))
    model_id = fit.model_ids[i]
    rows = design_rows([engine.rules.benchmarks[v] for v in fit.variant_ids])
    gpqa = engine.rules.benchmarks["gpqa_diamond"]
    value = from_logit(gpqa, fit.predict(i, fit.variant_ids.index("gpqa_diamond"), rows) + 1.5)
    before = float(fit.theta[i, 0])
    developer, _ = _with(engine, model_id, _measurement("gpqa_diamond", value, "developer"))
    independent, _ = _with(engine, model_id, _measurement("gpqa_diamond", value, "independent_leaderboard"))
    assert independent - before > developer - before > 0


def test_a_saturated_variant_weighs_less_by_the_stated_factor(engine: Engine) -> None:
    module = _capability(engine)
    fit = module.fit
    spec = settings_of(engine.rules.criteria["capability"])
    for o in fit.observations:
        benchmark = engine.rules.benchmarks[o.measurement.benchmark]
        expected = spec.measurer_weights[o.measurement.measured_by] * (
            spec.saturated_factor if benchmark.saturated else 1
        )
        assert o.weight == expected
    # The same surprising figure on a saturated variant moves the estimate less than it would unsaturated.
    assert engine.rules.benchmarks["mmlu_pro"].saturated
    rows = design_rows([engine.rules.benchmarks[v] for v in fit.variant_ids])
    i, b = fit.model_ids.index("openai/gpt-oss-20b"), fit.variant_ids.index("mmlu_pro")
    z = fit.predict(i, b, rows) + 1.0
    measurement = _measurement("mmlu_pro", from_logit(engine.rules.benchmarks["mmlu_pro"], z))
    variants = [engine.rules.benchmarks[v] for v in fit.variant_ids]
    moved = []
    for weight in (spec.measurer_weights["developer"] * spec.saturated_factor, spec.measurer_weights["developer"]):
        refit = fit_abilities(
            fit.model_ids, variants, [*fit.observations, Observation(i, b, z, weight, measurement)], spec, start=fit
        )
        moved.append(float(refit.theta[i, 0] - fit.theta[i, 0]))
    assert 0 < moved[0] < moved[1]


def _hard_variants(engine: Engine) -> list[str]:
    fit = _capability(engine).fit
    measured = {fit.variant_ids[o.variant] for o in fit.observations}
    return sorted(v for k, v in enumerate(fit.variant_ids) if v in measured and fit.difficulty[k] < 0)


def _general_with_a_surprise(
    engine: Engine, model_id: str, variant: str, surprise: float, measured_by: str
) -> tuple[int, FitPair]:
    """General ability of every model before and after ``model_id`` reports ``surprise`` logits over its prediction."""
    module = _capability(engine)
    fit = module.fit
    i, b = fit.model_ids.index(model_id), fit.variant_ids.index(variant)
    rows = design_rows([engine.rules.benchmarks[v] for v in fit.variant_ids])
    benchmark = engine.rules.benchmarks[variant]
    value = from_logit(benchmark, fit.predict(i, b, rows) + surprise)
    assert benchmark.out_of_range(value) is None
    spec = settings_of(engine.rules.criteria["capability"])
    weight = spec.measurer_weights[measured_by] * (spec.saturated_factor if benchmark.saturated else 1)
    added = Observation(i, b, to_logit(benchmark, value, spec.clip), weight, _measurement(variant, value, measured_by))
    variants = [engine.rules.benchmarks[v] for v in fit.variant_ids]
    refit = fit_abilities(fit.model_ids, variants, [*fit.observations, added], spec, start=fit)
    direction = module.direction([])
    before, _ = fit.latent(direction)
    after, _ = refit.latent(direction)
    return i, FitPair(before[fit.evidenced], after[refit.evidenced], int(np.sum(fit.evidenced[:i])))


@dataclasses.dataclass(frozen=True)
class FitPair:
    """General ability of the evidenced models before and after a refit, and the position of the model tried."""

    before: npt.NDArray[np.float64]
    after: npt.NDArray[np.float64]
    at: int


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_hard_measurement_at_or_above_the_prediction_never_lowers_a_models_estimate_or_rank(
    engine: Engine, data: st.DataObject
) -> None:
    fit = _capability(engine).fit
    hard = _hard_variants(engine)
    assert hard, "the catalogue has hard variants (HLE, for one)"
    evidenced = [m for i, m in enumerate(fit.model_ids) if fit.evidenced[i]]
    model_id = data.draw(st.sampled_from(evidenced))
    variant = data.draw(st.sampled_from(hard))
    surprise = data.draw(st.floats(0.0, 1.5))
    measured_by = data.draw(st.sampled_from(["developer", "third_party", "independent_leaderboard"]))
    _, pair = _general_with_a_surprise(engine, model_id, variant, surprise, measured_by)
    before, after, k = pair.before, pair.after, pair.at
    # Within the fit's numerical tolerance: the refit also re-estimates the noise and recalibrates the variant,
    # which moves an estimate by up to a few hundred-thousandths of a logit when the figure is at its prediction.
    tolerance = 1e-3
    assert after[k] >= before[k] - tolerance
    rank_before = int(np.sum(before > before[k] + tolerance))
    rank_after = int(np.sum(after > after[k] + tolerance))
    assert rank_after <= rank_before


@pytest.mark.parametrize(
    ("model_id", "variant"),
    [
        # Draws that lowered the estimate or the rank when variants loaded on every use case they list.
        ("ByteDance-Seed/Seed-OSS-36B-Instruct", "hle_tools"),
        ("CohereLabs/c4ai-command-a-03-2025", "hle_unspecified"),
        ("nvidia/NVIDIA-Nemotron-3-Ultra-550B-A55B-BF16", "hle_unspecified"),
    ],
)
def test_a_figure_above_the_prediction_on_a_thinly_measured_variant_raises_the_model(
    engine: Engine, model_id: str, variant: str
) -> None:
    _, pair = _general_with_a_surprise(engine, model_id, variant, 1.0, "third_party")
    before, after, k = pair.before, pair.after, pair.at
    assert after[k] > before[k]
    assert np.sum(after > after[k]) <= np.sum(before > before[k])


def test_given_the_variants_every_ability_is_monotone_in_every_measurement(engine: Engine) -> None:
    # With the variants' scales and difficulties fixed, adding a measurement moves a model's ability vector by
    # its posterior covariance times the measurement's loading times the surprise (a Gaussian update). Every
    # ability the service reports (general, one use case, an average of use cases) must move with the surprise's
    # sign, for every model and every variant: the covariance times the loading is non-negative along each.
    fit = _capability(engine).fit
    rows = design_rows([engine.rules.benchmarks[v] for v in fit.variant_ids])
    loadings = fit.scale[:, None] * rows  # variants x components
    assert np.all(fit.scale > 0)
    moved = np.einsum("nkl,bl->nbk", fit.covariance, loadings)  # models x variants x components
    general = moved[:, :, 0]
    use_cases = moved[:, :, :1] + moved[:, :, 1:]
    assert general.min() >= -1e-12
    assert use_cases.min() >= -1e-12


def test_the_hle_figure_that_sank_gpt_oss_120b_no_longer_does(engine: Engine) -> None:
    module = _capability(engine)
    fit = module.fit
    i = fit.model_ids.index("openai/gpt-oss-120b")
    without = [o for o in fit.observations if not (o.model == i and o.measurement.benchmark.startswith("hle_"))]
    spec = settings_of(engine.rules.criteria["capability"])
    variants = [engine.rules.benchmarks[v] for v in fit.variant_ids]
    refit = fit_abilities(fit.model_ids, variants, without, spec, start=fit)
    direction = module.direction(["reasoning"])
    with_hle, _ = fit.latent(direction)
    without_hle, _ = refit.latent(direction)
    # HLE 14.9 is above what a model of gpt-oss-120b's other evidence would score there: it raises the estimate.
    assert with_hle[i] >= without_hle[i] - 0.05


def test_leave_one_out_beats_the_benchmark_mean_baseline(engine: Engine) -> None:
    result = evaluate(engine.catalogue, engine.rules, stride=7)
    assert result.scored >= 20
    assert result.model_mae < result.baseline_mae
    assert result.model_wins > result.scored / 2
    assert result.coverage == pytest.approx(result.estimated / result.models)


def test_spearman_is_rank_correlation() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert spearman(x, x**3) == pytest.approx(1.0)
    assert spearman(x, -x) == pytest.approx(-1.0)
    assert spearman(np.array([1.0, 2.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(0.9486833)


def test_a_held_out_composite_is_rank_correlated_with_the_fit_of_the_rest(engine: Engine) -> None:
    # A synthetic independent composite that equals the fitted general ability plus noise: held out, the
    # fit of the remaining measurements must rank the models as the composite does.
    module = _capability(engine)
    fit = module.fit
    rules = engine.rules
    composite = next(b for b in rules.benchmarks.values() if b.composite and b.scale == "index")
    b = fit.variant_ids.index(composite.id)
    rng = np.random.default_rng(3)
    spec = settings_of(rules.criteria["capability"])
    keep = [o for o in fit.observations if o.variant != b]
    added = []
    for i in np.flatnonzero(fit.evidenced).tolist():
        z = 1.2 * fit.theta[i, 0] - 0.5 + rng.normal(0, 0.1)
        value = from_logit(composite, z)
        added.append(Observation(i, b, z, 1.0, _measurement(composite.id, value, "independent_leaderboard")))
    variants = [rules.benchmarks[v] for v in fit.variant_ids]
    refit = fit_abilities(fit.model_ids, variants, keep, spec, start=fit)
    general = np.array([refit.theta[o.model, 0] for o in added])
    index = np.array([o.z for o in added])
    assert spearman(general, index) > 0.9
    assert dataclasses.is_dataclass(refit)


def test_every_answer_states_the_capability_policy_and_compare_shows_the_same_explanation(engine: Engine) -> None:
    request = Requirements(use_cases=["coding"], explain=["openai/gpt-oss-120b", "openai/gpt-oss-20b"])
    answer = engine.recommend(request, TODAY)
    policy = engine.rules.criteria["capability"].insufficient_evidence
    assert policy is not None and any(policy.note in line for line in answer.method)
    comparison = engine.compare(
        ["openai/gpt-oss-120b", "openai/gpt-oss-20b"], Requirements(use_cases=["coding"]), TODAY
    )
    for explained in answer.explained:
        compared = next(m for m in comparison.models if m.model_id == explained.model_id)
        mine = next(c for c in explained.criteria if c.criterion == "capability")
        theirs = next(c for c in compared.criteria if c.criterion == "capability")
        assert mine.explanation == theirs.explanation and mine.estimates == theirs.estimates
        assert mine.estimates is not None and mine.estimates[0].use_case == "coding"
        assert mine.uncertainty > 0
        assert all(e.fact.startswith("benchmark ") for e in mine.evidence)


def test_sensitivity_draws_capability_from_its_uncertainty_too(engine: Engine) -> None:
    answer = engine.recommend(Requirements(limit=5), TODAY)
    s = answer.tradeoffs.sensitivity
    assert s.evidence_perturbed == ["capability"]
    assert "Normal(value" in s.method
    for m in s.models:
        assert 0 <= m.first_share_with_evidence <= 1 and 0 <= m.top3_share_with_evidence <= 1
    assert sum(m.first_share_with_evidence for m in s.models) <= 1 + 1e-9
    leader = s.models[0]
    assert s.close_call == (leader.first_share < 0.5 or leader.first_share_with_evidence < 0.5)
    again = engine.recommend(Requirements(limit=5), TODAY).tradeoffs.sensitivity
    assert again == s


def test_fits_are_memoised_by_their_inputs(engine: Engine) -> None:
    first, _ = fit_catalogue(engine.catalogue, engine.rules)
    second, _ = fit_catalogue(engine.catalogue, engine.rules)
    assert first is second
