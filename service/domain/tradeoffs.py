"""Trade-offs among the eligible models: the Pareto front and the ranking's sensitivity to the weights.

Pure NumPy and deterministic. The sensitivity analysis draws weight vectors from a Dirichlet distribution
centred on the requested weights with a fixed seed, so the same answer always carries the same figures; its
evidence pass draws each model's values from their uncertainty with normals from the model's own generator
(seeded by the model id), so a model's draws do not depend on which other models are eligible.

Every score is a sum of element-wise products in criterion order (no matrix product: a BLAS library's result
depends on the machine and its thread count), so identical models get bit-identical scores, each model's
scores are the same whichever other models are scored with it, and answers are the same on every machine.
Only the models that can reach the top 3 under at least one draw are scored (in large sets, in each block of
draws only those that can under one of its draws); the bounds and screens that decide it are exact (see
:func:`_weight_candidates` and :func:`_evidence_candidates`), so restricting to them changes no figure.
Only the screens compute in single precision (the weight-only one as a matrix product, whose last bits may
differ between machines); each keeps every model within a stated margin far wider than that rounding, so which
models it keeps does not. Up to a few hundred eligible models the weight-only counts reuse those single-precision
scores: a draw whose first place and top 3 lead by more than a proven bound on that rounding ranks the same way
under the exact scores, and every other draw is re-scored exactly (:func:`_settled_counts`), so the counts are
the exact ones on every machine.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from service.domain.answer import (
    ModelSensitivity,
    ParetoFront,
    ParetoPoint,
    Sensitivity,
    Tradeoffs,
    WeightChange,
    trusted,
    trusted_from,
)
from service.domain.kept import Kept

__all__ = [
    "CONCENTRATION",
    "PARETO_CRITERIA",
    "SAMPLES",
    "SEED",
    "Weighed",
    "analyse",
    "pareto_front",
    "perturbed_weights",
    "weigh",
]

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
#: Grid points per axis of the evidence pass's two-dimensional envelope.
_GRID_2D = 9
#: The evidence pass's bound compares every model with the third place among this many best-ranked models.
_HEAD = 32
#: Above this many candidates left by the evidence pass's bound, a single-precision screen
#: (see :func:`_evidence_screen`) drops more.
_SCREEN_ABOVE = 64
#: Above this many eligible models, the weight-only pass screens them in single precision before scoring
#: (see :func:`_weight_candidates`); up to it, scoring them all is cheaper.
_WEIGHT_SCREEN_ABOVE = 16
#: Above this many eligible models, the weight-only pass bounds which can place (:func:`_candidates`) before
#: the screen; up to it, screening them all at once is cheaper (:func:`_screen`).
_BOUND_ABOVE = 256
#: Up to _BOUND_ABOVE models, the weight-only screen's floor comes from this many best-ranked models (those the
#: draws most often rank in the top 3; a floor from all of them keeps hardly fewer). A multiple of 4.
_FLOOR_HEAD = 24
#: Above _BOUND_ABOVE models, the weight-only screen's floor is the third place among this many best-ranked
#: models (a high floor there saves more than it costs).
_SCREEN_HEAD_BOUNDED = 64
#: Bytes of one block of the weight-only pass's scores: below the size from which the C allocator may map each
#: block afresh from the system (128 KB by default), which costs more than the scores.
_SMALL_BLOCK = 96 * 1024
#: Bytes of one block of the weight-only pass's exact scores: all 1,000 draws of up to 32 models at once (a few
#: blocks each reused at once: the C allocator keeps them without mapping them afresh, unlike the screen's).
_COUNT_BLOCK = 256 * 1024
#: Fewest draws in one block of the weight-only pass; the draws of each block the screen marks models for
#: (:func:`_marked_counts`).
_MIN_ROWS = 128
#: How far below a draw's floor the screen still keeps a model: far above single precision's rounding.
_SLACK = 1e-5
_SLACK32 = np.float32(_SLACK)
#: Up to this many eligible models, the Pareto front compares all pairs at once.
_PAIRWISE_UP_TO = 256
#: Below this many eligible models, the evidence pass scores them all: cheaper than bounding which can place.
_PRUNE_ABOVE = 64
#: Above this many columns, ranking a draw's top 3 first drops the columns that cannot place (cheaper then).
_PLACE_PRUNE_ABOVE = 64
#: Above this many eligible models, the weight changes compare only the challengers that can tie first
#: (:func:`_challengers`).
_CHANGES_PRUNE_ABOVE = 256
#: Challengers per block in that bound.
_CHANGES_BLOCK = 64


def _round(value: float, places: int = 6) -> float:
    return float(round(value, places)) + 0.0


def _round6(value: float) -> float:
    """A finite ``value`` rounded to 6 places as :func:`_rounded` rounds it (np.round: times 10^6, to the nearest
    integer with ties to even, divided by 10^6; then + 0.0), in Python's float arithmetic: the same IEEE double
    operations (an integral float converts to the same integer and back exactly)."""
    return round(value * 1e6) / 1e6 + 0.0


def _rounded(values: FloatArray, places: int = 6) -> list[Any]:
    """``values`` rounded like :func:`_round`, as (nested) Python floats."""
    result: list[Any] = (values.round(places) + 0.0).tolist()  # np.round's own method
    return result


#: How json.dumps writes a string (ASCII only, escapes as its encoder writes them): its own function.
_quote: Callable[[str], str] = json.encoder.encode_basestring_ascii


def _float_json(value: float) -> str:
    """``value`` as json.dumps writes a float (its ``float.__repr__``, and its names for the non-finite)."""
    if math.isfinite(value):
        return float.__repr__(value)
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _number_json(value: float) -> str:
    """``value`` (an int or a float) as json.dumps writes it."""
    return int.__repr__(value) if isinstance(value, int) else _float_json(value)


def _ints_json(values: list[int]) -> str:
    """A list of Python ints as json.dumps writes it (``int.__repr__`` each, no spaces)."""
    return "[" + ",".join(map(int.__repr__, values)) + "]"


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
        dominated: BoolArray = np.any(_dominance(points), axis=0)
        return ~dominated
    # Each round takes the point with the largest sum of values (the lexicographically largest among equal sums):
    # a point that dominates another has a sum at least as large (rounding is monotone), so this head is dominated
    # by no point left, nor by any removed one (that would have removed it too). It and its duplicates are on the
    # front; they and everything the head dominates are removed. A large sum dominates many points: the sets left
    # shrink fast, and no sort of all the points is needed.
    columns = [np.ascontiguousarray(points[:, c]) for c in range(points.shape[1])]  # one array per criterion
    total = columns[0].copy()
    for column in columns[1:]:
        total += column
    remaining = np.arange(n)
    while remaining.size:
        head = int(total.argmax())
        if np.count_nonzero(total == total[head]) > 1:
            ties = np.flatnonzero(total == total[head])
            head = int(ties[np.lexsort(tuple(column[ties] for column in reversed(columns)))[-1]])
        at_most = columns[0] <= columns[0][head]
        equal = columns[0] == columns[0][head]
        for column in columns[1:]:
            at_most &= column <= column[head]
            equal &= column == column[head]
        mask[remaining[equal]] = True  # the head and its duplicates
        keep = ~at_most  # drop them and everything the head dominates
        remaining, total = remaining[keep], total[keep]
        columns = [column[keep] for column in columns]
    return mask


#: How the Pareto front is computed, as every answer states it.
_PARETO_METHOD = (
    f"A model is on the Pareto front when no other eligible model is at least as good on all of "
    f"{', '.join(PARETO_CRITERIA)} and better on one. Values are the criterion values used for scoring "
    "(0-1, higher is better; cheaper is better for cost), so missing data counts as the criterion's "
    "missing-data policy says."
)


#: The front's JSON from its start to "dominated" and from its end to the points (see :meth:`_Front.canonical_json`).
_FRONT_JSON_HEAD = '{"criteria":' + json.dumps(list(PARETO_CRITERIA), separators=(",", ":")) + ',"dominated":{'
_FRONT_JSON_METHOD = '},"method":' + _quote(_PARETO_METHOD) + ',"models":['


def _dominance(points: FloatArray) -> BoolArray:
    """Every pair of rows of ``points`` (models x criteria): [q, p] is True when row q dominates row p.

    q dominates p when q >= p on every criterion and not p >= q on every one (then q > p on some criterion).
    """
    by_criterion = points.T  # criteria x models
    # [c, q, p]: q >= p on criterion c, then [q, p]: on every criterion
    at_least = np.logical_and.reduce(by_criterion[:, :, None] >= by_criterion[:, None, :], axis=0)
    dominates: BoolArray = at_least > at_least.T  # at least as good everywhere, and p not as good as q everywhere
    return dominates


class _Front(NamedTuple):
    """A Pareto front as plain values: what :class:`ParetoFront` holds, built into it only when an answer needs it."""

    #: Each front model's id, rank (1 = best) and values (rounded, in :data:`PARETO_CRITERIA` order), best first.
    model_ids: list[str]
    ranks: list[int]
    values: list[list[float]]
    #: Each recommended model off the front -> the best-ranked front model that dominates it.
    dominated: dict[str, str]

    def front(self) -> ParetoFront:
        """The front as an answer states it."""
        return trusted(
            ParetoFront,
            criteria=list(PARETO_CRITERIA),
            size=len(self.model_ids),
            models=[
                trusted(
                    ParetoPoint, model_id=model_id, rank=rank, values=dict(zip(PARETO_CRITERIA, point, strict=True))
                )
                for model_id, rank, point in zip(self.model_ids, self.ranks, self.values, strict=True)
            ],
            dominated=self.dominated,
            method=_PARETO_METHOD,
        )

    def json(self) -> dict[str, Any]:
        """``front().model_dump(mode="json")``, built without the objects (the same keys and values)."""
        return {
            "criteria": list(PARETO_CRITERIA),
            "size": len(self.model_ids),
            "models": [
                {"model_id": model_id, "rank": rank, "values": dict(zip(PARETO_CRITERIA, point, strict=True))}
                for model_id, rank, point in zip(self.model_ids, self.ranks, self.values, strict=True)
            ],
            "dominated": dict(self.dominated),
            "method": _PARETO_METHOD,
        }

    def canonical_json(self) -> str:
        """``json.dumps(self.json(), sort_keys=True, separators=(",", ":"))``, written directly (the same text).

        A point's values are written in the order json.dumps sorts their keys: capability, cost, openness (the
        positions 0, 2 and 1 of :data:`PARETO_CRITERIA`).
        """
        models = ",".join(
            [
                f'{{"model_id":{_quote(model_id)},"rank":{rank},"values":{{"capability":{_float_json(point[0])},'
                f'"cost":{_float_json(point[2])},"openness":{_float_json(point[1])}}}}}'
                for model_id, rank, point in zip(self.model_ids, self.ranks, self.values, strict=True)
            ]
        )
        # json.dumps sorts a dict's items (key, value): the keys are distinct, so by key.
        dominated = ",".join([f"{_quote(k)}:{_quote(v)}" for k, v in sorted(self.dominated.items())])
        return f'{_FRONT_JSON_HEAD}{dominated}{_FRONT_JSON_METHOD}{models}],"size":{len(self.model_ids)}}}'


assert PARETO_CRITERIA == ("capability", "openness", "cost")  # as _Front.canonical_json writes them


def _pareto(ids: Sequence[str], values: Mapping[str, FloatArray], order: IntArray, top: int) -> ParetoFront:
    points = np.stack([values[c][order] for c in PARETO_CRITERIA], axis=1) if order.size else np.zeros((0, 3))
    return _front(ids, points, order, top).front()


def _front(ids: Sequence[str], points: FloatArray, order: IntArray, top: int) -> _Front:
    """The Pareto front of ``points`` (eligible models in rank order x :data:`PARETO_CRITERIA`)."""
    # Up to _PAIRWISE_UP_TO models, the pairs that make the front also name who dominates each model off it.
    dominance = _dominance(points) if 0 < points.shape[0] <= _PAIRWISE_UP_TO else None
    on_front: BoolArray = ~np.logical_or.reduce(dominance, axis=0) if dominance is not None else pareto_front(points)
    front_positions = on_front.nonzero()[0]  # positions in `order`, so already in rank order
    front_points = points[front_positions]
    positions: list[int] = front_positions.tolist()
    dominated: dict[str, str] = {}
    off_front = (~on_front[: min(top, order.size)]).nonzero()[0]
    if off_front.size:
        # Front points (rows, rank order) against the recommended points off the front (columns), all at once.
        if dominance is not None:
            beaten = dominance[front_positions][:, off_front]
        else:
            against = points[off_front]
            at_least = np.all(front_points[:, None, :] >= against[None, :, :], axis=2)
            beaten = at_least & np.any(front_points[:, None, :] > against[None, :, :], axis=2)
        # Every dominated point is dominated by some front point (the order is finite and transitive); the
        # first True of a column is the best-ranked front point that dominates it.
        first_beater = beaten.argmax(axis=0)
        beaters = order[front_positions[first_beater]].tolist()
        dominated = {ids[i]: ids[j] for i, j in zip(order[off_front].tolist(), beaters, strict=True)}
    return _Front(
        [ids[i] for i in order[front_positions].tolist()],
        [p + 1 for p in positions],  # positions in `order` are ranks - 1
        _rounded(front_points),
        dominated,
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


def _alpha(weights: FloatArray, concentration: float) -> tuple[float, ...]:
    """The Dirichlet parameters of the positive weights (empty with a single positive weight)."""
    positive = weights[weights > 0]
    if positive.size == 1:
        return ()
    return tuple(np.round(concentration * positive, 12).tolist())


@lru_cache(maxsize=256)
def _alpha_of(weights: tuple[float, ...], concentration: float) -> tuple[float, ...]:
    """:func:`_alpha` of ``weights`` given as a tuple, kept (an answer's weights are mostly a profile's)."""
    return _alpha(np.array(weights), concentration)


def _active_draws(weights: FloatArray, samples: int, seed: int, concentration: float) -> FloatArray:
    """The drawn vectors restricted to the positive weights (samples x positive weights), read-only."""
    return _draw(_alpha(weights, concentration), samples, seed)


@lru_cache(maxsize=16)
def _draw_forms(alpha: tuple[float, ...], samples: int, seed: int) -> tuple[npt.NDArray[np.float32], FloatArray]:
    """:func:`_draw`'s vectors in single precision (for the screen) and transposed (criteria x samples, for
    :func:`_scores_by_model`), read-only and cached for the last 16 weightings (108 KB each at 1,000 draws of
    nine criteria)."""
    draws = _draw(alpha, samples, seed)
    transposed: FloatArray = np.ascontiguousarray(draws.T)
    single: npt.NDArray[np.float32] = transposed.astype(np.float32).T  # samples x criteria, laid out by criterion
    single.setflags(write=False)
    transposed.setflags(write=False)
    return single, transposed


def _candidates(
    base: FloatArray, weighted: FloatArray, draws: FloatArray, weights: FloatArray, floor: FloatArray
) -> IntArray:
    """Positions (in rank order) of the models that can rank in the top 3 under at least one drawn vector.

    For a draw w' with d = w' - w (both sum to 1 over the weighted criteria), d . v lies within
    +-P x spread(v), where P = sum(|d|) / 2 and spread is the model's max - min value over the weighted
    criteria. Under draw s three models score at least floor_s (``floor``: at most the third highest of the exact
    scores), so model j can only reach the top 3 if base_j + P_s x spread_j >= floor_s for some s,
    i.e. if E(spread_j) >= -base_j with E(x) = max_s (P_s x - floor_s). E is convex, so on a grid cell it is at
    most the larger end value: the test below keeps a superset of the true candidates, and restricting to them
    changes no figure.

    ``weighted`` holds the values of the weighted criteria only (rows aligned with ``draws`` and ``weights``).
    """
    spread = weighted.max(axis=0) - weighted.min(axis=0)
    shift = np.abs(draws - weights).sum(axis=1) / 2
    grid = np.linspace(0.0, float(spread.max()) + _EPSILON, _GRID)
    envelope = (np.outer(shift, grid) - floor[:, None]).max(axis=0)
    cell = np.minimum(np.searchsorted(grid, spread, side="right"), _GRID - 1)
    bound = np.maximum(envelope[cell - 1], envelope[cell])
    keep = base + bound >= -_EPSILON
    keep[:3] = True
    return np.flatnonzero(keep)


def _weight_candidates(
    base: FloatArray,
    weighted: FloatArray,
    draws: FloatArray,
    draws32: npt.NDArray[np.float32],
    weights: FloatArray,
) -> tuple[IntArray, BoolArray | None]:
    """Positions (in rank order) of the models that can place in the top 3 under at least one drawn vector: a
    superset of them, so that counting only these changes no figure; and, when more than
    :data:`_PLACE_PRUNE_ABOVE` are kept, for each block of :data:`_MIN_ROWS` draws and each model kept whether it
    can place under some draw of the block (blocks x models; None otherwise).

    Up to :data:`_BOUND_ABOVE` models, :func:`_screen` screens them all at once. Above it, a screen, not a
    score: every model's scores are computed in single precision (a matrix product: fast, its
    last bits depend on the machine), the floor of draw s is the third highest of the first
    :data:`_SCREEN_HEAD_BOUNDED` models' single-precision scores, and a model is kept when it comes within
    _SLACK of the floor in some draw. The scores are sums of at most nine products of 0-1 values with weights
    summing to 1, so each single-precision score, and so the floor, is within about 1e-6 of the exact one (11
    roundings of 2^-24). The product computes each score less the draw's limit (floor - _SLACK) at once, as one
    more term of the sum (a limit column in the draws, a row of ones in the values): about 1.5e-6 more rounding.
    A model that places scores at least the exact third highest, so its difference is at least about 8e-6 and it
    is kept. Above :data:`_BOUND_ABOVE` models, :func:`_candidates` first drops those that cannot come near the
    floor, and only the rest are screened. The scores are computed models x draws (each model's best difference is
    then a maximum along a contiguous row), in blocks of models of at most :data:`_SMALL_BLOCK` bytes. The models
    kept are then screened again block of draws by block (the same margins hold in each draw): a model that places
    under a draw is marked in that draw's block.
    """
    n = base.size
    if n <= _WEIGHT_SCREEN_ABOVE:
        return np.arange(n), None
    if n <= _BOUND_ABOVE:
        return _screen(_single_scores(weighted, draws32))
    samples, criteria = draws32.shape
    head = min(_SCREEN_HEAD_BOUNDED, n)
    extended = np.empty((criteria + 1, samples), dtype=np.float32)  # the draws (criteria x samples), then -limit
    extended[:criteria] = draws32.T
    limit = extended[criteria]
    limit[:] = np.partition(draws32 @ weighted[:, :head].astype(np.float32), head - 3, axis=1)[:, head - 3]
    limit -= np.float32(_SLACK)
    kept = _candidates(base, weighted, draws, weights, limit.astype(np.float64))
    np.negative(limit, out=limit)
    size = kept.size
    matrix = np.ones((size, criteria + 1), dtype=np.float32)  # models x (values, then 1)
    matrix[:, :criteria] = (weighted[:, kept] if size < n else weighted).T
    step = max(1, _SMALL_BLOCK // (4 * samples))
    reach = np.empty(size, dtype=np.float32)  # how far above the limit each model comes at best
    for start in range(0, size, step):
        np.max(matrix[start : start + step] @ extended, axis=1, out=reach[start : start + step])
    near: BoolArray = reach >= 0
    near[:3] = True
    screened: IntArray = kept[near]
    if screened.size <= _PLACE_PRUNE_ABOVE:
        return screened, None
    rows = matrix[near]
    starts = np.arange(0, samples, _MIN_ROWS)
    marks = np.empty((starts.size, rows.shape[0]), dtype=bool)  # blocks of draws x models
    for start in range(0, rows.shape[0], step):
        block_reach = np.maximum.reduceat(rows[start : start + step] @ extended, starts, axis=1)
        np.greater_equal(block_reach.T, 0, out=marks[:, start : start + step])
    marks[:, :3] = True
    return screened, marks


class _Scratch(threading.local):
    """Arrays for the weight-only screen, one set per thread, reused by every answer the thread weighs.

    The screen's scores (up to :data:`_BOUND_ABOVE` models x the draws: up to 1 MB at 1,000 draws) are larger than
    the blocks the C allocator serves from its heap under the server's settings (``service/allocator.py``): a new
    array would be mapped afresh from the system and its pages faulted in on every answer, which costs about as
    much as computing the scores. At most :data:`_SCRATCH_ITEMS` items an array (1.25 MB a thread in all);
    larger ones are allocated for the call.
    """

    def __init__(self) -> None:
        self.arrays: dict[str, npt.NDArray[Any]] = {}

    def array(self, name: str, shape: tuple[int, int], dtype: type[np.generic]) -> npt.NDArray[Any] | None:
        """An uninitialised array of ``shape`` (a view of this thread's array ``name``; None when too large to keep),
        valid until the next call for ``name`` on this thread."""
        size = shape[0] * shape[1]
        if size > _SCRATCH_ITEMS:
            return None
        kept = self.arrays.get(name)
        if kept is None or kept.size < size:
            kept = self.arrays[name] = np.empty(size, dtype=dtype)
        return kept[:size].reshape(shape)


#: Most items in one of :class:`_Scratch`'s arrays: the screen's scores of _BOUND_ABOVE models under SAMPLES draws.
_SCRATCH_ITEMS = 256 * 1000
_SCRATCH = _Scratch()


def _single_scores(
    weighted: FloatArray, draws32: npt.NDArray[np.float32], out: npt.NDArray[np.float32] | None = None
) -> npt.NDArray[np.float32]:
    """Every model's scores in single precision (models x draws; in ``out`` when given, else a new array):
    ``weighted`` (criteria x models) under ``draws32`` (draws x criteria), one matrix product."""
    scores: npt.NDArray[np.float32] = np.matmul(weighted.T.astype(np.float32), draws32.T, out=out)
    return scores


def _screen(scores: npt.NDArray[np.float32], reached: BoolArray | None = None) -> tuple[IntArray, BoolArray | None]:
    """:func:`_weight_candidates` for a few hundred models at most: every model screened at once, against a floor
    taken from the best-ranked ones.

    ``scores`` are the single-precision scores (models x draws, :func:`_single_scores`), each within about 1e-6 of
    the exact ones, as in :func:`_weight_candidates`. The first :data:`_FLOOR_HEAD` models (the best ranked; at least 4,
    a multiple of 4, when fewer) are split into four groups by position modulo 4; the floor of draw s is the
    third highest of the four groups' highest scores: three distinct models score at least it, so it is at most
    the draw's third-highest score (computed from the same single-precision scores, so within about 1e-6 of the
    floor the exact scores give, which is at most the exact third-highest score; the minima and maxima round
    nothing). A model that places under draw s scores at least the exact third highest, so its single-precision
    score is at least the floor less about 2e-6, and a model is kept when it comes within _SLACK (1e-5, rounded
    once in single precision) of the floor in some draw: every model that places is kept. When more than
    :data:`_PLACE_PRUNE_ABOVE` are kept, each is marked in the blocks of :data:`_MIN_ROWS` draws in which it
    comes that near (blocks x models), as :func:`_marked_counts` reads them. ``reached``, when given, is an array
    of the scores' shape to work in.
    """
    # Each group's highest score among the first _FLOOR_HEAD models (or a multiple of 4 of them: there are at least
    # 4), the groups as the rows of the head laid out four by four.
    head = min(_FLOOR_HEAD, scores.shape[0] - scores.shape[0] % 4)
    a, b, c, d = np.maximum.reduce(scores[:head].reshape(head // 4, 4, scores.shape[1]), axis=0)
    # The third highest of a, b, c and d is their second lowest: the lower of the higher of the pairs' minima and
    # the lower of the pairs' maxima.
    low = np.maximum(np.minimum(a, b), np.minimum(c, d))
    np.minimum(low, np.minimum(np.maximum(a, b, out=a), np.maximum(c, d, out=c), out=a), out=low)
    limit = low
    limit -= _SLACK32
    reached = np.greater_equal(scores, limit, out=reached)
    near: BoolArray = np.logical_or.reduce(reached, axis=1)
    near[:3] = True
    screened: IntArray = near.nonzero()[0]
    if screened.size <= _PLACE_PRUNE_ABOVE:
        return screened, None
    starts = np.arange(0, scores.shape[1], _MIN_ROWS)
    marks: BoolArray = np.logical_or.reduceat(reached[screened], starts, axis=1).T  # blocks of draws x models
    marks[:, :3] = True
    return screened, marks


def _block_rows(row_bytes: int) -> int:
    """Draws per block of the weight-only pass: :data:`_COUNT_BLOCK` bytes, but never fewer than
    :data:`_MIN_ROWS` draws (with many models, fewer blocks matter more than their size)."""
    return max(_MIN_ROWS, _COUNT_BLOCK // row_bytes)


def _third(scores: FloatArray) -> FloatArray:
    """Each row's third-largest value (``scores``: draws x at least three models)."""
    third: FloatArray = -np.partition(-scores, 2, axis=1)[:, 2]
    return third


