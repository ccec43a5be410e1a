"""Trade-offs: the Pareto front and the sensitivity of the ranking to the weights."""

from __future__ import annotations

import datetime as dt
import json
import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from service.domain import tradeoffs
from service.domain.answer import Answer
from service.domain.criteria.base import RequestView
from service.domain.engine import Engine
from service.domain.requirements import Requirements
from service.domain.tradeoffs import PARETO_CRITERIA, analyse, pareto_front, perturbed_weights

TODAY = dt.date(2026, 11, 25)
# Values on a coarse grid so that ties and duplicate models are common, as in a real catalogue.
GRID_VALUES = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])


def _dominates(q: np.ndarray[Any, Any], p: np.ndarray[Any, Any]) -> bool:
    return bool(np.all(q >= p) and np.any(q > p))


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(0, 40), st.integers(1, 4)), elements=GRID_VALUES))
def test_the_pareto_front_holds_exactly_the_models_no_other_model_dominates(points: np.ndarray[Any, Any]) -> None:
    front = pareto_front(points)
    for p in range(points.shape[0]):
        dominated = any(_dominates(points[q], points[p]) for q in range(points.shape[0]) if q != p)
        assert front[p] == (not dominated)


@settings(max_examples=40, deadline=None)
@given(
    st.one_of(
        # Coarse values: ties, duplicates, equal sums of values.
        hnp.arrays(np.float64, st.tuples(st.integers(257, 400), st.integers(1, 4)), elements=GRID_VALUES),
        # Fine values, with sums that round.
        hnp.arrays(
            np.float64,
            st.tuples(st.integers(257, 300), st.integers(2, 4)),
            elements=st.floats(0, 1, allow_subnormal=False),
        ),
    )
)
def test_the_sweep_for_large_sets_agrees_with_the_pairwise_front(points: np.ndarray[Any, Any]) -> None:
    small_front = tradeoffs._PAIRWISE_UP_TO
    try:
        tradeoffs._PAIRWISE_UP_TO = 10**9
        pairwise = pareto_front(points)
    finally:
        tradeoffs._PAIRWISE_UP_TO = small_front
    assert np.array_equal(pareto_front(points), pairwise)


def test_the_sweep_never_keeps_a_row_dominated_by_one_with_the_same_sum() -> None:
    # 1e-20 is lost in the sum: the dominated row comes first among the rows with the largest sum.
    rng = np.random.default_rng(3)
    below = rng.random((300, 3)) * [0.5, 0.0, 0.5]  # all dominated by the rows with 1e-20
    points = np.vstack([[[0.5, 0.0, 0.5], [0.5, 1e-20, 0.5], [0.5, 1e-20, 0.5]], below])
    assert points[0].sum() == points[1].sum()
    front = pareto_front(points)
    assert front[:3].tolist() == [False, True, True]
    assert not front[3:].any()


def _answer(engine: Engine, **request: Any) -> Answer:
    return engine.recommend(Requirements.model_validate(request), TODAY)


def _criterion_points(engine: Engine, answer: Answer, model_ids: list[str]) -> dict[str, np.ndarray[Any, Any]]:
    values = engine.criterion_values(answer.requirements, TODAY)
    return {m: np.array([values[c][engine.features.index[m]] for c in PARETO_CRITERIA]) for m in model_ids}


@pytest.mark.parametrize(
    "request_",
    [
        {},
        {"use_cases": ["coding"], "ip": {"commercial_use": True, "licence_kinds": ["permissive"]}},
        {"privacy": {"deployment": "api"}, "profile": "product-embedding"},
    ],
)
def test_no_model_on_an_answers_front_is_dominated_by_an_eligible_model(
    engine: Engine, request_: dict[str, Any]
) -> None:
    answer = _answer(engine, **request_, limit=100)
    excluded = {x.model_id for x in answer.excluded}
    eligible = [m for m in engine.features.ids if m not in excluded]  # every eligible model, even beyond limit 100
    assert len(eligible) == answer.eligible_count
    points = _criterion_points(engine, answer, eligible)
    front = {p.model_id for p in answer.tradeoffs.pareto.models}
    assert front
    assert answer.tradeoffs.pareto.size == len(front)
    for model_id in eligible:
        dominated = any(_dominates(points[o], points[model_id]) for o in eligible if o != model_id)
        assert (model_id in front) == (not dominated), model_id
    for model_id, by in answer.tradeoffs.pareto.dominated.items():
        assert model_id not in front
        assert by in front
        assert _dominates(points[by], points[model_id])


def test_the_sensitivity_figures_are_reproducible(engine: Engine) -> None:
    first = _answer(engine, use_cases=["reasoning"]).tradeoffs
    # Draw the weight vectors afresh and recompute: the seed alone must give the same figures.
    tradeoffs._draw.cache_clear()
    second = _answer(engine, use_cases=["reasoning"]).tradeoffs
    assert first.model_dump_json() == second.model_dump_json()


