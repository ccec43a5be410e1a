"""Reference pages: one model, one licence, one rule, and the catalogue that filters and sorts models.

Every fact is shown with its value, its public source, the date it was true and the kind of source; a fact the
catalogue does not have is shown as "unknown", never filled in. The view builders here are plain functions of
the engine (the same loaded catalogue and rules the API answers from); the controller only reads the request
and renders.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import PathParameter
from litestar.response import Template
from pydantic import BaseModel

from service.domain.answer import UseCaseEstimate
from service.domain.catalogue import HostedOffer, Model, Organisation
from service.domain.criteria.capability import CapabilityCriterion
from service.domain.engine import Engine
from service.domain.facts import Fact
from service.domain.measurements import USE_CASES
from service.domain.rules import Criterion, EligibilityRule, Licence
from service.web.layout import READ, Web

__all__ = [
    "CatalogueQuery",
    "FactRow",
    "ReferencePages",
    "catalogue_view",
    "licence_view",
    "model_view",
    "parse_catalogue_query",
    "rule_view",
]

UNKNOWN = "unknown"
_MAX_TEXT = 100
#: Model fields shown as facts, in the order a reviewer reads them, with their labels.
_MODEL_FACTS: tuple[tuple[str, str], ...] = (
    ("released", "Released"),
    ("licence", "Licence"),
    ("architecture", "Architecture"),
    ("parameters_total_b", "Total parameters (billions)"),
    ("parameters_active_b", "Active parameters per token (billions)"),
    ("context_tokens", "Native context window (tokens)"),
    ("context_extension", "Extended context window"),
    ("input_modalities", "Input modalities"),
    ("output_modalities", "Output modalities"),
    ("reasoning", "Reasoning mode"),
    ("training_data", "Training data"),
    ("gated", "Gated on Hugging Face (terms to accept first)"),
    ("training_compute_flop", "Training compute (FLOP)"),
)
_ADOPTION_FACTS: tuple[tuple[str, str], ...] = (
    ("hf_likes", "Hugging Face likes"),
    ("hf_downloads_30d", "Hugging Face downloads (30 days)"),
    ("hf_derivatives", "Derivative repos on Hugging Face"),
    ("openrouter_token_share", "Share of OpenRouter tokens"),
    ("hf_last_modified", "Hugging Face repo last modified"),
)
_TRANSFORMER_FACTS: tuple[tuple[str, str], ...] = (
    ("layers", "Decoder layers"),
    ("hidden_size", "Hidden size"),
    ("attention", "Attention"),
    ("attention_heads", "Attention (query) heads"),
    ("kv_heads", "Key/value heads"),
    ("head_dim", "Head dimension"),
    ("kv_lora_rank", "KV latent rank (MLA)"),
    ("qk_rope_head_dim", "Rotary key dimension (MLA)"),
    ("sliding_window", "Sliding window (tokens)"),
    ("sliding_window_layers", "Sliding-window layers"),
    ("linear_attention_layers", "Linear-attention layers"),
    ("experts_total", "Routed experts per MoE layer"),
    ("experts_active", "Routed experts active per token"),
)
_SOURCE_FIELDS = frozenset({"source", "as_of", "source_kind", "note"})


# ------------------------------------------------------------------------------------------------ facts
@dataclass(frozen=True)
class FactRow:
    """One fact as a table row: what it is, its value as text, and where and when it was stated (None: unknown)."""

    label: str
    value: str
    source: str | None = None
    as_of: dt.date | None = None
    source_kind: str | None = None
    note: str | None = None

    @property
    def known(self) -> bool:
        """False when the catalogue does not record this fact."""
        return self.source is not None


def text(value: object) -> str:
    """A value in words: lists joined, booleans as yes/no, floats without a trailing .0, None as unknown."""
    if value is None:
        return UNKNOWN
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1e3 else f"{value:g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list | tuple):
        return ", ".join(text(v) for v in value) or "none"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).replace("_", " ") if isinstance(value, str) and value.isidentifier() else str(value)


def _details(record: BaseModel) -> str:
    """A sourced record's own fields (not its source, date, kind or note) as ``name: value`` pairs."""
    data = record.model_dump(exclude=set(_SOURCE_FIELDS), exclude_none=True)
    if isinstance(record, Fact):
        return text(data.pop("value", None)) + "".join(f"; {k.replace('_', ' ')}: {text(v)}" for k, v in data.items())
    return "; ".join(f"{k.replace('_', ' ')}: {text(v)}" for k, v in data.items() if not isinstance(v, list | dict))


