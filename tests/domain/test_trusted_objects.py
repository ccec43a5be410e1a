"""The engine builds its answer objects without validating them field by field (they come from validated
data); these tests hold it to what validation would have accepted."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import BaseModel

from bench.corpus import build_corpus
from service.domain import answer as answer_module
from service.domain.answer import (
    Answer,
    Caveat,
    Comparison,
    CriterionScore,
    FullAnswer,
    Obligation,
    RuleOutcome,
    caveat,
    trusted,
)
from service.domain.citing import EvidenceTable, cite, count_exclusions, dump_full, dump_full_bytes, encode_full
from service.domain.engine import Engine
from service.domain.facts import Evidence
from service.domain.requirements import Requirements

DAY = dt.date(2026, 12, 1)


def test_every_answer_of_a_varied_corpus_is_what_validation_accepts(engine: Engine) -> None:
    bodies = [{}, *build_corpus(engine, size=25, seed=5)]
    for body in bodies:
        text = engine.recommend(Requirements.model_validate(body), DAY).model_dump_json()
        # Strict models (extra fields forbidden, literals checked): a malformed object fails here, and a value of
        # the wrong type would have warned (an error under this suite's settings) while being dumped above.
        assert Answer.model_validate_json(text).model_dump_json() == text


def test_every_full_answer_of_a_varied_corpus_is_what_validation_accepts(engine: Engine) -> None:
    # The full answer (evidence cited by id) is built from the engine's answer without validation as well.
    for body in [{}, *build_corpus(engine, size=25, seed=7)]:
        answer = engine.recommend(Requirements.model_validate(body), DAY)
        text = encode_full(answer, engine.rules.eligibility)
        assert FullAnswer.model_validate_json(text).model_dump_json() == text


def test_a_full_answer_is_written_as_pydantic_writes_it(engine: Engine) -> None:
    # dump_full splices the evidence list in from each fact's kept JSON text: the bytes must be pydantic's own,
    # for the engine's answers and for an answer read back from its JSON (facts that are not the kept objects).
    for body in [{}, *build_corpus(engine, size=12, seed=13)]:
        answer = engine.recommend(Requirements.model_validate(body), DAY)
        by_rule = count_exclusions(answer.excluded, engine.rules.eligibility)
        for exclusions in ("all", "by_rule"):
            full = cite(answer, by_rule, exclusions)
            text = full.model_dump_json()
            assert dump_full(full) == text
            assert dump_full_bytes(full) == text.encode()
            assert dump_full(FullAnswer.model_validate_json(text)) == text


def test_a_comparison_is_what_validation_accepts(engine: Engine) -> None:
    ids = sorted(engine.features.ids)[:4]
    text = engine.compare(ids, Requirements.model_validate({"privacy": {"deployment": "api"}}), DAY).model_dump_json()
    assert Comparison.model_validate_json(text).model_dump_json() == text


def test_every_model_s_evidence_and_status_built_on_first_use_can_be_built(engine: Engine) -> None:
    # The engine builds these per model when an answer first cites the model; every shipped model's must build.
    n = len(engine.features.ids)
    for name, column in engine.features.columns.items():
        assert len(column.evidence) == n, name
        assert all(isinstance(column.evidence[i], tuple) for i in range(n)), name
    statuses = [engine.compliance.eu_ai_act[i] for i in range(n)]
    assert all(s.systemic_risk in ("presumed", "not_presumed", "unknown") for s in statuses)


ANSWER_CLASSES = [
    cls
    for cls in vars(answer_module).values()
    if isinstance(cls, type) and issubclass(cls, BaseModel) and cls.__module__ == answer_module.__name__
]


def _same(a: BaseModel, b: BaseModel) -> None:
    assert type(a) is type(b)
    assert a.__dict__ == b.__dict__
    assert list(a.__dict__) == list(b.__dict__)  # field order is the order they serialise in
    assert a.model_fields_set == b.model_fields_set
    assert a == b
    assert a.model_dump_json() == b.model_dump_json()


def test_trusted_builds_what_model_construct_builds_whichever_fields_are_given() -> None:
    day = dt.date(2026, 1, 2)
    given: list[tuple[type[BaseModel], dict[str, Any]]] = [
        (Caveat, {"kind": "stale", "message": "m"}),
        (Caveat, {"message": "m", "kind": "stale", "as_of": day}),  # out of order: the defaults are filled in
        (RuleOutcome, {"rule_id": "r", "rule_version": 1, "requirement": "q", "outcome": "passed", "message": "m"}),
        (
            Obligation,
            {"licence_id": "l", "kind": "naming", "duty": "d", "applies": "always", "source": "s", "as_of": day},
        ),
    ]
    for cls, values in given:
        _same(trusted(cls, **values), cls.model_construct(**values))
    assert caveat("stale", "m") == Caveat.model_construct(kind="stale", message="m")
    # A mutable default is the instance's own, as with model_construct.
    first = trusted(RuleOutcome, **given[2][1])
    assert first.evidence == [] and first.evidence is not RuleOutcome.model_fields["evidence"].default


def test_trusted_takes_the_values_as_given_when_they_name_every_field_in_order(engine: Engine) -> None:
    body: dict[str, Any] = {"use_cases": ["coding"], "limit": 3}
    answer = engine.recommend(Requirements.model_validate(body), DAY)
    score = answer.recommendations[0].criteria[0]
    values = dict(score.__dict__)
    built = trusted(CriterionScore, **values)
    _same(built, CriterionScore.model_construct(**values))


@pytest.mark.parametrize("cls", ANSWER_CLASSES, ids=lambda c: c.__name__)
def test_every_answer_class_can_be_built_by_trusted(cls: type[BaseModel]) -> None:
    required = [name for name, f in cls.model_fields.items() if f.is_required()]
    with pytest.raises(TypeError, match="needs field" if required else "has no field"):
        trusted(cls, **({} if required else {"not_a_field": 1}))


def test_trusted_objects_share_a_fields_set_only_where_it_can_never_change() -> None:
    class Loose(BaseModel):
        """A model that is not frozen: an attribute set adds its name to the instance's fields set."""

        a: int
        b: int = 0

    # Every field given: one shared set, holding every name, so setting an attribute cannot change it.
    first, second = trusted(Loose, a=1, b=2), trusted(Loose, b=3, a=4)
    assert first.model_fields_set == second.model_fields_set == Loose.model_construct(a=1, b=2).model_fields_set
    assert first.__pydantic_fields_set__ is second.__pydantic_fields_set__
    first.a = 5
    assert second.model_fields_set == {"a", "b"}
    # Some fields given, not frozen: each instance keeps its own set (setting `b` would add to it).
    some, other = trusted(Loose, a=1), trusted(Loose, a=2)
    assert some.model_fields_set == {"a"} and some.__pydantic_fields_set__ is not other.__pydantic_fields_set__
    some.b = 1
    assert some.model_fields_set == {"a", "b"} and other.model_fields_set == {"a"}
    # Some fields given, frozen (no attribute can be set): shared, and a copy with changes gets its own.
    day = dt.date(2026, 1, 2)
    facts = [trusted(Evidence, fact=f"f{n}", value=n, source="s", as_of=day) for n in range(2)]
    assert (
        facts[0].model_fields_set == Evidence.model_construct(fact="f", value=0, source="s", as_of=day).model_fields_set
    )
    assert facts[0].__pydantic_fields_set__ is facts[1].__pydantic_fields_set__
    changed = facts[0].model_copy(update={"note": "n"})
    assert changed.__pydantic_fields_set__ is not facts[0].__pydantic_fields_set__
    assert "note" not in facts[1].model_fields_set


def test_trusted_refuses_a_name_that_is_no_field() -> None:
    with pytest.raises(TypeError, match="has no field"):
        trusted(Caveat, kind="stale", message="m", mesage="typo")


def test_an_evidence_table_tells_facts_apart_even_when_each_is_built_afresh_and_dropped() -> None:
    # Citing remembers facts by object for speed; a fact built, cited and dropped must not lend its id to a
    # different fact that Python happens to place at the same address.
    table = EvidenceTable()
    ids = []
    for n in range(200):
        fact = Evidence(fact="f", value=n % 50, source="https://example.org", as_of=DAY)
        ids.append(table.cite(fact))
        del fact
    assert len(set(ids)) == 50
    assert ids[:50] == ids[50:100] == ids[100:150] == ids[150:]
    assert len(table.items) == 50
    assert [table.items[i].value for i in ids[:50]] == list(range(50))
