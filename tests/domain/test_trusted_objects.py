"""The engine builds its answer objects without validating them field by field (they come from validated
data); these tests hold it to what validation would have accepted."""

from __future__ import annotations

import datetime as dt

from bench.corpus import build_corpus
from service.domain.answer import Answer, Comparison
from service.domain.engine import Engine
from service.domain.requirements import Requirements

DAY = dt.date(2026, 12, 1)


def test_every_answer_of_a_varied_corpus_is_what_validation_accepts(engine: Engine) -> None:
    bodies = [{}, *build_corpus(engine, size=25, seed=5)]
    for body in bodies:
        text = engine.recommend(Requirements.model_validate(body), DAY).model_dump_json()
        # Strict models (extra fields forbidden, literals checked): a malformed object fails here, and a value of
        # the wrong type would have warned (an error under this suite's settings) while being dumped above.
        assert Answer.model_validate_json(text).model_dump_json() == text


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
