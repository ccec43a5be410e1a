"""Every eligibility rule carries worked examples; one generic test runs them all."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from service.domain.conditions import evaluate_checks, rule_applies
from service.domain.requirements import Requirements
from service.domain.rules import EligibilityRule
from service.loading.files import load_catalogue, load_rules
from tests.conftest import CATALOGUE, RULES, TODAY

RULESET = load_rules(RULES, {m.licence.value for m in load_catalogue(CATALOGUE).models.values()})
CASES = [
    pytest.param(rule, example, id=f"{rule.id}: {example.description}")
    for rule in RULESET.eligibility.values()
    for example in rule.examples
]


def _nested(flat: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, value in flat.items():
        node = out
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def _column(value: Any, known: bool) -> tuple[Any, Any, bool]:
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if numeric:
        return np.array([float(value)]), np.array([known]), True
    array = np.empty(1, dtype=object)
    array[0] = frozenset(value) if isinstance(value, list) else value
    return array, np.array([known]), False


def outcome(rule: EligibilityRule, request: dict[str, Any], model: dict[str, Any], unknown: list[str]) -> str:
    """Run one rule on a one-model table built from the example."""
    nested = _nested(request)
    if not rule_applies(rule, nested):
        return "not_applicable"
    columns = {field: _column(value, True) for field, value in model.items()}
    for field in unknown:
        numeric = any(c.field == field and c.op in ("gt", "gte", "lt", "lte") for c in rule.checks)
        columns[field] = (np.array([np.nan]), np.array([False]), True) if numeric else _column(None, False)
    failed, unknown_mask = evaluate_checks(rule, columns, nested)
    if failed[0]:
        return "fail"
    return "unknown" if unknown_mask[0] else "pass"


@pytest.mark.parametrize(("rule", "example"), CASES)
def test_each_rule_decides_its_worked_examples_as_documented(rule: EligibilityRule, example: Any) -> None:
    assert outcome(rule, example.request, example.model, example.unknown) == example.expect


def test_every_rule_has_a_passing_and_a_failing_example() -> None:
    for rule in RULESET.eligibility.values():
        outcomes = {example.expect for example in rule.examples}
        assert {"pass", "fail"} <= outcomes, rule.id


SHIPPED = load_catalogue(CATALOGUE)


def _hosted_in(model_id: str) -> list[str | None]:
    """Countries of the providers of a shipped model's active offers (None: not recorded)."""
    return [o.country.value if o.country else None for o in SHIPPED.offers_for(model_id, usable_only=True)]


# Offers change as providers are curated, so the hosting examples are picked from the shipped provider files: a
# model with an active offer and one without (if every model gains one, the test fails and needs a new case),
# and for hosting countries the first country whose providers serve some model but not another model whose
# providers' countries are all recorded.
_SERVED = sorted(m for m in SHIPPED.models if _hosted_in(m))
_UNSERVED = sorted(m for m in SHIPPED.models if not _hosted_in(m))
_HOSTING = next(
    (country, inside, outside)
    for country in sorted({c for m in _SERVED for c in _hosted_in(m) if c is not None})
    for inside in [next((m for m in _SERVED if country in _hosted_in(m)), None)]
    for outside in [next((m for m in _SERVED if None not in _hosted_in(m) and country not in _hosted_in(m)), None)]
    if inside and outside
)