def fact_row(label: str, record: BaseModel | None) -> FactRow:
    """A row for a fact, or for any sourced record (a context extension, a compute estimate); unknown when None."""
    if record is None:
        return FactRow(label, UNKNOWN)
    return FactRow(
        label,
        _details(record),
        source=getattr(record, "source", None),
        as_of=getattr(record, "as_of", None),
        source_kind=getattr(record, "source_kind", None),
        note=getattr(record, "note", None),
    )


# ---------------------------------------------------------------------------------------------- model
@dataclass(frozen=True)
class MeasurementRow:
    """One benchmark result with its measurer, setting and source."""

    benchmark_id: str
    benchmark: str
    value: float
    measured_by: str
    mode: str | None
    setting: str | None
    source: str
    as_of: dt.date
    source_kind: str | None
    note: str | None


@dataclass(frozen=True)
class OfferRow:
    """One hosted offer: who serves the model where, at what price, stated when."""

    provider: str
    country: FactRow
    developer_hosted: bool
    input_usd_per_m: float
    output_usd_per_m: float
    cached_input_usd_per_m: float | None
    price_basis: str
    context_tokens: int | None
    quantisation: str | None
    status: str
    source: str
    as_of: dt.date
    source_kind: str | None
    note: str | None


@dataclass(frozen=True)
class ModelView:
    """Everything the model page shows."""

    model: Model
    organisation: Organisation
    licence: Licence
    facts: list[FactRow]
    organisation_facts: list[FactRow]
    adoption: list[FactRow]
    hardware: list[FactRow]
    hardware_source: FactRow
    estimates: list[UseCaseEstimate]
    capability_note: str
    measurements: list[MeasurementRow]
    offers: list[OfferRow]
    allegations: list[FactRow]


def _capability(engine: Engine) -> CapabilityCriterion:
    criterion = engine.criteria["capability"]
    assert isinstance(criterion, CapabilityCriterion)  # built from rules/criteria/capability.toml
    return criterion


def model_view(engine: Engine, model_id: str) -> ModelView | None:
    """The model page's content, or None when the catalogue has no model with this id."""
    model = engine.catalogue.models.get(model_id)
    if model is None:
        return None
    organisation = engine.catalogue.organisations[model.organisation]
    licence = engine.rules.licences[model.licence.value]
    facts = [fact_row(label, getattr(model, name)) for name, label in _MODEL_FACTS]
    organisation_facts = [
        FactRow("Organisation", organisation.name),
        fact_row("Country of the developer (origin)", organisation.country),
        fact_row("Derivative models of the organisation", organisation.derivative_models),
        fact_row("EU GPAI Code of Practice", organisation.code_of_practice),
        fact_row("Export controls checked", organisation.export_controls),
    ]
    if organisation.export_controls is not None:
        organisation_facts += [
            fact_row(f"Export-control listing: {listing.list_name}", listing)
            for listing in organisation.export_controls.listings
        ]
    allegations = [
        fact_row(f"Allegation by {a.author} ({a.date.isoformat()})", a) for a in organisation.provenance_allegations
    ]
    adoption = [fact_row(label, getattr(model.adoption, name)) for name, label in _ADOPTION_FACTS]
    transformer = model.transformer
    hardware = [fact_row("Weight formats released by the developer", model.released_formats)]
    if transformer is None:
        hardware_source = FactRow("Architecture (config.json)", UNKNOWN)
        hardware += [FactRow(label, UNKNOWN) for _, label in _TRANSFORMER_FACTS]
    else:
        hardware_source = FactRow(
            "Architecture (config.json)",
            "read from the model's configuration",
            transformer.source,
            transformer.as_of,
            transformer.source_kind,
            transformer.note,
        )
        for name, label in _TRANSFORMER_FACTS:
            value = getattr(transformer, name)
            hardware.append(
                FactRow(label, text(value), transformer.source, transformer.as_of, transformer.source_kind)
                if value is not None
                else FactRow(label, "not stated (none declared)" if name.endswith("_layers") else UNKNOWN)
            )
    capability = _capability(engine)
    index = capability.fit.model_ids.index(model_id)
    estimates = [capability.estimate_of(index, None), *(capability.estimate_of(index, case) for case in USE_CASES)]
    benchmarks = engine.rules.benchmarks
    measurements = [
        MeasurementRow(
            m.benchmark,
            benchmarks[m.benchmark].name if m.benchmark in benchmarks else m.benchmark,
            m.value,
            m.measured_by,
            m.mode,
            m.setting,
            m.source,
            m.as_of,
            m.source_kind,
            m.note,
        )
        for m in engine.catalogue.measurements().get(model_id, [])
    ]
    offers = [_offer_row(o) for o in engine.catalogue.offers_for(model_id)]
    return ModelView(
        model=model,
        organisation=organisation,
        licence=licence,
        facts=facts,
        organisation_facts=organisation_facts,
        adoption=adoption,
        hardware=hardware,
        hardware_source=hardware_source,
        estimates=estimates,
        capability_note=capability.policy.note,
        measurements=measurements,
        offers=offers,
        allegations=allegations,
    )