@pytest.mark.parametrize("limit", [1, 3, 5, 100])
def test_the_sensitivity_counts_add_up(engine: Engine, limit: int) -> None:
    answer = _answer(engine, limit=limit)
    s = answer.tradeoffs.sensitivity
    assert s.samples >= 1000
    assert [m.model_id for m in s.models] == [r.model_id for r in answer.recommendations]
    assert sum(m.first_count for m in s.models) + s.first_elsewhere == s.samples
    assert s.top3_places == s.samples * min(3, answer.eligible_count)
    assert sum(m.top3_count for m in s.models) + s.top3_elsewhere == s.top3_places
    for m in s.models:
        assert 0 <= m.first_count <= m.top3_count <= s.samples
        assert m.first_share == round(m.first_count / s.samples, 4)
        assert m.top3_share == round(m.top3_count / s.samples, 4)
    if limit >= answer.eligible_count:
        assert s.first_elsewhere == 0
        assert s.top3_elsewhere == 0


def test_the_answer_states_how_the_weights_were_perturbed(engine: Engine) -> None:
    s = _answer(engine).tradeoffs.sensitivity
    assert f"seed {s.seed}" in s.method
    assert "Dirichlet" in s.method
    assert f"{s.concentration:g} x weight" in s.method
    assert s.method in _answer(engine).method


def _counts(draws: np.ndarray[Any, Any], matrix: np.ndarray[Any, Any]) -> tuple[Any, Any]:
    return tradeoffs._counts(lambda rows: tradeoffs._scores(draws[rows], matrix), draws.shape[0], matrix.shape[1])


def _naive_counts(draws: np.ndarray[Any, Any], matrix: np.ndarray[Any, Any]) -> tuple[list[int], list[int]]:
    """Rank every model under every draw the slow way: score, then column (rank order) for ties."""
    n = matrix.shape[1]
    first, top3 = [0] * n, [0] * n
    for w in draws:
        scores = [sum(float(w[c]) * float(matrix[c, j]) for c in range(matrix.shape[0])) for j in range(n)]
        order = sorted(range(n), key=lambda j: (-scores[j], j))
        first[order[0]] += 1
        for j in order[:3]:
            top3[j] += 1
    return first, top3


def _assert_counts_match_a_naive_ranking(matrix: np.ndarray[Any, Any], seed: int, *, draws: int) -> None:
    """The vectorised first and top-3 counts of ``matrix`` under ``draws`` Dirichlet draws equal the naive ones."""
    vectors = np.random.default_rng(seed).dirichlet(np.ones(matrix.shape[0]), size=draws)
    first, top3 = _counts(vectors, matrix)
    naive_first, naive_top3 = _naive_counts(vectors, matrix)
    assert first.tolist() == naive_first
    assert top3.tolist() == naive_top3


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 4).flatmap(
        lambda c: st.tuples(
            hnp.arrays(np.float64, st.tuples(st.just(c), st.integers(1, 12)), elements=GRID_VALUES),
            st.integers(0, 2**32 - 1),
        )
    )
)
def test_the_vectorised_counts_match_a_naive_ranking_even_with_duplicate_models(
    case: tuple[np.ndarray[Any, Any], int],
) -> None:
    # Scores are sums of element-wise products in criterion order, as the naive path sums: duplicates tie exactly.
    _assert_counts_match_a_naive_ranking(*case, draws=40)