def _counts(
    scores: Callable[[slice], FloatArray], samples: int, n: int, block_bytes: int | None = None
) -> tuple[IntArray, IntArray]:
    """First and top-3 counts of ``n`` columns over ``samples`` draws, ``scores(rows)`` giving a block of rows.

    A draw's places depend on its own row only, so the draws are ranked in blocks of rows small enough to stay
    in the processor's cache (``block_bytes`` of scores; :data:`_BLOCK_BYTES` unless given) and the counts
    added up.
    """
    step = max(1, (_BLOCK_BYTES if block_bytes is None else block_bytes) // (8 * max(n, 1)))
    if step >= samples:  # one block
        return _place_counts(scores(slice(0, samples)))
    first = np.zeros(n, dtype=np.intp)
    top3 = np.zeros(n, dtype=np.intp)
    for start in range(0, samples, step):
        block_first, block_top3 = _place_counts(scores(slice(start, start + step)))
        first += block_first
        top3 += block_top3
    return first, top3


def _marked_counts(draws: FloatArray, matrix: FloatArray, marks: BoolArray) -> tuple[IntArray, IntArray]:
    """First and top-3 counts of the models of ``matrix`` (criteria x models) under ``draws`` (criteria x draws),
    block by block of :data:`_MIN_ROWS` draws, ranking in each block only the models ``marks`` names for it
    (blocks x models, from :func:`_weight_candidates`).

    A model not marked for a block places under none of its draws, so it would count zero there, and leaving it
    out moves no other model's place (three models rank above it in each of those draws). The models kept stay in
    order, so ties still go to the lower column, and each score is the same sum as :func:`_scores`'s.
    """
    n = matrix.shape[1]
    first = np.zeros(n, dtype=np.intp)
    top3 = np.zeros(n, dtype=np.intp)
    for block, start in enumerate(range(0, draws.shape[1], _MIN_ROWS)):
        columns = np.flatnonzero(marks[block])
        block_first, block_top3 = _place_counts(
            _scores_by_model(draws[:, start : start + _MIN_ROWS], matrix[:, columns]).T
        )
        first[columns] += block_first
        top3[columns] += block_top3
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
    kept = _contenders(scores) if n > _PLACE_PRUNE_ABOVE else None
    # A copy laid out draw by draw (places are struck out below, through its flat view)
    ranked = np.ascontiguousarray(scores[:, kept]) if kept is not None and kept.size < n else scores.copy()
    size = ranked.shape[1]
    flat, starts = ranked.reshape(-1), np.arange(0, ranked.size, max(size, 1))  # each draw's first element in ``flat``
    best = ranked.argmax(axis=1)  # the first maximum: ties go to the lower column
    first = np.bincount(best, minlength=size)
    top3 = first if size > 1 else first.copy()  # a new array below
    for _ in range(1, min(3, size)):
        flat[starts + best] = -np.inf
        best = ranked.argmax(axis=1)
        top3 = top3 + np.bincount(best, minlength=size)
    if kept is None or size == n:
        return first, top3
    first_all = np.zeros(n, dtype=np.intp)
    top3_all = np.zeros(n, dtype=np.intp)
    first_all[kept], top3_all[kept] = first, top3
    return first_all, top3_all


def _tolerance(criteria: int, largest: float) -> np.float32:
    """How far apart two models' single-precision scores must be for their exact scores to rank the same way.

    A model's exact score x = sum_c w_c v_c (``criteria`` = k terms; weights w_c >= 0 summing to 1 up to a few
    double-precision roundings, |v_c| <= ``largest``) is computed two ways:

    - in double precision, as :func:`_scores_by_model` sums (products in criterion order): each product and each
      of the k - 1 additions rounds once (relative error at most u = 2^-53), so the result f differs from x by at
      most gamma_k(u) x sum_c |w_c v_c|, where gamma_n(u) = n u / (1 - n u) (Higham, Accuracy and Stability of
      Numerical Algorithms, lemma 3.1 and section 4.2);
    - in single precision, by the matrix product of :func:`_single_scores`: w_c and v_c are each rounded to
      single precision (relative error at most U = 2^-24), their product rounds once, and the k products are
      added in whatever order (or tree, with or without fused multiply-adds) the BLAS library chooses, each
      term passing through at most k - 1 roundings: the result g differs from x by at most gamma_{k+2}(U) x
      sum_c |w_c v_c|. A weight or value below single precision's normal range (a Dirichlet draw can be tiny)
      loses at most 2^-150 when rounded instead (at most (``largest`` + 1) x 2^-150 in its product), and a product
      that small at most 2^-150 more: at most k (``largest`` + 2) x 2^-150 more in all.

    sum_c |w_c v_c| <= ``largest`` x (1 + 2^-40), so each model's |g - x| + |f - x| is at most E = (gamma_{k+2}(U)
    + gamma_k(u)) x ``largest`` x (1 + 2^-40) + k (``largest`` + 2) x 2^-150. If g_a - g_b > 2E, then f_a > f_b:
    the exact scores of a and b rank the same way, not even tied. The tolerance returned, 2.5 (k + 3) U x
    ``largest`` + 2^-100 (rounded to single precision, which may lower it by one part in 2^24), exceeds 2E for
    every k up to 10^5. It is a single-precision number, so a computed difference fl(g_a - g_b) above it means the
    true difference g_a - g_b is above it too (rounding is monotone and leaves the tolerance itself unchanged).
    """
    return np.float32(2.5 * (criteria + 3) * 2.0**-24 * largest + 2.0**-100)


def _settled_counts(
    scores: npt.NDArray[np.float32], draws: FloatArray, matrix: FloatArray, columns: IntArray
) -> tuple[IntArray, IntArray]:
    """First and top-3 counts of ``columns`` of ``matrix`` (criteria x models) under ``draws`` (criteria x
    draws), exactly as :func:`_place_counts` counts the exact scores (:func:`_scores_by_model`), most draws
    settled from the columns' single-precision scores ``scores`` (models x draws, :func:`_single_scores`; a new
    array, overwritten here).

    In each draw the single-precision scores give a first place and a top 3. Where the first is ahead of the
    second, and the third ahead of the fourth, by more than :func:`_tolerance`, the exact scores rank them the same
    way, strictly (no tie), so the draw's first place and top 3 are those; where two single-precision scores among
    the first four are equal, or a gap is not that wide, the draw is re-scored exactly and ranked as
    :func:`_place_counts` ranks (ties to the lower column). The columns passed must hold every model that can
    place: :func:`_screen` leaves out only models whose single-precision scores are more than _SLACK (far wider
    than the tolerance) below every draw's third place, so their exact scores are below the third place's in
    every draw: they place under no draw, and the columns passed keep their places.
    """
    n, samples = scores.shape
    if n == 1:
        return np.full(1, samples, dtype=np.intp), np.full(1, samples, dtype=np.intp)
    largest = float(np.maximum.reduce(np.abs(matrix), axis=None))
    if not largest <= 2.0**64:  # values far outside 0-1 (or not numbers): every draw re-scored exactly
        return _place_counts(_scores_by_model(draws, matrix[:, columns]).T)
    tolerance = _tolerance(matrix.shape[0], largest)
    # Each draw's highest score, then the next highest once every score equal to it is struck out, and so on. A
    # score struck out is lowered by ``strike``: single-precision scores are at most 2 x ``largest`` in magnitude
    # (see :func:`_tolerance`), so a score struck out is below -``lowest`` and every score left above it. A tie at a
    # place leaves more than one model there: the draw is then re-scored exactly.
    strike = np.float32(4 * largest + 4)
    lowest = np.float32(2 * largest + 2)
    highest = np.maximum.reduce
    struck = np.empty_like(scores)
    top = highest(scores, axis=0)
    first_place = scores == top
    scores -= np.multiply(first_place, strike, out=struck)
    second = highest(scores, axis=0)
    settled: BoolArray = (top - second) > tolerance
    # Each place marks at least one model in every draw: exactly one each unless some place is tied.
    tied = np.count_nonzero(first_place) > samples
    placed: BoolArray | None = None  # up to three models, every model places in every draw
    if n > 3:
        mark = np.equal(scores, second, out=first_place.copy())
        scores -= np.multiply(mark, strike, out=struck)
        third = highest(scores, axis=0)
        scores -= np.multiply(np.equal(scores, third, out=mark), strike, out=struck)
        settled &= (third - highest(scores, axis=0)) > tolerance
        placed = np.less(scores, -lowest, out=mark)  # the scores struck out
        if not tied:
            tied = np.count_nonzero(placed) > 3 * samples
        if tied:
            settled &= np.add.reduce(placed, axis=0, dtype=np.intp) == 3
    if tied:
        settled &= np.add.reduce(first_place, axis=0, dtype=np.intp) == 1
    unsettled = np.flatnonzero(~settled) if np.count_nonzero(settled) < samples else None
    if unsettled is not None:
        first_place[:, unsettled] = False
        if placed is not None:
            placed[:, unsettled] = False
    # Counted as bytes along each model's row (cheaper than np.count_nonzero along an axis).
    first: IntArray = np.add.reduce(first_place.view(np.uint8), axis=1, dtype=np.intp)
    top3: IntArray = (
        np.add.reduce(placed.view(np.uint8), axis=1, dtype=np.intp)
        if placed is not None
        else np.full(n, samples if unsettled is None else samples - unsettled.size, dtype=np.intp)
    )
    if unsettled is not None:
        exact_first, exact_top3 = _place_counts(_scores_by_model(draws[:, unsettled], matrix[:, columns]).T)
        first += exact_first
        top3 += exact_top3
    return first, top3


def _scores_by_model(draws: FloatArray, matrix: FloatArray) -> FloatArray:
    """:func:`_scores` transposed: the scores (models x draws) of ``matrix`` (criteria x models) under ``draws``
    given as criteria x draws.

    The same products and sums in the same order, so the same bits as :func:`_scores`; laid out so that each
    operation runs along the draws (long rows) rather than the models (a few columns), which is several times
    faster for the few models that can place.
    """
    scores: FloatArray = matrix[0][:, None] * draws[0]
    if matrix.shape[0] > 1:
        product = np.empty_like(scores)
        for c in range(1, matrix.shape[0]):
            np.multiply(matrix[c][:, None], draws[c], out=product)
            scores += product
    return scores


def _scores(draws: FloatArray, matrix: FloatArray) -> FloatArray:
    """Scores (draws x models) of ``matrix`` (criteria x models) under ``draws`` (draws x criteria).

    A sum of element-wise products in criterion order, not a matrix product: each score is computed the same
    way whichever other models or draws are computed with it and whatever the machine's BLAS or its thread
    count, so identical models score bit-identically and leaving a model out changes no other model's score.
    """
    scores: FloatArray = draws[:, :1] * matrix[0]
    if matrix.shape[0] > 1:
        product = np.empty_like(scores)
        for c in range(1, matrix.shape[0]):
            np.multiply(draws[:, c : c + 1], matrix[c], out=product)
            scores += product
    return scores


def _evidence_counts(
    ids: Sequence[str],
    positions: IntArray,
    criteria: Sequence[str],
    draws: FloatArray,
    weights: FloatArray,
    base: FloatArray,
    weighted: FloatArray,
    spread: FloatArray,
    seed: int,
) -> tuple[IntArray, IntArray]:
    """First and top-3 counts when each sampled weight vector also meets values drawn from their uncertainty.

    ``criteria``, ``weights``, ``weighted`` and ``spread`` are the weighted criteria's names, central weights,
    values and standard deviations (criteria x models: the models at ``positions`` of ``ids``, in rank order),
    ``base`` the models' scores under the central weights; each draw gets values Normal(value, sd) clipped to 0-1,
    independently per model and criterion: the normals of a model come from its own generator, keyed by the
    model id and the criterion (:class:`_Noise`), so they do not depend on which other models are eligible.

    Only the models that can place are sampled (:func:`_evidence_candidates`); the others count zero, as they
    would: each model's sampled scores are computed element-wise, the same whichever models are computed.
    """
    n = weighted.shape[1]
    uncertain = [c for c in range(weighted.shape[0]) if spread[c].any()]
    noises = [_noise(ids, seed + 1, criteria[c], draws.shape[0]) for c in uncertain]

    def sampled(columns: IntArray, normals: list[FloatArray], rows: slice) -> FloatArray:
        scores = _scores(draws[rows], weighted[:, columns])
        for c, normal in zip(uncertain, normals, strict=True):
            scores += _shift(normal[:, rows].T, spread[c, columns], weighted[c, columns], draws[rows, c : c + 1])
        return scores

    kept, floor = _evidence_candidates(
        lambda columns: sampled(columns, [noise.rows(positions[columns]) for noise in noises], slice(None)),
        draws,
        weights,
        base,
        weighted,
        spread,
        [(c, noise.largest(positions)) for c, noise in zip(uncertain, noises, strict=True)],
    )
    normals = [noise.rows(positions[kept]) for noise in noises]  # models x draws, each
    if floor is not None and kept.size > _SCREEN_ABOVE:
        near = _evidence_screen(draws, weighted[:, kept], spread[:, kept], uncertain, normals, floor)
        kept = kept[near]
        normals = [normal[near] for normal in normals]
    first = np.zeros(n, dtype=np.intp)
    top3 = np.zeros(n, dtype=np.intp)
    first[kept], top3[kept] = _counts(lambda rows: sampled(kept, normals, rows), draws.shape[0], kept.size)
    return first, top3


#: Bytes of one block of scores (draws x models) in the evidence pass: small enough to stay in cache.
_BLOCK_BYTES = 1 << 20


def _shift(normal: FloatArray, sd: FloatArray, value: FloatArray, weight: FloatArray) -> FloatArray:
    """``(clip(value + sd x normal, 0, 1) - value) x weight``: a new array, element-wise (``weight`` may be a
    column of per-draw weights). Monotone in ``normal`` and ``weight`` for non-negative ``sd`` and ``weight``."""
    shifted: FloatArray = normal * sd
    shifted += value
    np.clip(shifted, 0, 1, out=shifted)
    shifted -= value
    shifted *= weight
    return shifted


def _evidence_candidates(
    sampled: Callable[[IntArray], FloatArray],
    draws: FloatArray,
    weights: FloatArray,
    base: FloatArray,
    weighted: FloatArray,
    spread: FloatArray,
    largest: list[tuple[int, FloatArray]],
) -> tuple[IntArray, FloatArray | None]:
    """Columns (rank order) of the models that can place in the top 3 of at least one draw with evidence, and
    the per-draw floor they were compared with (None when every model is kept without a test).

    Under draw s three of the best-ranked models' exact sampled scores are at least floor_s (the third highest
    of them). Model j's
    sampled score is base_j + d_s . v_j + the sum over uncertain criteria c of w_sc x shift_scj, where
    d_s . v_j is at most P_s x spread_j (as in :func:`_candidates`) and shift_scj at most h_cj, the shift of
    the model's largest normal (a shift is monotone in the normal). With W_s the largest uncertain weight of
    draw s and h_j the sum of the h_cj, the model can place only if E(spread_j, h_j) >= -base_j, with
    E(a, b) = max_s (P_s a + W_s b - floor_s). E is convex, so over a grid cell it is at most its largest
    corner value: the test keeps a superset of the models that place, with a margin for rounding.

    ``weights`` are the central weights of the weighted criteria and ``base`` the models' scores under them;
    ``largest`` pairs each uncertain criterion (a row of ``weighted``) with each model's largest normal.
    """
    n = weighted.shape[1]
    if n <= _PRUNE_ABOVE:
        return np.arange(n), None
    floor = _third(sampled(np.arange(min(_HEAD, n))))
    reach = np.zeros(n)
    for c, normal in largest:
        reach += np.maximum(_shift(normal, spread[c], weighted[c], np.ones(1)), 0.0)
    spreads = weighted.max(axis=0) - weighted.min(axis=0)
    shift = np.abs(draws - weights).sum(axis=1) / 2
    most = draws[:, [c for c, _ in largest]].max(axis=1)
    grid_a = np.linspace(0.0, float(spreads.max()) + _EPSILON, _GRID_2D)
    grid_b = np.linspace(0.0, float(reach.max()) + _EPSILON, _GRID_2D)
    envelope = (
        shift[:, None, None] * grid_a[None, :, None]
        + most[:, None, None] * grid_b[None, None, :]
        - floor[:, None, None]
    ).max(axis=0)
    a = np.minimum(np.searchsorted(grid_a, spreads, side="right"), _GRID_2D - 1)
    b = np.minimum(np.searchsorted(grid_b, reach, side="right"), _GRID_2D - 1)
    bound = np.maximum(
        np.maximum(envelope[a - 1, b - 1], envelope[a, b - 1]), np.maximum(envelope[a - 1, b], envelope[a, b])
    )
    keep = base + bound >= -_EPSILON
    keep[:3] = True
    return np.flatnonzero(keep), floor


def _evidence_screen(
    draws: FloatArray,
    weighted: FloatArray,
    spread: FloatArray,
    uncertain: list[int],
    normals: list[FloatArray],
    floor: FloatArray,
) -> BoolArray:
    """Which models (columns of ``weighted``) come within _SLACK of ``floor`` in some draw with evidence.

    The screen of :func:`_weight_candidates` for the evidence pass: the sampled scores in single precision,
    from the models' own normals (``normals``: one models x draws array per uncertain criterion). The first three
    are always kept.
    """
    n = weighted.shape[1]
    matrix = weighted.astype(np.float32)
    limit = (floor - _SLACK).astype(np.float32)
    step = max(1, _BLOCK_BYTES // (4 * n))
    near = np.zeros(n, dtype=bool)
    for start in range(0, draws.shape[0], step):
        rows = slice(start, start + step)
        scores = draws[rows].astype(np.float32) @ matrix
        for c, normal in zip(uncertain, normals, strict=True):
            value, sd = matrix[c], spread[c].astype(np.float32)
            shift = normal[:, rows].T.astype(np.float32)
            shift *= sd
            shift += value
            np.clip(shift, 0, 1, out=shift)
            shift -= value
            shift *= draws[rows, c : c + 1].astype(np.float32)
            scores += shift
        near |= np.any(scores >= limit[rows, None], axis=0)
    near[: min(3, n)] = True
    return near


class _Noise:
    """The standard normals of one criterion's evidence pass, per model: ``samples`` of them for each model,
    from PCG64 seeded by SeedSequence([seed, the words of a digest of the criterion and the model id]).

    They depend on nothing of a request, so each model's row is drawn once, the first time the model is
    eligible, and kept (8 bytes per draw: 8 KB per model of the catalogue at 1,000 draws). Rows are drawn under
    a lock; a row is only read once drawn.
    """

    def __init__(self, ids: Sequence[str], seed: int, criterion: str, samples: int) -> None:
        self.ids, self.seed, self.criterion, self.samples = ids, seed, criterion, samples
        self._normals = np.empty((len(ids), samples))  # pages are only used once rows are written
        self._drawn = np.zeros(len(ids), dtype=bool)
        self._largest = np.zeros(len(ids))
        self._lock = threading.Lock()

    def _draw(self, i: int) -> None:
        digest = hashlib.blake2b(f"{self.criterion}\0{self.ids[i]}".encode(), digest_size=16).digest()
        words = [int.from_bytes(digest[k : k + 4], "little") for k in range(0, 16, 4)]
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([self.seed, *words])))
        rng.standard_normal(out=self._normals[i])
        self._largest[i] = self._normals[i].max()

    def _ensure(self, positions: IntArray) -> None:
        missing = positions[~self._drawn[positions]]
        if missing.size:
            with self._lock:
                for i in missing.tolist():
                    if not self._drawn[i]:
                        self._draw(i)
                        self._drawn[i] = True

    def rows(self, positions: IntArray) -> FloatArray:
        """The normals of the models at ``positions`` of ``ids`` (models x samples, a copy)."""
        self._ensure(positions)
        rows: FloatArray = self._normals[positions]
        return rows

    def largest(self, positions: IntArray) -> FloatArray:
        """Each model's largest normal."""
        self._ensure(positions)
        largest: FloatArray = self._largest[positions]
        return largest


