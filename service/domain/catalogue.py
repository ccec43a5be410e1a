"""Catalogue records: organisations, models, the hosted offers for them and leaderboard snapshots.

A model's id is its Hugging Face repo id (``owner/name``) and comes from its file path
(``catalogue/models/<owner>/<name>.toml``); an organisation's id is its Hugging Face namespace
(``catalogue/organisations/<owner>.toml``). Facts that a ranking can depend on are :class:`Fact` values
with a source and a date; a fact that is not known is left out and stays null.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from service.domain.architecture import Transformer, WeightFormat
from service.domain.facts import Fact, Strict
from service.domain.measurements import Leaderboard, Measurement
from service.domain.regulatory import CodeOfPractice, ComputeEstimate, ExportControls, ProvenanceAllegation

__all__ = [
    "Adoption",
    "Catalogue",
    "Model",
    "ModelFile",
    "Offer",
    "Organisation",
    "OrganisationFile",
    "parse_released",
]

Architecture = Literal["dense", "moe"]
Modality = Literal["text", "image", "audio", "video"]
ReasoningMode = Literal["none", "hybrid", "always"]
TrainingData = Literal["weights_only", "open"]

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


class Offer(Strict):
    """A hosted API offer for a model: who serves it, at what price, stated when."""

    provider: str = Field(min_length=1)
    input_usd_per_m: float = Field(ge=0, description="USD per million input tokens.")
    output_usd_per_m: float = Field(ge=0, description="USD per million output tokens.")
    context_tokens: int | None = Field(default=None, gt=0)
    source: str = Field(min_length=1)
    as_of: dt.date
    note: str | None = None
    developer_hosted: bool | None = Field(
        default=None,
        description="True when the model's developer runs this service itself (its own API); public-sector "
        "restrictions on a developer's hosted service turn on it. Null when not recorded.",
    )


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
    context_tokens: Fact[int] | None = None
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
    offers: list[Offer] = []
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


class Catalogue(Strict):
    """Every model, organisation and leaderboard snapshot, keyed by id, in a stable order."""

    models: dict[str, Model]
    organisations: dict[str, Organisation]
    leaderboards: dict[str, Leaderboard] = {}

    def measurements(self) -> dict[str, list[Measurement]]:
        """Every model's measurements: its own file's, then each leaderboard snapshot's entry (by snapshot id)."""
        result = {model_id: list(model.measurements) for model_id, model in self.models.items()}
        for snapshot_id in sorted(self.leaderboards):
            for model_id, measurement in self.leaderboards[snapshot_id].measurements(snapshot_id).items():
                result[model_id].append(measurement)
        return result
