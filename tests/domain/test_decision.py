"""The decision core (``Engine.decide``) and what it builds for a response: the same answers as explaining
everything first, with only what the response returns explained, and a digest that fixes the decision."""

from __future__ import annotations

import gc
import hashlib
import json
import weakref
from typing import Any

import numpy as np
import pytest

from service.domain import citing
from service.domain import engine as engine_module
from service.domain.citing import cite, count_exclusions, resolve
from service.domain.engine import Engine
from service.domain.kept import Kept
from service.domain.requirements import EXCLUSIONS_LISTED, Requirements
from service.domain.summary import Citations, summarise
from tests.conftest import TODAY

REQUESTS: list[dict[str, Any]] = [
    {},
    {"limit": 50},
    {"use_cases": ["coding"], "hardware": {"gpu": "h100-sxm", "gpu_count": 2}, "limit": 4},
    # A small GPU excludes most of the catalogue: more exclusions than a trimmed answer lists.
    {
        "hardware": {"gpu_memory_gb": 24, "gpu_count": 1},
        "ip": {"commercial_use": True, "licence_kinds": ["permissive"]},
        "explain": ["moonshotai/Kimi-K2-Instruct", "Qwen/Qwen3-32B"],
    },
    {"privacy": {"deployment": "api", "hosting_countries": ["DE", "FR"]}, "profile": "regulated-data"},
    {"compliance": {"eu_ai_act": True}, "weights": {"capability": 1, "cost": 1}, "limit": 12},
]


def one_digit_short_ids(monkeypatch: pytest.MonkeyPatch, engine: Engine) -> None:
    """Facts cited under one hex digit of short id: many facts of an answer share one, and all but the first take
    their whole digest. The stores that hold facts as cited (with their ids) start empty: a short id never changes
    in a running service."""
    monkeypatch.setattr(citing, "_ID_HEX", 1)
    for store in ("_LISTED", "_SEEN", "_GROUPS", "_ITEM_JSON"):
        monkeypatch.setattr(citing, store, Kept(store, 10_000))
    for store in ("outcomes", "leading_refs"):
        monkeypatch.setattr(engine.texts, store, Kept(store, 10_000))


@pytest.mark.parametrize("body", REQUESTS)
@pytest.mark.parametrize("exclusions", ["by_rule", "all"])
def test_what_a_decision_builds_equals_what_explaining_everything_gives(
    engine: Engine, body: dict[str, Any], exclusions: Any
) -> None:
    requirements = Requirements.model_validate(body)
    whole = engine.recommend(requirements, TODAY)
    counted = count_exclusions(whole.excluded, engine.rules.eligibility)
    decision = engine.decide(requirements, TODAY)
    assert decision.by_rule() == counted
    assert decision.excluded_count == len(whole.excluded)
    assert decision.top_models() == [a.model_id for a in whole.recommendations]
    assert decision.summary(exclusions).model_dump_json(exclude_none=True) == summarise(
        whole, counted, exclusions=exclusions
    ).model_dump_json(exclude_none=True)
    assert decision.full(exclusions).model_dump_json() == cite(whole, counted, exclusions).model_dump_json()
    assert decision.answer().model_dump_json() == whole.model_dump_json()


@pytest.mark.parametrize("body", [REQUESTS[2], REQUESTS[3]])
def test_the_full_detail_cites_facts_that_share_a_short_digest_as_citing_the_whole_answer_does(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, body: dict[str, Any]
) -> None:
    one_digit_short_ids(monkeypatch, engine)
    requirements = Requirements.model_validate(body)
    whole = engine.recommend(requirements, TODAY)
    counted = count_exclusions(whole.excluded, engine.rules.eligibility)
    for exclusions in ("by_rule", "all"):
        full = engine.decide(requirements, TODAY).full(exclusions)
        assert full.model_dump_json() == cite(whole, counted, exclusions).model_dump_json()
        assert any(len(item.id) == 41 for item in full.evidence)
        # The summary, citing each fact by its short id, finds the clash and cites its facts one by one instead.
        summary = engine.decide(requirements, TODAY).summary(exclusions)
        assert summary.model_dump_json() == summarise(whole, counted, exclusions=exclusions).model_dump_json()
        assert any(len(item.id) == 41 for item in summary.evidence)
    assert resolve(engine.decide(requirements, TODAY).full()).model_dump_json() == whole.model_dump_json()