#: Noise kept per engine's model ids (by identity, kept alive in the entry), seed, criterion and sample count.
_NOISES: Kept[tuple[int, int, str, int], tuple[Sequence[str], _Noise]] = Kept("tradeoffs.noises", 4)


def _noise(ids: Sequence[str], seed: int, criterion: str, samples: int) -> _Noise:
    key = (id(ids), seed, criterion, samples)
    entry = _NOISES.get(key)
    if entry is None:  # the entry holds ``ids``, so a key found is this object's own id()
        entry = _NOISES.put(key, (ids, _Noise(ids, seed, criterion, samples)))
    return entry[1]


def _deltas(gap: FloatArray, values: FloatArray, leader: FloatArray) -> FloatArray:
    """Where each challenger ties the leader (direction x criteria x challengers; inf: never).

    ``gap`` is each challenger's score below the leader's (at least 0), ``values`` the challengers' values
    (criteria x challengers) and ``leader`` the leader's (criteria x 1): a challenger's step is its value less the
    leader's, raising a weight, and the leader's less its own, lowering it. Which deltas the weights allow is
    decided by :func:`_weight_changes`.
    """
    signed = np.empty((2, *values.shape))  # direction x criteria x challengers: the step raising, then lowering
    np.subtract(values, leader, out=signed[0])
    np.negative(signed[0], out=signed[1])
    # Where the step is not positive, a division by 1 whose quotient is replaced (a masked division costs more).
    ahead = signed > 0
    deltas: FloatArray = np.where(ahead, gap / np.where(ahead, signed, 1.0), np.inf)
    return deltas


