"""Capability: per use case, an estimate with its uncertainty from the latent-ability model.

The model is fitted once, when the catalogue loads (:mod:`service.domain.ability`); this module presents it:
0-1 values per model for the requested use cases, their standard deviation (used by the sensitivity
analysis), and for one model the estimate per use case with the measurements it rests on.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Hashable, Sequence
from dataclasses import replace
from statistics import NormalDist
from typing import Protocol

import numpy as np

from service.domain.ability import (
    COMPONENTS,
    AbilityFit,
    FitSettings,
    Observation,
    fit_abilities,
    loading,
    observations,
)
from service.domain.answer import Caveat, UseCaseEstimate, caveat, trusted
from service.domain.catalogue import Catalogue
from service.domain.criteria.base import CriterionModule, Explanation, FloatArray, RequestView, Scores
from service.domain.facts import Evidence
from service.domain.features import measurement_evidence
from service.domain.measurements import Benchmark, Measurement
from service.domain.rules import Criterion, RuleSet

__all__ = ["CapabilityCriterion", "FitStore", "fit_catalogue", "settings_of"]

_NORMAL = NormalDist()
_Z80 = _NORMAL.inv_cdf(0.9)
_FITS: dict[str, AbilityFit] = {}
_FITS_LOCK = threading.Lock()


class FitStore(Protocol):
    """Where fitted capability models persist between processes, by the digest of their exact inputs.

    A store only keeps where a fit stopped (:attr:`AbilityFit.point`) and after how many iterations; a fit read
    back is re-checked by :func:`fit_catalogue` before use, so a store never changes an answer.
    """

    def load(self, key: str) -> tuple[FloatArray, int] | None:
        """The point and iteration count stored under ``key``, or None."""

    def save(self, key: str, point: FloatArray, iterations: int) -> None:
        """Keep a converged fit's point and iteration count under ``key``."""


def settings_of(spec: Criterion) -> FitSettings:
    """The fit settings stated in ``rules/criteria/capability.toml``."""
    model = spec.model
    assert model is not None  # the Criterion validator requires it for capability
    return FitSettings(
        general_prior_sd=model.general_prior_sd,
        use_case_prior_sd=model.use_case_prior_sd,
        scale_prior_sd=model.scale_prior_sd,
        scale_prior_measurements=model.scale_prior_measurements,
        difficulty_prior_sd=model.difficulty_prior_sd,
        clip=model.clip,
        measurer_weights={str(k): v for k, v in model.measurer_weights.items()},
        saturated_factor=model.saturated_factor,
        max_iterations=model.max_iterations,
        tolerance=model.tolerance,
    )


def _fit(
    key: str,
    ids: list[str],
    variants: list[Benchmark],
    chosen: Sequence[Observation],
    settings: FitSettings,
    store: FitStore | None,
) -> AbilityFit:
    """The fit, from ``store`` when it holds one for ``key`` that checks out, else from the start (then kept).

    A stored fit is checked by re-running the passes from its stopping point: it is used only when they stop
    at the first convergence check, which is where a fit from the start stopped with the same inputs, so the
    result is bit for bit the same as fitting from the start (only the iteration count is read back).
    """
    stored = store.load(key) if store is not None else None
    if stored is not None:
        point, iterations = stored
        if point.shape == (2 * len(variants) + 1,) and bool(np.all(np.isfinite(point))):
            # One pass is enough to tell: a point where the fit stops converges at the first check.
            fit = fit_abilities(ids, variants, chosen, replace(settings, max_iterations=1), point=point)
            if fit.converged and fit.iterations == 1:
                return replace(fit, iterations=iterations)
    fit = fit_abilities(ids, variants, chosen, settings)
    if store is not None and fit.converged:
        store.save(key, fit.point, fit.iterations)
    return fit


def fit_catalogue(
    catalogue: Catalogue,
    rules: RuleSet,
    used: Sequence[Observation] | None = None,
    store: FitStore | None = None,
) -> tuple[AbilityFit, dict[str, list[tuple[Measurement, str]]]]:
    """Fit the capability model to the catalogue's measurements (memoised by the exact inputs).

    ``used`` replaces the observations (evaluation holds some out); by default every usable measurement.
    ``store`` keeps fits between processes (see :class:`FitStore`).
    """
    settings = settings_of(rules.criteria["capability"])
    ids = sorted(catalogue.models)
    variant_ids = sorted(rules.benchmarks)
    all_used, set_aside = observations(ids, catalogue.measurements(), rules.benchmarks, variant_ids, settings)
    chosen = all_used if used is None else list(used)
    digest = hashlib.sha256(repr((ids, variant_ids, settings)).encode())
    for benchmark_id in variant_ids:
        digest.update(rules.benchmarks[benchmark_id].model_dump_json().encode())
    for o in chosen:
        digest.update(f"{o.model},{o.variant},{o.z!r},{o.weight!r};".encode())
    key = digest.hexdigest()
    with _FITS_LOCK:
        cached = _FITS.get(key)
    if cached is None:
        cached = _fit(key, ids, [rules.benchmarks[b] for b in variant_ids], chosen, settings, store)
        with _FITS_LOCK:
            _FITS[key] = cached
            while len(_FITS) > 8:
                _FITS.pop(next(iter(_FITS)))
    return cached, set_aside


