"""What a sync would change in each model file and in the provider files, and what it leaves to a person.

Facts fall in two classes:

* **signals** change by nature (likes, downloads, derivative counts, last-modified date, hosted offers):
  sync replaces them, each with the upstream URL as ``source`` and the sync date as ``as_of``. Hosted
  offers live in provider files (``providers/<id>.toml``); sync manages only the offers it wrote itself
  (their source is the OpenRouter API), adds offers newly listed, and marks ``retired`` an offer it
  wrote that OpenRouter no longer lists. An offer curated from a provider's own pricing page is never
  changed: where OpenRouter states a different price for it, that is reported;
* **identity facts** (licence, parameter count, context length, gating) are curated: when an upstream
  disagrees, or states one the catalogue does not hold, sync reports it for review and changes nothing.

This module is pure: it turns observations (plain values read from the upstreams) and a catalogue model
into a :class:`ModelDiff`, and renders run reports as text or JSON. It does no I/O.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from service.domain.catalogue import Model, ModelFile, Offer, Provider, Quantisation
from service.domain.facts import Fact
from service.loading.sync.architecture import ArchitectureObservation

__all__ = [
    "DERIVATIVE_KINDS",
    "HUB_LICENCE_IDS",
    "IDENTITY_FIELDS",
    "SIGNAL_FIELDS",
    "Change",
    "Conflict",
    "DerivativeCount",
    "Failure",
    "HubObservation",
    "ModelDiff",
    "ModelResult",
    "OpenRouterObservation",
    "SyncReport",
    "Upstream",
    "diff_model",
    "licence_candidates",
    "render_text",
    "report_json",
]

Upstream = Literal["huggingface", "openrouter"]
ChangeKind = Literal["add", "update", "refresh"]
#: disagrees: upstream and curated values differ; unmapped: the upstream value has no catalogue equivalent;
#: not_curated: upstream states a value the catalogue lacks.
ConflictKind = Literal["disagrees", "unmapped", "not_curated"]

#: Facts sync refreshes (dotted paths in a model file).
SIGNAL_FIELDS: tuple[str, ...] = (
    "adoption.hf_likes",
    "adoption.hf_downloads_30d",
    "adoption.hf_derivatives",
    "adoption.hf_last_modified",
    "providers/<id>.toml offers",
)
#: Curated facts sync compares but never writes.
IDENTITY_FIELDS: tuple[str, ...] = ("licence", "parameters_total_b", "context_tokens", "gated")

#: Hub licence ids (the ``license:`` tag) whose catalogue licence is unambiguous. Ids such as ``other`` are
#: deliberately absent: they say nothing about which licence applies, so they are left to a person.
HUB_LICENCE_IDS: dict[str, frozenset[str]] = {
    "apache-2.0": frozenset({"apache-2.0"}),
    "mit": frozenset({"mit"}),
    "llama3.1": frozenset({"llama-3.1-community"}),
    "llama3.3": frozenset({"llama-3.3-community"}),
    "llama4": frozenset({"llama-4-community"}),
    "gemma": frozenset({"gemma-terms"}),
}

#: Relation kinds of the Hub's ``base_model:<kind>:<repo>`` tags, with the words used in reports.
DERIVATIVE_KINDS: dict[str, str] = {
    "finetune": "fine-tunes",
    "adapter": "adapters",
    "quantized": "quantisations",
    "merge": "merges",
}

_NOTES = {
    "hf_likes": "likes of the Hugging Face Hub model API",
    "hf_downloads_30d": "downloads of the Hugging Face Hub model API (downloads over the last 30 days)",
    "hf_last_modified": "lastModified of the Hugging Face Hub model API (UTC date)",
}
_OFFER_FIELDS = (
    "input_usd_per_m",
    "output_usd_per_m",
    "cached_input_usd_per_m",
    "context_tokens",
    "max_output_tokens",
    "quantisation",
    "status",
)


@dataclass(frozen=True)
class DerivativeCount:
    """Hub repos naming a model as base model, by relation (finetune, adapter, quantized, merge, other)."""

    total: int
    by_kind: Mapping[str, int]
    source: str


@dataclass(frozen=True)
class HubObservation:
    """What the Hugging Face Hub states about one repo."""

    repo_id: str
    source: str
    likes: int
    downloads_30d: int
    last_modified: dt.date | None
    licence: str | None
    licence_name: str | None
    parameters_total: int | None
    gated: bool | None
    derivatives: DerivativeCount | None
    architecture: ArchitectureObservation | None = None


@dataclass(frozen=True)
class OpenRouterObservation:
    """One provider serving a model as OpenRouter lists it, prices already in USD per million tokens.

    ``provider_id`` is the catalogue provider id (a file stem under ``providers/``); ``note`` says how the
    values were read and is written on the offer.
    """

    openrouter_id: str
    provider_id: str
    provider_name: str
    input_usd_per_m: float
    output_usd_per_m: float
    context_tokens: int | None
    source: str
    note: str
    cached_input_usd_per_m: float | None = None
    max_output_tokens: int | None = None
    quantisation: Quantisation | None = None
    source_kind: Literal["primary", "secondary"] = "secondary"


@dataclass(frozen=True)
class Change:
    """One value sync writes: ``refresh`` re-dates an unchanged value with the upstream as source."""

    field: str
    kind: ChangeKind
    old: Any
    new: Any
    upstream: Upstream
    source: str
    as_of: dt.date

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "field": self.field,
            "kind": self.kind,
            "old": _jsonable(self.old),
            "new": _jsonable(self.new),
            "upstream": self.upstream,
            "source": self.source,
            "as_of": self.as_of.isoformat(),
        }


@dataclass(frozen=True)
class Conflict:
    """An identity fact where an upstream and the curated catalogue part ways; never applied."""

    field: str
    kind: ConflictKind
    curated: Any
    upstream_value: Any
    upstream: Upstream
    source: str
    note: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "field": self.field,
            "kind": self.kind,
            "curated": _jsonable(self.curated),
            "upstream_value": _jsonable(self.upstream_value),
            "upstream": self.upstream,
            "source": self.source,
            "note": self.note,
        }


@dataclass(frozen=True)
class ModelDiff:
    """The changes and conflicts for one model, its file content with the changes applied, and its offers.

    ``offers`` maps each provider id whose offers of this model the sync touched to every offer of the model
    at that provider after the sync; ``new_providers`` names the providers that have no file yet.
    """

    model_id: str
    changes: tuple[Change, ...]
    conflicts: tuple[Conflict, ...]
    updated: ModelFile
    offers: Mapping[str, tuple[Offer, ...]] = field(default_factory=dict)
    new_providers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Failure:
    """Why one model could not be synced from one upstream."""

    upstream: Upstream
    url: str
    error: str
    attempts: int

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"upstream": self.upstream, "url": self.url, "error": self.error, "attempts": self.attempts}


class _JsonRecord(Protocol):
    def to_json(self) -> dict[str, Any]: ...


@dataclass
class ModelResult:
    """The outcome of a sync for one model file (``original`` is its bytes when it was read)."""

    model_id: str
    path: Path
    original: bytes | None = None
    failures: list[Failure] = field(default_factory=list)
    diff: ModelDiff | None = None

    @property
    def synced(self) -> bool:
        """True when every selected upstream answered usably."""
        return not self.failures and self.diff is not None

    @property
    def changes(self) -> tuple[Change, ...]:
        """What would be written (nothing for a model that failed)."""
        return self.diff.changes if self.diff is not None and self.synced else ()

    @property
    def conflicts(self) -> tuple[Conflict, ...]:
        """What is left to a person."""
        return self.diff.conflicts if self.diff is not None and self.synced else ()


@dataclass
class SyncReport:
    """The outcome of a sync run."""

    catalogue_dir: Path
    as_of: dt.date
    upstreams: tuple[Upstream, ...]
    results: list[ModelResult]
    attempts: Sequence[_JsonRecord] = ()
    written: list[Path] | None = None
    write_error: str | None = None
    #: Bytes of every provider file when the sync read it (by provider id), to refuse concurrent edits.
    provider_originals: Mapping[str, bytes] = field(default_factory=dict)

    @property
    def failed(self) -> list[ModelResult]:
        """Models not synced."""
        return [r for r in self.results if not r.synced]

    @property
    def to_write(self) -> list[ModelResult]:
        """Synced models whose file would change."""
        return [r for r in self.results if r.synced and r.changes]

    @property
    def exit_status(self) -> int:
        """0 when everything synced (conflicts alone do not fail a run), 1 otherwise."""
        return 1 if self.failed or self.write_error else 0


def licence_candidates(hub_licence: str | None) -> frozenset[str] | None:
    """Catalogue licence ids a Hub licence id stands for; None when it cannot be mapped."""
    if hub_licence is None:
        return None
    return HUB_LICENCE_IDS.get(hub_licence.lower())


def diff_model(
    model: Model,
    *,
    hub: HubObservation | None,
    openrouter: Sequence[OpenRouterObservation] | None,
    as_of: dt.date,
    openrouter_source: str = "",
    providers: Mapping[str, Provider] | None = None,
    parameter_tolerance: float = 0.05,
) -> ModelDiff:
    """Apply signals from the observations to ``model`` and report identity facts that disagree.

    ``hub`` / ``openrouter`` are None when that upstream was not part of the run; ``openrouter_source`` is
    the prefix of every OpenRouter API URL: an offer whose source starts with it was written by sync and is
    managed by it (retired when no longer listed). ``providers`` are the catalogue's provider records.
    ``parameter_tolerance`` is the relative difference between the Hub's safetensors count and the curated
    parameter count that is still taken as agreement (curated counts are nominal, such as 8.0 for 8.03 billion).
    """
    data = model.model_dump(exclude={"id"})
    changes: list[Change] = []
    conflicts: list[Conflict] = []
    offers: dict[str, tuple[Offer, ...]] = {}
    new_providers: dict[str, str] = {}
    if hub is not None:
        changes.extend(_hub_signals(data, hub, as_of))
        conflicts.extend(_hub_identity(model, hub, parameter_tolerance))
        if hub.architecture is not None:
            arch_changes, arch_conflicts = _hub_architecture(data, model, hub.architecture, as_of)
            changes.extend(arch_changes)
            conflicts.extend(arch_conflicts)
    if openrouter is not None:
        result = _openrouter(model, openrouter, providers or {}, as_of, openrouter_source)
        changes.extend(result.changes)
        conflicts.extend(result.conflicts)
        offers, new_providers = result.offers, result.new_providers
    updated = ModelFile.model_validate(data)
    return ModelDiff(
        model_id=model.id,
        changes=tuple(changes),
        conflicts=tuple(conflicts),
        updated=updated,
        offers=offers,
        new_providers=new_providers,
    )


def _set_fact(container: dict[str, Any], key: str, label: str, new: Fact[Any], upstream: Upstream) -> Change | None:
    old = container.get(key)
    fresh = new.model_dump()
    if old == fresh:
        return None
    container[key] = fresh
    if old is None:
        kind: ChangeKind = "add"
    elif old["value"] != new.value:
        kind = "update"
    else:
        kind = "refresh"
    return Change(
        field=label,
        kind=kind,
        old=None if old is None else old["value"],
        new=new.value,
        upstream=upstream,
        source=new.source,
        as_of=new.as_of,
    )


def _hub_architecture(
    data: dict[str, Any], model: Model, arch: ArchitectureObservation, as_of: dt.date
) -> tuple[list[Change], list[Conflict]]:
    """Propose [transformer] and [released_formats] where the catalogue has none; report disagreements."""
    changes: list[Change] = []
    conflicts: list[Conflict] = []
    proposed = arch.transformer
    if proposed is not None:
        curated = model.transformer
        if curated is None:
            data["transformer"] = {
                "source": arch.source,
                "as_of": as_of,
                "source_kind": "primary",
                "note": "Proposed by catalogue sync from the repo's config.json; check before committing.",
                **proposed,
            }
            changes.append(Change("transformer", "add", None, dict(proposed), "huggingface", arch.source, as_of))
        else:
            differing = {k: (getattr(curated, k), v) for k, v in proposed.items() if getattr(curated, k) != v}
            if differing:
                conflicts.append(
                    Conflict(
                        field="transformer",
                        kind="disagrees",
                        curated={k: c for k, (c, _) in differing.items()},
                        upstream_value={k: u for k, (_, u) in differing.items()},
                        upstream="huggingface",
                        source=arch.source,
                        note="config.json and the curated [transformer] table differ; a person decides.",
                    )
                )
    fmt = arch.weight_format
    if fmt is not None:
        released = model.released_formats
        if released is None:
            data["released_formats"] = {
                "value": [fmt],
                "source": arch.source,
                "as_of": as_of,
                "source_kind": "primary",
                "note": "The format of the repo's own checkpoint, from config.json (torch_dtype or "
                "quantization_config); other official releases are not listed.",
            }
            changes.append(Change("released_formats", "add", None, [fmt], "huggingface", arch.source, as_of))
        elif fmt not in released.value:
            conflicts.append(
                Conflict(
                    field="released_formats",
                    kind="disagrees",
                    curated=list(released.value),
                    upstream_value=[fmt],
                    upstream="huggingface",
                    source=arch.source,
                    note="The repo's checkpoint format is not among the curated released formats.",
                )
            )
    return changes, conflicts


def _hub_signals(data: dict[str, Any], hub: HubObservation, as_of: dt.date) -> list[Change]:
    adoption: dict[str, Any] = dict(data.get("adoption") or {})
    facts: list[tuple[str, Fact[Any]]] = [
        ("hf_likes", Fact[int](value=hub.likes, source=hub.source, as_of=as_of, note=_NOTES["hf_likes"])),
        (
            "hf_downloads_30d",
            Fact[int](value=hub.downloads_30d, source=hub.source, as_of=as_of, note=_NOTES["hf_downloads_30d"]),
        ),
    ]
    if hub.derivatives is not None:
        count = hub.derivatives
        facts.append(
            (
                "hf_derivatives",
                Fact[int](value=count.total, source=count.source, as_of=as_of, note=_derivatives_note(count)),
            )
        )
    if hub.last_modified is not None:
        facts.append(
            (
                "hf_last_modified",
                Fact[dt.date](value=hub.last_modified, source=hub.source, as_of=as_of, note=_NOTES["hf_last_modified"]),
            )
        )
    changes = [
        change
        for key, fact in facts
        if (change := _set_fact(adoption, key, f"adoption.{key}", fact, "huggingface")) is not None
    ]
    data["adoption"] = adoption
    return changes


def _derivatives_note(count: DerivativeCount) -> str:
    order = [*DERIVATIVE_KINDS, *sorted(set(count.by_kind) - set(DERIVATIVE_KINDS))]
    parts = [
        f"{DERIVATIVE_KINDS.get(kind, 'without a stated relation')} {count.by_kind[kind]}"
        for kind in order
        if count.by_kind.get(kind)
    ]
    detail = f": {', '.join(parts)}" if parts else ""
    return f"Hub repos whose metadata name this model as base model (Hub model search by base model){detail}"


def _hub_identity(model: Model, hub: HubObservation, tolerance: float) -> list[Conflict]:
    conflicts: list[Conflict] = []
    source = hub.source
    if hub.licence is not None:
        candidates = licence_candidates(hub.licence)
        shown = hub.licence + (f" (license_name {hub.licence_name!r})" if hub.licence_name else "")
        curated = model.licence.value
        if candidates is None:
            conflicts.append(
                Conflict(
                    "licence",
                    "unmapped",
                    curated,
                    hub.licence,
                    "huggingface",
                    source,
                    f"the Hub licence {shown} has no unambiguous catalogue licence; curated {curated!r} kept, "
                    "check the licence text",
                )
            )
        elif curated not in candidates:
            conflicts.append(
                Conflict(
                    "licence",
                    "disagrees",
                    curated,
                    hub.licence,
                    "huggingface",
                    source,
                    f"the Hub states licence {shown} (catalogue id {', '.join(sorted(candidates))}); "
                    f"curated {curated!r} kept",
                )
            )
    if hub.parameters_total is not None:
        billions = hub.parameters_total / 1e9
        shown = f"safetensors.total {hub.parameters_total:,} ({billions:.3f} B)"
        caveat = (
            "safetensors.total counts stored tensor elements: quantised or packed weights and extra modules can "
            "make it differ from the nominal count"
        )
        curated_params = model.parameters_total_b
        if curated_params is None:
            conflicts.append(
                Conflict(
                    "parameters_total_b",
                    "not_curated",
                    None,
                    round(billions, 3),
                    "huggingface",
                    source,
                    f"no curated value; the Hub states {shown}; {caveat}",
                )
            )
        elif abs(billions - curated_params.value) > tolerance * curated_params.value:
            conflicts.append(
                Conflict(
                    "parameters_total_b",
                    "disagrees",
                    curated_params.value,
                    round(billions, 3),
                    "huggingface",
                    source,
                    f"the Hub states {shown}, more than {tolerance:.0%} from the curated "
                    f"{curated_params.value:g} B; {caveat}",
                )
            )
    if hub.gated is not None:
        curated_gate = model.gated
        if curated_gate is None:
            conflicts.append(
                Conflict(
                    "gated",
                    "not_curated",
                    None,
                    hub.gated,
                    "huggingface",
                    source,
                    f"no curated value; the Hub states gated={str(hub.gated).lower()}",
                )
            )
        elif curated_gate.value != hub.gated:
            conflicts.append(
                Conflict(
                    "gated",
                    "disagrees",
                    curated_gate.value,
                    hub.gated,
                    "huggingface",
                    source,
                    f"the Hub states gated={str(hub.gated).lower()}; curated value kept",
                )
            )
    return conflicts


@dataclass
class _OfferDiff:
    changes: list[Change] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    offers: dict[str, tuple[Offer, ...]] = field(default_factory=dict)
    new_providers: dict[str, str] = field(default_factory=dict)


def _offer_changes(label: str, old: Offer | None, fresh: Offer, upstream: Upstream) -> list[Change]:
    before_all = {} if old is None else old.model_dump()
    after_all = fresh.model_dump()
    changes = []
    for name in _OFFER_FIELDS:
        before, after = before_all.get(name), after_all[name]
        if old is None and (after is None or name == "status"):
            continue
        kind: ChangeKind = "add" if old is None else ("update" if before != after else "refresh")
        if kind == "refresh" and name not in ("input_usd_per_m", "output_usd_per_m"):
            continue
        changes.append(Change(f"{label}.{name}", kind, before, after, upstream, fresh.source, fresh.as_of))
    return changes


def _openrouter(
    model: Model,
    listings: Sequence[OpenRouterObservation],
    providers: Mapping[str, Provider],
    as_of: dt.date,
    managed_prefix: str,
) -> _OfferDiff:
    """Offers of ``model`` per provider after the sync, with the changes and the conflicts left to a person."""
    result = _OfferDiff()

    def managed(offer: Offer) -> bool:
        return bool(managed_prefix) and offer.source.startswith(managed_prefix)

    current: dict[str, list[Offer]] = {
        pid: [o for o in provider.offers if o.model == model.id] for pid, provider in sorted(providers.items())
    }
    observed: dict[str, OpenRouterObservation] = {}
    for listing in sorted(listings, key=lambda o: (o.provider_id, o.openrouter_id)):
        observed.setdefault(listing.provider_id, listing)  # one offer per provider: the first OpenRouter id
    curated_context = model.context_tokens.value if model.context_tokens is not None else None
    for listing in sorted({(o.openrouter_id, o.context_tokens): o for o in listings}.values(), key=_context_key):
        if (
            listing.context_tokens is not None
            and curated_context is not None
            and listing.context_tokens > curated_context
        ):
            result.conflicts.append(
                Conflict(
                    "context_tokens",
                    "disagrees",
                    curated_context,
                    listing.context_tokens,
                    "openrouter",
                    listing.source,
                    f"{listing.provider_name} serves {listing.openrouter_id} with a context of "
                    f"{listing.context_tokens:,} tokens, more than the curated native window; curated value kept "
                    "(a host may extend the window, e.g. with YaRN: see context_extension)",
                )
            )
    for pid, listing in observed.items():
        offers = list(current.get(pid, []))
        fresh = Offer(
            model=model.id,
            input_usd_per_m=listing.input_usd_per_m,
            output_usd_per_m=listing.output_usd_per_m,
            cached_input_usd_per_m=listing.cached_input_usd_per_m,
            price_basis="flat",
            context_tokens=listing.context_tokens,
            max_output_tokens=listing.max_output_tokens,
            quantisation=listing.quantisation,
            source=listing.source,
            as_of=as_of,
            source_kind=listing.source_kind,
            note=listing.note,
        )
        label = f"offers[{pid}]"
        mine = [k for k, o in enumerate(offers) if managed(o) and o.price_basis == "flat"]
        curated = [o for o in offers if not managed(o) and o.status == "active" and o.price_basis == "flat"]
        if curated and not mine:
            for o in curated:
                if (o.input_usd_per_m, o.output_usd_per_m) != (fresh.input_usd_per_m, fresh.output_usd_per_m):
                    result.conflicts.append(
                        Conflict(
                            label,
                            "disagrees",
                            f"{o.input_usd_per_m}/{o.output_usd_per_m}",
                            f"{fresh.input_usd_per_m}/{fresh.output_usd_per_m}",
                            "openrouter",
                            listing.source,
                            f"OpenRouter lists {listing.provider_name} at these USD per M input/output tokens; the "
                            f"curated offer (source {o.source}, as of {o.as_of.isoformat()}) is kept",
                        )
                    )
            continue
        old = offers[mine[0]] if mine else None
        if old == fresh:
            continue
        result.changes.extend(_offer_changes(label, old, fresh, "openrouter"))
        if old is None:
            offers.append(fresh)
        else:
            offers[mine[0]] = fresh
        result.offers[pid] = tuple(offers)
        if pid not in providers:
            result.new_providers[pid] = listing.provider_name
    for pid, offers in current.items():
        if pid in observed:
            continue
        gone = [k for k, o in enumerate(offers) if managed(o) and o.status == "active"]
        if not gone:
            continue
        updated = list(offers)
        for k in gone:
            old = offers[k]
            note = f"No longer listed by OpenRouter on {as_of.isoformat()}."
            updated[k] = old.model_copy(
                update={"status": "retired", "note": f"{old.note} {note}" if old.note else note}
            )
            result.changes.append(
                Change(f"offers[{pid}].status", "update", "active", "retired", "openrouter", managed_prefix, as_of)
            )
        result.offers[pid] = tuple(updated)
    return result


def _context_key(listing: OpenRouterObservation) -> tuple[str, str]:
    return (listing.provider_id, listing.openrouter_id)


# --- rendering -----------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, dt.date):
        return value.isoformat()
    return json.dumps(value, ensure_ascii=False)


def _relative(report: SyncReport, path: Path) -> str:
    try:
        return path.relative_to(report.catalogue_dir).as_posix()
    except ValueError:
        return str(path)


def render_text(report: SyncReport, *, dry_run: bool) -> str:
    """A reviewable diff per model file, then the conflicts, failures and a summary."""
    lines: list[str] = []
    for result in report.results:
        if not (result.changes or result.conflicts or result.failures):
            continue
        lines.append(f"--- {_relative(report, result.path)}  ({result.model_id})")
        refreshed = [c for c in result.changes if c.kind == "refresh"]
        for change in result.changes:
            if change.kind == "refresh":
                continue
            marker = "+" if change.kind == "add" else "~"
            lines.append(
                f"  {marker} {change.field}: {_show(change.old)} -> {_show(change.new)}"
                f"  [{change.upstream}, as_of {change.as_of.isoformat()}, source {change.source}]"
            )
        for change in refreshed:
            lines.append(
                f"  = {change.field}: {_show(change.new)} unchanged, re-dated"
                f"  [{change.upstream}, as_of {change.as_of.isoformat()}, source {change.source}]"
            )
        for conflict in result.conflicts:
            lines.append(f"  ! {conflict.field} ({conflict.kind}, not applied): {conflict.note}  [{conflict.source}]")
        for failure in result.failures:
            lines.append(f"  x {failure.upstream} failed: {failure.error}  [{failure.url}]")
        lines.append("")
    lines.extend(_summary(report, dry_run=dry_run))
    return "\n".join(lines) + "\n"


def _summary(report: SyncReport, *, dry_run: bool) -> list[str]:
    results = report.results
    synced = [r for r in results if r.synced]
    disagreements = sum(1 for r in results for c in r.conflicts if c.kind == "disagrees")
    notices = sum(1 for r in results for c in r.conflicts if c.kind != "disagrees")
    lines = [
        f"Sync of {len(results)} model(s) from {', '.join(report.upstreams)} as of {report.as_of.isoformat()}: "
        f"{len(synced)} synced, {len(report.to_write)} with changes, {len(report.failed)} failed; "
        f"{disagreements} conflict(s) and {notices} notice(s) for review (not applied).",
    ]
    if report.failed:
        lines.append("Failed (model, upstream, last error):")
        for result in report.failed:
            for failure in result.failures:
                lines.append(f"  {result.model_id}  {failure.upstream}  {failure.error}")
    if report.write_error:
        lines.append(f"Write failed, the catalogue is unchanged: {report.write_error}")
    elif report.written is not None:
        lines.append(f"Wrote {len(report.written)} file(s).")
    elif dry_run:
        lines.append("Dry run: nothing written. Run again with --write to apply the changes above.")
    return lines


def report_json(report: SyncReport, *, dry_run: bool) -> dict[str, Any]:
    """The run as JSON-ready data, for machines."""
    return {
        "catalogue_dir": str(report.catalogue_dir),
        "as_of": report.as_of.isoformat(),
        "upstreams": list(report.upstreams),
        "dry_run": dry_run,
        "exit_status": report.exit_status,
        "models": [
            {
                "id": r.model_id,
                "path": _relative(report, r.path),
                "synced": r.synced,
                "changes": [c.to_json() for c in r.changes],
                "conflicts": [c.to_json() for c in r.conflicts],
                "failures": [f.to_json() for f in r.failures],
            }
            for r in report.results
        ],
        "written": None if report.written is None else [_relative(report, p) for p in report.written],
        "write_error": report.write_error,
        "attempts": [a.to_json() for a in report.attempts],
    }