def _challengers(matrix: FloatArray, base: FloatArray) -> IntArray:
    """The challengers (indices into ``base[1:]``, ascending) that can be the first smallest delta of some
    criterion and direction in :func:`_deltas`: a superset of them.

    Exact: let j be a model before challenger k (the leader or an earlier challenger) with a value at least k's on a
    criterion and a score at least k's. When raising that criterion's weight, k's step is at most j's (rounding is
    monotone) and its gap at least j's, so k's delta is at least j's (division rounds monotonically too): k is
    never the first smallest, since ties go to the earlier challenger, and if j is the leader k's step is at most 0
    (no delta). Lowering it likewise with a value at most k's (and a delta too large to be allowed for j is too
    large for k). The models are taken in blocks of :data:`_CHANGES_BLOCK` (the leader first): after the first
    block, a challenger is kept only where its value on some criterion is above the highest (or below the lowest)
    of every earlier block, or where its score is above the lowest of every earlier block (otherwise the model
    holding that highest or lowest value is such a j). In rank order scores fall and few values set a new high or
    low.
    """
    n, width = base.size, _CHANGES_BLOCK
    blocks = n // width
    kept = np.ones(n, dtype=bool)
    if blocks >= 2:
        whole = blocks * width
        grouped = matrix[:, :whole].reshape(matrix.shape[0], blocks, width)
        # Through each block: the highest and lowest value of each criterion, and the lowest score.
        high = np.maximum.accumulate(grouped.max(axis=2), axis=1)
        low = np.minimum.accumulate(grouped.min(axis=2), axis=1)
        least = np.minimum.accumulate(base[:whole].reshape(blocks, width).min(axis=1))
        later = grouped[:, 1:]
        beyond = later > high[:, :-1, None]
        beyond |= later < low[:, :-1, None]
        body = kept[width:whole].reshape(blocks - 1, width)
        np.any(beyond, axis=0, out=body)
        body |= base[width:whole].reshape(blocks - 1, width) > least[:-1, None]
        if whole < n:  # the last, partial block: against every whole block
            rest = matrix[:, whole:]
            beyond = rest > high[:, -1:]
            beyond |= rest < low[:, -1:]
            np.any(beyond, axis=0, out=kept[whole:])
            kept[whole:] |= base[whole:] > least[-1]
    challengers: IntArray = np.flatnonzero(kept[1:])
    return challengers


