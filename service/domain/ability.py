"""The capability model: one latent scale for models measured on different benchmark variants.

Each measurement is mapped to a logit: ``logit((value - min) / (max - min))`` for percent and index variants
(clipped to ``[clip, 1 - clip]``) and ``(value - 1000) x ln(10) / 400`` for Elo ratings, negated when lower is
better. Model ``i`` has a general ability ``g_i`` and one deviation ``f_iu`` per use case; a variant ``b`` that
is evidence for the use cases ``U_b`` sees the ability ``t_ib = g_i + mean(f_iu for u in U_b)`` through its own
scale ``a_b`` and difficulty ``d_b``::

    z_m = a_b * t_ib + d_b + e_m,    e_m ~ Normal(0, sigma^2 / w_m)

``w_m`` is the measurement's weight, a stated rule (``rules/criteria/capability.toml``): by who measured it,
times a factor for saturated variants. Ridge (Gaussian) priors keep it well-posed and deterministic:
``g ~ N(0, sd_g)``, ``f ~ N(0, sd_f)``, ``a ~ N(1, sd_a)``, ``d ~ N(0, sd_d)``. The maximum a posteriori fit
alternates exact weighted least-squares steps (abilities given the variants, then variants given the
abilities) from a fixed start, so the same measurements always give the same fit. ``sigma^2`` is re-estimated
from the weighted residuals after each pass.

An ability's standard error comes from the posterior covariance of the model's ability vector given the
fitted variants (a Laplace approximation that ignores the variants' own uncertainty). A use case with no
direct measurement is estimated from the model's other evidence: its deviation stays at the prior, so its
uncertainty is wider. A model with no usable measurement has no estimate at all (insufficient evidence).

Fitting lives here; presenting it (0-1 values, explanations, caveats) lives in the capability criterion.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from service.domain.measurements import USE_CASES, Benchmark, Measurement

__all__ = ["AbilityFit", "FitSettings", "Observation", "fit_abilities", "observations", "spearman"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]
#: Components of a model's ability vector: general ability, then one deviation per use case.
COMPONENTS: tuple[str, ...] = ("general", *USE_CASES)
_ELO_REFERENCE = 1000.0
#: Passes the Anderson acceleration of the fit extrapolates over.
_ANDERSON_MEMORY = 6


@dataclass(frozen=True)
class FitSettings:
    """The fit's stated assumptions (read from ``rules/criteria/capability.toml``)."""

    general_prior_sd: float
    use_case_prior_sd: float
    scale_prior_sd: float
    difficulty_prior_sd: float
    clip: float
    measurer_weights: Mapping[str, float]
    saturated_factor: float
    max_iterations: int
    tolerance: float


@dataclass(frozen=True)
class Observation:
    """A measurement the fit uses: which model, which variant, its logit and weight, and the original."""

    model: int
    variant: int
    z: float
    weight: float
    measurement: Measurement


def to_logit(benchmark: Benchmark, value: float, clip: float) -> float:
    """A value on ``benchmark``'s scale as a logit (higher is better)."""
    if benchmark.scale == "elo":
        z = (value - _ELO_REFERENCE) * math.log(10) / 400
    else:
        low, high = benchmark.min or 0.0, benchmark.max or 100.0
        p = min(max((value - low) / (high - low), clip), 1 - clip)
        z = math.log(p / (1 - p))
    return z if benchmark.higher_is_better else -z


def from_logit(benchmark: Benchmark, z: float) -> float:
    """The inverse of :func:`to_logit`: a logit back on ``benchmark``'s own scale."""
    z = z if benchmark.higher_is_better else -z
    if benchmark.scale == "elo":
        return _ELO_REFERENCE + z * 400 / math.log(10)
    low, high = benchmark.min or 0.0, benchmark.max or 100.0
    return low + (high - low) / (1 + math.exp(-z))


