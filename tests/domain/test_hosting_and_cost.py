"""Hosted offers in answers: where the provider is based, the token mix of the cost, and extended context.

The offer tests run on the shipped models with a fixed set of example providers (the shipped provider files
grow as offers are curated), so that they test the rules, not today's price list.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from service.domain.engine import Engine
from service.domain.requirements import Requirements
from service.loading.engine import build_engine
from tests.conftest import CATALOGUE, RULES, TODAY

MISTRAL = "mistralai/Mistral-Large-3-675B-Instruct-2512"  # served by a provider in FR
PRO = "deepseek-ai/DeepSeek-V4-Pro"  # served by the developer's own API in CN: peak and off-peak prices
QWEN = "Qwen/Qwen3-8B"  # served by a provider whose country is not recorded
NEXT = "Qwen/Qwen3-Next-80B-A3B-Instruct"  # 262,144 native, 1,010,000 with YaRN


def _offer(model: str, price_in: float, price_out: float, basis: str = "flat", status: str = "active") -> str:
    return (
        f'\n[[offers]]\nmodel = "{model}"\ninput_usd_per_m = {price_in}\noutput_usd_per_m = {price_out}\n'
        f'price_basis = "{basis}"\nstatus = "{status}"\nsource = "https://example.org/pricing"\nas_of = 2026-10-27\n'
    )


def _country(code: str) -> str:
    return f'\n[country]\nvalue = "{code}"\nsource = "https://example.org/about"\nas_of = 2026-11-20\n'


PROVIDERS = {
    "example-cn-api": 'name = "Example CN API"\nreview_by = 2027-03-01\norganisation = "deepseek-ai"\n'
    + _country("CN")
    + _offer(PRO, 1.32, 3.96, "peak")
    + _offer(PRO, 0.66, 1.98, "off_peak")
    + _offer("deepseek-ai/DeepSeek-V4-Flash", 0.14, 0.28, "flat", "retired"),
    "example-fr": 'name = "Example FR Host"\nreview_by = 2027-03-01\n'
    + _country("FR")
    + '\n[regions]\nvalue = ["FR", "NL"]\nsource = "https://example.org/regions"\nas_of = 2026-11-20\n'
    + _offer(MISTRAL, 0.5, 1.5),
    "example-nowhere": 'name = "Example Router"\nreview_by = 2027-03-01\n' + _offer(QWEN, 0.05, 0.4),
}


def build(root: Path, extra: dict[str, str] | None = None) -> Engine:
    """The shipped models and rules with exactly the example providers (plus ``extra``)."""
    catalogue = root / "catalogue"
    shutil.copytree(CATALOGUE, catalogue)
    for path in (catalogue / "providers").glob("*.toml"):
        path.unlink()
    for provider_id, text in {**PROVIDERS, **(extra or {})}.items():
        (catalogue / "providers" / f"{provider_id}.toml").write_text(text, encoding="utf-8")
    return build_engine(catalogue, RULES)


@pytest.fixture(scope="module")
def hosted(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return build(tmp_path_factory.mktemp("hosted"))


def ask(engine: Engine, request: dict[str, Any]) -> Any:
    return engine.recommend(Requirements.model_validate(request), TODAY)


def assessment(answer: Any, model_id: str) -> Any:
    return next(a for a in answer.explained if a.model_id == model_id)


def outcome(answer: Any, model_id: str, rule_id: str) -> Any:
    return next(o for o in assessment(answer, model_id).rules if o.rule_id == rule_id)


def cost_of(answer: Any, model_id: str) -> Any:
    return next(c for c in assessment(answer, model_id).criteria if c.criterion == "cost")


def test_an_offer_served_from_a_country_not_allowed_is_excluded_naming_the_provider_and_its_country(
    hosted: Engine,
) -> None:
    answer = ask(
        hosted,
        {"privacy": {"deployment": "api", "hosting_countries": ["FR", "DE"]}, "explain": [MISTRAL, PRO, QWEN]},
    )
    passed = outcome(answer, MISTRAL, "privacy.hosting-country")
    assert passed.outcome == "passed"
    assert "Example FR Host (FR)" in passed.message
    regions = next(e for e in passed.evidence if e.fact == "provider Example FR Host: regions")
    assert regions.value == "FR, NL" and regions.source == "https://example.org/regions"
    failed = outcome(answer, PRO, "privacy.hosting-country")
    assert failed.outcome == "failed"
    assert "Example CN API (CN)" in failed.message and "DE, FR" in failed.message
    (country,) = [e for e in failed.evidence if e.fact == "provider Example CN API: country"]
    assert country.value == "CN" and country.source and country.as_of
    unknown = outcome(answer, QWEN, "privacy.hosting-country")
    assert unknown.outcome == "unknown"
    assert "Example Router (country not recorded)" in unknown.message
    assert unknown.missing_facts == ["country of provider Example Router (providers/example-nowhere.toml)"]
    assert {r.model_id for r in answer.recommendations} == {MISTRAL}


def test_hosting_countries_apply_only_to_hosted_apis(hosted: Engine) -> None:
    answer = ask(hosted, {"privacy": {"deployment": "self_hosted", "hosting_countries": ["FR"]}, "explain": [PRO]})
    assert all(o.rule_id != "privacy.hosting-country" for o in assessment(answer, PRO).rules)


@pytest.fixture(scope="module")
def us_host(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The example providers plus one based in the US that serves the Chinese-developed DeepSeek-V4-Pro."""
    us = 'name = "Example US Host"\nreview_by = 2027-03-01\n' + _country("US") + _offer(PRO, 2.0, 4.0)
    return build(tmp_path_factory.mktemp("us-host"), {"example-us": us.replace("2026-10-27", "2026-11-20")})