def _weight_changes(
    ids: Sequence[str],
    criteria: Sequence[str],
    matrix: FloatArray,
    base: FloatArray,
    weights: FloatArray,
    order: IntArray,
) -> list[_Change]:
    """For each criterion and direction, the smallest change of its weight after which first place changes.

    Adding ``delta`` to one normalised weight (then dividing all by 1 + delta) ranks like the scores
    base + delta x value, so challenger j ties leader a at delta = (base_a - base_j) / (v_j - v_a). Above
    :data:`_CHANGES_PRUNE_ABOVE` eligible models, only the challengers that can tie first are compared
    (:func:`_challengers`).
    """
    if order.size < 2:
        return []
    gap = base[0] - base[1:]
    np.maximum(gap, 0.0, out=gap)
    columns = _challengers(matrix, base) if order.size > _CHANGES_PRUNE_ABOVE else None
    if columns is not None and columns.size == 0:
        return []  # every challenger is behind the leader, or an earlier challenger, wherever it could pass it
    if columns is None:
        deltas = _deltas(gap, matrix[:, 1:], matrix[:, :1])
    else:
        deltas = _deltas(gap[columns], matrix[:, columns + 1], matrix[:, :1])
    best = deltas.argmin(axis=2)
    if columns is not None:
        best = columns[best]
    smallest = np.minimum.reduce(deltas, axis=2).tolist()
    # A few values per criterion: Python's float arithmetic is the same IEEE double arithmetic as NumPy's, without a
    # call per operation.
    w = weights.tolist()
    # Lowering can take a weight to zero, but not the last positive weight (no weights would be left), and not an
    # unweighted criterion: a delta is allowed up to the weight, below 1 (none at all for an unweighted criterion).
    # Leaving out the larger deltas moves neither the smallest allowed nor the first challenger at it: a criterion
    # lowers only when its smallest delta is allowed.
    below_one = math.nextafter(1.0, 0.0)
    found = [
        [math.isfinite(delta) for delta in smallest[0]],
        [
            math.isfinite(delta) and wc > 0 and delta <= min(wc, below_one)
            for delta, wc in zip(smallest[1], w, strict=True)
        ],
    ]
    leaders = order[best + 1].tolist()
    changes: list[_Change] = []
    new = tuple.__new__  # what _Change(...) calls, without its own frame
    # Each figure rounded as :func:`_rounded` rounds it (:func:`_round6`), without a NumPy call per value.
    for c, criterion in enumerate(criteria):
        wc = w[c]
        from_weight = _round6(wc)
        if found[0][c]:
            d = smallest[0][c]
            to = (wc + d) / (1 + d)
            changes.append(
                new(_Change, (criterion, "raise", from_weight, _round6(to), _round6(abs(to - wc)), ids[leaders[0][c]]))
            )
        if found[1][c]:
            d = smallest[1][c]
            to = (wc - d) / max(1 - d, _EPSILON)
            changes.append(
                new(_Change, (criterion, "lower", from_weight, _round6(to), _round6(abs(to - wc)), ids[leaders[1][c]]))
            )
    return changes


