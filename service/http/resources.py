"""Response shapes of the catalogue resources (models, licences, profiles), and their answers encoded once.

A loaded engine's catalogue and rules never change (a reload builds another engine), so what the catalogue routes
answer is the same for every request on one engine: :func:`catalogue_views` writes each answer (each model's view,
the licences, profiles and rules) to JSON once, with the serialiser the route would have used, and the routes serve
those bytes. Listing the shipped catalogue's 140 models took about 10 ms of CPU a request, almost all of it building
and encoding the same views again.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic import BaseModel, ConfigDict

from service.domain.catalogue import HostedOffer, Model, Organisation
from service.domain.kept import Kept
from service.domain.rules import Licence, Profile

if TYPE_CHECKING:
    from service.domain.engine import Engine

__all__ = [
    "MODEL_VIEWS_KEPT",
    "CatalogueViews",
    "LicenceOut",
    "ModelOut",
    "ProfileOut",
    "catalogue_views",
    "licence_out",
    "model_out",
    "profile_out",
]


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


#: Models whose views an engine keeps written (about 10 KB each: at most about 20 MB however large the catalogue;
#: the shipped one has 140). A view dropped is written again when asked for.
MODEL_VIEWS_KEPT = 2048


class _Listed(NamedTuple):
    """A model as ``GET /v1/models`` filters it."""

    id: str
    family: str  # lower case: the filter ignores case
    organisation: str
    licence: str
    licence_kind: str
    origin_country: str


class CatalogueViews:
    """What the catalogue routes answer on one engine, each written to JSON bytes by ``encode`` at first use and
    kept with the engine (see the module). ``encode`` must be the routes' own serialiser, so that the bytes are those
    the routes would write."""

    def __init__(self, engine: Engine, encode: Callable[[Any], bytes]) -> None:
        self._engine = weakref.proxy(engine)  # kept with the engine (never keeping it alive)
        self._encode = encode
        self._lock = threading.Lock()
        self._models: Kept[str, bytes] = Kept("http.model_views", MODEL_VIEWS_KEPT)
        self._written: dict[str, bytes] = {}
        catalogue, rules = engine.catalogue, engine.rules
        self.listed: tuple[_Listed, ...] = tuple(
            _Listed(
                model_id,
                model.family.lower(),
                model.organisation,
                model.licence.value,
                rules.licences[model.licence.value].kind,
                catalogue.organisations[model.organisation].country.value,
            )
            for model_id, model in sorted(catalogue.models.items())
        )

    def model(self, model_id: str) -> bytes:
        """:func:`model_out` of the model ``model_id`` (in the catalogue) as JSON."""
        found = self._models.get(model_id)
        if found is None:
            catalogue, rules = self._engine.catalogue, self._engine.rules
            model = catalogue.models[model_id]
            view = model_out(
                model,
                catalogue.organisations[model.organisation],
                rules.licences[model.licence.value],
                catalogue.offers_for(model.id),
            )
            found = self._models.put(model_id, self._encode(view))
        return found

    def models(self, listed: Sequence[_Listed], offset: int, limit: int) -> bytes:
        """The page ``[offset:offset + limit]`` of the models ``listed`` (a selection of :attr:`listed`, in its
        order), as ``GET /v1/models`` answers it: count, offset, the page's views and the catalogue version."""
        page = b",".join(self.model(m.id) for m in listed[offset : offset + limit])
        return b"".join(
            (
                b'{"count":%d,"offset":%d,"items":[' % (len(listed), offset),
                page,
                b'],"catalogue_version":',
                self._encode(self._engine.catalogue_version),
                b"}",
            )
        )

    def written(self, name: str, build: Callable[[], Any]) -> bytes:
        """The answer named ``name`` (e.g. every licence), ``build()`` encoded at the first call."""
        found = self._written.get(name)
        if found is None:
            with self._lock:
                found = self._written.setdefault(name, self._encode(build()))
        return found


_VIEWS: weakref.WeakKeyDictionary[Engine, CatalogueViews] = weakref.WeakKeyDictionary()
_VIEWS_LOCK = threading.Lock()


def catalogue_views(engine: Engine, encoder: Callable[[], Callable[[Any], bytes]]) -> CatalogueViews:
    """The :class:`CatalogueViews` of ``engine`` (made at the first call, writing with ``encoder()``; gone with the
    engine)."""
    found = _VIEWS.get(engine)
    if found is None:
        with _VIEWS_LOCK:
            found = _VIEWS.get(engine)
            if found is None:
                found = _VIEWS[engine] = CatalogueViews(engine, encoder())
    return found
