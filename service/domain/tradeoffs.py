"""Trade-offs among the eligible models: the Pareto front and the ranking's sensitivity to the weights.

Pure NumPy and deterministic. The sensitivity analysis draws weight vectors from a Dirichlet distribution
centred on the requested weights with a fixed seed, so the same answer always carries the same figures.

Everything is vectorised: one (samples x criteria) by (criteria x candidates) product, computed as a sum of
element-wise products so identical models get bit-identical scores, then argmax and a partition for the top
3. Candidates are the eligible models that can reach the top 3 under at least one drawn weight vector; the
bound that decides it is exact (see :func:`_candidates`), so restricting to them changes no figure.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from service.domain.answer import (
    ModelSensitivity,
    ParetoFront,
    ParetoPoint,
    Sensitivity,
    Tradeoffs,
    WeightChange,
)

__all__ = ["CONCENTRATION", "PARETO_CRITERIA", "SAMPLES", "SEED", "analyse", "pareto_front", "perturbed_weights"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.intp]

#: The criteria the Pareto front is computed over.
PARETO_CRITERIA: tuple[str, ...] = ("capability", "openness", "cost")
#: Weight vectors drawn per answer.
SAMPLES = 1000
#: Seed of the ``numpy.random.PCG64`` generator the weight vectors are drawn from.
SEED = 20240604
#: Total Dirichlet concentration. With alpha = 50 x weight, a weight of 1/3 varies with a standard deviation of
#: about 0.066 (a fifth of itself) and a weight of 1/12 with about 0.039: "roughly right, not exact".
CONCENTRATION = 50.0
#: A leader that ranks first in fewer than this share of the draws is reported as a close call.
CLOSE_CALL = 0.5
#: Slack added to the candidate bound so floating-point rounding can never drop a true candidate.
_EPSILON = 1e-9
#: Grid points on which the candidate bound's envelope is evaluated.
_GRID = 17
#: Up to this many eligible models, the Pareto front compares all pairs at once.
_PAIRWISE_UP_TO = 256
#: Below this many eligible models, scoring them all is cheaper than bounding which can reach the top 3.
_PRUNE_ABOVE = 256
#: Above this many columns, ranking a draw's top 3 first drops the columns that cannot place (cheaper then).
_PLACE_PRUNE_ABOVE = 64


def _round(value: float, places: int = 6) -> float:
    return float(round(value, places)) + 0.0


def _rounded(values: FloatArray, places: int = 6) -> list[Any]:
    """``values`` rounded like :func:`_round`, as (nested) Python floats."""
    result: list[Any] = (np.round(values, places) + 0.0).tolist()
    return result


# ------------------------------------------------------------------------------------------------ Pareto
def pareto_front(points: FloatArray) -> BoolArray:
    """Mask of the rows of ``points`` (models x criteria, larger is better) that no other row dominates.

    Row q dominates row p when q >= p on every criterion and q > p on at least one. Identical rows do not
    dominate each other, so duplicates of a front point are all on the front.
    """
    n = points.shape[0]
    mask = np.zeros(n, dtype=bool)
    if n == 0:
        return mask
    if n <= _PAIRWISE_UP_TO:
        # All pairs at once: cheaper than the sweep below for catalogue-sized sets.
        at_least = np.ones((n, n), dtype=bool)  # [q, p]: q >= p on every criterion
        better = np.zeros((n, n), dtype=bool)  # [q, p]: q > p on some criterion
        for c in range(points.shape[1]):
            column = points[:, c]
            at_least &= column[:, None] >= column[None, :]
            better |= column[:, None] > column[None, :]
        dominated: BoolArray = np.any(at_least & better, axis=0)
        return ~dominated
    # Lexicographically descending: a dominator always sorts before the point it dominates, so the first
    # remaining row is never dominated (anything dominating it was removed with it, by transitivity).
    remaining = np.lexsort(tuple(-points[:, c] for c in reversed(range(points.shape[1]))))
    columns = [points[remaining, c] for c in range(points.shape[1])]  # one array per criterion: fast compares
    while remaining.size:
        at_most = columns[0] <= columns[0][0]
        equal = columns[0] == columns[0][0]
        for column in columns[1:]:
            at_most &= column <= column[0]
            equal &= column == column[0]
        mask[remaining[equal]] = True  # the head and its duplicates
        keep = ~at_most  # drop them and everything the head dominates
        remaining = remaining[keep]
        columns = [column[keep] for column in columns]
    return mask


def _pareto(ids: Sequence[str], values: Mapping[str, FloatArray], order: IntArray, top: int) -> ParetoFront:
    points = np.stack([values[c][order] for c in PARETO_CRITERIA], axis=1) if order.size else np.zeros((0, 3))
    on_front = pareto_front(points)
    front_positions = np.flatnonzero(on_front)  # positions in `order`, so already in rank order
    front_points = points[front_positions]
    rounded = _rounded(front_points)
    models = [
        ParetoPoint(
            model_id=ids[order[p]],
            rank=p + 1,  # positions in `order` are ranks - 1
            values=dict(zip(PARETO_CRITERIA, rounded[k], strict=True)),
        )
        for k, p in enumerate(front_positions.tolist())
    ]
    dominated: dict[str, str] = {}
    off_front = np.flatnonzero(~on_front[: min(top, order.size)])
    if off_front.size:
        # Front points (rows, rank order) against the recommended points off the front (columns), all at once.
        against = points[off_front]
        at_least = np.all(front_points[:, None, :] >= against[None, :, :], axis=2)
        better = np.any(front_points[:, None, :] > against[None, :, :], axis=2)
        # Every dominated point is dominated by some front point (the order is finite and transitive); the
        # first True of a column is the best-ranked front point that dominates it.
        first_beater = np.argmax(at_least & better, axis=0)
        for p, k in zip(off_front.tolist(), first_beater.tolist(), strict=True):
            dominated[ids[order[p]]] = ids[order[front_positions[k]]]
    return ParetoFront(
        criteria=list(PARETO_CRITERIA),
        size=int(front_positions.size),
        models=models,
        dominated=dominated,
        method=(
            f"A model is on the Pareto front when no other eligible model is at least as good on all of "
            f"{', '.join(PARETO_CRITERIA)} and better on one. Values are the criterion values used for scoring "
            "(0-1, higher is better; cheaper is better for cost), so missing data counts as the criterion's "
            "missing-data policy says."
        ),
    )


# ------------------------------------------------------------------------------------------- sensitivity
@lru_cache(maxsize=64)
def _draw(alpha: tuple[float, ...], samples: int, seed: int) -> FloatArray:
    if not alpha:  # a single weighted criterion: nothing to perturb
        ones: FloatArray = np.ones((samples, 1))
        ones.setflags(write=False)
        return ones
    rng = np.random.Generator(np.random.PCG64(seed))
    # Dirichlet(alpha) drawn as normalised Gamma(alpha_i, 1) variables: the same distribution as
    # Generator.dirichlet, in one vectorised call.
    gamma = rng.standard_gamma(np.asarray(alpha), size=(samples, len(alpha)))
    draws: FloatArray = gamma / gamma.sum(axis=1, keepdims=True)
    draws.setflags(write=False)  # cached and shared between answers
    return draws


def perturbed_weights(
    weights: Sequence[float], samples: int = SAMPLES, seed: int = SEED, concentration: float = CONCENTRATION
) -> FloatArray:
    """``samples`` weight vectors from Dirichlet(concentration x weights) over the positive weights.

    ``weights`` must be non-negative and sum to 1. Zero weights stay zero: a criterion the request does not
    weight is not brought in by the perturbation. With one positive weight every sample equals ``weights``.
    """
    w = np.asarray(weights, dtype=float)
    out = np.zeros((samples, w.size))
    out[:, w > 0] = _active_draws(w, samples, seed, concentration)
    return out


def _active_draws(weights: FloatArray, samples: int, seed: int, concentration: float) -> FloatArray:
    """The drawn vectors restricted to the positive weights (samples x positive weights), read-only."""
    positive = weights[weights > 0]
    if positive.size == 1:
        return _draw((), samples, seed)
    return _draw(tuple(np.round(concentration * positive, 12).tolist()), samples, seed)


def _candidates(base: FloatArray, weighted: FloatArray, draws: FloatArray, weights: FloatArray) -> IntArray:
    """Positions (in rank order) of the models that can rank in the top 3 under at least one drawn vector.

    For a draw w' with d = w' - w (both sum to 1 over the weighted criteria), d . v lies within
    +-P x spread(v), where P = sum(|d|) / 2 and spread is the model's max - min value over the weighted
    criteria. Under draw s the base top 3 score at least floor_s (their exact minimum), so model j can only
    reach the top 3 if base_j + P_s x spread_j >= floor_s for some s, i.e. if E(spread_j) >= -base_j with
    E(x) = max_s (P_s x - floor_s). E is convex, so on a grid cell it is at most the larger end value: the
    test below keeps a superset of the true candidates, and restricting to them changes no figure.

    ``weighted`` holds the values of the weighted criteria only (rows aligned with ``draws`` and ``weights``).
    """
    n = base.size
    if n <= _PRUNE_ABOVE:
        return np.arange(n)
    spread = weighted.max(axis=0) - weighted.min(axis=0)
    shift = np.abs(draws - weights).sum(axis=1) / 2
    floor = (draws @ weighted[:, :3]).min(axis=1)
    grid = np.linspace(0.0, float(spread.max()) + _EPSILON, _GRID)
    envelope = (np.outer(shift, grid) - floor[:, None]).max(axis=0)
    cell = np.minimum(np.searchsorted(grid, spread, side="right"), _GRID - 1)
    bound = np.maximum(envelope[cell - 1], envelope[cell])
    keep = base + bound >= -_EPSILON
    keep[:3] = True
    return np.flatnonzero(keep)


def _duplicates(matrix: FloatArray) -> tuple[FloatArray, IntArray] | None:
    """The distinct columns of ``matrix`` and each column's index among them; None when all are distinct."""
    n = matrix.shape[1]
    order = np.lexsort(matrix[::-1])
    ordered = matrix[:, order]
    starts = np.ones(n, dtype=bool)
    starts[1:] = (ordered[:, 1:] != ordered[:, :-1]).any(axis=0)
    if starts.all():
        return None
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = np.cumsum(starts) - 1
    return np.ascontiguousarray(ordered[:, starts]), inverse