def _offer_row(hosted: HostedOffer) -> OfferRow:
    offer = hosted.offer
    return OfferRow(
        provider=hosted.provider,
        country=fact_row("Provider country", hosted.country),
        developer_hosted=hosted.developer_hosted,
        input_usd_per_m=offer.input_usd_per_m,
        output_usd_per_m=offer.output_usd_per_m,
        cached_input_usd_per_m=offer.cached_input_usd_per_m,
        price_basis=offer.price_basis,
        context_tokens=offer.context_tokens,
        quantisation=offer.quantisation,
        status=offer.status,
        source=offer.source,
        as_of=offer.as_of,
        source_kind=offer.source_kind,
        note=offer.note,
    )


# -------------------------------------------------------------------------------------------- licence
@dataclass(frozen=True)
class LicenceView:
    """The licence page: its terms (one source for all of them) and the models under it."""

    licence: Licence
    terms: list[FactRow]
    thresholds: list[FactRow]
    restrictions: list[str] | None
    models: list[Model]


def licence_view(engine: Engine, licence_id: str) -> LicenceView | None:
    """The licence page's content, or None when no licence has this id."""
    licence = engine.rules.licences.get(licence_id)
    if licence is None:
        return None

    def term(label: str, value: object) -> FactRow:
        if value is None:
            return FactRow(label, UNKNOWN)
        return FactRow(label, text(value), licence.source, licence.as_of, licence.source_kind)

    terms = [
        term("Kind", licence.kind),
        term("OSI approved", licence.osi_approved),
        term("SPDX identifier", licence.spdx or "none (not an SPDX licence)"),
        term("Commercial use permitted", licence.commercial_use),
        term("Derivatives permitted", licence.derivatives_permitted),
        term("Attribution and notice duties", licence.attribution),
        term("Naming duty", licence.naming_duty if licence.naming_duty else "none stated"),
        term("Using outputs to train other models", licence.outputs_training),
        term("Outputs clause", licence.outputs_clause),
    ]
    thresholds = []
    for threshold in licence.thresholds:
        limits = [
            f"{threshold.monthly_active_users:,} monthly active users" if threshold.monthly_active_users else "",
            f"USD {threshold.monthly_revenue_usd:,.0f} monthly revenue" if threshold.monthly_revenue_usd else "",
            f"USD {threshold.annual_revenue_usd:,.0f} annual revenue" if threshold.annual_revenue_usd else "",
        ]
        above = " or ".join(x for x in limits if x)
        who = f" (applies to {threshold.applies_to})" if threshold.applies_to else ""
        thresholds.append(term(f"Above {above}{who}", threshold.duty))
    models = [m for _, m in sorted(engine.catalogue.models.items()) if m.licence.value == licence.id]
    return LicenceView(licence, terms, thresholds, licence.use_restrictions, models)


# ----------------------------------------------------------------------------------------------- rule
@dataclass(frozen=True)
class RuleView:
    """The rule page: an eligibility rule (a hard constraint) or a scoring criterion, in words."""

    rule_id: str
    kind: str
    eligibility: EligibilityRule | None = None
    criterion: Criterion | None = None
    sources: list[FactRow] = field(default_factory=list)