def observations(
    model_ids: Sequence[str],
    measured: Mapping[str, Sequence[Measurement]],
    benchmarks: Mapping[str, Benchmark],
    variant_ids: Sequence[str],
    settings: FitSettings,
) -> tuple[list[Observation], dict[str, list[tuple[Measurement, str]]]]:
    """The measurements the fit uses, and per model those it sets aside with the reason.

    A model assessed in both modes on one variant is assessed in thinking mode there (its best stated mode):
    the non-thinking figures on that variant are set aside, not averaged with the thinking ones.
    """
    variant_index = {b: k for k, b in enumerate(variant_ids)}
    used: list[Observation] = []
    set_aside: dict[str, list[tuple[Measurement, str]]] = {}
    for i, model_id in enumerate(model_ids):
        items = measured.get(model_id, ())
        thinking = {x.benchmark for x in items if x.mode == "thinking"}
        for x in items:
            if x.mode == "non_thinking" and x.benchmark in thinking:
                set_aside.setdefault(model_id, []).append(
                    (x, "a thinking-mode figure on the same variant exists; the model is assessed in that mode")
                )
                continue
            benchmark = benchmarks[x.benchmark]
            weight = settings.measurer_weights[x.measured_by] * (
                settings.saturated_factor if benchmark.saturated else 1
            )
            used.append(
                Observation(i, variant_index[x.benchmark], to_logit(benchmark, x.value, settings.clip), weight, x)
            )
    return used, set_aside


def design_rows(benchmarks: Sequence[Benchmark]) -> FloatArray:
    """Per variant, how it loads on the ability components: 1 on general, 1/|U_b| on each of its use cases."""
    rows = np.zeros((len(benchmarks), len(COMPONENTS)))
    rows[:, 0] = 1.0
    for k, benchmark in enumerate(benchmarks):
        for case in benchmark.use_cases:
            rows[k, COMPONENTS.index(case)] = 1.0 / len(benchmark.use_cases)
    return rows