def _rank_counts(draws: FloatArray, matrix: FloatArray) -> tuple[IntArray, IntArray]:
    """How often each column of ``matrix`` (criteria x models, in rank order) ranks first and in the top 3.

    Identical columns are scored once, so their scores tie exactly, and ties go to the lower column (better
    base rank, then model id), as in the ranking itself. Only the first three copies of a column can reach
    the top 3, so later copies are not scored at all, nor are columns that no draw scores as high as the
    first three columns' lowest score (:func:`_contenders`).
    """
    n = matrix.shape[1]
    first = np.zeros(n, dtype=np.intp)
    top3 = np.zeros(n, dtype=np.intp)
    deduplicated = _duplicates(matrix)
    if deduplicated is None:
        scored = np.arange(n)
        scores = draws @ matrix
    else:
        unique, inverse = deduplicated
        by_group = np.argsort(inverse, kind="stable")
        starts = np.searchsorted(inverse[by_group], np.arange(unique.shape[1]))
        copy = np.empty(n, dtype=np.intp)
        copy[by_group] = np.arange(n) - starts[inverse[by_group]]
        unique_scores = draws @ unique
        # The first three columns are three models (copies included), so the lowest of their scores under a
        # draw bounds that draw's third place from below, as in _contenders.
        wanted = copy < 3
        if n > 3:
            wanted &= _at_or_above(unique_scores, unique_scores[:, inverse[:3]])[inverse]
            wanted[:3] = True
        scored = np.flatnonzero(wanted)
        scores = np.take(unique_scores, inverse[scored], axis=1)
    first[scored], top3[scored] = _place_counts(scores)
    return first, top3