def rule_view(engine: Engine, rule_id: str) -> RuleView | None:
    """The rule page's content (an eligibility rule id, or a criterion id), or None when there is no such rule."""
    rule = engine.rules.eligibility.get(rule_id)
    if rule is not None:
        return RuleView(rule_id, "eligibility", eligibility=rule)
    criterion = engine.rules.criteria.get(rule_id)
    if criterion is None:
        return None
    sources: list[FactRow] = []
    for use, mix in sorted((criterion.token_mix or {}).items()):
        if mix.source:
            sources.append(
                FactRow(f"Token mix for {text(use)}: input share {mix.input_share:g}", mix.note, mix.source, mix.as_of)
            )
    if criterion.id == "capability":
        for benchmark_id in sorted(engine.rules.benchmarks):
            b = engine.rules.benchmarks[benchmark_id]
            sources.append(
                FactRow(f"Benchmark: {b.name}", f"evidence for {text(b.use_cases)}", b.source, b.as_of, note=None)
            )
    return RuleView(rule_id, "criterion", criterion=criterion, sources=sources)


# ------------------------------------------------------------------------------------------ catalogue
SORTS: dict[str, str] = {
    "name": "Name (A to Z)",
    "released": "Release date (newest first)",
    "capability": "Capability estimate (highest first)",
    "price": "Hosted price (cheapest first)",
}
LICENCE_KINDS: tuple[str, ...] = ("permissive", "copyleft", "custom")


@dataclass
class CatalogueQuery:
    """The catalogue page's filter and sort, as typed (every value text), and a problem per field."""

    use_case: str = ""
    licence_kind: str = ""
    organisation: str = ""
    origin: str = ""
    text: str = ""
    sort: str = "name"
    errors: dict[str, str] = field(default_factory=dict)


def parse_catalogue_query(query: Mapping[str, str], engine: Engine) -> CatalogueQuery:
    """Read the filter form's query parameters; a value that is not one of the offered choices gets a message.

    Unknown parameters are ignored (a page link may carry others); values are cut to 100 characters.
    """
    given = {name: (query.get(name) or "")[:_MAX_TEXT].strip() for name in _QUERY_FIELDS}
    parsed = CatalogueQuery(
        use_case=given["use_case"],
        licence_kind=given["licence_kind"],
        organisation=given["organisation"],
        origin=given["origin"],
        text=given["text"],
        sort=given["sort"] or "name",
    )
    choices: dict[str, Iterable[str]] = {
        "use_case": USE_CASES,
        "licence_kind": LICENCE_KINDS,
        "organisation": engine.catalogue.organisations,
        "origin": {o.country.value for o in engine.catalogue.organisations.values()},
        "sort": SORTS,
    }
    for name, allowed in choices.items():
        value = getattr(parsed, name)
        if value and value not in set(allowed):
            parsed.errors[name] = f"Choose one of the listed options; {value!r} is not one of them."
            setattr(parsed, name, "" if name != "sort" else "name")
    return parsed


_QUERY_FIELDS = ("use_case", "licence_kind", "organisation", "origin", "text", "sort")


@dataclass(frozen=True)
class CatalogueRow:
    """One model in the catalogue table."""

    model: Model
    organisation: Organisation
    licence: Licence
    estimate: UseCaseEstimate
    offer: HostedOffer | None


@dataclass(frozen=True)
class CatalogueView:
    """The catalogue page: the rows that pass the filter, sorted, and the choices the form offers."""

    rows: list[CatalogueRow]
    total: int
    query: CatalogueQuery
    use_case_options: list[tuple[str, str]]
    licence_kind_options: list[tuple[str, str]]
    organisation_options: list[tuple[str, str]]
    origin_options: list[tuple[str, str]]
    sort_options: list[tuple[str, str]]
    sorts: dict[str, str]


def cheapest_offer(engine: Engine, model_id: str) -> HostedOffer | None:
    """The active offer with the lowest input + output price per million tokens (ties: provider order)."""
    offers = engine.catalogue.offers_for(model_id, usable_only=True)
    if not offers:
        return None
    return min(offers, key=lambda o: o.offer.input_usd_per_m + o.offer.output_usd_per_m)