@settings(max_examples=25, deadline=None)
@given(
    st.integers(2, 3).flatmap(
        lambda c: st.tuples(
            hnp.arrays(np.float64, st.tuples(st.just(c), st.integers(65, 140)), elements=GRID_VALUES),
            st.integers(0, 2**32 - 1),
        )
    )
)
def test_counts_over_many_models_match_a_naive_ranking_though_most_are_never_ranked(
    case: tuple[np.ndarray[Any, Any], int],
) -> None:
    _assert_counts_match_a_naive_ranking(*case, draws=20)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), st.integers(4, 200), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_placing_only_the_columns_that_can_place_changes_no_count(rows: int, n: int, places: int, seed: int) -> None:
    # Columns in roughly descending order, as in rank order, with ties common: repeated columns, rounding.
    rng = np.random.default_rng(seed)
    scores = np.round(np.linspace(0.9, 0.1, n) + rng.normal(0, 0.15, (rows, n)), places)
    scores = scores[:, np.sort(rng.integers(0, n, n))]
    limit = tradeoffs._PLACE_PRUNE_ABOVE
    try:
        tradeoffs._PLACE_PRUNE_ABOVE = 3
        pruned = tradeoffs._place_counts(scores)
        tradeoffs._PLACE_PRUNE_ABOVE = 10**9
        full = tradeoffs._place_counts(scores)
    finally:
        tradeoffs._PLACE_PRUNE_ABOVE = limit
    assert pruned[0].tolist() == full[0].tolist()
    assert pruned[1].tolist() == full[1].tolist()


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 40),
    st.integers(1, 9),
    st.sampled_from(["grid", "fine", "duplicates", "near", "equal"]),
    st.sampled_from([0.02, 1.0, 50.0]),
    st.sampled_from([1, 5, 300]),
    st.integers(0, 2**32 - 1),
)
def test_counts_settled_in_single_precision_equal_the_exact_counts(
    n: int, criteria: int, kind: str, concentration: float, samples: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    if kind == "near":
        # A few distinct models, each repeated with changes far below the tolerance, near it and above it: most
        # draws' places are then within the tolerance, where the exact scores must decide (ties to the lower column).
        matrix = _values(rng, "duplicates", criteria, n, distinct=3)
        changes = rng.choice([0.0, 1e-15, 1e-9, 3e-8, 1e-7, 3e-7, 1e-6, 1e-5], size=matrix.shape)
        matrix = np.clip(matrix + changes * rng.choice([-1.0, 1.0], size=matrix.shape), 0.0, 1.0)
    else:
        matrix = _values(rng, kind, criteria, n, distinct=4)
    # Small concentrations draw tiny weights (far below single precision's normal range): rounding them is covered.
    draws = rng.dirichlet(np.full(criteria, concentration), size=samples)
    by_criterion = np.ascontiguousarray(draws.T)
    draws32 = by_criterion.astype(np.float32).T
    exact = tradeoffs._place_counts(tradeoffs._scores_by_model(by_criterion, matrix).T)
    settled = tradeoffs._settled_counts(tradeoffs._single_scores(matrix, draws32), by_criterion, matrix, np.arange(n))
    assert settled[0].tolist() == exact[0].tolist()
    assert settled[1].tolist() == exact[1].tolist()


def test_draws_within_the_tolerance_are_ranked_from_the_exact_scores() -> None:
    # Two models whose exact scores differ by less than single precision can tell apart, in both orders: the
    # second column is ahead exactly in every draw, and the first ties the second only where the values are equal.
    draws = np.array([[0.5, 0.5], [0.25, 0.75], [1.0, 0.0]])
    matrix = np.array([[0.5, 0.5 + 2**-40, 0.1, 0.1], [0.5, 0.5, 0.1, 0.0]])
    by_criterion = np.ascontiguousarray(draws.T)
    single = tradeoffs._single_scores(matrix, by_criterion.astype(np.float32).T)
    assert single[0].tolist() == single[1].tolist()  # indistinguishable in single precision
    first, top3 = tradeoffs._settled_counts(single, by_criterion, matrix, np.arange(4))
    assert first.tolist() == [0, 3, 0, 0]
    assert top3.tolist() == [3, 3, 3, 0]


def test_weighing_in_several_threads_at_once_gives_the_figures_of_one_thread() -> None:
    # Each thread screens in arrays of its own (tradeoffs._Scratch): answers weighed at once do not share them.
    rng = np.random.default_rng(5)
    names = ["capability", "openness", "cost", "adoption"]
    cases = []
    for k in range(24):
        n = int(rng.integers(20, 250))
        values = {c: np.round(rng.random(n), 3) for c in names}
        weights = dict(zip(names, rng.dirichlet(np.ones(len(names))).tolist(), strict=True))
        score = np.sum([weights[c] * values[c] for c in names], axis=0)
        order = sorted(range(n), key=lambda i: (-score[i], i))
        cases.append(([f"org/m{k}-{i:03d}" for i in range(n)], values, weights, order))

    def figures(case: tuple[list[str], dict[str, Any], dict[str, float], list[int]]) -> bytes:
        ids, values, weights, order = case
        return tradeoffs.weigh(ids, values, weights, order, 5).canonical()

    alone = [figures(case) for case in cases]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(8):
            assert list(pool.map(figures, cases)) == alone


def test_a_models_normals_do_not_depend_on_the_other_models() -> None:
    few = ("org/a", "org/b", "org/c")
    more = ("org/0", "org/a", "org/aa", "org/c", "org/d")  # models added before, between and after
    small = tradeoffs._Noise(few, 7, "capability", 200).rows(np.array([0, 2]))
    large = tradeoffs._Noise(more, 7, "capability", 200).rows(np.array([1, 3]))
    assert np.array_equal(small, large)
    other = tradeoffs._Noise(few, 7, "cost", 200).rows(np.array([0]))
    assert not np.array_equal(other[0], small[0])  # each criterion has its own draws


def _values(rng: np.random.Generator, kind: str, criteria: int, n: int, distinct: int) -> np.ndarray[Any, Any]:
    """Criteria x models values of one ``kind``: on a grid (ties everywhere, as in a real catalogue), fine, every
    model alike (``equal``), or ``distinct`` models each repeated (``duplicates``)."""
    if kind == "grid":
        return rng.choice([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0], size=(criteria, n))
    if kind == "fine":
        return rng.random((criteria, n))
    if kind == "equal":
        return np.tile(rng.random((criteria, 1)), (1, n))
    return rng.random((criteria, distinct))[:, rng.integers(0, distinct, n)]


@settings(max_examples=60, deadline=None)
@given(
    st.integers(4, 200),
    st.integers(1, 6),
    st.sampled_from(["grid", "fine", "duplicates"]),
    st.sampled_from([10, 64, 10**9]),
    st.integers(0, 2**32 - 1),
)
def test_the_small_set_screen_keeps_every_model_that_places_and_marks_where(
    n: int, criteria: int, kind: str, prune_above: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    matrix = _values(rng, kind, criteria, n, distinct=4)
    weights = rng.dirichlet(np.ones(criteria))
    raw = weights @ matrix
    order = np.lexsort((np.arange(n), -np.round(raw, 6)))  # rank order, as the engine ranks
    matrix = matrix[:, order]
    draws = tradeoffs._active_draws(weights, 300, 11, 50.0) if criteria > 1 else np.ones((300, 1))
    draws32 = np.ascontiguousarray(draws.T).astype(np.float32).T
    limit = tradeoffs._PLACE_PRUNE_ABOVE
    try:
        tradeoffs._PLACE_PRUNE_ABOVE = prune_above
        screened, marks = tradeoffs._screen(tradeoffs._single_scores(matrix, draws32))
    finally:
        tradeoffs._PLACE_PRUNE_ABOVE = limit
    # The exact ranking, draw by draw: which models place (ties to the lower column), against what was kept.
    scores = tradeoffs._scores(draws, matrix)
    placed = np.zeros_like(scores, dtype=bool)
    for s in range(scores.shape[0]):
        placed[s, np.lexsort((np.arange(n), -scores[s]))[:3]] = True
    kept = set(screened.tolist())
    assert set(np.flatnonzero(placed.any(axis=0)).tolist()) <= kept
    assert {0, 1, 2} <= kept
    assert (marks is None) == (screened.size <= prune_above)
    if marks is not None:
        blocks = np.arange(scores.shape[0]) // tradeoffs._MIN_ROWS
        for s, j in zip(*placed[:, screened].nonzero(), strict=True):
            assert marks[blocks[s], j]
        assert marks[:, :3].all()


@settings(max_examples=25, deadline=None)
@given(st.integers(4, 160), st.integers(1, 4), st.integers(1, 3), st.booleans(), st.integers(0, 2**32 - 1))
def test_scoring_only_the_models_that_can_place_changes_no_figure(
    n: int, criteria: int, top: int, bounded: bool, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    names = ["capability", "openness", "cost", "adoption"]
    ids = tuple(f"org/m{i:03d}" for i in range(n))
    # Coarse values (ties and duplicates), 1-4 weighted criteria, an uncertain capability, models in rank order.
    values = {c: np.round(rng.random(n), int(rng.integers(1, 3))) for c in names}
    drawn = rng.dirichlet(np.ones(criteria)).tolist() + [0.0] * (len(names) - criteria)
    weights = dict(zip(names, drawn, strict=True))
    uncertainty = {"capability": np.round(rng.random(n) * 0.2, 2)}
    score = np.sum([weights[c] * values[c] for c in names], axis=0)
    order = sorted(range(n), key=lambda i: (-score[i], i))
    names_ = (
        "_PRUNE_ABOVE",
        "_SCREEN_ABOVE",
        "_WEIGHT_SCREEN_ABOVE",
        "_BOUND_ABOVE",
        "_BLOCK_BYTES",
        "_SMALL_BLOCK",
        "_COUNT_BLOCK",
        "_MIN_ROWS",
        "_PLACE_PRUNE_ABOVE",
    )
    limits = [getattr(tradeoffs, name) for name in names_]
    try:
        # Bound and screen every set of models, in blocks of 7 draws, and count each block of draws over the models
        # the screen marks for it; then score every model in one block.
        # Without ``bounded``, every set of models is screened at once (:func:`tradeoffs._screen`).
        for name, limit in zip(names_, (3, 3, 3, 3 if bounded else 10**9, 8 * 7 * n, 8, 8, 7, 3), strict=True):
            setattr(tradeoffs, name, limit)
        pruned = analyse(ids, values, weights, order, top, samples=100, uncertainty=uncertainty)
        # Every model scored exactly, in one block, every draw ranked from the exact scores (none settled in single
        # precision: above _BOUND_ABOVE, :func:`tradeoffs._settled_counts` is not used).
        for name, limit in zip(names_, (10**9, 10**9, 10**9, 0, 10**12, 10**12, 10**12, 1, 10**9), strict=True):
            setattr(tradeoffs, name, limit)
        full = analyse(ids, values, weights, order, top, samples=100, uncertainty=uncertainty)
    finally:
        for name, limit in zip(names_, limits, strict=True):
            setattr(tradeoffs, name, limit)
    assert pruned.model_dump_json() == full.model_dump_json()


def test_restricting_to_candidates_changes_no_figure() -> None:
    rng = np.random.default_rng(7)
    n = 3000
    ids = [f"org/model-{i:05d}" for i in range(n)]
    criteria = ["capability", "openness", "cost", "adoption"]
    values = {c: np.round(rng.random(n), 2) for c in criteria}
    weights = {"capability": 0.5, "openness": 0.2, "cost": 0.2, "adoption": 0.1}
    score: np.ndarray[Any, Any] = np.sum([weights[c] * values[c] for c in criteria], axis=0)
    order = sorted(range(n), key=lambda i: (-score[i], ids[i]))
    pruned = analyse(ids, values, weights, order, 10)
    w = np.array(list(weights.values()))
    draws = tradeoffs._active_draws(w, tradeoffs.SAMPLES, tradeoffs.SEED, 50.0)
    matrix = np.stack([values[c][order] for c in criteria])
    base = np.array([score[i] for i in order])
    keep = tradeoffs._candidates(base, matrix, draws, w, np.sort(tradeoffs._scores(draws, matrix[:, :32]))[:, -3])
    assert keep.size < n  # the bound does prune
    screened, _ = tradeoffs._weight_candidates(base, matrix, draws, draws.astype(np.float32), w)
    assert screened.size < keep.size  # and the screen prunes more
    limits = tradeoffs._PRUNE_ABOVE, tradeoffs._WEIGHT_SCREEN_ABOVE, tradeoffs._BOUND_ABOVE
    try:
        tradeoffs._PRUNE_ABOVE = tradeoffs._WEIGHT_SCREEN_ABOVE = 10**9
        tradeoffs._BOUND_ABOVE = 0  # every model scored exactly, every draw ranked from the exact scores
        full = analyse(ids, values, weights, order, 10)
    finally:
        tradeoffs._PRUNE_ABOVE, tradeoffs._WEIGHT_SCREEN_ABOVE, tradeoffs._BOUND_ABOVE = limits
    assert pruned.model_dump_json() == full.model_dump_json()


def _changes(
    matrix: np.ndarray[Any, Any],
    base: np.ndarray[Any, Any],
    weights: np.ndarray[Any, Any],
    *,
    prune_above: int,
    block: int,
) -> list[Any]:
    n = base.size
    ids = [f"org/m{i:04d}" for i in range(n)]
    criteria = [f"c{c}" for c in range(matrix.shape[0])]
    limits = tradeoffs._CHANGES_PRUNE_ABOVE, tradeoffs._CHANGES_BLOCK
    try:
        tradeoffs._CHANGES_PRUNE_ABOVE, tradeoffs._CHANGES_BLOCK = prune_above, block
        return tradeoffs._weight_changes(ids, criteria, matrix, base, weights, np.arange(n))
    finally:
        tradeoffs._CHANGES_PRUNE_ABOVE, tradeoffs._CHANGES_BLOCK = limits


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 5),
    st.integers(1, 120),
    st.integers(1, 9),
    st.sampled_from(["grid", "fine", "equal", "duplicates"]),
    st.integers(0, 2**32 - 1),
)
def test_comparing_only_the_challengers_that_can_tie_first_changes_no_weight_change(
    criteria: int, n: int, block: int, kind: str, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    matrix = _values(rng, kind, criteria, n, distinct=3)
    weights = rng.dirichlet(np.ones(criteria))
    weights[rng.random(criteria) < 0.3] = 0.0  # unweighted criteria (raised from 0, never lowered)
    if not weights.any():
        weights[0] = 1.0
    weights /= weights.sum()
    raw = weights @ matrix
    # Rank order by the score rounded to 2 places, then position: the unrounded scores may rise within a tie.
    order = np.lexsort((np.arange(n), -np.round(raw, 2)))
    matrix, base = matrix[:, order], raw[order]
    pruned = _changes(matrix, base, weights, prune_above=0, block=block)
    assert pruned == _changes(matrix, base, weights, prune_above=10**9, block=block)


def _leader(values: dict[str, np.ndarray[Any, Any]], weights: dict[str, float], ids: list[str]) -> str:
    score: np.ndarray[Any, Any] = np.sum([w * values[c] for c, w in weights.items()], axis=0)
    return ids[min(range(len(ids)), key=lambda i: (-score[i], ids[i]))]


def _moved(weights: dict[str, float], criterion: str, to: float) -> dict[str, float]:
    rest = 1 - weights[criterion]
    return {c: (to if c == criterion else w * (1 - to) / rest) for c, w in weights.items()}


@pytest.mark.parametrize("request_", [{}, {"use_cases": ["coding"]}, {"profile": "regulated-data"}])
def test_the_smallest_weight_change_is_where_first_place_changes(engine: Engine, request_: dict[str, Any]) -> None:
    answer = _answer(engine, **request_, limit=100)
    s = answer.tradeoffs.sensitivity
    values = engine.criterion_values(answer.requirements, TODAY)
    excluded = {x.model_id for x in answer.excluded}
    eligible = [m for m in engine.features.ids if m not in excluded]  # every eligible model, even beyond limit 100
    rows = [engine.features.index[m] for m in eligible]
    sub = {c: values[c][rows] for c in answer.weights}
    assert s.leader == answer.recommendations[0].model_id
    assert s.smallest_change is not None
    assert s.smallest_change == min(s.changes, key=lambda ch: (ch.change, ch.criterion, ch.direction))
    for change in s.changes:
        # to_weight and the answer's weights are rounded to 6 places, so the tie is only known to about
        # 1e-4 in weight when the two models' scores cross at a shallow angle: probe that far either side.
        step = 1e-4 if change.direction == "raise" else -1e-4
        if change.change > 2 * abs(step):
            before = _moved(answer.weights, change.criterion, change.to_weight - step)
            assert _leader(sub, before, eligible) == s.leader, change
        if 0 <= change.to_weight + step <= 1:
            after = _moved(answer.weights, change.criterion, change.to_weight + step)
            assert _leader(sub, after, eligible) == change.new_leader, change


def test_perturbed_weights_keep_zero_weights_at_zero_and_sum_to_one() -> None:
    weights = [0.5, 0.0, 0.3, 0.2]
    draws = perturbed_weights(weights)
    assert draws.shape == (tradeoffs.SAMPLES, 4)
    assert np.all(draws[:, 1] == 0)
    assert np.allclose(draws.sum(axis=1), 1.0)
    assert np.allclose(draws.mean(axis=0), weights, atol=0.01)
    assert np.array_equal(perturbed_weights([0.0, 1.0]), np.tile([0.0, 1.0], (tradeoffs.SAMPLES, 1)))


def test_with_no_eligible_model_the_trade_offs_are_empty(engine: Engine) -> None:
    answer = _answer(engine, min_context_tokens=100_000_000)
    assert answer.eligible_count == 0
    assert answer.tradeoffs.pareto.models == []
    assert answer.tradeoffs.sensitivity.leader is None
    assert answer.tradeoffs.sensitivity.smallest_change is None


def test_a_repeated_analysis_is_computed_afresh_and_equals_the_first(engine: Engine) -> None:
    first = _answer(engine, use_cases=["math"], limit=7).tradeoffs
    again = _answer(engine, use_cases=["math"], limit=7).tradeoffs
    assert again is not first  # nothing of an answer is kept between requests
    assert again == first
    other = _answer(engine, use_cases=["math"], limit=6).tradeoffs
    assert len(other.sensitivity.models) == 6


@settings(max_examples=80, deadline=None)
@given(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 30), st.just(len(PARETO_CRITERIA))), elements=GRID_VALUES),
    st.integers(1, 30),
)
def test_a_dominated_recommendation_names_the_best_ranked_front_model_that_dominates_it(
    points: np.ndarray[Any, Any], top: int
) -> None:
    n = points.shape[0]
    ids = [f"org/m{i:02d}" for i in range(n)]
    values = {c: points[:, k].copy() for k, c in enumerate(PARETO_CRITERIA)}
    order = np.arange(n)[::-1].copy()  # any rank order: here the reverse of the ids
    front = tradeoffs._pareto(ids, values, order, top)
    on_front = {m.model_id for m in front.models}
    expected = {}
    for p in range(min(top, n)):
        model = ids[order[p]]
        if model in on_front:
            continue
        expected[model] = next(
            ids[order[q]]
            for q in range(n)
            if ids[order[q]] in on_front and _dominates(points[order[q]], points[order[p]])
        )
    assert front.dominated == expected