def _at_or_above(scores: FloatArray, head: FloatArray) -> BoolArray:
    """Columns of ``scores`` (samples x models) at or above the lowest of ``head``'s three columns in some row."""
    floor = np.minimum(np.minimum(head[:, 0], head[:, 1]), head[:, 2])
    above: BoolArray = np.any(scores >= floor[:, None], axis=0)
    return above


def _contenders(scores: FloatArray) -> IntArray:
    """Columns of ``scores`` (samples x models) that can place in the top 3 of a row: all but those below the
    lowest of the first three columns in every row.

    Exact: in each row the first three columns hold three values at least their minimum, so a column strictly
    below it is beaten by three columns and never places (ties included). The order of the columns kept is
    unchanged, so ties still go to the lower column.
    """
    n = scores.shape[1]
    if n <= _PLACE_PRUNE_ABOVE:
        return np.arange(n)
    keep = _at_or_above(scores, scores[:, :3])
    keep[:3] = True
    return np.flatnonzero(keep)


def _place_counts(scores: FloatArray) -> tuple[IntArray, IntArray]:
    """How often each column of ``scores`` (samples x models) is first and in the top 3 (ties: lower column).

    Only the columns that can place (:func:`_contenders`) are ranked; the others count zero, as they would.
    """
    n = scores.shape[1]
    first = np.zeros(n, dtype=np.intp)
    top3 = np.zeros(n, dtype=np.intp)
    kept = _contenders(scores)
    ranked = scores[:, kept] if kept.size < n else scores.copy()  # places are struck out below
    rows = np.arange(ranked.shape[0])
    for place in range(min(3, kept.size)):
        best = np.argmax(ranked, axis=1)  # the first maximum: ties go to the lower column
        counts = np.bincount(best, minlength=kept.size)
        top3[kept] += counts
        if place == 0:
            first[kept] = counts
        ranked[rows, best] = -np.inf
    return first, top3