@dataclass(frozen=True)
class AbilityFit:
    """A fitted capability model: abilities with covariances per model, and scale and difficulty per variant."""

    model_ids: tuple[str, ...]
    variant_ids: tuple[str, ...]
    theta: FloatArray  # models x components (posterior mode)
    covariance: FloatArray  # models x components x components
    scale: FloatArray  # per variant
    difficulty: FloatArray  # per variant
    sigma: float  # residual standard deviation of a weight-1 measurement, in logits
    evidenced: BoolArray  # per model: at least one measurement used
    direct: BoolArray  # models x use cases: a used measurement is evidence for that use case
    counts: IntArray  # per model: measurements used
    independent: IntArray  # per model: of those, measured by an independent leaderboard
    iterations: int
    seconds: float
    observations: tuple[Observation, ...]
    #: Where the passes stopped: scale, difficulty and log sigma^2 (start an identical re-fit here).
    point: FloatArray
    #: The passes stopped on the tolerance (not by running out of iterations).
    converged: bool

    def predict(self, model: int, variant: int, rows: FloatArray) -> float:
        """The fitted logit of ``model`` on ``variant``."""
        return float(self.scale[variant] * (rows[variant] @ self.theta[model]) + self.difficulty[variant])

    def latent(self, weights: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Each model's ability along ``weights`` (a components vector) and its standard error."""
        mean: FloatArray = self.theta @ weights
        var: FloatArray = np.einsum("k,nkl,l->n", weights, self.covariance, weights)
        se: FloatArray = np.sqrt(np.maximum(var, 0.0))
        return mean, se


def _solve_abilities(
    n: int,
    rows: FloatArray,
    model: IntArray,
    variant: IntArray,
    z: FloatArray,
    w: FloatArray,
    scale: FloatArray,
    difficulty: FloatArray,
    prior: FloatArray,
    sigma2: float,
) -> tuple[FloatArray, FloatArray]:
    """Each model's ability vector given the variants: a ridge regression per model, all at once.

    ``model`` must be sorted (observations are built model by model), so per-model sums are ``reduceat``s.
    """
    k = rows.shape[1]
    r = scale[variant, None] * rows[variant]  # measurement x components
    weight = w / sigma2
    precision = np.zeros((n, k, k))
    target = np.zeros((n, k))
    if model.size:
        starts = np.flatnonzero(np.r_[True, model[1:] != model[:-1]])
        owners = model[starts]
        precision[owners] = np.add.reduceat(weight[:, None, None] * r[:, :, None] * r[:, None, :], starts, axis=0)
        target[owners] = np.add.reduceat((weight * (z - difficulty[variant]))[:, None] * r, starts, axis=0)
    precision += np.diag(prior)[None, :, :]
    covariance: FloatArray = np.asarray(np.linalg.inv(precision), dtype=np.float64)
    theta: FloatArray = np.einsum("nkl,nl->nk", covariance, target)
    return theta, covariance


def _solve_variants(
    m: int,
    t: FloatArray,
    variant: IntArray,
    z: FloatArray,
    w: FloatArray,
    sigma2: float,
    settings: FitSettings,
) -> tuple[FloatArray, FloatArray]:
    weight = w / sigma2
    # Normal equations of z = a t + d with priors a ~ N(1, sd_a), d ~ N(0, sd_d), per variant.
    saa = np.bincount(variant, weight * t * t, m) + 1 / settings.scale_prior_sd**2
    sad = np.bincount(variant, weight * t, m)
    sdd = np.bincount(variant, weight, m) + 1 / settings.difficulty_prior_sd**2
    ba = np.bincount(variant, weight * t * z, m) + 1 / settings.scale_prior_sd**2
    bd = np.bincount(variant, weight * z, m)
    det = saa * sdd - sad * sad
    scale = (ba * sdd - bd * sad) / det
    difficulty = (saa * bd - sad * ba) / det
    return scale, difficulty


def fit_abilities(
    model_ids: Sequence[str],
    variants: Sequence[Benchmark],
    used: Sequence[Observation],
    settings: FitSettings,
    start: AbilityFit | None = None,
    point: FloatArray | None = None,
) -> AbilityFit:
    """Fit the model to ``used`` (see the module docstring). ``start`` warm-starts from an earlier fit;
    ``point`` starts the passes exactly at an earlier fit's :attr:`AbilityFit.point`."""
    began = time.perf_counter()
    n, m = len(model_ids), len(variants)
    rows = design_rows(variants)
    used = sorted(used, key=lambda o: o.model)  # stable: keeps each model's own order
    model = np.array([o.model for o in used], dtype=np.intp)
    variant = np.array([o.variant for o in used], dtype=np.intp)
    z = np.array([o.z for o in used], dtype=np.float64)
    w = np.array([o.weight for o in used], dtype=np.float64)
    prior = np.array([1 / settings.general_prior_sd**2] + [1 / settings.use_case_prior_sd**2] * (len(COMPONENTS) - 1))
    if start is not None:
        scale, difficulty, sigma2 = start.scale.copy(), start.difficulty.copy(), start.sigma**2
    else:
        scale = np.ones(m)
        totals = np.bincount(variant, w, m)
        difficulty = np.divide(np.bincount(variant, w * z, m), totals, out=np.zeros(m), where=totals > 0)
        sigma2 = 1.0
    measured_variants = int(np.count_nonzero(np.bincount(variant, minlength=m)))

    def step(x: FloatArray) -> FloatArray:
        """One alternating pass: abilities given the variants, then the variants and the noise given those."""
        scale, difficulty, sigma2 = x[:m], x[m : 2 * m], math.exp(x[-1])
        theta, covariance = _solve_abilities(n, rows, model, variant, z, w, scale, difficulty, prior, sigma2)
        t = np.einsum("mk,mk->m", rows[variant], theta[model])
        new_scale, new_difficulty = _solve_variants(m, t, variant, z, w, sigma2, settings)
        residual = z - new_scale[variant] * t - new_difficulty[variant]
        # Residual variance with degrees of freedom: the abilities' effective parameters (trace of the hat
        # matrix, K - trace(covariance x prior) per model) and two per measured variant are subtracted.
        effective = float(np.sum(len(COMPONENTS) - np.einsum("nkk,k->n", covariance, prior))) + 2 * measured_variants
        new_sigma2 = max(float(np.sum(w * residual**2)) / max(len(used) - effective, 1.0), 0.01)
        return np.concatenate([new_scale, new_difficulty, [math.log(new_sigma2)]])

    # The alternating passes converge slowly along directions where abilities and variant scales trade off,
    # so the fixed point is found with Anderson acceleration (a deterministic least-squares extrapolation over
    # the last few passes), falling back to the plain pass whenever the extrapolated point does worse.
    x = np.concatenate([scale, difficulty, [math.log(sigma2)]]) if point is None else np.array(point, dtype=np.float64)
    xs: list[FloatArray] = []
    gs: list[FloatArray] = []
    iterations = 0
    converged = False
    gx = step(x)
    for iterations in range(1, settings.max_iterations + 1):  # noqa: B007 (reported below)
        f = gx - x
        if float(np.max(np.abs(f))) < settings.tolerance:
            converged = True
            break
        xs.append(x)
        gs.append(gx)
        del xs[:-_ANDERSON_MEMORY], gs[:-_ANDERSON_MEMORY]
        candidate = gx
        if len(xs) > 1:
            residuals = np.stack([g - v for g, v in zip(gs, xs, strict=True)], axis=1)
            d_f = np.diff(residuals, axis=1)
            d_g = np.diff(np.stack(gs, axis=1), axis=1)
            gamma = np.linalg.lstsq(d_f, f, rcond=None)[0]
            candidate = gx - d_g @ gamma
        g_candidate = step(candidate)
        if candidate is not gx and np.max(np.abs(g_candidate - candidate)) > np.max(np.abs(f)):
            xs.clear()
            gs.clear()
            candidate, g_candidate = gx, step(gx)
        x, gx = candidate, g_candidate
    scale, difficulty, sigma2 = x[:m], x[m : 2 * m], math.exp(x[-1])
    theta, covariance = _solve_abilities(n, rows, model, variant, z, w, scale, difficulty, prior, sigma2)
    counts = np.bincount(model, minlength=n).astype(np.intp)
    independent = np.bincount(
        model, np.array([o.measurement.measured_by == "independent_leaderboard" for o in used], float), n
    ).astype(np.intp)
    direct = np.zeros((n, len(USE_CASES)), dtype=bool)
    for o in used:
        direct[o.model] |= rows[o.variant, 1:] > 0
    return AbilityFit(
        model_ids=tuple(model_ids),
        variant_ids=tuple(v.id for v in variants),
        theta=theta,
        covariance=covariance,
        scale=scale,
        difficulty=difficulty,
        sigma=math.sqrt(sigma2),
        evidenced=counts > 0,
        direct=direct,
        counts=counts,
        independent=independent,
        iterations=iterations,
        seconds=time.perf_counter() - began,
        observations=tuple(used),
        point=x,
        converged=converged,
    )


def _ranks(values: FloatArray) -> FloatArray:
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values), dtype=float)
    # Ties share their mean rank.
    for value in np.unique(values):
        tied = values == value
        if tied.sum() > 1:
            ranks[tied] = ranks[tied].mean()
    return ranks


def spearman(x: FloatArray, y: FloatArray) -> float:
    """Spearman's rank correlation of two equally long arrays (ties get mean ranks); NaN below 3 pairs."""
    if len(x) < 3:
        return float("nan")
    rx, ry = _ranks(np.asarray(x, float)), _ranks(np.asarray(y, float))
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denominator = math.sqrt(float(rx @ rx) * float(ry @ ry))
    return float(rx @ ry / denominator) if denominator else float("nan")
