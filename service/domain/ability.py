"""The capability model: one latent scale for models measured on different benchmark variants.

Each measurement is mapped to a logit: ``logit((value - min) / (max - min))`` for percent and index variants
(clipped to ``[clip, 1 - clip]``) and ``(value - 1000) x ln(10) / 400`` for Elo ratings, negated when lower is
better. Model ``i`` has a general ability ``g_i`` and one deviation ``f_iu`` per use case. A variant ``b`` loads
on general ability and on one use case, the first it lists (:func:`loading`; a composite index loads on general
ability only), through its own scale ``a_b > 0`` and difficulty ``d_b``::

    z_m = a_b * (g_i + f_iu) + d_b + e_m,    e_m ~ Normal(0, sigma^2 / w_m)

``w_m`` is the measurement's weight, a stated rule (``rules/criteria/capability.toml``): by who measured it,
times a factor for saturated variants. Gaussian priors keep it well-posed and deterministic:
``g ~ N(0, sd_g)``, ``f ~ N(0, sd_f)``, ``d ~ N(0, sd_d)``, and a prior on each log-scale centred on the common
scale 1 and worth ``n0`` of the variant's own measurements (:func:`_solve_variants`): a variant measured a few
times keeps close to the common scale, so one new figure cannot swing it, and a scale is positive by
construction.
The maximum a posteriori fit alternates exact weighted least-squares steps for the abilities given the
variants and Gauss-Newton steps for the variants given the abilities, from a fixed start, so the same
measurements always give the same fit. ``sigma^2`` is re-estimated from the weighted residuals after each pass.

Why one use case per variant (a bifactor structure): given the variants, a model's abilities are a Gaussian
posterior whose precision, written in the use-case abilities ``s_u = g + f_u``, has non-positive off-diagonal
entries (each measurement touches one node, ``g`` or one ``s_u``, and the prior links each ``s_u`` to ``g``
only: a tree). Its inverse, the posterior covariance, is then non-negative everywhere, and the change of any
ability (general, a use case, an average of use cases) when a measurement is added is that covariance times
the measurement's surprise over its prediction: a measurement at or above its prediction never lowers any of
them. A variant loading on several deviations at once breaks the tree, and a good figure on a pure-reasoning
variant could then be "explained" by the reasoning deviation at general ability's expense.

An ability's standard error comes from the posterior covariance of the model's ability vector given the
fitted variants (a Laplace approximation that ignores the variants' own uncertainty). A use case with no
measurement loading on it is estimated from the model's other evidence: its deviation stays at the prior, so
its uncertainty is wider. A model with no usable measurement has no estimate at all (insufficient evidence).

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

__all__ = ["AbilityFit", "FitSettings", "Observation", "fit_abilities", "loading", "observations", "spearman"]

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
    scale_prior_measurements: float
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


def loading(benchmark: Benchmark) -> str | None:
    """The use case whose deviation ``benchmark`` loads on: its first listed use case; none for a composite."""
    return None if benchmark.composite else benchmark.use_cases[0]


def design_rows(benchmarks: Sequence[Benchmark]) -> FloatArray:
    """Per variant, how it loads on the ability components: 1 on general and 1 on its :func:`loading` use case."""
    rows = np.zeros((len(benchmarks), len(COMPONENTS)))
    rows[:, 0] = 1.0
    for k, benchmark in enumerate(benchmarks):
        case = loading(benchmark)
        if case is not None:
            rows[k, COMPONENTS.index(case)] = 1.0
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
    #: Where the passes stopped: log-scale, difficulty and log sigma^2 (start an identical re-fit here).
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


def loadings(benchmarks: Sequence[Benchmark]) -> IntArray:
    """Per variant, the index in ``USE_CASES`` of the use case it loads on, or -1 (general ability only)."""
    cases = [loading(b) for b in benchmarks]
    return np.array([-1 if c is None else USE_CASES.index(c) for c in cases], dtype=np.intp)


def _solve_abilities(
    n: int,
    cell: IntArray,
    model: IntArray,
    z: FloatArray,
    weight: FloatArray,
    scale: FloatArray,
    offset: FloatArray,
    general_prior: float,
    use_case_prior: float,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Each model's ability vector given the variants: a ridge regression per model, in closed form.

    Per measurement: ``cell`` (``model x use cases + u`` for the use case ``u`` it loads on, ``n x use cases`` for
    none: see :func:`_cells`), ``model``, logit ``z``, ``weight`` (``w / sigma^2``), ``scale`` and ``offset`` (its
    variant's ``a`` and ``d``). Each measurement loads on general
    ability and at most one use case, so a model's posterior precision is an arrowhead matrix (the use-case
    block is diagonal) and its inverse has a closed form by the Schur complement: no matrix inversion. Returns
    general ability ``g`` (n), the deviations ``f`` (n x use cases), and the pieces of the covariance: ``s`` (the
    Schur complement: Var(g) = 1/s), ``D`` and ``B`` (n x use cases: the diagonal precision of the deviations
    and their coupling with general ability; Cov(g, f_u) = -B_u / (D_u s), Var(f_u) = 1/D_u + B_u^2 / (D_u^2 s)).
    """
    k = len(USE_CASES)
    info = weight * scale * scale
    score = weight * scale * (z - offset)
    alpha = np.bincount(model, info, n) + general_prior
    h_g = np.bincount(model, score, n)
    # The last bin gathers the measurements that load on no use case and is dropped.
    couple: FloatArray = np.asarray(np.bincount(cell, info, n * k + 1)[: n * k], dtype=np.float64).reshape(n, k)
    h_f: FloatArray = np.asarray(np.bincount(cell, score, n * k + 1)[: n * k], dtype=np.float64).reshape(n, k)
    diagonal = couple + use_case_prior
    schur = alpha - np.sum(couple * couple / diagonal, axis=1)
    general = (h_g - np.sum(couple * h_f / diagonal, axis=1)) / schur
    deviations = (h_f - couple * general[:, None]) / diagonal
    return general, deviations, schur, diagonal, couple