def _evidence_counts(
    draws: FloatArray, weighted: FloatArray, spread: FloatArray, seed: int
) -> tuple[IntArray, IntArray]:
    """First and top-3 counts when each sampled weight vector also meets values drawn from their uncertainty.

    ``weighted`` and ``spread`` hold the weighted criteria's values and standard deviations (criteria x models);
    each draw gets values Normal(value, sd) clipped to 0-1, independently per model and criterion. A draw's
    places depend on its own row only, so the rows are processed in blocks small enough to stay in the
    processor's cache and the counts added up (:func:`_normal_blocks` keeps the random stream unchanged).
    """
    samples, n = draws.shape[0], weighted.shape[1]
    uncertain = [c for c in range(weighted.shape[0]) if spread[c].any()]
    scores = draws @ weighted
    first = np.zeros(n, dtype=np.intp)
    top3 = np.zeros(n, dtype=np.intp)
    for start, stop, normals in _normal_blocks(seed + 1, len(uncertain), samples, n):
        block = scores[start:stop].copy()
        for c, normal in zip(uncertain, normals, strict=True):
            block += _shift(normal, spread[c], weighted[c], draws[start:stop, c : c + 1])
        block_first, block_top3 = _place_counts(block)
        first += block_first
        top3 += block_top3
    return first, top3


def _shift(normal: FloatArray, sd: FloatArray, value: FloatArray, weight: FloatArray) -> FloatArray:
    """``(clip(value + sd x normal, 0, 1) - value) x weight``, computed in place in ``normal`` and returned."""
    normal *= sd
    normal += value
    np.clip(normal, 0, 1, out=normal)
    normal -= value
    normal *= weight
    return normal


#: Bytes of one block of sampled values (rows x models) in the evidence pass: small enough to stay in cache.
_BLOCK_BYTES = 1 << 20