def catalogue_view(engine: Engine, query: CatalogueQuery) -> CatalogueView:
    """Filter and sort the catalogue's models as ``query`` asks."""
    capability = _capability(engine)
    catalogue = engine.catalogue
    case = query.use_case or None
    needle = query.text.casefold()
    rows = []
    for i, model_id in enumerate(capability.fit.model_ids):
        model = catalogue.models[model_id]
        organisation = catalogue.organisations[model.organisation]
        licence = engine.rules.licences[model.licence.value]
        if query.licence_kind and licence.kind != query.licence_kind:
            continue
        if query.organisation and organisation.id != query.organisation:
            continue
        if query.origin and organisation.country.value != query.origin:
            continue
        haystack = " ".join((model.id, model.name, model.family, organisation.name)).casefold()
        if needle and needle not in haystack:
            continue
        estimate = capability.estimate_of(i, case)
        # A use case keeps the models with a measurement that bears on it; others are only inferred for it.
        if case and estimate.status != "measured":
            continue
        rows.append(CatalogueRow(model, organisation, licence, estimate, cheapest_offer(engine, model_id)))
    rows.sort(key=lambda r: r.model.name.casefold())
    if query.sort == "released":
        rows.sort(key=lambda r: r.model.released_on, reverse=True)
    elif query.sort == "capability":
        rows.sort(key=lambda r: (r.estimate.estimate is None, -(r.estimate.estimate or 0.0)))
    elif query.sort == "price":
        rows.sort(
            key=lambda r: (
                r.offer is None,
                r.offer.offer.input_usd_per_m + r.offer.offer.output_usd_per_m if r.offer else 0.0,
            )
        )
    organisations = sorted(catalogue.organisations.values(), key=lambda o: o.name.casefold())
    origins = sorted({o.country.value for o in catalogue.organisations.values()})
    return CatalogueView(
        rows=rows,
        total=len(catalogue.models),
        query=query,
        use_case_options=[(case, text(case)) for case in USE_CASES],
        licence_kind_options=[(kind, kind) for kind in LICENCE_KINDS],
        organisation_options=[(o.id, o.name) for o in organisations],
        origin_options=[(code, code) for code in origins],
        sort_options=list(SORTS.items()),
        sorts=dict(SORTS),
    )


def context_of(view: Any) -> dict[str, Any]:
    """A view as template context (its fields by name)."""
    return {name: getattr(view, name) for name in view.__dataclass_fields__}


# ------------------------------------------------------------------------------------------ controller
def _shown(identifier: str) -> str:
    """An id from the URL, cut to 100 characters, for a message (the template escapes it)."""
    return identifier[:_MAX_TEXT]


class ReferencePages(Controller):
    """The catalogue (filter and sort), and a page per model, licence and rule."""

    path = "/"

    @get("/catalogue", name="catalogue", opt=READ, sync_to_thread=True)
    def catalogue(
        self, request: Request[Any, Any, Any], web: NamedDependency[Web], engine: NamedDependency[Engine]
    ) -> Template:
        query = parse_catalogue_query(request.query_params, engine)
        view = catalogue_view(engine, query)
        status = 400 if query.errors else 200
        return web.page(request, "catalogue.html", nav="catalogue", status=status, **context_of(view))

    @get("/models/{owner:str}/{name:str}", name="model_page", opt=READ, sync_to_thread=True)
    def model(
        self,
        request: Request[Any, Any, Any],
        web: NamedDependency[Web],
        engine: NamedDependency[Engine],
        owner: Annotated[str, PathParameter(max_length=_MAX_TEXT)],
        name: Annotated[str, PathParameter(max_length=_MAX_TEXT)],
    ) -> Template:
        model_id = f"{owner}/{name}"
        view = model_view(engine, model_id)
        if view is None:
            raise NotFoundException(detail=f"There is no model with the id {_shown(model_id)!r} in the catalogue.")
        return web.page(request, "model.html", nav="catalogue", **context_of(view))

    @get("/licences/{licence_id:str}", name="licence_page", opt=READ, sync_to_thread=True)
    def licence(
        self,
        request: Request[Any, Any, Any],
        web: NamedDependency[Web],
        engine: NamedDependency[Engine],
        licence_id: Annotated[str, PathParameter(max_length=_MAX_TEXT)],
    ) -> Template:
        view = licence_view(engine, licence_id)
        if view is None:
            raise NotFoundException(detail=f"There is no licence with the id {_shown(licence_id)!r}.")
        return web.page(request, "licence.html", nav="catalogue", **context_of(view))

    @get("/rules/{rule_id:str}", name="rule_page", opt=READ, sync_to_thread=True)
    def rule(
        self,
        request: Request[Any, Any, Any],
        web: NamedDependency[Web],
        engine: NamedDependency[Engine],
        rule_id: Annotated[str, PathParameter(max_length=_MAX_TEXT)],
    ) -> Template:
        view = rule_view(engine, rule_id)
        if view is None:
            raise NotFoundException(detail=f"There is no rule with the id {_shown(rule_id)!r}.")
        return web.page(request, "rule.html", **context_of(view))
