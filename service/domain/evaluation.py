"""Validation of the capability model that anyone can rerun (``advisor evaluate``).

1. Leave-one-out: each used measurement is held out in turn, the model is refitted to the rest (warm-started
   from the full fit, so it converges to the same optimum in fewer steps) and predicts it. The baseline
   predicts the mean of the other measurements on the same variant. Measurements that the baseline cannot
   predict (the only one on their variant) or the model cannot (the model's only measurement) are counted,
   not scored.
2. Held-out composites: for each independent composite index in the catalogue, all its measurements are
   removed, the model is refitted, and the general ability of the models the index covers (and that keep other
   evidence) is rank-correlated with the index (Spearman).
3. Coverage: the share of catalogue models with at least one usable measurement (an estimate, not
   "insufficient evidence").
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlparse

import numpy as np

from service.domain.ability import design_rows, fit_abilities, from_logit, spearman
from service.domain.catalogue import Catalogue
from service.domain.criteria.capability import fit_catalogue, settings_of
from service.domain.rules import RuleSet

__all__ = ["CompositeCheck", "Evaluation", "VariantError", "evaluate"]


@dataclass(frozen=True)
class VariantError:
    """Leave-one-out errors on one variant, in the variant's own units."""

    variant: str
    scored: int
    model_mae: float
    baseline_mae: float


@dataclass(frozen=True)
class CompositeCheck:
    """Rank correlation of general ability (fitted without the index) with a held-out composite index.

    ``spearman``: only the index's own measurements held out. ``spearman_publisher_out``: every measurement
    published where the index is (same source host, e.g. the index's component evaluations) held out too, so
    the fit rests on evidence independent of the index's publisher; ``models_publisher_out`` models keep some.
    """

    variant: str
    models: int
    spearman: float
    models_publisher_out: int
    spearman_publisher_out: float


@dataclass(frozen=True)
class Evaluation:
    """Every figure ``advisor evaluate`` prints."""

    models: int
    estimated: int
    measurements: int
    variants_used: int
    fit_seconds: float
    iterations: int
    sigma: float
    scored: int
    not_scored: int
    model_mae: float  # over percent-scale measurements, in percentage points
    baseline_mae: float
    model_wins: int  # held-out measurements the model predicts more closely than the baseline
    per_variant: list[VariantError]
    composites: list[CompositeCheck]
    seconds: float

    @property
    def coverage(self) -> float:
        """Share of the catalogue with a capability estimate."""
        return self.estimated / self.models if self.models else 0.0

    def lines(self) -> list[str]:
        """The evaluation as printable lines."""
        out = [
            f"Capability model: {self.measurements} measurements on {self.variants_used} variants; "
            f"{self.estimated} of {self.models} models estimated ({self.coverage:.0%}); fit {self.fit_seconds:.2f} s "
            f"in {self.iterations} iterations; residual sd {self.sigma:.3f} logits.",
            f"Leave-one-out: {self.scored} measurements predicted ({self.not_scored} not predictable: only one on "
            "their variant, or the model's only one).",
            f"  Mean absolute error on percent-scale variants: model {self.model_mae:.2f} points, baseline "
            f"(variant mean) {self.baseline_mae:.2f} points; model closer on {self.model_wins} of {self.scored}.",
            "  Per variant (own units): variant, n, model MAE, baseline MAE",
        ]
        for v in self.per_variant:
            out.append(f"    {v.variant:32s} {v.scored:4d} {v.model_mae:8.2f} {v.baseline_mae:8.2f}")
        if self.composites:
            out.append(
                "Held-out independent composites: Spearman of general ability fitted without the index, and "
                "without every measurement from the index's publisher:"
            )
            for c in self.composites:
                out.append(
                    f"    {c.variant:32s} {c.models:4d} models rho = {c.spearman:.3f}; publisher held out: "
                    f"{c.models_publisher_out:4d} models rho = {c.spearman_publisher_out:.3f}"
                )
        else:
            out.append("Held-out independent composites: none in the catalogue with 3 or more estimated models.")
        out.append(f"Evaluation took {self.seconds:.1f} s.")
        return out


