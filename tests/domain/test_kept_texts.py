"""What the engine keeps of a model across requests (explanations by what they read of a request, rule outcomes
whose sentences read nothing of it, which facts can go stale) never changes an answer: the same requests give
the same bytes whether the kept stores are empty, warm from other requests, or too small to keep anything long."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from bench.corpus import build_corpus
from service.domain.citing import encode_full
from service.domain.engine import Engine
from service.domain.requirements import Requirements

DAY = dt.date(2026, 12, 1)


@contextmanager
def kept_texts(engine: Engine, size: int | None = None) -> Iterator[None]:
    """The engine with empty kept stores (each holding at most ``size`` entries), restored afterwards."""
    saved = engine.texts
    engine.texts = type(saved)(engine.features, engine.rules)
    if size is not None:
        engine.texts.explanations.size = engine.texts.outcomes.size = size
    try:
        yield
    finally:
        engine.texts = saved


def answers(engine: Engine, bodies: list[dict[str, object]], day: dt.date = DAY) -> list[str]:
    result = []
    for body in bodies:
        answer = engine.recommend(Requirements.model_validate(body), day)
        result.append(answer.model_dump_json() + encode_full(answer, engine.rules.eligibility))
    return result


def test_kept_explanations_and_outcomes_never_change_an_answer(engine: Engine) -> None:
    bodies = [{}, *build_corpus(engine, size=30, seed=11)]
    fresh = []
    for body in bodies:  # each request on empty stores: nothing kept from another request
        with kept_texts(engine):
            fresh.extend(answers(engine, [body]))
    with kept_texts(engine):
        warm = answers(engine, bodies)  # each request after the others
        again = answers(engine, list(reversed(bodies)))[::-1]
    with kept_texts(engine, size=3):
        evicted = answers(engine, bodies)  # entries evicted all the time
    assert warm == fresh
    assert again == fresh
    assert evicted == fresh


def test_an_explanation_kept_for_one_evaluation_date_is_not_reused_for_another(engine: Engine) -> None:
    body: dict[str, object] = {"use_cases": ["coding"], "privacy": {"deployment": "api"}}
    later = DAY + dt.timedelta(days=400)
    with kept_texts(engine):
        answers(engine, [body])
        warm_later = answers(engine, [body], later)
    with kept_texts(engine):
        fresh_later = answers(engine, [body], later)
    assert warm_later == fresh_later


def test_the_kept_stores_stay_within_their_bound(engine: Engine) -> None:
    with kept_texts(engine, size=5):
        answers(engine, [{}, *build_corpus(engine, size=10, seed=3)])
        assert len(engine.texts.explanations) <= 5
        assert len(engine.texts.outcomes) <= 5


def test_a_fact_cited_by_many_explanations_and_groups_is_one_object(engine: Engine) -> None:
    """An offer's evidence is built once per model (not once per cost explanation), and a stale fact's caveat once
    per fact and day (not once per group citing it): what the kept stores hold stays small under varied requests."""
    i = next(n for n, offers in enumerate(engine.features.offers) if any(o.usable for o in offers))
    with kept_texts(engine):
        explained = []
        for use_cases in (["coding"], ["chat", "math"]):  # two cost explanations, kept apart
            request = Requirements.model_validate({"use_cases": use_cases, "privacy": {"deployment": "api"}})
            explained.append(engine.decide(request, DAY)._context._explain("cost", i))
        first, second = explained
        assert first is not second
        assert first.evidence and all(a is b for a, b in zip(first.evidence, second.evidence, strict=True))
        assert list(first.evidence) == list(engine.features.offer_evidence[i])

        later = DAY + dt.timedelta(days=3650)  # every dated fact of the group is stale by then
        group, copy = list(first.evidence), list(first.evidence)  # two groups (two objects) of the same facts
        stale = [c for _, c in engine.texts.dated(group, True, later) if c is not None]
        again = [c for _, c in engine.texts.dated(copy, True, later) if c is not None]
        assert stale and all(c.kind == "stale" for c in stale)
        assert again == stale
        assert all(a is b for a, b in zip(stale, again, strict=True))
        # Another day says another age: its own caveats.
        other = [c for _, c in engine.texts.dated(copy, True, later + dt.timedelta(days=1)) if c is not None]
        assert all(a is not b and a.message != b.message for a, b in zip(stale, other, strict=True))
