"""Catalogue records: organisations, models, leaderboard snapshots, and the providers that host models.

A model's id is its Hugging Face repo id (``owner/name``) and comes from its file path
(``catalogue/models/<owner>/<name>.toml``); an organisation's id is its Hugging Face namespace
(``catalogue/organisations/<owner>.toml``); a provider's id is its file stem
(``catalogue/providers/<id>.toml``). Who hosts a model at what price is a separate kind of fact from
the model's own facts, so offers live in provider files, one per provider's pricing page at one date.
Facts that a ranking can depend on are :class:`Fact` values with a source and a date; a fact that is
not known is left out and stays null.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from service.domain.architecture import Transformer, WeightFormat
from service.domain.facts import Fact, SourceKind, Strict
from service.domain.measurements import Leaderboard, Measurement
from service.domain.regulatory import CodeOfPractice, ComputeEstimate, ExportControls, ProvenanceAllegation

__all__ = [
    "Adoption",
    "Catalogue",
    "ContextExtension",
    "HostedOffer",
    "Model",
    "ModelFile",
    "Offer",
    "Organisation",
    "OrganisationFile",
    "PriceBasis",
    "Provider",
    "ProviderFile",
    "parse_released",
]

Architecture = Literal["dense", "moe"]
Modality = Literal["text", "image", "audio", "video"]
ReasoningMode = Literal["none", "hybrid", "always"]
TrainingData = Literal["weights_only", "open"]
#: flat: one price at all hours; peak / off_peak: a price that holds only in the provider's stated hours.
PriceBasis = Literal["flat", "peak", "off_peak"]
#: active: on sale at ``as_of``; retired: withdrawn; superseded: replaced by another offer. Only active ranks.
OfferStatus = Literal["active", "retired", "superseded"]
#: Number formats a provider states it serves the weights in.
Quantisation = Literal["fp32", "bf16", "fp16", "fp8", "fp6", "fp4", "mxfp4", "nvfp4", "int8", "int4"]

_RELEASED = re.compile(r"^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def parse_released(text: str) -> dt.date:
    """Turn a release date of ``YYYY-MM-DD`` or ``YYYY-MM`` into a date (a month means its first day)."""
    if len(text) == 7:
        return dt.date.fromisoformat(text + "-01")
    return dt.date.fromisoformat(text)


class Adoption(Strict):
    """Adoption and ecosystem signals, each dated; they change by nature and are refreshed by sync."""

    hf_likes: Fact[int] | None = Field(default=None, description="Hugging Face likes of the repo.")
    hf_downloads_30d: Fact[int] | None = Field(
        default=None, description="Hugging Face downloads over the last 30 days."
    )
    hf_derivatives: Fact[int] | None = Field(
        default=None, description="Hub repos naming this model as base model (fine-tunes, adapters, quants)."
    )
    openrouter_token_share: Fact[float] | None = Field(
        default=None, description="Share of OpenRouter platform tokens in a stated period (0-1)."
    )
    hf_last_modified: Fact[dt.date] | None = Field(
        default=None, description="When the Hugging Face repo was last modified."
    )

    @field_validator("hf_likes", "hf_downloads_30d", "hf_derivatives")
    @classmethod
    def _non_negative(cls, fact: Fact[int] | None) -> Fact[int] | None:
        if fact is not None and fact.value < 0:
            raise ValueError("a count cannot be negative")
        return fact


class ContextExtension(Strict):
    """A context window beyond the native one, reached by a stated method (e.g. YaRN rope scaling)."""

    tokens: int = Field(gt=0, description="The extended context window in tokens.")
    method: str = Field(min_length=1, description="The extension method the source names, e.g. 'YaRN'.")
    source: str = Field(min_length=1, description="Public URL that states the extended window and its method.")
    as_of: dt.date = Field(description="Date on which the source stated it (or was read).")
    source_kind: SourceKind | None = None
    note: str | None = None


class ModelFile(Strict):
    """The content of one ``catalogue/models/<owner>/<name>.toml`` file."""

    name: str = Field(min_length=1)
    family: str = Field(min_length=1)
    organisation: str = Field(min_length=1, description="Organisation id (file stem under organisations/).")
    review_by: dt.date = Field(description="Date by which a person should re-check this file.")
    released: Fact[str]
    licence: Fact[str] = Field(description="Licence id (file stem under rules/licences/).")
    architecture: Fact[Architecture] | None = None
    parameters_total_b: Fact[float] | None = None
    parameters_active_b: Fact[float] | None = None
    context_tokens: Fact[int] | None = Field(
        default=None, description="The native context window in tokens (without extension methods)."
    )
    context_extension: ContextExtension | None = Field(
        default=None, description="An extended context window and the method that reaches it, where stated."
    )
    input_modalities: Fact[list[Modality]] | None = None
    output_modalities: Fact[list[Modality]] | None = None
    reasoning: Fact[ReasoningMode] | None = None
    training_data: Fact[TrainingData] | None = None
    gated: Fact[bool] | None = Field(default=None, description="Hugging Face asks users to accept terms first.")
    training_compute_flop: ComputeEstimate | None = Field(
        default=None, description="Estimated cumulative training compute (FLOP); null when no estimate exists."
    )
    transformer: Transformer | None = Field(
        default=None,
        description="Architecture facts from the model's config.json (layers, attention and its dimensions, "
        "experts) with one source and date; null when not recorded.",
    )
    released_formats: Fact[list[WeightFormat]] | None = Field(
        default=None,
        description="Weight formats the developer itself releases checkpoints in (bf16, fp8, mxfp4, nvfp4, "
        "int4); third-party quantisations do not count.",
    )
    measurements: list[Measurement] = Field(
        default=[], description="Results on benchmark variants (rules/benchmarks/), each sourced and dated."
    )
    adoption: Adoption = Adoption()
    notes: str | None = None

    @field_validator("released")
    @classmethod
    def _released_is_a_date(cls, fact: Fact[str]) -> Fact[str]:
        if not _RELEASED.match(fact.value):
            raise ValueError(f"release date {fact.value!r} is not YYYY-MM-DD or YYYY-MM")
        return fact

    @model_validator(mode="after")
    def _consistent(self) -> ModelFile:
        total, active = self.parameters_total_b, self.parameters_active_b
        if total is not None and total.value <= 0:
            raise ValueError("parameters_total_b must be positive")
        if active is not None and active.value <= 0:
            raise ValueError("parameters_active_b must be positive")
        if total is not None and active is not None and active.value > total.value:
            raise ValueError(f"parameters_active_b ({active.value}) exceeds parameters_total_b ({total.value})")
        if self.context_tokens is not None and self.context_tokens.value <= 0:
            raise ValueError("context_tokens must be positive")
        formats = self.released_formats
        if formats is not None and (not formats.value or len(set(formats.value)) != len(formats.value)):
            raise ValueError("released_formats must list each format once and at least one")
        extension = self.context_extension
        if extension is not None and self.context_tokens is not None and extension.tokens <= self.context_tokens.value:
            raise ValueError(
                f"context_extension.tokens ({extension.tokens}) must exceed the native context_tokens "
                f"({self.context_tokens.value})"
            )
        return self


class Model(ModelFile):
    """A model record with its id (the Hugging Face repo id, from the file path)."""

    id: str

    @property
    def released_on(self) -> dt.date:
        """The release date as a date (a month-only date counts as the first of the month)."""
        return parse_released(self.released.value)


class OrganisationFile(Strict):
    """The content of one ``catalogue/organisations/<id>.toml`` file."""

    name: str = Field(min_length=1)
    country: Fact[str] = Field(description="ISO 3166-1 alpha-2 code of the headquarters.")
    review_by: dt.date
    derivative_models: Fact[int] | None = Field(
        default=None,
        description="Hub repos derived from the organisation's models (organisation-wide count).",
    )
    code_of_practice: CodeOfPractice | None = Field(
        default=None, description="EU General-Purpose AI Code of Practice status; null when not recorded."
    )
    export_controls: ExportControls | None = Field(
        default=None, description="Export-control lists checked and listings found; null when never checked."
    )
    provenance_allegations: list[ProvenanceAllegation] = Field(
        default=[], description="Public, dated allegations about how its models were built (allegations only)."
    )
    notes: str | None = None

    @field_validator("country")
    @classmethod
    def _iso_country(cls, fact: Fact[str]) -> Fact[str]:
        if not _COUNTRY.match(fact.value):
            raise ValueError(f"country {fact.value!r} is not an ISO 3166-1 alpha-2 code such as 'CN' or 'US'")
        return fact


class Organisation(OrganisationFile):
    """An organisation record with its id."""

    id: str


class Offer(Strict):
    """One hosted offer of a provider: a model, its price per million tokens on one basis, stated when."""

    model: str = Field(min_length=1, description="Catalogue model id (Hugging Face repo id) the offer serves.")
    input_usd_per_m: float = Field(ge=0, description="USD per million input tokens (cache miss).")
    output_usd_per_m: float = Field(ge=0, description="USD per million output tokens.")
    cached_input_usd_per_m: float | None = Field(default=None, ge=0, description="USD per million cached input tokens.")
    price_basis: PriceBasis = Field(
        description="flat: one price at all hours; peak / off_peak: the price of the provider's stated hours."
    )
    context_tokens: int | None = Field(default=None, gt=0, description="Context window the provider serves.")
    max_output_tokens: int | None = Field(default=None, gt=0, description="Longest output the provider serves.")
    quantisation: Quantisation | None = Field(default=None, description="Number format served, where stated.")
    status: OfferStatus = Field(
        default="active", description="active, retired or superseded; only active offers are used to rank."
    )
    source: str = Field(min_length=1, description="Public URL of the pricing page (or listing) that states it.")
    as_of: dt.date = Field(description="Date on which the source stated the price (or was read).")
    source_kind: SourceKind | None = None
    note: str | None = None


def _iso_countries(fact: Fact[list[str]] | None) -> Fact[list[str]] | None:
    if fact is not None:
        for code in fact.value:
            if not _COUNTRY.match(code):
                raise ValueError(f"country {code!r} is not an ISO 3166-1 alpha-2 code such as 'CN' or 'US'")
    return fact


class ProviderFile(Strict):
    """The content of one ``catalogue/providers/<id>.toml`` file: a provider and its offers at one date."""

    name: str = Field(min_length=1)
    review_by: dt.date = Field(description="Date by which a person should re-check this file.")
    organisation: str | None = Field(
        default=None,
        description="Organisation id when the provider is a model developer's own API (its hosted service).",
    )
    country: Fact[str] | None = Field(
        default=None, description="ISO 3166-1 alpha-2 code of where the provider is based; null when not known."
    )
    regions: Fact[list[str]] | None = Field(
        default=None, description="ISO 3166-1 alpha-2 codes of where the provider states it serves or keeps data."
    )
    offers: list[Offer] = []
    notes: str | None = None

    @field_validator("country")
    @classmethod
    def _iso_country(cls, fact: Fact[str] | None) -> Fact[str] | None:
        if fact is not None and not _COUNTRY.match(fact.value):
            raise ValueError(f"country {fact.value!r} is not an ISO 3166-1 alpha-2 code such as 'CN' or 'US'")
        return fact

    @field_validator("regions")
    @classmethod
    def _iso_regions(cls, fact: Fact[list[str]] | None) -> Fact[list[str]] | None:
        return _iso_countries(fact)

    @model_validator(mode="after")
    def _one_active_offer_per_model_and_basis(self) -> ProviderFile:
        seen: set[tuple[str, str]] = set()
        for k, offer in enumerate(self.offers):
            if offer.status != "active":
                continue
            key = (offer.model, offer.price_basis)
            if key in seen:
                raise ValueError(
                    f"offers[{k}]: a second active {offer.price_basis} offer for {offer.model!r}; "
                    "mark the older one retired or superseded"
                )
            seen.add(key)
        return self


class Provider(ProviderFile):
    """A provider record with its id (the file stem)."""

    id: str


class HostedOffer(Strict):
    """An offer as the engine sees it: the offer with the provider that serves it."""

    provider_id: str
    provider: str = Field(description="The provider's name.")
    country: Fact[str] | None
    regions: Fact[list[str]] | None = None
    developer_hosted: bool = Field(description="True when the provider is the model developer's own API.")
    offer: Offer

    @property
    def usable(self) -> bool:
        """Whether the offer may rank (only active offers do)."""
        return self.offer.status == "active"

    @property
    def label(self) -> str:
        """Provider and price basis, as answers name the offer."""
        basis = "" if self.offer.price_basis == "flat" else f", {self.offer.price_basis.replace('_', '-')} price"
        return f"{self.provider}{basis}"


class Catalogue(Strict):
    """Every model, organisation, leaderboard snapshot and provider, keyed by id, in a stable order."""

    models: dict[str, Model]
    organisations: dict[str, Organisation]
    leaderboards: dict[str, Leaderboard] = {}
    providers: dict[str, Provider] = {}
    _offers: dict[str, tuple[HostedOffer, ...]] = PrivateAttr(default_factory=dict)

    def measurements(self) -> dict[str, list[Measurement]]:
        """Every model's measurements: its own file's, then each leaderboard snapshot's entry (by snapshot id)."""
        result = {model_id: list(model.measurements) for model_id, model in self.models.items()}
        for snapshot_id in sorted(self.leaderboards):
            for model_id, measurement in self.leaderboards[snapshot_id].measurements(snapshot_id).items():
                result[model_id].append(measurement)
        return result

    def model_post_init(self, context: object, /) -> None:
        """Index every offer by model id (provider id order, then file order)."""
        index: dict[str, list[HostedOffer]] = {}
        for provider_id in sorted(self.providers):
            provider = self.providers[provider_id]
            for offer in provider.offers:
                model = self.models.get(offer.model)
                hosted = HostedOffer(
                    provider_id=provider_id,
                    provider=provider.name,
                    country=provider.country,
                    regions=provider.regions,
                    developer_hosted=model is not None and provider.organisation == model.organisation,
                    offer=offer,
                )
                index.setdefault(offer.model, []).append(hosted)
        self._offers = {model_id: tuple(offers) for model_id, offers in index.items()}

    def counts(self) -> dict[str, int]:
        """What the catalogue holds: models, measurements (independent ones apart) and priced offers."""
        measured = self.measurements()
        independent = {m: [x for x in xs if x.measured_by == "independent_leaderboard"] for m, xs in measured.items()}
        offers = [o for provider in self.providers.values() for o in provider.offers]
        active = [o for o in offers if o.status == "active"]
        return {
            "models": len(self.models),
            "measurements": sum(len(xs) for xs in measured.values()),
            "models_with_3_measurements": sum(1 for xs in measured.values() if len(xs) >= 3),
            "independent_measurements": sum(len(xs) for xs in independent.values()),
            "models_with_independent_measurement": sum(1 for xs in independent.values() if xs),
            "providers": len(self.providers),
            "priced_offers": len(active),
            "models_with_priced_offer": len({o.model for o in active}),
            "inactive_offers": len(offers) - len(active),
        }

    def offers_for(self, model_id: str, *, usable_only: bool = False) -> tuple[HostedOffer, ...]:
        """Every recorded offer of a model (with ``usable_only``: only the active ones that may rank)."""
        # Read from the model's private storage: ``self._offers`` goes through ``BaseModel.__getattr__``, which
        # cost more than the rest of this call (asked once per model at load and per model a listing shows).
        private = self.__pydantic_private__
        offers = (private or {}).get("_offers", {}).get(model_id, ())
        return tuple(o for o in offers if o.usable) if usable_only else offers