def _inputs(engine: Engine, answer: Answer) -> tuple[Any, ...]:
    """Inputs like the engine's for ``answer`` (its weights as the answer rounds them): values, weights, order,
    uncertainty."""
    req = answer.requirements
    plan = engine._fit_plan(req)
    view = RequestView(requirements=req, evaluated_on=TODAY, memory_gb=plan.memory_gb, precision=plan.precision)
    values, _, uncertainty = engine._criteria_matrix(view)
    order = [engine.features.index[a.model_id] for a in answer.recommendations]
    excluded = {x.model_id for x in answer.excluded}
    rest = [i for i, m in enumerate(engine.features.ids) if m not in excluded and i not in order]
    score = {i: sum(w * values[c][i] for c, w in answer.weights.items()) for i in rest}
    order += sorted(rest, key=lambda i: (-round(score[i], 6), i))
    return values, dict(answer.weights), order, uncertainty


@pytest.mark.parametrize("request_", [{}, {"use_cases": ["coding"], "limit": 8}, {"profile": "regulated-data"}])
def test_the_weight_only_figures_are_those_the_whole_analysis_gives(engine: Engine, request_: dict[str, Any]) -> None:
    answer = _answer(engine, **request_)
    values, weights, order, uncertainty = _inputs(engine, answer)
    limit = answer.requirements.limit
    weighed = tradeoffs.weigh(engine.features.ids, values, weights, order, limit)
    whole = tradeoffs.analyse(engine.features.ids, values, weights, order, limit, uncertainty=uncertainty)
    assert weighed.complete(uncertainty) == whole
    assert weighed.complete(uncertainty) == whole  # completing twice changes nothing
    s = whole.sensitivity
    assert weighed.pareto == whole.pareto
    assert weighed.leader == s.leader
    for m in s.models:
        assert weighed.first_share(m.model_id) == m.first_share
    assert weighed.first_share("no/such-model") is None
    assert weighed.canonical() == tradeoffs.weigh(engine.features.ids, values, weights, order, limit).canonical()
    figures = json.loads(weighed.canonical())
    assert figures["pareto"] == weighed.pareto.model_dump(mode="json")
    assert figures["changes"] == [change.model_dump(mode="json") for change in weighed.changes]
    assert figures["changes"]
    other = tradeoffs.weigh(engine.features.ids, values, weights, order, limit, seed=tradeoffs.SEED + 7)
    assert other.canonical() != weighed.canonical()