@pytest.mark.parametrize("body", REQUESTS)
def test_a_summary_citing_facts_by_short_id_is_the_one_citing_them_one_by_one(
    engine: Engine, body: dict[str, Any]
) -> None:
    requirements = Requirements.model_validate(body)
    for exclusions in ("by_rule", "all"):
        decision = engine.decide(requirements, TODAY)
        decision.summary(exclusions)  # every outcome's line written and kept
        exact = decision._summary(exclusions, Citations(exact=True))
        short = decision._summary(exclusions, Citations())
        assert short.model_dump_json() == exact.model_dump_json()
        assert short.evidence and all(len(item.id) == 11 for item in short.evidence)


def test_the_requests_above_exercise_trimmed_exclusions(engine: Engine) -> None:
    decision = engine.decide(Requirements.model_validate(REQUESTS[3]), TODAY)
    assert decision.excluded_count > EXCLUSIONS_LISTED
    assert len(decision.summary("by_rule").excluded) == EXCLUSIONS_LISTED


def test_a_summary_explains_only_the_models_it_returns(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    explained: list[int] = []
    original = engine_module._Context._outcome

    def counting(self: Any, rule: Any, i: int, outcome: Any) -> Any:
        explained.append(i)
        return original(self, rule, i, outcome)

    monkeypatch.setattr(engine_module._Context, "_outcome", counting)
    monkeypatch.setattr(engine.texts, "outcomes", Kept("engine.outcomes", 8_192))  # none kept yet: each is asked for
    requirements = Requirements.model_validate(REQUESTS[3])
    decision = engine.decide(requirements, TODAY)
    decision.digest()
    decision.by_rule()
    assert explained == []  # deciding, digesting and counting explain nothing
    summary = decision.summary("by_rule")
    # The returned models (5 recommended, 2 explained) only: the listed exclusions come from the verdicts.
    returned = {engine.features.index[m.model_id] for m in [*summary.recommendations, *summary.explained]}
    assert set(explained) == returned
    assert len(returned) == requirements.limit + len(requirements.explain)
    assert len(summary.excluded) == EXCLUSIONS_LISTED


def test_the_decision_digest_is_the_same_for_the_same_decision_and_differs_for_another(engine: Engine) -> None:
    def digest(body: dict[str, Any]) -> str:
        return engine.decide(Requirements.model_validate(body), TODAY).digest()

    first = digest(REQUESTS[2])
    assert first.startswith("sha256:") and len(first) == len("sha256:") + 64
    assert digest(REQUESTS[2]) == first
    # detail and exclusions say how much to return, not what is decided.
    assert digest({**REQUESTS[2], "detail": "full", "exclusions": "all"}) == first
    assert digest({**REQUESTS[2], "limit": 5}) != first
    assert engine.decide(Requirements.model_validate(REQUESTS[2]), TODAY.replace(day=24)).digest() != first


def test_the_digest_covers_the_order_and_the_scores(engine: Engine) -> None:
    decision = engine.decide(Requirements(), TODAY)
    before = decision.digest()
    decision.order = decision.order[::-1].copy()
    assert decision.digest() != before
    decision.order = decision.order[::-1].copy()
    assert decision.digest() == before
    decision._score[decision.order[0]] += 1e-6
    assert decision.digest() != before


def test_a_summary_and_the_digest_run_no_evidence_pass(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from service.domain.tradeoffs import Weighed

    def refuse(self: Weighed, uncertainty: Any = None) -> Any:
        raise AssertionError("the evidence pass ran")

    decision = engine.decide(Requirements.model_validate(REQUESTS[2]), TODAY)
    whole = engine.recommend(Requirements.model_validate(REQUESTS[2]), TODAY)
    with monkeypatch.context() as patched:
        patched.setattr(Weighed, "complete", refuse)
        summary = decision.summary()
        decision.digest()
    assert summary.tradeoffs.leader == whole.tradeoffs.sensitivity.leader
    assert summary.tradeoffs.pareto_front_size == whole.tradeoffs.pareto.size
    assert decision.tradeoffs == whole.tradeoffs  # the whole analysis, when asked for


def test_the_criteria_kept_as_fixed_score_the_same_for_every_request(engine: Engine) -> None:
    from service.domain.criteria import RequestView

    fixed = [name for name, module in engine.criteria.items() if module.scores_fixed]
    assert fixed  # some are kept
    views = []
    for body in REQUESTS:
        req = Requirements.model_validate(body).normalised()
        plan = engine._fit_plan(req)
        views.append(
            RequestView(requirements=req, evaluated_on=TODAY, memory_gb=plan.memory_gb, precision=plan.precision)
        )
    for name in fixed:
        first = engine.criteria[name].scores(views[0])
        for view in views[1:]:
            other = engine.criteria[name].scores(view)
            assert (other.value == first.value).all() and (other.known == first.known).all(), name
            assert (other.uncertainty == first.uncertainty).all(), name


def test_freshness_is_kept_per_evaluation_date_and_equals_the_formula(engine: Engine) -> None:
    import datetime as dt

    import numpy as np

    from service.domain.criteria import RequestView
    from service.domain.criteria import freshness as freshness_module

    module = engine.criteria["freshness"]
    assert isinstance(module, freshness_module.FreshnessCriterion)
    req = Requirements.model_validate({}).normalised()
    plan = engine._fit_plan(req)

    def view(on: dt.date) -> RequestView:
        return RequestView(requirements=req, evaluated_on=on, memory_gb=plan.memory_gb, precision=plan.precision)

    horizon = module.spec.horizon_days or 730
    days = [TODAY + dt.timedelta(days=k) for k in range(freshness_module._DATES_KEPT + 2)]
    for on in days:
        scores = module.scores(view(on))
        assert module.scores(view(on)) is scores  # kept for its date
        expected = np.clip(1.0 - (on.toordinal() - engine.features.released_ordinal) / horizon, 0.0, 1.0)
        assert np.array_equal(scores.value, expected)
        assert scores.known.all() and not scores.uncertainty.any()
        assert not (scores.value.flags.writeable or scores.uncertainty.flags.writeable)
    kept = freshness_module._DATES_KEPT
    assert len(module._by_date) == kept
    assert all(on in module._by_date for on in days[-kept:])  # the latest dates kept, the oldest gone
    assert not any(on in module._by_date for on in days[:-kept])


def test_a_summary_reads_the_pareto_front_without_building_its_objects(engine: Engine) -> None:
    decision = engine.decide(Requirements.model_validate(REQUESTS[2]), TODAY)
    summary = decision.summary()
    assert decision._weighed._pareto is None  # the front's ids and size only
    front = decision.tradeoffs.pareto
    assert summary.tradeoffs.pareto_front_size == front.size
    on_front = {p.model_id for p in front.models}
    assert summary.tradeoffs.recommended_on_front == [
        m.model_id for m in summary.recommendations if m.model_id in on_front
    ]


def test_verdicts_kept_between_requests_are_those_a_fresh_engine_gives(engine: Engine) -> None:
    # The first engine decides every request in turn (keeping the fixed rules' verdicts); a fresh engine decides
    # each alone. A request that sets a column a rule reads (hosting countries, its fit, its jurisdictions) must
    # not be given a verdict kept from another request.
    bodies = [
        *REQUESTS,
        {"privacy": {"deployment": "api"}, "compliance": {"public_sector_jurisdictions": ["US"]}},
        {"privacy": {"deployment": "api", "hosting_countries": ["US"]}, "ip": {"commercial_use": True}},
        # Each request value a rule's checks compare with, changed and then given again.
        *(
            {"min_context_tokens": tokens, "ip": {"monthly_active_users": users}}
            for tokens, users in ((32_000, 1_000), (200_000, 900_000_000), (32_000, 1_000))
        ),
        *({"ip": {"licence_kinds": kinds}} for kinds in (["permissive"], ["permissive", "copyleft"], ["permissive"])),
        *({"privacy": {"excluded_origin_countries": c}} for c in (["CN"], ["US", "CN"], ["FR"], ["CN"])),
        *({"ip": {"allowed_licences": ids}} for ids in (["mit"], ["apache-2.0", "mit"], ["apache-2.0"])),
    ]
    for body in bodies:
        fresh = Engine(engine.catalogue, engine.rules, engine.catalogue_version, engine.rules_version)
        kept = engine.decide(Requirements.model_validate(body), TODAY)._context.verdicts
        alone = fresh.decide(Requirements.model_validate(body), TODAY)._context.verdicts
        assert kept.keys() == alone.keys()
        for rule_id, (failed, unknown) in alone.items():
            assert (kept[rule_id][0] == failed).all() and (kept[rule_id][1] == unknown).all(), (body, rule_id)


def test_a_kept_verdicts_request_values_are_equal_keys_exactly_when_equal_and_of_one_type() -> None:
    values: list[Any] = [
        None, True, 1, 1.0, "1", "", [], ["1"], [1], [True], ["a", "b"], ["b", "a"], ["a", 1], ["a", "1"], [["a"]],
        {"a": 1}, {"a": "1"}, {"a": ["1"]},
    ]  # fmt: skip
    keys = [engine_module._kept_value(v) for v in values]
    assert len(set(keys)) == len(values)  # 1, 1.0 and True differ; a list of strings from any other list
    again = [engine_module._kept_value(json.loads(json.dumps(v))) for v in values]
    assert [hash(k) for k in again] == [hash(k) for k in keys] and again == keys


@pytest.mark.parametrize("body", REQUESTS)
def test_the_digest_is_the_one_its_docstring_describes(engine: Engine, body: dict[str, Any]) -> None:
    decision = engine.decide(Requirements.model_validate(body), TODAY)
    context = decision._context
    parts = [
        decision.id.encode(),
        json.dumps(decision._weights, sort_keys=True).encode(),
        decision.order.astype("<i8").tobytes(),
        decision._score[decision.order].astype("<f8").tobytes(),
    ]
    for rule in sorted(context.applied, key=lambda r: r.id):  # one rule at a time
        failed, unknown = context.verdicts[rule.id]
        parts += [f"|{rule.id} v{rule.version}|".encode(), np.packbits(failed).tobytes()]
        parts.append(np.packbits(unknown & ~failed).tobytes())
    parts.append(decision._weighed.canonical())
    assert decision.digest() == "sha256:" + hashlib.sha256(b"".join(parts)).hexdigest()


@pytest.mark.parametrize("seed", range(6))
def test_the_keyed_order_of_a_large_catalogue_is_the_stable_sort_of_the_scores(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 3_000
    raw = rng.random(n) * [0.8, 1.0, 1e-5, 2e6, 1.0, 1.0][seed]
    raw[rng.random(n) < 0.2] = 0.5  # ties, broken by model index
    score = np.round(raw, 6) if seed != 4 else raw  # seed 4: not whole millionths, so the stable sort is used
    if seed == 5:
        score[7] = np.nan
    eligible = np.sort(rng.choice(n, n - 100, replace=False)).astype(np.intp)
    stable = eligible[np.argsort(-score[eligible], kind="stable")]
    assert np.array_equal(engine_module._best_first(eligible, score, keyed_from=1), stable)
    assert np.array_equal(engine_module._best_first(eligible, score), stable)


@pytest.mark.parametrize("body", REQUESTS)
def test_a_decision_let_go_is_freed_at_once(engine: Engine, body: dict[str, Any]) -> None:
    """What a decision builds for a response never leads back to it (no reference cycle), so it is freed as soon as
    it is let go, not at the collector's next pass: a server holds only the decisions being answered."""
    requirements = Requirements.model_validate(body)
    gc.collect()
    gc.disable()
    try:
        for build in ("summary_bytes", "full_bytes", "summary", "full"):
            decision = engine.decide(requirements, TODAY)
            getattr(decision, build)("by_rule")
            decision.digest()
            context = weakref.ref(decision._context)
            del decision
            assert context() is None, build
    finally:
        gc.enable()