class _Change(NamedTuple):
    """A :class:`WeightChange` as plain values (its fields, in order), built into one only when an answer needs it."""

    criterion: str
    direction: Literal["raise", "lower"]
    from_weight: float
    to_weight: float
    change: float
    new_leader: str

    def object(self) -> WeightChange:
        """The change as an answer states it."""
        return trusted_from(WeightChange, self._asdict())

    def json(self) -> dict[str, Any]:
        """``object().model_dump(mode="json")``, built without the object (the same keys and values)."""
        return self._asdict()

    def canonical_json(self) -> str:
        """``json.dumps(self.json(), sort_keys=True, separators=(",", ":"))``, written directly (the same text):
        the fields in the order json.dumps sorts them."""
        return (
            f'{{"change":{_float_json(self.change)},"criterion":{_quote(self.criterion)},'
            f'"direction":{_quote(self.direction)},"from_weight":{_float_json(self.from_weight)},'
            f'"new_leader":{_quote(self.new_leader)},"to_weight":{_float_json(self.to_weight)}}}'
        )


assert sorted(_Change._fields) == ["change", "criterion", "direction", "from_weight", "new_leader", "to_weight"]


class Weighed:
    """The trade-offs of one ranking without the evidence pass: the Pareto front and the weight-only counts.

    What an answer shows of the trade-offs apart from the ``*_with_evidence`` figures and ``close_call``:
    :meth:`complete` adds the evidence pass and gives exactly what :func:`analyse` gives. Built by :func:`weigh`.

    The front and the weight changes are kept as plain values; their answer objects (:attr:`pareto`,
    :attr:`changes`) are built on first use, and :meth:`canonical` writes the same bytes from the plain values.
    """

    def __init__(
        self,
        ids: Sequence[str],
        values: Mapping[str, FloatArray],
        weights: Mapping[str, float],
        order: IntArray,
        top: int,
        samples: int,
        seed: int,
        concentration: float,
        base: FloatArray | None = None,
    ) -> None:
        self._ids, self._order, self._top = ids, order, top
        self._samples, self._seed, self._concentration = samples, seed, concentration
        criteria = list(weights)  # the engine's criterion order
        self._criteria = criteria
        w = [float(weights[c]) for c in criteria]
        self._w = np.array(w)
        alpha = _alpha_of(tuple(w), concentration)
        active = [c for c, weight in enumerate(w) if weight > 0]
        self._active = np.array(active, dtype=np.intp)
        self.perturbed: list[str] = [criteria[c] for c in active]
        eligible = order.size
        self._top_n = min(top, eligible)
        self.leader: str | None = ids[order[0]] if eligible else None
        self.first_count = np.zeros(eligible, dtype=np.intp)
        self.top3_count = np.zeros(eligible, dtype=np.intp)
        self._changes: list[_Change] = []
        self._pareto: ParetoFront | None = None  # built from _front when first read
        self._change_objects: list[WeightChange] | None = None  # built from _changes when first read
        if eligible == 0:
            self._plain_front = _front(ids, np.zeros((0, len(PARETO_CRITERIA))), order, top)
            return
        # criteria x eligible, in rank order: one copy of every criterion's values, then one selection (``take``
        # keeps each criterion's row contiguous, as every row-wise operation below wants; indexing ``[:, order]``
        # would lay the copy out model by model)
        self._matrix = np.array([values[c] for c in criteria], dtype=np.float64).take(order, axis=1)
        if set(PARETO_CRITERIA) <= set(criteria):
            self._plain_front = _front(ids, self._matrix[[criteria.index(c) for c in PARETO_CRITERIA]].T, order, top)
        else:
            self._plain_front = _front(ids, np.stack([values[c][order] for c in PARETO_CRITERIA], axis=1), order, top)
        self._base = _scores(self._w[None, :], self._matrix)[0] if base is None else base
        self._draws = draws = _draw(alpha, samples, seed)
        # The weighted criteria's rows (every row when every criterion is weighted: no copy).
        self._weighted = weighted = self._matrix if len(active) == len(w) else self._matrix[self._active]
        draws32, by_criterion = _draw_forms(alpha, samples, seed)
        single: npt.NDArray[np.float32] | None = None
        if eligible <= _BOUND_ABOVE:
            # Every model's single-precision scores: screened (above _WEIGHT_SCREEN_ABOVE models), then most draws'
            # places settled from them (:func:`_settled_counts`).
            shape = (eligible, samples)
            single = _single_scores(weighted, draws32, _SCRATCH.array("scores", shape, np.float32))
            keep, marks = (
                _screen(single, _SCRATCH.array("reached", shape, np.bool_))
                if eligible > _WEIGHT_SCREEN_ABOVE
                else (np.arange(eligible), None)
            )
        else:
            keep, marks = _weight_candidates(self._base, weighted, draws, draws32, self._w[self._active])
        if marks is not None:
            self.first_count[keep], self.top3_count[keep] = _marked_counts(by_criterion, weighted[:, keep], marks)
        elif single is not None and keep.size == eligible:
            self.first_count, self.top3_count = _settled_counts(single, by_criterion, weighted, keep)
        elif single is not None:
            self.first_count[keep], self.top3_count[keep] = _settled_counts(single[keep], by_criterion, weighted, keep)
        else:
            self.first_count[keep], self.top3_count[keep] = _counts(
                lambda rows: _scores_by_model(by_criterion[:, rows], weighted[:, keep]).T,
                samples,
                keep.size,
                8 * keep.size * _block_rows(8 * keep.size),
            )
        self._changes = _weight_changes(ids, criteria, self._matrix, self._base, self._w, order)

    @property
    def pareto(self) -> ParetoFront:
        """The Pareto front as an answer states it (built on first use)."""
        if self._pareto is None:
            self._pareto = self._plain_front.front()
        return self._pareto

    @property
    def front_ids(self) -> list[str]:
        """The ids of the models on the Pareto front, best ranked first (without building :attr:`pareto`)."""
        return self._plain_front.model_ids

    @property
    def changes(self) -> list[WeightChange]:
        """For each criterion and direction, the smallest weight change that changes first place (built on
        first use)."""
        if self._change_objects is None:
            self._change_objects = [change.object() for change in self._changes]
        return self._change_objects

    def first_share(self, model_id: str) -> float | None:
        """The share of draws under which ``model_id`` ranks first on the weights alone (None: not eligible)."""
        for p in range(self._order.size):
            if self._ids[self._order[p]] == model_id:
                share: float = _rounded(self.first_count[p : p + 1] / self._samples, 4)[0]
                return share
        return None

    def canonical(self) -> bytes:
        """Every weight-only figure of the answer, as canonical JSON bytes (for a digest of the decision):
        ``json.dumps(self.figures(), sort_keys=True, separators=(",", ":")).encode()``, written directly."""
        top_n = self._top_n
        first = self.first_count[:top_n].tolist()
        top3 = self.top3_count[:top_n].tolist()
        leader = "null" if self.leader is None else _quote(self.leader)
        models = ",".join([_quote(self._ids[i]) for i in self._order[:top_n].tolist()])
        changes = ",".join([change.canonical_json() for change in self._changes])
        samples, places = self._samples, self._samples * min(3, self._order.size)
        return (
            f'{{"changes":[{changes}],"concentration":{_number_json(self._concentration)},'
            f'"first_count":{_ints_json(first)},"first_elsewhere":{int.__repr__(samples - sum(first))},'
            f'"leader":{leader},"models":[{models}],"pareto":{self._plain_front.canonical_json()},'
            f'"perturbed":[{",".join(map(_quote, self.perturbed))}],"samples":{int.__repr__(samples)},'
            f'"seed":{int.__repr__(self._seed)},"top3_count":{_ints_json(top3)},'
            f'"top3_elsewhere":{int.__repr__(places - sum(top3))}}}'
        ).encode()

    def figures(self) -> dict[str, Any]:
        """Every weight-only figure of the answer (what :meth:`canonical` writes)."""
        top_n = self._top_n
        return {
            "pareto": self._plain_front.json(),  # the same as self.pareto.model_dump(mode="json")
            "samples": self._samples,
            "seed": self._seed,
            "concentration": self._concentration,
            "perturbed": self.perturbed,
            "leader": self.leader,
            "models": [self._ids[i] for i in self._order[:top_n].tolist()],
            "first_count": self.first_count[:top_n].tolist(),
            "top3_count": self.top3_count[:top_n].tolist(),
            "first_elsewhere": self._samples - int(self.first_count[:top_n].sum()),
            "top3_elsewhere": self._samples * min(3, self._order.size) - int(self.top3_count[:top_n].sum()),
            "changes": [change.json() for change in self._changes],  # the same as the objects' model_dump
        }

    def complete(self, uncertainty: Mapping[str, FloatArray] | None = None) -> Tradeoffs:
        """The whole trade-offs: these figures and the evidence pass over ``uncertainty`` (as in :func:`analyse`)."""
        spreads: Mapping[str, FloatArray] = uncertainty or {}
        return Tradeoffs(pareto=self.pareto, sensitivity=self._sensitivity(spreads))

    def _sensitivity(self, uncertainty: Mapping[str, FloatArray]) -> Sensitivity:
        ids, order, samples, seed, concentration = (
            self._ids,
            self._order,
            self._samples,
            self._seed,
            self._concentration,
        )
        criteria, perturbed = self._criteria, self.perturbed
        uncertain = [c for c in perturbed if c in uncertainty and bool(np.any(uncertainty[c][order] > 0))]
        method = (
            f"{samples:,} weight vectors drawn from a Dirichlet distribution centred on the weights of this answer: "
            f"alpha = {concentration:g} x weight for each weighted criterion ({', '.join(perturbed)}); unweighted "
            f"criteria stay at 0. Generator: numpy.random.PCG64 with seed {seed}, so the figures are reproducible. "
            "Under each vector every eligible model is scored and ranked (ties by model id); counts are exact. "
            "Weight changes: one criterion's weight moves, the others are rescaled in proportion to keep the sum "
            "1; to_weight is where new_leader ties the leader. "
            f"With evidence: the same weight vectors, and each draw also samples the values of "
            f"{', '.join(uncertain) or 'no criterion'} from Normal(value, its standard deviation) clipped to 0-1, "
            f"independently per model: each model's normals come from its own generator, numpy.random.PCG64 seeded "
            f"with SeedSequence([{seed + 1}, the four little-endian 32-bit words of the 16-byte BLAKE2b digest of "
            "'<criterion>\\0<model id>']), so a model's sampled values do not depend on which other models are "
            "eligible or on their order. Scores are sums of element-wise products in criterion order (no BLAS), "
            "the same on every machine. The first_share_with_evidence and top3_share_with_evidence figures count "
            f"those draws. A leader that ranks first in fewer than {CLOSE_CALL:.0%} of them is reported as a close "
            "call."
        )
        eligible = order.size
        top_n = self._top_n
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
        first_count, top3_count, w, active = self.first_count, self.top3_count, self._w, self._active
        first_shares = _rounded(first_count[:top_n] / samples, 4)
        top3_shares = _rounded(top3_count[:top_n] / samples, 4)
        spread = np.stack([uncertainty[c][order] if c in uncertainty else np.zeros(eligible) for c in criteria])
        first_evidence, top3_evidence = (
            _evidence_counts(
                ids,
                order,
                perturbed,
                self._draws,
                w[active],
                self._base,
                self._weighted,
                spread[active],
                seed,
            )
            if uncertain
            else (first_count, top3_count)
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
        changes = self.changes
        places = samples * min(3, eligible)
        return Sensitivity(
            samples=samples,
            seed=seed,
            concentration=concentration,
            perturbed=perturbed,
            evidence_perturbed=uncertain,
            leader=self.leader,
            close_call=bool(first_evidence[0] < CLOSE_CALL * samples or first_count[0] < CLOSE_CALL * samples),
            models=models,
            first_elsewhere=samples - int(first_count[:top_n].sum()),
            top3_places=places,
            top3_elsewhere=places - int(top3_count[:top_n].sum()),
            smallest_change=min(changes, key=lambda ch: (ch.change, ch.criterion, ch.direction)) if changes else None,
            changes=changes,
            method=method,
        )


def weigh(
    ids: Sequence[str],
    values: Mapping[str, FloatArray],
    weights: Mapping[str, float],
    order: Sequence[int] | IntArray,
    top: int,
    *,
    samples: int = SAMPLES,
    seed: int = SEED,
    concentration: float = CONCENTRATION,
    base: FloatArray | None = None,
) -> Weighed:
    """The Pareto front and the ranking's sensitivity to the weights alone (arguments as in :func:`analyse`);
    :meth:`Weighed.complete` adds the evidence pass.

    ``base``, when the caller has it, is every eligible model's score under ``weights`` in ``order`` (unrounded,
    summed as :func:`_scores` sums: products in criterion order, criteria weighted 0 left out or not, which adds
    exact zeros); it is computed here otherwise.
    """
    positions = np.asarray(order, dtype=np.intp)
    return Weighed(ids, values, weights, positions, top, samples, seed, concentration, base)


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
    weighed = weigh(ids, values, weights, order, top, samples=samples, seed=seed, concentration=concentration)
    return weighed.complete(uncertainty)