def _normal_blocks(seed: int, criteria: int, samples: int, n: int) -> Iterator[tuple[int, int, list[FloatArray]]]:
    """The evidence pass's standard normals by block of rows: (start, stop, one array per uncertain criterion).

    The pass draws one (samples x models) array of normals per uncertain criterion, one after the other, from
    PCG64(``seed``). With one criterion, blocks of rows drawn in order are exactly that array (a normal reads
    the stream where the previous one stopped, whatever the call sizes: a test holds it); with several, the
    second array starts after the whole first one, so each is drawn whole, as one block.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    if criteria != 1:
        yield 0, samples, [rng.standard_normal((samples, n)) for _ in range(criteria)]
        return
    rows = max(1, min(samples, _BLOCK_BYTES // (8 * max(n, 1))))
    for start in range(0, samples, rows):
        stop = min(samples, start + rows)
        yield start, stop, [rng.standard_normal((stop - start, n))]


def _weight_changes(
    ids: Sequence[str],
    criteria: Sequence[str],
    matrix: FloatArray,
    base: FloatArray,
    weights: FloatArray,
    order: IntArray,
) -> list[WeightChange]:
    """For each criterion and direction, the smallest change of its weight after which first place changes.

    Adding ``delta`` to one normalised weight (then dividing all by 1 + delta) ranks like the scores
    base + delta x value, so challenger j ties leader a at delta = (base_a - base_j) / (v_j - v_a).
    """
    if order.size < 2:
        return []
    gap = np.maximum(base[0] - base[1:], 0.0)
    step = matrix[:, 1:] - matrix[:, :1]  # criteria x challengers
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(step > 0, gap / step, np.inf)
        down = np.where(step < 0, gap / -step, np.inf)
    # Lowering can take a weight to zero, but not the last positive weight (no weights would be left).
    w = weights[:, None]
    down = np.where((w > 0) & (down <= w) & (down < 1.0), down, np.inf)
    deltas = np.stack([up, down])  # direction x criteria x challengers
    best = np.argmin(deltas, axis=2)
    smallest = np.take_along_axis(deltas, best[..., None], axis=2)[..., 0]
    finite = np.isfinite(smallest)
    delta = np.where(finite, smallest, 0.0)
    to = np.stack([(weights + delta[0]) / (1 + delta[0]), (weights - delta[1]) / np.maximum(1 - delta[1], _EPSILON)])
    # Rounded as arrays: one call instead of three per change (this runs on every answer).
    from_weights = _rounded(weights)
    to_weights, change = _rounded(to), _rounded(np.abs(to - weights))
    changes: list[WeightChange] = []
    for c, criterion in enumerate(criteria):
        for d, direction in enumerate(("raise", "lower")):
            if finite[d, c]:
                changes.append(
                    WeightChange(
                        criterion=criterion,
                        direction="raise" if direction == "raise" else "lower",
                        from_weight=from_weights[c],
                        to_weight=to_weights[d][c],
                        change=change[d][c],
                        new_leader=ids[order[int(best[d, c]) + 1]],
                    )
                )
    return changes


def _sensitivity(
    ids: Sequence[str],
    values: Mapping[str, FloatArray],
    weights: Mapping[str, float],
    order: IntArray,
    top: int,
    samples: int,
    seed: int,
    concentration: float,
    uncertainty: Mapping[str, FloatArray],
) -> Sensitivity:
    criteria = list(weights)  # the engine's criterion order
    w = np.array([weights[c] for c in criteria], dtype=float)
    active = np.flatnonzero(w > 0)
    perturbed = [criteria[c] for c in active.tolist()]
    uncertain = [c for c in perturbed if c in uncertainty and bool(np.any(uncertainty[c][order] > 0))]
    method = (
        f"{samples:,} weight vectors drawn from a Dirichlet distribution centred on the weights of this answer: "
        f"alpha = {concentration:g} x weight for each weighted criterion ({', '.join(perturbed)}); unweighted "
        f"criteria stay at 0. Generator: numpy.random.PCG64 with seed {seed}, so the figures are reproducible. "
        "Under each vector every eligible model is scored and ranked (ties by model id); counts are exact. "
        "Weight changes: one criterion's weight moves, the others are rescaled in proportion to keep the sum 1; "
        "to_weight is where new_leader ties the leader. "
        f"With evidence: the same weight vectors, and each draw also samples the values of "
        f"{', '.join(uncertain) or 'no criterion'} from Normal(value, its standard deviation) clipped to 0-1, "
        f"independently per model (generator seed {seed + 1}); the first_share_with_evidence and "
        f"top3_share_with_evidence figures count those draws. A leader that ranks first in fewer than "
        f"{CLOSE_CALL:.0%} of them is reported as a close call."
    )
    eligible = order.size
    top_n = min(top, eligible)
    if eligible == 0:
        return Sensitivity(
            samples=samples,
            seed=seed,
            concentration=concentration,
            perturbed=perturbed,
            evidence_perturbed=uncertain,
            leader=None,
            close_call=False,
            models=[],
            first_elsewhere=0,
            top3_places=0,
            top3_elsewhere=0,
            smallest_change=None,
            changes=[],
            method=method,
        )
    matrix = np.stack([values[c][order] for c in criteria])  # criteria x eligible, in rank order
    base = w @ matrix
    draws = _active_draws(w, samples, seed, concentration)
    weighted = matrix[active]
    keep = _candidates(base, weighted, draws, w[active])
    first, top3 = _rank_counts(draws, weighted[:, keep] if keep.size < eligible else weighted)
    first_count = np.zeros(eligible, dtype=np.intp)
    top3_count = np.zeros(eligible, dtype=np.intp)
    first_count[keep] = first
    top3_count[keep] = top3
    first_shares = _rounded(first_count[:top_n] / samples, 4)
    top3_shares = _rounded(top3_count[:top_n] / samples, 4)
    spread = np.stack([uncertainty[c][order] if c in uncertainty else np.zeros(eligible) for c in criteria])
    first_evidence, top3_evidence = (
        _evidence_counts(draws, weighted, spread[active], seed) if uncertain else (first_count, top3_count)
    )
    first_shares_evidence = _rounded(first_evidence[:top_n] / samples, 4)
    top3_shares_evidence = _rounded(top3_evidence[:top_n] / samples, 4)
    models = [
        ModelSensitivity(
            model_id=ids[order[p]],
            rank=p + 1,
            first_count=int(first_count[p]),
            first_share=first_shares[p],
            top3_count=int(top3_count[p]),
            top3_share=top3_shares[p],
            first_share_with_evidence=first_shares_evidence[p],
            top3_share_with_evidence=top3_shares_evidence[p],
        )
        for p in range(top_n)
    ]
    changes = _weight_changes(ids, criteria, matrix, base, w, order)
    places = samples * min(3, eligible)
    return Sensitivity(
        samples=samples,
        seed=seed,
        concentration=concentration,
        perturbed=perturbed,
        evidence_perturbed=uncertain,
        leader=ids[order[0]],
        close_call=bool(first_evidence[0] < CLOSE_CALL * samples or first_count[0] < CLOSE_CALL * samples),
        models=models,
        first_elsewhere=samples - int(first_count[:top_n].sum()),
        top3_places=places,
        top3_elsewhere=places - int(top3_count[:top_n].sum()),
        smallest_change=min(changes, key=lambda ch: (ch.change, ch.criterion, ch.direction)) if changes else None,
        changes=changes,
        method=method,
    )


def analyse(
    ids: Sequence[str],
    values: Mapping[str, FloatArray],
    weights: Mapping[str, float],
    order: Sequence[int],
    top: int,
    *,
    samples: int = SAMPLES,
    seed: int = SEED,
    concentration: float = CONCENTRATION,
    uncertainty: Mapping[str, FloatArray] | None = None,
) -> Tradeoffs:
    """The Pareto front and the ranking's sensitivity to the weights and to the values' uncertainty.

    ``values`` maps each criterion to its 0-1 value per model (aligned with ``ids``); ``weights`` are the
    normalised weights of the answer; ``order`` lists the eligible models' indices best first; ``top`` is how
    many of them the answer recommends (those get per-model sensitivity figures); ``uncertainty`` maps a
    criterion to the standard deviation of its values (aligned with ``ids``), sampled in the evidence pass.
    """
    spreads: Mapping[str, FloatArray] = uncertainty or {}
    positions = np.asarray(order, dtype=np.intp)
    return Tradeoffs(
        pareto=_pareto(ids, values, positions, top),
        sensitivity=_sensitivity(ids, values, weights, positions, top, samples, seed, concentration, spreads),
    )
