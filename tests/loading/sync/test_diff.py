"""Change and conflict computation: signals are applied, identity facts are only reported."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.catalogue import Model, Offer, Provider
from service.loading.files import load_catalogue
from service.loading.sync.diff import (
    IDENTITY_FIELDS,
    SIGNAL_FIELDS,
    DerivativeCount,
    HubObservation,
    OpenRouterObservation,
    diff_model,
    licence_candidates,
)
from service.loading.sync.openrouter import usd_per_million
from tests.loading.sync.conftest import AS_OF, LLAMA, QWEN, SHIPPED
from tests.loading.sync.fake_upstream import HUB_TAG

CATALOGUE = load_catalogue(SHIPPED)
PREFIX = "https://openrouter.example/api/v1/"
MISTRAL = "mistralai/Mistral-Large-3-675B-Instruct-2512"  # a curated flat offer at provider "mistral"


def hub_for(model: Model, **changes: object) -> HubObservation:
    """An observation that agrees with the model's identity facts."""
    params = model.parameters_total_b.value if model.parameters_total_b else None
    observation = HubObservation(
        repo_id=model.id,
        source=f"https://hub.example/api/models/{model.id}",
        likes=10,
        downloads_30d=20,
        last_modified=dt.date(2026, 10, 1),
        licence=HUB_TAG.get(model.licence.value, "other"),
        licence_name=None,
        parameters_total=None if params is None else round(params * 1e9),
        gated=None,
        derivatives=DerivativeCount(total=3, by_kind={"finetune": 2, "other": 1}, source="https://hub.example/d"),
    )
    return dataclasses.replace(observation, **changes)  # type: ignore[arg-type]


def offer(
    openrouter_id: str,
    price_in: float = 0.1,
    price_out: float = 0.2,
    context: int | None = None,
    provider: str = "example-a",
) -> OpenRouterObservation:
    return OpenRouterObservation(
        openrouter_id=openrouter_id,
        provider_id=provider,
        provider_name=provider.title(),
        input_usd_per_m=price_in,
        output_usd_per_m=price_out,
        context_tokens=context,
        source=f"{PREFIX}models/{openrouter_id}/endpoints",
        note="synthetic",
    )


def applied(providers: dict[str, Provider], model_id: str, offers: dict[str, tuple[Offer, ...]]) -> dict[str, Provider]:
    """The providers with a diff's offers of one model written back (as write_report does)."""
    result = dict(providers)
    for pid, new in offers.items():
        base = providers.get(pid) or Provider(id=pid, name=pid, review_by=AS_OF)
        kept = [o for o in base.offers if o.model != model_id]
        result[pid] = base.model_copy(update={"offers": [*kept, *new]})
    return result


def test_the_field_classes_do_not_overlap() -> None:
    assert not set(SIGNAL_FIELDS) & set(IDENTITY_FIELDS)


def test_signals_are_added_or_updated_with_upstream_source_and_sync_date() -> None:
    model = CATALOGUE.models[LLAMA]
    diff = diff_model(model, hub=hub_for(model), openrouter=None, as_of=AS_OF)
    kinds = {c.field: (c.kind, c.old, c.new) for c in diff.changes}
    assert kinds == {
        "adoption.hf_likes": ("update", 6581, 10),
        "adoption.hf_downloads_30d": ("update", 7300000, 20),
        "adoption.hf_derivatives": ("add", None, 3),
        "adoption.hf_last_modified": ("add", None, dt.date(2026, 10, 1)),
    }
    likes = diff.updated.adoption.hf_likes
    assert likes is not None
    assert (likes.source, likes.as_of) == (f"https://hub.example/api/models/{LLAMA}", AS_OF)
    derivatives = diff.updated.adoption.hf_derivatives
    assert derivatives is not None
    assert derivatives.note is not None
    assert derivatives.note.endswith(": fine-tunes 2, without a stated relation 1")
    assert diff.conflicts == ()


def test_an_unchanged_value_from_another_source_is_re_dated_not_updated() -> None:
    model = CATALOGUE.models[LLAMA]
    diff = diff_model(model, hub=hub_for(model, likes=6581), openrouter=None, as_of=AS_OF)
    (likes,) = [c for c in diff.changes if c.field == "adoption.hf_likes"]
    assert (likes.kind, likes.old, likes.new) == ("refresh", 6581, 6581)