def test_a_model_developed_in_one_country_and_served_from_another_is_judged_on_both(us_host: Engine) -> None:
    request = {
        "privacy": {"deployment": "api", "hosting_countries": ["US"], "excluded_origin_countries": ["CN"]},
        "explain": [PRO],
    }
    answer = ask(us_host, request)
    hosting = outcome(answer, PRO, "privacy.hosting-country")
    assert hosting.outcome == "passed"
    assert "Example US Host (US)" in hosting.message and "Example CN API (CN)" in hosting.message
    assert {e.value for e in hosting.evidence} == {"US", "CN"}
    origin = outcome(answer, PRO, "origin.excluded-country")
    assert origin.outcome == "failed"
    assert any(e.fact.startswith("organisation deepseek-ai: country") and e.value == "CN" for e in origin.evidence)
    # Without the origin constraint, the price ranks from the allowed provider only, and says so.
    answer = ask(us_host, {"privacy": {"deployment": "api", "hosting_countries": ["US"]}, "explain": [PRO]})
    cost = cost_of(answer, PRO)
    assert "at Example US Host" in cost.explanation and "price as of 2026-11-20" in cost.explanation


def test_the_cost_states_the_token_mix_of_the_use_cases_and_the_price_date(us_host: Engine) -> None:
    engine = us_host
    chat = cost_of(ask(engine, {"privacy": {"deployment": "api"}, "use_cases": ["chat"], "explain": [PRO]}), PRO)
    reasoning = cost_of(
        ask(engine, {"privacy": {"deployment": "api"}, "use_cases": ["reasoning"], "explain": [PRO]}), PRO
    )
    # The peak price ranks (off-peak holds only in stated hours): 1.32 input, 3.96 output per M tokens, against
    # a flat 2.00 / 4.00 elsewhere.
    assert "cheapest blended price 1.980 USD per M tokens at Example CN API, peak price" in chat.explanation
    assert "token mix 75% input / 25% output tokens (default;" in chat.explanation
    assert "cheapest blended price 3.300 USD per M tokens at Example CN API" in reasoning.explanation
    assert "token mix 25% input / 75% output tokens (reasoning;" in reasoning.explanation
    assert "price as of 2026-10-27" in reasoning.explanation
    both = cost_of(
        ask(engine, {"privacy": {"deployment": "api"}, "use_cases": ["chat", "agentic"], "explain": [PRO]}), PRO
    )
    assert "token mix 50% input / 50% output tokens (agentic, default;" in both.explanation
    assert "cheapest blended price 2.640 USD per M tokens" in both.explanation


def test_the_mix_changes_which_model_is_cheapest_only_through_stated_prices(engine: Engine) -> None:
    cost = engine.rules.criteria["cost"]
    assert cost.mix_for([]) == (0.75, {"default": cost.token_mix["default"]})  # type: ignore[index]
    share, used = cost.mix_for(["reasoning", "agentic"])
    assert share == 0.25 and set(used) == {"reasoning", "agentic"}


def test_min_context_tokens_checks_the_extended_window_and_names_its_method(engine: Engine) -> None:
    answer = ask(engine, {"min_context_tokens": 500_000, "explain": [NEXT, QWEN]})
    passed = outcome(answer, NEXT, "context.minimum")
    assert passed.outcome == "passed"
    assert "1,010,000 (extended with YaRN; native 262,144)" in passed.message
    assert {e.fact for e in passed.evidence} == {"context_tokens", "context_extension"}
    (caveat,) = [c for c in assessment(answer, NEXT).caveats if c.kind == "context_extension"]
    assert "only with YaRN" in caveat.message and caveat.source and caveat.rule_id == "context.minimum"
    failed = outcome(answer, QWEN, "context.minimum")
    assert failed.outcome == "failed"
    assert "131,072 (extended with YaRN; native 32,768)" in failed.message
    # A requirement the native window meets needs no caveat.
    answer = ask(engine, {"min_context_tokens": 200_000, "explain": [NEXT]})
    assert not [c for c in assessment(answer, NEXT).caveats if c.kind == "context_extension"]


def test_a_provider_file_naming_no_country_keeps_its_offers_unknown_not_allowed(tmp_path: Path) -> None:
    catalogue = tmp_path / "catalogue"
    shutil.copytree(CATALOGUE, catalogue)
    path = catalogue / "providers" / "mistral.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index("[country]")
    end = text.index("\n\n", start)
    path.write_text(text[:start] + text[end + 2 :], encoding="utf-8")
    answer = ask(
        build_engine(catalogue, RULES),
        {"privacy": {"deployment": "api", "hosting_countries": ["FR"]}, "explain": [MISTRAL]},
    )
    assert outcome(answer, MISTRAL, "privacy.hosting-country").outcome == "unknown"