def _cdf(z: FloatArray) -> FloatArray:
    return np.asarray(0.5 * (1 + np.vectorize(math.erf)(z / math.sqrt(2))), dtype=np.float64)


class CapabilityCriterion(CriterionModule):
    """Capability from the fitted latent-ability model."""

    id = "capability"

    def __init__(
        self, spec: Criterion, catalogue: Catalogue, rules: RuleSet, fit_store: FitStore | None = None
    ) -> None:
        super().__init__(spec)
        self.benchmarks: dict[str, Benchmark] = dict(rules.benchmarks)
        self.fit, self.set_aside = fit_catalogue(catalogue, rules, store=fit_store)
        general = self.fit.theta[:, 0][self.fit.evidenced]
        self.centre = float(general.mean()) if general.size else 0.0
        spread = float(general.std()) if general.size > 1 else 0.0
        self.spread = spread if spread > 1e-9 else 1.0
        policy = spec.insufficient_evidence
        assert policy is not None  # the Criterion validator requires it for capability
        self.policy = policy
        self.bound = policy.quantile  # the quantile's 0-1 value by construction of the mapping
        self.variant_use_cases = {b: set(self.benchmarks[b].use_cases) for b in self.fit.variant_ids}
        # The use case a variant's measurements bear on directly (its loading): the others it lists inform the
        # use case only through general ability.
        self.variant_loading = {b: loading(self.benchmarks[b]) for b in self.fit.variant_ids}
        self.used_by_model: list[list[Observation]] = [[] for _ in self.fit.model_ids]
        for o in self.fit.observations:
            self.used_by_model[o.model].append(o)
        # Filled on first use (an answer explains a few models): each model's measurements as cited, and the
        # latent ability of every model along one use case, computed once instead of once per explained model.
        self._cited: dict[int, list[Evidence]] = {}
        self._latent: dict[str | None, tuple[FloatArray, FloatArray]] = {}
        self._estimates: dict[tuple[int, str | None], UseCaseEstimate] = {}
        self._by_cases: dict[tuple[str, ...], Scores] = {}
        fit = self.fit
        self._fit_summary = (
            f"{len(fit.observations)} measurements of {int(fit.evidenced.sum())} of {len(fit.model_ids)} models on "
            f"{len({o.variant for o in fit.observations})} benchmark variants in {fit.iterations} iterations "
            f"(residual sd {fit.sigma:.3f} logits)."
        )

    # ------------------------------------------------------------------------------------ values
    def use_cases(self, request: RequestView) -> list[str]:
        """The requested use cases, else the defaults (empty: general ability)."""
        return list(request.requirements.use_cases) or list(self.spec.default_use_cases or [])

    @staticmethod
    def direction(cases: Sequence[str]) -> FloatArray:
        """The ability components averaged for ``cases`` (general ability when there are none)."""
        vector = np.zeros(len(COMPONENTS))
        vector[0] = 1.0
        for case in cases:
            vector[COMPONENTS.index(case)] += 1.0 / len(cases)
        return vector

    def _values(self, cases: Sequence[str]) -> tuple[FloatArray, FloatArray]:
        mean, se = self.fit.latent(self.direction(cases))
        z = (mean - self.centre) / self.spread
        value = _cdf(z)
        sd = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi) * se / self.spread
        evidenced = self.fit.evidenced
        return np.where(evidenced, value, self.bound), np.where(evidenced, sd, 0.0)

    def scores(self, request: RequestView) -> Scores:
        cases = tuple(self.use_cases(request))
        found = self._by_cases.get(cases)
        if found is None:
            # Values depend only on the use cases asked for (a few hundred combinations at most): computed once.
            value, sd = self._values(cases)
            value.setflags(write=False)
            sd.setflags(write=False)
            found = Scores(value, self.fit.evidenced, sd)  # read, never changed
            if len(self._by_cases) < 1024:
                self._by_cases[cases] = found
        return found

    # ------------------------------------------------------------------------------- explanation
    def _estimate(self, i: int, case: str | None) -> UseCaseEstimate:
        """Model ``i``'s estimate for ``case`` (None: general ability); it depends on nothing else, so it is kept."""
        found = self._estimates.get((i, case))
        if found is None:
            found = self._estimates[(i, case)] = self._new_estimate(i, case)
        return found

    def _new_estimate(self, i: int, case: str | None) -> UseCaseEstimate:
        cases = [case] if case else []
        label = case or "general"
        used = [
            o for o in self.used_by_model[i] if case is None or case == self.variant_loading[o.measurement.benchmark]
        ]
        independent = sum(o.measurement.measured_by == "independent_leaderboard" for o in used)
        if not self.fit.evidenced[i]:
            return trusted(
                UseCaseEstimate,
                use_case=label,
                status="insufficient_evidence",
                estimate=None,
                standard_error=None,
                interval_80=None,
                measurements=0,
                independent=0,
            )
        latent = self._latent.get(case)
        if latent is None:
            latent = self._latent[case] = self.fit.latent(self.direction(cases))
        mean, se = latent
        z = (mean[i] - self.centre) / self.spread
        width = _Z80 * se[i] / self.spread
        value, low, high = (_NORMAL.cdf(x) for x in (z, z - width, z + width))
        sd = math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi) * se[i] / self.spread
        return trusted(
            UseCaseEstimate,
            use_case=label,
            status="measured" if used else "inferred",
            estimate=round(value, 4),
            standard_error=round(sd, 4),
            interval_80=(round(low, 4), round(high, 4)),
            measurements=len(used),
            independent=independent,
        )

    def estimate_of(self, i: int, use_case: str | None) -> UseCaseEstimate:
        """Model ``i``'s estimate for one use case (general ability when None), as the reference pages show it."""
        return self._estimate(i, use_case)

    def explanation_key(self, request: RequestView) -> Hashable | None:
        return tuple(self.use_cases(request))  # explain reads the use cases, nothing else of the request

    def explain(self, request: RequestView, i: int) -> Explanation:
        cases = self.use_cases(request)
        model_id = self.fit.model_ids[i]
        estimates = [self._estimate(i, c) for c in cases] if cases else [self._estimate(i, None)]
        used = self.used_by_model[i]
        cited = self._cited.get(i)
        if cited is None:
            cited = self._cited[i] = [
                measurement_evidence(o.measurement, self.benchmarks[o.measurement.benchmark].name) for o in used
            ]
        evidence = [
            e
            for o, e in zip(used, cited, strict=True)
            if not cases or any(c in self.variant_use_cases[o.measurement.benchmark] for c in cases)
        ] or list(cited)
        caveats: list[Caveat] = []
        if not self.fit.evidenced[i]:
            text = f"insufficient evidence: no usable benchmark measurement; {self.policy.note}"
            caveats.append(caveat(kind="missing_data", fact="capability", message=f"Capability of {model_id}: {text}"))
            return Explanation(text, evidence, caveats, estimates)
        parts = []
        for e in estimates:
            basis = (
                f"{e.measurements} measurement(s), {e.independent} independent"
                if e.status == "measured"
                else "no direct measurement: inferred from the model's other evidence, wider uncertainty"
            )
            interval = e.interval_80 or (0.0, 0.0)
            parts.append(
                f"{e.use_case}: {e.estimate:.2f} ± {e.standard_error:.2f} (80% interval {interval[0]:.2f}-"
                f"{interval[1]:.2f}; {basis})"
            )
        total = len(used)
        independent = sum(o.measurement.measured_by == "independent_leaderboard" for o in used)
        text = "; ".join(parts) + f". Rests on {total} measurement(s) of this model, {independent} independent"
        aside = self.set_aside.get(model_id, [])
        if aside:
            text += f"; {len(aside)} set aside ({aside[0][1]})"
        inferred = [e.use_case for e in estimates if e.status == "inferred"]
        if inferred:
            caveats.append(
                caveat(
                    kind="missing_data",
                    fact="capability." + ",".join(inferred),
                    message=(
                        f"No measurement bears directly on {', '.join(inferred)} for {model_id}: the estimate comes "
                        "from its other evidence and its uncertainty is wider."
                    ),
                )
            )
        if independent == 0:
            caveats.append(
                caveat(
                    kind="comparability",
                    fact="capability",
                    message=(
                        f"Every capability measurement of {model_id} is reported by its developer or a third party, "
                        "none by an independent leaderboard; harnesses and settings differ (see each measurement)."
                    ),
                )
            )
        return Explanation(text, evidence, caveats, estimates)

    def method(self, request: RequestView) -> list[str]:
        model = self.spec.model
        assert model is not None
        cases = self.use_cases(request)
        return [
            f"Capability ({', '.join(cases) if cases else 'general ability'}): {model.description} Fitted to "
            f"{self._fit_summary} {model.measurer_weights_note} {model.saturated_note} {model.scale_prior_note}",
            f"Insufficient evidence: {self.policy.note}",
        ]
