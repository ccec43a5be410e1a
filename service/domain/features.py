"""Per-model features computed once when the catalogue loads, as NumPy columns.

Requests then combine columns instead of walking model records, so an answer costs a few vector
operations plus the explanation of the models it names.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt

from service.domain.answer import trusted
from service.domain.architecture import WEIGHT_FORMATS
from service.domain.catalogue import Catalogue, HostedOffer, Model, Organisation
from service.domain.facts import Evidence, Fact
from service.domain.hardware import ModelArchitecture
from service.domain.measurements import Measurement
from service.domain.rules import Criterion, Licence, RuleSet

__all__ = [
    "Column",
    "Features",
    "api_cost_criterion",
    "api_prices",
    "compile_features",
    "fact_evidence",
    "measurement_evidence",
    "offer_evidence",
    "priced_offers",
]

T = TypeVar("T")
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
PRECISIONS: tuple[str, ...] = ("native", *WEIGHT_FORMATS)
FINE_TUNING = ("none", "lora", "full")


class PerModel(Generic[T]):
    """Per-model objects (evidence, statuses), each model's built on first use: an answer cites a few models,
    so building every model's when the catalogue loads would cost start-up time for objects most answers never
    show. Built entries are kept (an engine's data does not change); concurrent first uses build equal ones.
    """

    __slots__ = ("_built", "_make")

    def __init__(self, make: Callable[[int], T], n: int) -> None:
        self._make = make
        self._built: list[T | None] = [None] * n

    @classmethod
    def of(cls, built: Sequence[T]) -> PerModel[T]:
        """Objects already built (or shared between models)."""
        made: PerModel[T] = cls(built.__getitem__, len(built))
        made._built = list(built)
        return made

    def __len__(self) -> int:
        return len(self._built)

    def __getitem__(self, i: int) -> T:
        found = self._built[i]
        if found is None:
            found = self._built[i] = self._make(i)
        return found


@dataclass(frozen=True)
class Column:
    """One model-side field: values (NaN or None when unknown), a known mask, and per-model evidence."""

    values: npt.NDArray[Any]
    known: BoolArray
    numeric: bool
    evidence: PerModel[tuple[Evidence, ...]]


@dataclass(frozen=True)
class Features:
    """Everything the engine needs per model, aligned by index with ``ids``."""

    ids: tuple[str, ...]
    index: dict[str, int]
    models: tuple[Model, ...]
    licences: tuple[Licence, ...]
    columns: dict[str, Column]
    display: PerModel[dict[str, str]]  #: each model's facts as message placeholders, built on first use
    memory_gb: dict[tuple[str, str], FloatArray]
    weights_gb: dict[str, FloatArray]
    criterion_value: dict[str, FloatArray]
    criterion_known: dict[str, BoolArray]
    released_ordinal: FloatArray
    hardware_efficiency: dict[tuple[str, str], FloatArray]
    architecture: ModelArchitecture
    total_b: FloatArray
    active_b: FloatArray
    offers: tuple[tuple[HostedOffer, ...], ...]
    #: Each model's offers as evidence, in the order of ``offers`` (built on first use, then shared by every
    #: explanation and column that cites them: one object per offer, however many answers cite it).
    offer_evidence: PerModel[tuple[Evidence, ...]]


def fact_evidence(name: str, fact: Fact[Any] | None) -> tuple[Evidence, ...]:
    """Evidence for a fact, or nothing when the fact is unknown."""
    if fact is None:
        return ()
    return (
        trusted(
            Evidence,
            fact=name,
            value=fact.value,
            source=fact.source,
            as_of=fact.as_of,
            note=fact.note,
            source_kind=fact.source_kind,
        ),
    )


def measurement_evidence(measurement: Measurement, name: str) -> Evidence:
    """A measurement as cited in an answer: the variant's name, who measured it (``measured_by``), mode and setting."""
    detail = []
    if measurement.mode:
        detail.append(f"{measurement.mode.replace('_', '-')} mode")
    if measurement.setting:
        detail.append(measurement.setting)
    if measurement.note:
        detail.append(measurement.note)
    return trusted(
        Evidence,
        fact=f"benchmark {name}",
        value=measurement.value,
        source=measurement.source,
        as_of=measurement.as_of,
        note="; ".join(detail) or None,
        source_kind=measurement.source_kind,
        measured_by=measurement.measured_by,
    )


def licence_evidence(licence: Licence, field: str) -> tuple[Evidence, ...]:
    """Evidence for a licence term: the licence file's source and date."""
    value = getattr(licence, field) if field != "separate_licence_above_mau" else licence.separate_licence_above_mau
    if isinstance(value, float) and math.isinf(value):
        value = "no cap"
    return (
        trusted(
            Evidence, fact=f"licence {licence.id}: {field}", value=value, source=licence.source, as_of=licence.as_of
        ),
    )


def offer_evidence(hosted: HostedOffer) -> Evidence:
    """An offer as evidence: provider, basis, price, status, source and date."""
    o = hosted.offer
    parts = [f"{o.input_usd_per_m}/{o.output_usd_per_m} USD per M input/output tokens"]
    if o.cached_input_usd_per_m is not None:
        parts.append(f"cached input {o.cached_input_usd_per_m}")
    if o.status != "active":
        parts.append(o.status)
    return trusted(
        Evidence,
        fact=f"offer: {hosted.label}",
        value=", ".join(parts),
        source=o.source,
        as_of=o.as_of,
        note=o.note,
        source_kind=o.source_kind,
    )


def priced_offers(offers: tuple[HostedOffer, ...], cost: Criterion) -> tuple[HostedOffer, ...]:
    """The offers a cost comparison may use: active, on a price basis the cost criterion compares."""
    bases = cost.price_bases or ["flat", "peak"]
    return tuple(o for o in offers if o.usable and o.offer.price_basis in bases)


def _offer_evidence(model: Model, offers: tuple[HostedOffer, ...], facts: tuple[Evidence, ...]) -> tuple[Evidence, ...]:
    """The active offers (``facts``: each of ``offers`` as evidence); when there are none, the catalogue entry
    itself is the evidence of absence."""
    active = [fact for o, fact in zip(offers, facts, strict=True) if o.usable]
    if active:
        return tuple(active)
    dates = [f.as_of for f in (model.released, model.licence, model.parameters_total_b, model.context_tokens) if f]
    inactive = [o for o in offers if not o.usable]
    return (
        trusted(
            Evidence,
            fact="offers",
            value="none active" if inactive else "none recorded",
            source=f"catalogue entry {model.id}",
            as_of=max(dates),
            note=(
                "Only retired or superseded offers are recorded ("
                + "; ".join(f"{o.provider}: {o.offer.status} as of {o.offer.as_of.isoformat()}" for o in inactive)
                + "); they are never used."
                if inactive
                else "No hosted offer is recorded; a catalogue sync from OpenRouter adds offers that exist."
            ),
        ),
        *(fact for o, fact in zip(offers, facts, strict=True) if not o.usable),
    )


def _context_max(model: Model) -> int | None:
    if model.context_extension is not None:
        return model.context_extension.tokens
    return model.context_tokens.value if model.context_tokens is not None else None


def _context_evidence(model: Model) -> tuple[Evidence, ...]:
    native = fact_evidence("context_tokens", model.context_tokens)
    extension = model.context_extension
    if extension is None:
        return native
    return (
        *native,
        trusted(
            Evidence,
            fact="context_extension",
            value=f"{extension.tokens:,} tokens with {extension.method}",
            source=extension.source,
            as_of=extension.as_of,
            note=extension.note,
            source_kind=extension.source_kind,
        ),
    )


def _context_window_text(model: Model) -> str:
    extension = model.context_extension
    if extension is None:
        return f"{model.context_tokens.value:,}" if model.context_tokens else "unknown"
    native = f"{model.context_tokens.value:,}" if model.context_tokens else "unknown"
    return f"{extension.tokens:,} (extended with {extension.method}; native {native})"


def _hosting(offers: tuple[HostedOffer, ...]) -> tuple[frozenset[str], bool]:
    active = [o for o in offers if o.usable]
    countries = frozenset(o.country.value for o in active if o.country is not None)
    return countries, all(o.country is not None for o in active)


def _hosting_text(offers: tuple[HostedOffer, ...]) -> str:
    """Each active offer's provider with its country, e.g. 'DeepSeek API (CN); Novita (country not recorded)'."""
    names: dict[str, str] = {}
    for o in offers:
        if o.usable:
            names[o.provider] = o.country.value if o.country is not None else "country not recorded"
    return "; ".join(f"{name} ({country})" for name, country in names.items()) or "no active offer"


def _hosting_evidence(offers: tuple[HostedOffer, ...]) -> tuple[Evidence, ...]:
    """The country fact of each provider with an active offer (a provider is cited once)."""
    seen: dict[str, list[Evidence]] = {}
    for o in offers:
        if o.usable and o.country is not None and o.provider_id not in seen:
            seen[o.provider_id] = [
                trusted(
                    Evidence,
                    fact=f"provider {o.provider}: country",
                    value=o.country.value,
                    source=o.country.source,
                    as_of=o.country.as_of,
                    note=o.country.note,
                    source_kind=o.country.source_kind,
                )
            ]
            if o.regions is not None:
                # Where it states it serves or keeps data: shown for the reviewer, not judged by the rule.
                seen[o.provider_id].append(
                    trusted(
                        Evidence,
                        fact=f"provider {o.provider}: regions",
                        value=", ".join(o.regions.value),
                        source=o.regions.source,
                        as_of=o.regions.as_of,
                        note=o.regions.note,
                        source_kind=o.regions.source_kind,
                    )
                )
    return tuple(e for found in seen.values() for e in found)


def _object_array(values: list[Any]) -> npt.NDArray[Any]:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def api_prices(
    features: Features, cost: Criterion, input_share: float, allowed: frozenset[str] | None = None
) -> tuple[FloatArray, list[HostedOffer | None]]:
    """Per model: the cheapest blended price (NaN when none) among the offers that may rank, and that offer.

    Offers rank when active and on a price basis the cost criterion compares; with ``allowed`` (the request's
    hosting countries), only offers from providers recorded in those countries.
    """
    prices = np.full(len(features.ids), np.nan)
    best: list[HostedOffer | None] = []
    for i, offered in enumerate(features.offers):
        choice: HostedOffer | None = None
        low = math.inf
        for o in priced_offers(offered, cost):
            if allowed is not None and (o.country is None or o.country.value not in allowed):
                continue
            blended = input_share * o.offer.input_usd_per_m + (1 - input_share) * o.offer.output_usd_per_m
            if blended < low:
                choice, low = o, blended
        best.append(choice)
        if choice is not None:
            prices[i] = low
    return prices, best


def api_cost_criterion(features: Features, cost: Criterion, prices: FloatArray) -> tuple[FloatArray, BoolArray]:
    """The cost criterion for deployment 'api': log-scaled, inverted blended prices, missing as the file says."""
    known = ~np.isnan(prices)
    return _fill_missing(_log_scale(np.nan_to_num(prices, nan=1.0), known, invert=True), known, cost.missing), known


def _log_scale(raw: FloatArray, known: BoolArray, invert: bool) -> FloatArray:
    """Map known positive values to 0-1 on a log scale between the catalogue's min and max."""
    out = np.zeros_like(raw)
    if not known.any():
        return out
    logs = np.log10(np.where(known, np.maximum(raw, 1e-12), 1.0))
    low, high = logs[known].min(), logs[known].max()
    scaled = np.ones_like(raw) if high == low else (logs - low) / (high - low)
    scaled = 1.0 - scaled if invert else scaled
    return np.where(known, scaled, 0.0)


def _fill_missing(values: FloatArray, known: BoolArray, policy: str) -> FloatArray:
    if policy == "catalogue_median" and known.any():
        return np.where(known, values, float(np.median(values[known])))
    return np.where(known, values, 0.0)


def _num(facts: list[Fact[Any] | None]) -> tuple[FloatArray, BoolArray]:
    values = np.array([float(f.value) if f is not None else np.nan for f in facts], dtype=np.float64)
    return values, ~np.isnan(values)


def _display(m: Model, lic: Licence, org: Organisation, offered: tuple[HostedOffer, ...]) -> dict[str, str]:
    """Model ``m``'s facts as message placeholders (see :attr:`Features.display`)."""
    return {
        "model.name": m.name,
        "model.id": m.id,
        "model.context_tokens": f"{m.context_tokens.value:,}" if m.context_tokens else "unknown",
        "model.context_tokens_max": _context_window_text(m),
        "offers.hosting": _hosting_text(offered),
        "model.reasoning": m.reasoning.value if m.reasoning else "unknown",
        "model.input_modalities": ", ".join(m.input_modalities.value) if m.input_modalities else "unknown",
        "licence.name": lic.name,
        "licence.id": lic.id,
        "licence.kind": lic.kind,
        "licence.outputs_training": lic.outputs_training,
        "licence.separate_licence_above_mau": (
            f"{lic.separate_licence_above_mau:,.0f}" if math.isfinite(lic.separate_licence_above_mau) else "no cap"
        ),
        "organisation.name": org.name,
        "organisation.country": org.country.value,
    }


def compile_features(catalogue: Catalogue, rules: RuleSet) -> Features:
    """Compute every per-model column and criterion input once."""
    models = tuple(catalogue.models[i] for i in sorted(catalogue.models))
    ids = tuple(m.id for m in models)
    n = len(models)
    licences = tuple(rules.licences[m.licence.value] for m in models)
    orgs = tuple(catalogue.organisations[m.organisation] for m in models)
    columns: dict[str, Column] = {}
    offers = tuple(catalogue.offers_for(m.id) for m in models)
    offered_evidence = PerModel(lambda i: tuple(offer_evidence(o) for o in offers[i]), n)

    def lazy(make: Callable[[Model], tuple[Evidence, ...]]) -> PerModel[tuple[Evidence, ...]]:
        return PerModel(lambda i: make(models[i]), n)

    def obj_column(values: list[Any], evidence: list[tuple[Evidence, ...]] | PerModel[tuple[Evidence, ...]]) -> Column:
        array = np.empty(n, dtype=object)
        array[:] = values
        known = np.array([v is not None for v in values], dtype=bool)
        return Column(array, known, False, evidence if isinstance(evidence, PerModel) else PerModel.of(evidence))

    def num_column(
        values: list[float | None], evidence: list[tuple[Evidence, ...]] | PerModel[tuple[Evidence, ...]]
    ) -> Column:
        array = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
        return Column(
            array, ~np.isnan(array), True, evidence if isinstance(evidence, PerModel) else PerModel.of(evidence)
        )

    def model_fact(field: str) -> tuple[list[Any], PerModel[tuple[Evidence, ...]]]:
        values = [f.value if (f := getattr(m, field)) is not None else None for m in models]
        return values, lazy(lambda m: fact_evidence(field, getattr(m, field)))

    columns["model.id"] = obj_column(list(ids), [() for _ in models])
    columns["model.family"] = obj_column([m.family for m in models], [() for _ in models])
    for field in ("reasoning", "training_data"):
        columns[f"model.{field}"] = obj_column(*model_fact(field))
    values, evidence = model_fact("input_modalities")
    columns["model.input_modalities"] = obj_column([frozenset(v) if v is not None else None for v in values], evidence)
    for field in ("context_tokens", "parameters_total_b"):
        columns[f"model.{field}"] = num_column(*model_fact(field))
    columns["model.has_offer"] = obj_column(
        [any(o.usable for o in offered) for offered in offers],
        PerModel(lambda i: _offer_evidence(models[i], offers[i], offered_evidence[i]), n),
    )
    columns["model.context_tokens_max"] = num_column(
        [_context_max(m) for m in models],
        lazy(_context_evidence),
    )
    # Countries of the providers of the active offers. Known when every such provider's country is recorded;
    # a request also treats it as known when a recorded country is allowed (see Engine.recommend).
    hosting = [_hosting(offered) for offered in offers]
    columns["offers.hosting_countries"] = Column(
        _object_array([countries for countries, _ in hosting]),
        np.array([complete for _, complete in hosting], dtype=bool),
        numeric=False,
        evidence=PerModel(lambda i: _hosting_evidence(offers[i]), n),
    )

    # Licence and organisation evidence is the same for every model that shares the licence or organisation:
    # built once per licence or organisation (frozen objects, shared), not once per model.
    def per_licence(field: str) -> list[tuple[Evidence, ...]]:
        by_id = {lic.id: licence_evidence(lic, field) for lic in rules.licences.values()}
        return [by_id[lic.id] for lic in licences]

    def per_organisation(evidence: Callable[[Organisation], tuple[Evidence, ...]]) -> list[tuple[Evidence, ...]]:
        by_id = {o.id: evidence(o) for o in {o.id: o for o in orgs}.values()}
        return [by_id[o.id] for o in orgs]

    for field in ("id", "kind", "commercial_use", "derivatives_permitted", "outputs_training"):
        raw = [getattr(lic, field) for lic in licences]
        if field == "outputs_training":
            raw = [None if v == "unknown" else v for v in raw]
        columns[f"licence.{field}"] = obj_column(raw, per_licence(field))
    columns["licence.separate_licence_above_mau"] = num_column(
        [lic.separate_licence_above_mau for lic in licences], per_licence("separate_licence_above_mau")
    )
    columns["organisation.id"] = obj_column([o.id for o in orgs], [() for _ in orgs])
    columns["organisation.country"] = obj_column(
        [o.country.value for o in orgs],
        per_organisation(lambda o: fact_evidence(f"organisation {o.id}: country", o.country)),
    )
    # Regulatory facts (see service.domain.compliance). An organisation never checked against export-control
    # lists is unknown, so a rule that needs the fact excludes it with the missing fact named.
    columns["model.training_compute_flop"] = num_column(*model_fact("training_compute_flop"))
    columns["organisation.export_restricted"] = obj_column(
        [o.export_controls.restricted if o.export_controls else None for o in orgs],
        per_organisation(lambda o: o.export_controls.evidence(o.id) if o.export_controls else ()),
    )
    searched_on = rules.regulatory.provenance.searched_on
    columns["organisation.provenance_disputed"] = obj_column(
        [bool(o.provenance_allegations) for o in orgs],
        per_organisation(
            lambda o: (
                tuple(a.evidence(o.id) for a in o.provenance_allegations)
                or (
                    trusted(
                        Evidence,
                        fact=f"organisation {o.id}: provenance allegations",
                        value="none recorded",
                        source=f"catalogue entry organisations/{o.id}",
                        as_of=searched_on,
                        note=rules.regulatory.provenance.search_note,
                    ),
                )
            )
        ),
    )

    # Built per model on first use: an answer writes messages for the few models it returns.
    display = PerModel(lambda i: _display(models[i], licences[i], orgs[i], offers[i]), n)

    # Hardware: weights at each precision, then the allowance for the chosen fine-tuning mode.
    hw = rules.hardware
    total, total_known = _num([m.parameters_total_b for m in models])
    architecture = ModelArchitecture.of(models, hw.bytes_per_parameter)
    per_parameter: dict[str, FloatArray] = {p: np.full(n, hw.bytes_per_parameter[p]) for p in WEIGHT_FORMATS}
    per_parameter["native"] = np.array([hw.bytes_per_parameter[f or "bf16"] for f in architecture.native])
    weights_gb: dict[str, FloatArray] = {p: total * per_parameter[p] for p in PRECISIONS}
    memory_gb: dict[tuple[str, str], FloatArray] = {}
    for p in PRECISIONS:
        memory_gb[(p, "none")] = weights_gb[p] * (1 + hw.inference_overhead_fraction)
        memory_gb[(p, "lora")] = weights_gb[p] * (1 + hw.lora_overhead_fraction)
        memory_gb[(p, "full")] = total * hw.full_fine_tuning_bytes_per_parameter
    hardware_efficiency = {
        key: _log_scale(np.nan_to_num(mem, nan=1.0), total_known, invert=True) for key, mem in memory_gb.items()
    }

    criterion_value: dict[str, FloatArray] = {}
    criterion_known: dict[str, BoolArray] = {}

    openness = rules.criteria["openness"]
    kind_scores = openness.licence_kind_scores or {}
    data_scores = openness.training_data_scores or {}
    part = openness.part_weights or {"licence": 1.0, "training_data": 0.0}
    lic_part = np.array([kind_scores.get(lic.kind, 0.0) for lic in licences])
    data_known = np.array([m.training_data is not None for m in models])
    data_part = np.array([data_scores.get(m.training_data.value, 0.0) if m.training_data else 0.0 for m in models])
    criterion_value["openness"] = part["licence"] * lic_part + part["training_data"] * data_part
    criterion_known["openness"] = data_known

    cost = rules.criteria["cost"]
    active, active_known = _num([m.parameters_active_b or m.parameters_total_b for m in models])
    criterion_value["cost_self"] = _fill_missing(
        _log_scale(np.nan_to_num(active, nan=1.0), active_known, invert=True), active_known, cost.missing
    )
    criterion_known["cost_self"] = active_known

    adoption = rules.criteria["adoption"]
    signals = [
        _num([m.adoption.hf_likes for m in models]),
        _num([m.adoption.hf_downloads_30d for m in models]),
        _num([m.adoption.openrouter_token_share for m in models]),
    ]
    scaled = [(_log_scale(np.nan_to_num(v, nan=1.0), k, invert=False), k) for v, k in signals]
    count = np.sum([k.astype(np.float64) for _, k in scaled], axis=0)
    adoption_known = count > 0
    mean = np.divide(
        np.sum([np.where(k, v, 0) for v, k in scaled], axis=0), count, out=np.zeros(n), where=adoption_known
    )
    criterion_value["adoption"] = _fill_missing(mean, adoption_known, adoption.missing)
    criterion_known["adoption"] = adoption_known

    ecosystem = rules.criteria["ecosystem"]
    derivative_facts = [m.adoption.hf_derivatives or org.derivative_models for m, org in zip(models, orgs, strict=True)]
    derivatives, derivatives_known = _num(list(derivative_facts))
    criterion_value["ecosystem"] = _fill_missing(
        _log_scale(np.nan_to_num(derivatives, nan=1.0), derivatives_known, invert=False),
        derivatives_known,
        ecosystem.missing,
    )
    criterion_known["ecosystem"] = derivatives_known

    reasoning = rules.criteria["reasoning"]
    reasoning_scores = reasoning.reasoning_scores or {}
    criterion_known["reasoning"] = np.array([m.reasoning is not None for m in models])
    criterion_value["reasoning"] = _fill_missing(
        np.array([reasoning_scores.get(m.reasoning.value, 0.0) if m.reasoning else 0.0 for m in models]),
        criterion_known["reasoning"],
        reasoning.missing,
    )
    released_ordinal = np.array([m.released_on.toordinal() for m in models], dtype=np.float64)

    return Features(
        ids=ids,
        index={model_id: i for i, model_id in enumerate(ids)},
        models=models,
        licences=licences,
        columns=columns,
        display=display,
        memory_gb=memory_gb,
        weights_gb=weights_gb,
        criterion_value=criterion_value,
        criterion_known=criterion_known,
        released_ordinal=released_ordinal,
        hardware_efficiency=hardware_efficiency,
        offers=offers,
        offer_evidence=offered_evidence,
        architecture=architecture,
        total_b=total,
        active_b=_num([m.parameters_active_b for m in models])[0],
    )