#: For each rule: a request that triggers it, a shipped model that passes and one that fails (or whose
#: needed fact is unknown, which excludes it just the same).
ON_THE_CATALOGUE: dict[str, tuple[dict[str, Any], str, str, str]] = {
    "licence.commercial-use": ({"ip": {"commercial_use": True}}, "Qwen/Qwen3-8B", "MiniMaxAI/MiniMax-M2.7", "failed"),
    "licence.kind": (
        {"ip": {"licence_kinds": ["permissive"]}},
        "Qwen/Qwen3-8B",
        "moonshotai/Kimi-K2-Instruct",
        "failed",
    ),
    "licence.allowed-list": (
        {"ip": {"allowed_licences": ["mit"]}},
        "deepseek-ai/DeepSeek-R1",
        "Qwen/Qwen3-8B",
        "failed",
    ),
    "licence.user-cap": (
        {"ip": {"monthly_active_users": 800_000_000}},
        "Qwen/Qwen3-8B",
        "meta-llama/Llama-3.3-70B-Instruct",
        "failed",
    ),
    "licence.outputs-training": (
        {"ip": {"train_on_outputs": True}},
        "deepseek-ai/DeepSeek-R1",
        "moonshotai/Kimi-K3",
        "unknown",
    ),
    "licence.derivatives": (
        {"customisation": {"fine_tuning": "lora"}},
        "Qwen/Qwen3-8B",
        "Qwen/Qwen3.8-2.4T-A95B",
        "unknown",
    ),
    "origin.excluded-country": (
        {"privacy": {"excluded_origin_countries": ["CN"]}},
        "mistralai/Magistral-Small-2509",
        "deepseek-ai/DeepSeek-V3.1",
        "failed",
    ),
    "data.open-training-data": (
        {"privacy": {"require_open_training_data": True}},
        "allenai/OLMo-2-0325-32B-Instruct",
        "Qwen/Qwen3-8B",
        "failed",
    ),
    "deployment.hosted-offer": ({"privacy": {"deployment": "api"}}, _SERVED[0], _UNSERVED[0], "failed"),
    "hardware.fits": (
        {"hardware": {"gpu_memory_gb": 80, "gpu_count": 2, "precision": "fp8"}},
        "Qwen/Qwen3-8B",
        "deepseek-ai/DeepSeek-V3",
        "failed",
    ),
    "context.minimum": ({"min_context_tokens": 500_000}, "deepseek-ai/DeepSeek-V4-Flash", "Qwen/Qwen3-8B", "failed"),
    "privacy.hosting-country": (
        {"privacy": {"deployment": "api", "hosting_countries": [_HOSTING[0]]}},
        _HOSTING[1],
        _HOSTING[2],
        "failed",
    ),
    "reasoning.required": ({"reasoning": "required"}, "deepseek-ai/DeepSeek-R1", "Qwen/Qwen2.5-72B-Instruct", "failed"),
    "use-case.vision": ({"use_cases": ["vision"]}, "google/gemma-3-27b-it", "Qwen/Qwen3-8B", "failed"),
}


@pytest.mark.parametrize("rule_id", sorted(ON_THE_CATALOGUE))
def test_each_rule_passes_one_shipped_model_and_excludes_another(engine: Any, rule_id: str) -> None:
    request, passing, failing, how = ON_THE_CATALOGUE[rule_id]
    answer = engine.recommend(Requirements.model_validate({**request, "explain": [passing, failing]}), TODAY)
    by_id = {a.model_id: a for a in answer.explained}
    passed = [o for o in by_id[passing].rules if o.rule_id == rule_id]
    assert [o.outcome for o in passed] == ["passed"]
    assert by_id[passing].status != "excluded" or all(
        o.rule_id != rule_id for o in by_id[passing].rules if o.outcome != "passed"
    )
    failed = [o for o in by_id[failing].rules if o.rule_id == rule_id]
    assert [o.outcome for o in failed] == [how]
    assert by_id[failing].status == "excluded"
    exclusion = next(e for e in answer.excluded if e.model_id == failing)
    reason = next(r for r in exclusion.reasons if r.rule_id == rule_id)
    assert reason.message and reason.evidence, "an exclusion must name its evidence"
    if how == "unknown":
        assert reason.missing_facts, "an unknown outcome names the missing fact"


def test_every_foundation_rule_has_a_catalogue_test() -> None:
    foundation = {rule_id for rule_id in RULESET.eligibility if not rule_id.startswith("compliance.")}
    assert foundation == set(ON_THE_CATALOGUE)