@given(
    likes=st.integers(0, 10**7),
    downloads=st.integers(0, 10**9),
    derivatives=st.integers(0, 10**5),
    modified=st.dates(dt.date(2020, 1, 1), dt.date(2026, 11, 26)),
    price=st.decimals(min_value=0, max_value=Decimal("0.001"), places=12),
)
def test_applying_a_diff_then_diffing_again_changes_nothing(
    likes: int, downloads: int, derivatives: int, modified: dt.date, price: Decimal
) -> None:
    model = CATALOGUE.models[QWEN]
    hub = hub_for(
        model,
        likes=likes,
        downloads_30d=downloads,
        last_modified=modified,
        derivatives=DerivativeCount(derivatives, {"quantized": derivatives}, "https://hub.example/d"),
    )
    listing = [offer("qwen/qwen3-8b", usd_per_million(str(price)), usd_per_million(str(price * 2)), 32768)]
    providers = dict(CATALOGUE.providers)
    first = diff_model(model, hub=hub, openrouter=listing, as_of=AS_OF, openrouter_source=PREFIX, providers=providers)
    again = Model.model_validate({**first.updated.model_dump(), "id": model.id})
    after = applied(providers, model.id, dict(first.offers))
    second = diff_model(again, hub=hub, openrouter=listing, as_of=AS_OF, openrouter_source=PREFIX, providers=after)
    assert second.changes == ()
    assert second.offers == {}
    assert second.updated == first.updated


@pytest.mark.parametrize(
    ("hub_licence", "kind"),
    [
        ("llama3.1", None),
        ("LLAMA3.1", None),
        ("apache-2.0", "disagrees"),
        ("other", "unmapped"),
        ("llama2", "unmapped"),
    ],
)
def test_licence_tags_are_compared_through_the_mapping(hub_licence: str, kind: str | None) -> None:
    model = CATALOGUE.models[LLAMA]  # llama-3.1-community
    diff = diff_model(model, hub=hub_for(model, licence=hub_licence), openrouter=None, as_of=AS_OF)
    assert [c.kind for c in diff.conflicts if c.field == "licence"] == ([kind] if kind else [])
    assert diff.updated.licence == model.licence


def test_licence_candidates() -> None:
    assert licence_candidates("mit") == frozenset({"mit"})
    assert licence_candidates("gemma") == frozenset({"gemma-terms"})
    assert licence_candidates("other") is None
    assert licence_candidates(None) is None


@pytest.mark.parametrize(("count", "conflict"), [(8_030_261_248, False), (8_390_000_000, False), (8_500_000_000, True)])
def test_parameter_counts_within_the_tolerance_agree(count: int, conflict: bool) -> None:
    model = CATALOGUE.models[LLAMA]  # curated 8.0 B
    diff = diff_model(model, hub=hub_for(model, parameters_total=count), openrouter=None, as_of=AS_OF)
    assert any(c.field == "parameters_total_b" for c in diff.conflicts) is conflict
    assert diff.updated.parameters_total_b == model.parameters_total_b


def test_gating_is_reported_when_missing_or_different_and_never_written() -> None:
    # The shipped file records gating now; the test takes it away to see the "missing" case.
    model = CATALOGUE.models[LLAMA].model_copy(update={"gated": None})
    diff = diff_model(model, hub=hub_for(model, gated=True), openrouter=None, as_of=AS_OF)
    assert [(c.field, c.kind, c.upstream_value) for c in diff.conflicts] == [("gated", "not_curated", True)]
    assert diff.updated.gated is None
    curated = CATALOGUE.models[LLAMA]
    assert curated.gated is not None
    different = diff_model(curated, hub=hub_for(curated, gated=not curated.gated.value), openrouter=None, as_of=AS_OF)
    assert [(c.field, c.upstream_value) for c in different.conflicts] == [("gated", not curated.gated.value)]
    assert different.updated.gated == curated.gated