def _publisher(source: str) -> str:
    """The host of a source URL (without ``www.``): who published the figure."""
    host = urlparse(source).netloc.lower()
    return host.removeprefix("www.") or source


def evaluate(catalogue: Catalogue, rules: RuleSet, stride: int = 1) -> Evaluation:
    """Run the leave-one-out, held-out composite and coverage checks on the catalogue.

    ``stride`` > 1 holds out only every stride-th measurement (a quicker check; the command uses 1).
    """
    began = time.perf_counter()
    settings = settings_of(rules.criteria["capability"])
    full, _ = fit_catalogue(catalogue, rules)
    ids = list(full.model_ids)
    variants = [rules.benchmarks[b] for b in full.variant_ids]
    rows = design_rows(variants)
    used = list(full.observations)
    per_model = np.bincount([o.model for o in used], minlength=len(ids))
    per_variant = np.bincount([o.variant for o in used], minlength=len(variants))
    errors: dict[str, list[tuple[float, float]]] = {}
    percent: list[tuple[float, float]] = []
    not_scored = 0
    for k, held in enumerate(used):
        if k % stride:
            continue
        if per_model[held.model] < 2 or per_variant[held.variant] < 2:
            not_scored += 1
            continue
        rest = used[:k] + used[k + 1 :]
        fit = fit_abilities(ids, variants, rest, settings, start=full)
        benchmark = variants[held.variant]
        predicted = from_logit(benchmark, fit.predict(held.model, held.variant, rows))
        others = [o.measurement.value for o in rest if o.variant == held.variant]
        baseline = float(np.mean(others))
        actual = held.measurement.value
        pair = (abs(predicted - actual), abs(baseline - actual))
        errors.setdefault(benchmark.id, []).append(pair)
        if benchmark.scale == "percent":
            percent.append(pair)
    scored = sum(len(v) for v in errors.values())
    all_pairs = [p for v in errors.values() for p in v]
    composites: list[CompositeCheck] = []
    for b, benchmark in enumerate(variants):
        if not benchmark.composite or not per_variant[b]:
            continue
        publishers = {_publisher(o.measurement.source) for o in used if o.variant == b}
        figures = []
        for rest in (
            [o for o in used if o.variant != b],
            [o for o in used if o.variant != b and _publisher(o.measurement.source) not in publishers],
        ):
            fit = fit_abilities(ids, variants, rest, settings, start=full)
            held_out = [o for o in used if o.variant == b and fit.evidenced[o.model]]
            general = np.array([fit.theta[o.model, 0] for o in held_out])
            index = np.array([o.z for o in held_out])
            figures.append((len(held_out), round(spearman(general, index), 4) if len(held_out) >= 3 else float("nan")))
        composites.append(CompositeCheck(benchmark.id, *figures[0], *figures[1]))
    return Evaluation(
        models=len(ids),
        estimated=int(full.evidenced.sum()),
        measurements=len(used),
        variants_used=int(np.count_nonzero(per_variant)),
        fit_seconds=full.seconds,
        iterations=full.iterations,
        sigma=full.sigma,
        scored=scored,
        not_scored=not_scored,
        model_mae=float(np.mean([p[0] for p in percent])) if percent else float("nan"),
        baseline_mae=float(np.mean([p[1] for p in percent])) if percent else float("nan"),
        model_wins=sum(p[0] < p[1] for p in all_pairs),
        per_variant=[
            VariantError(
                variant,
                len(pairs),
                float(np.mean([p[0] for p in pairs])),
                float(np.mean([p[1] for p in pairs])),
            )
            for variant, pairs in sorted(errors.items())
        ],
        composites=composites,
        seconds=time.perf_counter() - began,
    )