@pytest.mark.parametrize(
    "request_", [{}, {"use_cases": ["coding"]}, {"profile": "regulated-data", "reasoning": "preferred"}]
)
def test_the_engines_unrounded_scores_are_the_sums_the_weight_only_pass_would_make(
    engine: Engine, request_: dict[str, Any]
) -> None:
    weighed = engine.decide(Requirements.model_validate(request_), TODAY)._weighed
    assert np.array_equal(weighed._base, tradeoffs._scores(weighed._w[None, :], weighed._matrix)[0])


@pytest.mark.parametrize(
    "request_",
    [
        {},
        {"use_cases": ["coding"], "limit": 40},
        {"profile": "regulated-data", "reasoning": "preferred", "limit": 100},
        {"min_context_tokens": 100_000_000},
    ],
)
def test_the_canonical_figures_are_the_bytes_the_answers_objects_give(engine: Engine, request_: dict[str, Any]) -> None:
    weighed = engine.decide(Requirements.model_validate(request_), TODAY)._weighed
    canonical = weighed.canonical()  # before the front's and the changes' objects exist
    assert weighed._pareto is None and weighed._change_objects is None
    figures = json.loads(canonical)
    # What canonical() held when it was built from the objects: their JSON dumps.
    figures["pareto"] = weighed.pareto.model_dump(mode="json")
    figures["changes"] = [change.model_dump(mode="json") for change in weighed.changes]
    assert json.dumps(figures, sort_keys=True, separators=(",", ":")).encode() == canonical
    assert weighed.canonical() == canonical  # the objects, once built, change nothing
    assert weighed.front_ids == [p.model_id for p in weighed.pareto.models]
    if request_.get("limit", 0) > 30:
        assert weighed.pareto.dominated and weighed.changes  # the test covers both