def test_openrouter_offers_are_proposed_per_provider_and_gone_ones_are_retired() -> None:
    model = CATALOGUE.models[QWEN]
    listing = [
        offer("qwen/qwen3-8b", 0.05, 0.25, context=40960, provider="example-a"),
        offer("qwen/qwen3-8b", 0.06, 0.3, context=32768, provider="example-b"),
    ]
    first = diff_model(
        model, hub=None, openrouter=listing, as_of=AS_OF, openrouter_source=PREFIX, providers=CATALOGUE.providers
    )
    assert sorted(first.offers) == ["example-a", "example-b"]
    assert first.new_providers == {"example-a": "Example-A", "example-b": "Example-B"}
    (example_a,) = first.offers["example-a"]
    assert (example_a.input_usd_per_m, example_a.output_usd_per_m, example_a.price_basis) == (0.05, 0.25, "flat")
    assert (example_a.status, example_a.as_of, example_a.context_tokens) == ("active", AS_OF, 40960)
    assert {c.kind for c in first.changes} == {"add"}
    # The curated OpenRouter offer at provider "openrouter" is not the sync's own (not an API source): untouched.
    assert "openrouter" not in first.offers
    assert [(c.field, c.kind) for c in first.conflicts] == [("context_tokens", "disagrees")]  # 40960 > 32768
    assert first.updated.context_tokens == model.context_tokens

    providers = applied(dict(CATALOGUE.providers), QWEN, dict(first.offers))
    second = diff_model(
        model,
        hub=None,
        openrouter=[offer("qwen/qwen3-8b", 0.07, 0.3, context=32768, provider="example-b")],
        as_of=AS_OF + dt.timedelta(days=7),
        openrouter_source=PREFIX,
        providers=providers,
    )
    (retired,) = second.offers["example-a"]
    assert retired.status == "retired"
    assert retired.as_of == AS_OF  # the date its price was stated
    assert retired.note is not None and "No longer listed by OpenRouter on 2026-12-03" in retired.note
    (example_b,) = second.offers["example-b"]
    assert example_b.input_usd_per_m == 0.07
    assert ("offers[example-a].status", "update", "active", "retired") in [
        (c.field, c.kind, c.old, c.new) for c in second.changes
    ]
    assert ("offers[example-b].input_usd_per_m", "update", 0.06, 0.07) in [
        (c.field, c.kind, c.old, c.new) for c in second.changes
    ]
    # Retired stays retired: a third run with the same listing changes nothing for it.
    third = diff_model(
        model,
        hub=None,
        openrouter=[offer("qwen/qwen3-8b", 0.07, 0.3, context=32768, provider="example-b")],
        as_of=AS_OF + dt.timedelta(days=7),
        openrouter_source=PREFIX,
        providers=applied(providers, QWEN, dict(second.offers)),
    )
    assert third.offers == {} and third.changes == ()


def test_a_curated_offer_is_never_overwritten_and_a_different_price_is_reported() -> None:
    model = CATALOGUE.models[MISTRAL]
    curated = Offer(
        model=MISTRAL,
        input_usd_per_m=0.5,
        output_usd_per_m=1.5,
        price_basis="flat",
        source="https://example.org/pricing",  # a provider's own page, not the OpenRouter API
        as_of=dt.date(2026, 11, 20),
    )
    providers = {"example-own": Provider(id="example-own", name="Example Own", review_by=AS_OF, offers=[curated])}
    diff = diff_model(
        model,
        hub=None,
        openrouter=[offer("mistralai/mistral-large-3", 0.6, 1.8, provider="example-own")],
        as_of=AS_OF,
        openrouter_source=PREFIX,
        providers=providers,
    )
    assert diff.offers == {} and diff.changes == ()
    (conflict,) = diff.conflicts
    assert (conflict.field, conflict.kind, conflict.upstream_value) == ("offers[example-own]", "disagrees", "0.6/1.8")
    assert conflict.curated == "0.5/1.5"
    # The same price is no conflict, and still nothing is written over the curated offer.
    same = diff_model(
        model,
        hub=None,
        openrouter=[offer("mistralai/mistral-large-3", 0.5, 1.5, provider="example-own")],
        as_of=AS_OF,
        openrouter_source=PREFIX,
        providers=providers,
    )
    assert same.offers == {} and same.changes == () and same.conflicts == ()


def test_without_openrouter_in_the_run_offers_are_untouched() -> None:
    model = CATALOGUE.models[QWEN]
    diff = diff_model(model, hub=hub_for(model), openrouter=None, as_of=AS_OF, providers=CATALOGUE.providers)
    assert diff.offers == {}
    assert not any(c.field.startswith("offers") for c in diff.conflicts)


@pytest.mark.parametrize(
    ("per_token", "per_million"),
    [("0.0000002", 0.2), ("0.000000035", 0.035), ("0", 0.0), ("1e-7", 0.1), ("0.00000123456789", 1.23457)],
)
def test_prices_convert_to_usd_per_million_without_float_noise(per_token: str, per_million: float) -> None:
    assert usd_per_million(per_token) == per_million


@pytest.mark.parametrize("bad", ["-1", "abc", "NaN", "Infinity"])
def test_prices_that_are_not_non_negative_numbers_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"price|decimal"):
        usd_per_million(bad)


@given(st.decimals(min_value=0, max_value=1, places=15))
def test_price_conversion_stays_within_rounding(price: Decimal) -> None:
    exact = price * 1_000_000
    assert abs(Decimal(repr(usd_per_million(str(price)))) - exact) <= exact * Decimal("1e-5")