def _cells(n: int, case: IntArray, model: IntArray) -> IntArray:
    """Per measurement, its (model, use case) cell in a row-major models x use cases table, or the cell after the
    table when it loads on no use case (``case`` -1)."""
    k = len(USE_CASES)
    return np.where(case >= 0, model * k + case, n * k)


def _covariance(schur: FloatArray, diagonal: FloatArray, couple: FloatArray) -> FloatArray:
    """The models' posterior covariances (n x components x components) from the arrowhead pieces."""
    n, k = diagonal.shape
    lean = couple / diagonal  # B_u / D_u
    covariance = np.zeros((n, k + 1, k + 1))
    covariance[:, 0, 0] = 1 / schur
    covariance[:, 0, 1:] = covariance[:, 1:, 0] = -lean / schur[:, None]
    covariance[:, 1:, 1:] = lean[:, :, None] * lean[:, None, :] / schur[:, None, None]
    covariance[:, np.arange(1, k + 1), np.arange(1, k + 1)] += 1 / diagonal
    return covariance


def _solve_variants(
    m: int,
    t: FloatArray,
    variant: IntArray,
    z: FloatArray,
    w: FloatArray,
    sigma2: float,
    log_scale: FloatArray,
    difficulty: FloatArray,
    settings: FitSettings,
) -> tuple[FloatArray, FloatArray]:
    """One Gauss-Newton step for each variant's log-scale and difficulty given the abilities' projections ``t``.

    Priors: ``d ~ N(0, sd_d)`` and ``log a ~ N(0, .)`` (the common scale 1) with precision ``1 / sd_a^2 +
    n0 a_b^2 sd_g^2 / sigma^2``: ``a_b^2 sd_g^2 / sigma^2`` is what one measurement of weight 1 tells about the
    variant's log-scale when abilities are spread as their prior says, so the prior is worth ``n0`` such
    measurements (as in Zellner's g-prior) and a variant's own estimate gets a weight of about
    ``n_b / (n_b + n0)``. The prior's strength does not depend on which models were measured, so a new
    measurement, however extreme, cannot strengthen it; it scales with the noise as the measurements'
    information does. ``sd_a`` keeps a variant whose measurements carry no information at the common scale.
    At the fixed point of the passes the step is zero: the estimating equations hold.
    """
    weight = w / sigma2
    scale = np.exp(log_scale)
    slope = scale[variant] * t  # derivative of the prediction along the log-scale
    residual = z - slope - difficulty[variant]
    leverage = weight * slope
    information = np.bincount(variant, leverage * slope, m)
    # What one measurement of weight 1 tells about the variant's log-scale, for abilities spread as their prior.
    typical = scale * scale * settings.general_prior_sd**2 / sigma2
    prior = 1 / settings.scale_prior_sd**2 + settings.scale_prior_measurements * typical
    h11 = information + prior
    h12 = np.bincount(variant, leverage, m)
    h22 = np.bincount(variant, weight, m) + 1 / settings.difficulty_prior_sd**2
    g1 = np.bincount(variant, leverage * residual, m) - prior * log_scale
    g2 = np.bincount(variant, weight * residual, m) - difficulty / settings.difficulty_prior_sd**2
    det = h11 * h22 - h12 * h12
    new_log_scale = log_scale + (g1 * h22 - g2 * h12) / det
    new_difficulty = difficulty + (h11 * g2 - h12 * g1) / det
    return new_log_scale, new_difficulty


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
    case = loadings(variants)[variant]
    # Fixed for every pass: where each measurement falls in the use-case table, and whether it loads on one.
    cell = _cells(n, case, model)
    on, flat = case >= 0, np.minimum(cell, n * len(USE_CASES) - 1)
    general_prior, use_case_prior = 1 / settings.general_prior_sd**2, 1 / settings.use_case_prior_sd**2
    if start is not None:
        log_scale, difficulty, sigma2 = np.log(start.scale), start.difficulty.copy(), start.sigma**2
    else:
        log_scale = np.zeros(m)
        totals = np.bincount(variant, w, m)
        difficulty = np.divide(np.bincount(variant, w * z, m), totals, out=np.zeros(m), where=totals > 0)
        sigma2 = 1.0
    measured_variants = int(np.count_nonzero(np.bincount(variant, minlength=m)))

    def step(x: FloatArray) -> FloatArray:
        """One alternating pass: abilities given the variants, then the variants and the noise given those."""
        log_scale, difficulty, sigma2 = x[:m], x[m : 2 * m], math.exp(x[-1])
        general, deviations, schur, diagonal, couple = _solve_abilities(
            n,
            cell,
            model,
            z,
            w / sigma2,
            np.exp(log_scale)[variant],
            difficulty[variant],
            general_prior,
            use_case_prior,
        )
        t = general[model] + np.where(on, deviations.ravel()[flat], 0.0)
        new_log_scale, new_difficulty = _solve_variants(m, t, variant, z, w, sigma2, log_scale, difficulty, settings)
        residual = z - np.exp(new_log_scale)[variant] * t - new_difficulty[variant]
        # Residual variance with degrees of freedom: the abilities' effective parameters (trace of the hat
        # matrix, K - trace(covariance x prior) per model) and two per measured variant are subtracted.
        lean = couple / diagonal
        trace = general_prior / schur + use_case_prior * np.sum(1 / diagonal + lean * lean / schur[:, None], axis=1)
        effective = float(np.sum(len(COMPONENTS) - trace)) + 2 * measured_variants
        new_sigma2 = max(float(np.sum(w * residual**2)) / max(len(used) - effective, 1.0), 0.01)
        return np.concatenate([new_log_scale, new_difficulty, [math.log(new_sigma2)]])

    # The alternating passes converge slowly along directions where abilities and variant scales trade off,
    # so the fixed point is found with Anderson acceleration (a deterministic least-squares extrapolation over
    # the last few passes), falling back to the plain pass whenever the extrapolated point does worse.
    x = (
        np.concatenate([log_scale, difficulty, [math.log(sigma2)]])
        if point is None
        else np.array(point, dtype=np.float64)
    )
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
    scale, difficulty, sigma2 = np.exp(x[:m]), x[m : 2 * m], math.exp(x[-1])
    general, deviations, schur, diagonal, couple = _solve_abilities(
        n, cell, model, z, w / sigma2, scale[variant], difficulty[variant], general_prior, use_case_prior
    )
    theta = np.concatenate([general[:, None], deviations], axis=1)
    covariance = _covariance(schur, diagonal, couple)
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