def test_the_weight_only_objects_are_built_once_and_only_when_read(engine: Engine) -> None:
    decision = engine.decide(Requirements.model_validate({"use_cases": ["math"]}), TODAY)
    weighed = decision._weighed
    decision.digest()
    decision.summary()
    assert weighed._change_objects is None  # neither a digest nor a summary states the weight changes
    assert weighed.pareto is weighed.pareto and weighed.changes is weighed.changes
    assert decision.tradeoffs.sensitivity.changes == weighed.changes
    assert decision.tradeoffs.pareto is weighed.pareto


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 40),
    st.integers(1, 50),
    st.lists(st.text(min_size=1, max_size=12), min_size=40, max_size=40, unique=True),
    st.integers(0, 2**32 - 1),
)
def test_the_canonical_bytes_are_json_dumps_of_the_figures(n: int, top: int, names: list[str], seed: int) -> None:
    # Any model ids (quotes, backslashes, control and non-ASCII characters), fronts with dominated models, changes.
    rng = np.random.default_rng(seed)
    criteria = ["capability", "openness", "cost", "adoption"]
    ids = sorted(names)[:n]
    values = {c: np.round(rng.random(n), int(rng.integers(1, 4))) for c in criteria}
    weights = dict(zip(criteria, rng.dirichlet(np.ones(4)).tolist(), strict=True))
    score = np.sum([weights[c] * values[c] for c in criteria], axis=0)
    order = sorted(range(n), key=lambda i: (-score[i], i))
    weighed = tradeoffs.weigh(ids, values, weights, order, top, samples=50, concentration=float(rng.integers(1, 80)))
    figures = weighed.figures()
    assert weighed.canonical() == json.dumps(figures, sort_keys=True, separators=(",", ":")).encode()


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.floats(), st.integers(-(2**70), 2**70)))
def test_numbers_are_written_as_json_dumps_writes_them(value: float) -> None:
    assert tradeoffs._number_json(value) == json.dumps(value)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(1, 40),
    st.sampled_from(["grid", "fine"]),
    st.integers(0, 2**32 - 1),
)
def test_the_deltas_are_where_each_challenger_ties_the_leader(criteria: int, n: int, kind: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    grid = [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]
    values, leader = (
        (rng.choice(grid, size=(criteria, n)), rng.choice(grid, size=(criteria, 1)))
        if kind == "grid"
        else (rng.random((criteria, n)), rng.random((criteria, 1)))
    )
    gap = rng.choice([0.0, 0.05, 0.2, 0.9], size=n) if kind == "grid" else rng.random(n)
    deltas = tradeoffs._deltas(gap, values, leader)
    for c in range(criteria):
        for j in range(n):
            step = float(values[c, j]) - float(leader[c, 0])
            assert deltas[0, c, j] == (float(gap[j]) / step if step > 0 else math.inf)
            assert deltas[1, c, j] == (float(gap[j]) / -step if step < 0 else math.inf)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(2, 40),
    st.sampled_from(["grid", "fine", "duplicates"]),
    st.integers(0, 2**32 - 1),
)
def test_each_weight_change_is_the_first_smallest_allowed_tie(criteria: int, n: int, kind: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    matrix = _values(rng, kind, criteria, n, distinct=3)
    weights = rng.dirichlet(np.ones(criteria))
    weights[rng.random(criteria) < 0.3] = 0.0  # unweighted criteria: raised from 0, never lowered
    if not weights.any() or rng.random() < 0.2:
        weights[:] = 0.0
        weights[0] = 1.0  # a single weighted criterion: its weight is 1, never lowered to 0
    raw = weights @ matrix
    order = np.lexsort((np.arange(n), -np.round(raw, 2)))
    matrix, base = matrix[:, order], raw[order]
    changes = _changes(matrix, base, weights, prune_above=10**9, block=64)
    expected = []
    for c in range(criteria):
        for direction in ("raise", "lower"):
            best, best_j = math.inf, None
            for j in range(1, n):
                gap = max(float(base[0]) - float(base[j]), 0.0)
                step = float(matrix[c, j]) - float(matrix[c, 0])
                step = step if direction == "raise" else -step
                delta = gap / step if step > 0 else math.inf
                allowed = direction == "raise" or (weights[c] > 0 and delta <= weights[c] and delta < 1)
                if allowed and delta < best:
                    best, best_j = delta, j
            if best_j is not None:
                w = float(weights[c])
                to = (w + best) / (1 + best) if direction == "raise" else (w - best) / max(1 - best, 1e-9)
                figures = tradeoffs._rounded(np.array([w, to, abs(to - w)]))
                expected.append((f"c{c}", direction, *figures, f"org/m{best_j:04d}"))
    assert [tuple(ch) for ch in changes] == expected


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.floats(-1e9, 1e9, allow_nan=False),
        # Halfway between two multiples of 10^-6, and next to them: where the ties go matters.
        st.integers(-(10**9), 10**9).flatmap(
            lambda k: st.sampled_from([(k + 0.5) / 1e6, math.nextafter((k + 0.5) / 1e6, math.inf), k / 1e6])
        ),
        st.floats(-1e300, 1e300, allow_nan=False),
    )
)
def test_one_value_is_rounded_as_numpy_rounds_an_array(value: float) -> None:
    assert tradeoffs._round6(value) == tradeoffs._rounded(np.array([value]))[0]
    assert math.copysign(1.0, tradeoffs._round6(value)) == math.copysign(1.0, tradeoffs._rounded(np.array([value]))[0])
