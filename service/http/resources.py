"""Response shapes of the catalogue resources (models, licences, profiles)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from service.domain.catalogue import HostedOffer, Model, Organisation
from service.domain.rules import Licence, Profile

__all__ = ["LicenceOut", "ModelOut", "ProfileOut", "licence_out", "model_out", "profile_out"]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ModelOut(_Out):
    """A catalogue model: headline fields (null when unknown) and every fact with its source and date."""

    id: str
    name: str
    family: str
    organisation: str
    organisation_name: str
    origin_country: str
    licence: str
    licence_kind: str
    parameters_total_b: float | None
    parameters_active_b: float | None
    context_tokens: int | None
    released: str
    reasoning: str | None
    input_modalities: list[str] | None
    review_by: dt.date
    facts: dict[str, Any]


class LicenceOut(_Out):
    """A licence: kind, commercial use and the duties it imposes."""

    id: str
    name: str
    kind: str
    commercial_use: bool | None
    osi_approved: bool
    spdx: str | None
    url: str
    source: str
    source_kind: str
    as_of: dt.date
    review_by: dt.date
    derivatives_permitted: bool | None
    attribution: str | None
    naming_duty: str | None
    use_restrictions: list[str] | None
    outputs_training: str
    outputs_clause: str
    thresholds: list[dict[str, Any]]
    notes: str | None


class ProfileOut(_Out):
    """A named weight set."""

    id: str
    name: str
    description: str
    review_by: dt.date
    weights: dict[str, float]


def model_out(
    model: Model, organisation: Organisation, licence: Licence, offers: Sequence[HostedOffer] = ()
) -> ModelOut:
    """The public view of a model, with the hosted offers recorded for it (from the provider files)."""
    facts = model.model_dump(
        mode="json", exclude={"id", "name", "family", "organisation", "review_by", "notes"}, exclude_none=True
    )
    facts["origin_country"] = organisation.country.model_dump(mode="json", exclude_none=True)
    # The developer's regulatory and provenance facts (Code of Practice, export controls, allegations), sourced.
    facts["organisation"] = organisation.model_dump(mode="json", exclude={"id"}, exclude_none=True)
    if offers:
        facts["offers"] = [
            {
                "provider_id": o.provider_id,
                "provider": o.provider,
                "provider_country": o.country.model_dump(mode="json", exclude_none=True) if o.country else None,
                "developer_hosted": o.developer_hosted,
                **o.offer.model_dump(mode="json", exclude={"model"}, exclude_none=True),
            }
            for o in offers
        ]
    return ModelOut(
        id=model.id,
        name=model.name,
        family=model.family,
        organisation=organisation.id,
        organisation_name=organisation.name,
        origin_country=organisation.country.value,
        licence=licence.id,
        licence_kind=licence.kind,
        parameters_total_b=model.parameters_total_b.value if model.parameters_total_b else None,
        parameters_active_b=model.parameters_active_b.value if model.parameters_active_b else None,
        context_tokens=model.context_tokens.value if model.context_tokens else None,
        released=model.released.value,
        reasoning=model.reasoning.value if model.reasoning else None,
        input_modalities=list(model.input_modalities.value) if model.input_modalities else None,
        review_by=model.review_by,
        facts=facts,
    )


def licence_out(licence: Licence) -> LicenceOut:
    """The public view of a licence."""
    data = licence.model_dump(mode="json")
    data["thresholds"] = [t.model_dump(mode="json", exclude_none=True) for t in licence.thresholds]
    return LicenceOut.model_validate(data)


def profile_out(profile: Profile) -> ProfileOut:
    """The public view of a profile."""
    return ProfileOut.model_validate(profile.model_dump())
