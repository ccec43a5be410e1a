"""Catalogue sync from the Hugging Face Hub and OpenRouter: fault-tolerant, reviewable, never a partial write.

:func:`sync_catalogue` reads the catalogue, asks the selected upstreams about each model over one shared
HTTP client, and returns a :class:`~service.loading.sync.diff.SyncReport`: per model file the changes to
signals and hosted offers, the identity conflicts left to a person, or why the model failed. Nothing is
written until :func:`write_report`, which replaces the model files and provider files of every synced
model with changes atomically (all or none); a model that failed on any upstream is never written. The
command line is in :mod:`service.loading.sync.cli`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from service.domain.catalogue import Offer, ProviderFile
from service.domain.errors import UnknownModelError
from service.loading.files import dump_model_file, dump_provider_file, load_catalogue, model_path, provider_path
from service.loading.sync.apply import AtomicWriteError, CatalogueChangedError, write_files_atomically
from service.loading.sync.diff import (
    Failure,
    HubObservation,
    ModelResult,
    SyncReport,
    Upstream,
    diff_model,
)
from service.loading.sync.options import DEFAULT_HF_ENDPOINT, DEFAULT_OPENROUTER_BASE_URL, RetryPolicy

if TYPE_CHECKING:
    from service.loading.sync.openrouter import OpenRouterListing

__all__ = [
    "UPSTREAMS",
    "AtomicWriteError",
    "CatalogueChangedError",
    "RetryPolicy",
    "SyncConfig",
    "SyncReport",
    "sync_catalogue",
    "write_report",
]

#: ``--source`` values and the upstreams they select.
UPSTREAMS: dict[str, tuple[Upstream, ...]] = {
    "hf": ("huggingface",),
    "openrouter": ("openrouter",),
    "all": ("huggingface", "openrouter"),
}


@dataclass(frozen=True)
class SyncConfig:
    """Where the upstreams are and how patient the run is with them."""

    hf_endpoint: str = DEFAULT_HF_ENDPOINT
    hf_token: str | None = field(default=None, repr=False)
    openrouter_base_url: str = DEFAULT_OPENROUTER_BASE_URL
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    #: Relative gap between the Hub's safetensors count and the curated parameter count still taken as equal.
    parameter_tolerance: float = 0.05
    derivatives: bool = True
    max_pages: int = 200
    #: The sync date written as ``as_of``; None means today (UTC) when the run starts.
    as_of: dt.date | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> SyncConfig:
        """Read ``HF_ENDPOINT``, ``HF_TOKEN`` and ``OPENROUTER_BASE_URL``; ``overrides`` win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {
            "hf_endpoint": env.get("HF_ENDPOINT") or DEFAULT_HF_ENDPOINT,
            "hf_token": env.get("HF_TOKEN") or None,
            "openrouter_base_url": env.get("OPENROUTER_BASE_URL") or DEFAULT_OPENROUTER_BASE_URL,
        }
        values.update(overrides)
        return cls(**values)

    def with_policy(self, **changes: Any) -> SyncConfig:
        """A copy with some retry-policy settings replaced (None values are ignored)."""
        given = {k: v for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, policy=dataclasses.replace(self.policy, **given)) if given else self


async def sync_catalogue(
    catalogue_dir: Path,
    config: SyncConfig,
    *,
    upstreams: Sequence[Upstream] = ("huggingface", "openrouter"),
    model_ids: Sequence[str] | None = None,
    as_of: dt.date | None = None,
) -> SyncReport:
    """Ask the upstreams about the catalogue's models and return what would change; writes nothing.

    Raises :class:`~service.domain.errors.DataError` if the catalogue does not load and
    :class:`~service.domain.errors.UnknownModelError` for an id in ``model_ids`` it does not hold (before
    any request is made). Upstream failures never raise: they are recorded per model in the report.
    """
    catalogue = load_catalogue(catalogue_dir)
    if model_ids:
        for model_id in model_ids:
            if model_id not in catalogue.models:
                raise UnknownModelError("model", model_id)
        selected = [catalogue.models[m] for m in dict.fromkeys(model_ids)]
    else:
        selected = list(catalogue.models.values())
    # Read now, so that write_report can refuse to overwrite a file edited while the sync was running.
    originals = {model.id: model_path(catalogue_dir, model.id).read_bytes() for model in selected}
    providers = {pid: provider_path(catalogue_dir, pid).read_bytes() for pid in catalogue.providers}
    today = as_of or config.as_of or dt.datetime.now(dt.UTC).date()
    chosen: tuple[Upstream, ...] = tuple(u for u in UPSTREAMS["all"] if u in upstreams)

    # The HTTP client (httpx, tenacity) is imported only when a sync runs, not by every `advisor` command.
    from service.loading.sync.http import Deadline, Fetcher, UpstreamError, create_client
    from service.loading.sync.huggingface import HuggingFaceClient
    from service.loading.sync.openrouter import OpenRouterClient

    hub: dict[str, HubObservation | Failure] = {}
    listing: OpenRouterListing | Failure | None = None
    async with create_client(config.policy) as client:
        fetcher = Fetcher(client, config.policy, Deadline(config.policy.deadline_s))
        hf_client = HuggingFaceClient(fetcher, config.hf_endpoint, config.hf_token, max_pages=config.max_pages)
        or_client = OpenRouterClient(fetcher, config.openrouter_base_url)

        async def observe_hub(model_id: str) -> None:
            try:
                hub[model_id] = await hf_client.observe(model_id, with_derivatives=config.derivatives)
            except UpstreamError as exc:
                hub[model_id] = Failure("huggingface", exc.url, str(exc), exc.attempts)

        async def observe_openrouter() -> None:
            nonlocal listing
            try:
                listing = await or_client.listing(model.id for model in selected)
            except UpstreamError as exc:
                listing = Failure("openrouter", exc.url, str(exc), exc.attempts)

        async with asyncio.TaskGroup() as group:
            if "openrouter" in chosen:
                group.create_task(observe_openrouter())
            if "huggingface" in chosen:
                for model in selected:
                    group.create_task(observe_hub(model.id))

    results: list[ModelResult] = []
    for model in selected:
        path = model_path(catalogue_dir, model.id)
        result = ModelResult(model_id=model.id, path=path, original=originals[model.id])
        results.append(result)
        observation = hub.get(model.id)
        if isinstance(observation, Failure):
            result.failures.append(observation)
        offers = None
        if isinstance(listing, Failure):
            result.failures.append(listing)
        elif listing is not None:
            problems = listing.problems_for(model.id)
            if problems:
                url = listing.failed_url(model.id)
                attempts = len(fetcher.attempts_for(url))
                result.failures.append(Failure("openrouter", url, "; ".join(problems), attempts))
            offers = listing.for_model(model.id)
        if result.failures:
            continue
        try:
            result.diff = diff_model(
                model,
                hub=observation if isinstance(observation, HubObservation) else None,
                openrouter=offers,
                openrouter_source=or_client.api_prefix,
                providers=catalogue.providers,
                as_of=today,
                parameter_tolerance=config.parameter_tolerance,
            )
        except ValidationError as exc:
            # Upstream schemas should already stop such values; this keeps a surprise from being written.
            result.failures.append(
                Failure(chosen[0], "", f"upstream values fail the catalogue schema: {exc.errors()[0]['msg']}", 0)
            )
    return SyncReport(
        catalogue_dir=catalogue_dir,
        as_of=today,
        upstreams=chosen,
        results=results,
        attempts=list(fetcher.attempts),
        provider_originals=providers,
    )


def provider_files(report: SyncReport) -> dict[Path, bytes]:
    """The new content of every provider file whose offers the synced models change."""
    touched: dict[str, dict[str, tuple[Offer, ...]]] = {}
    names: dict[str, str] = {}
    for result in report.to_write:
        if result.diff is None:
            continue
        for pid, offers in result.diff.offers.items():
            touched.setdefault(pid, {})[result.model_id] = offers
        names.update(result.diff.new_providers)
    files: dict[Path, bytes] = {}
    for pid, by_model in sorted(touched.items()):
        path = provider_path(report.catalogue_dir, pid)
        original = report.provider_originals.get(pid)
        if original is not None:
            current = ProviderFile.model_validate(tomllib.loads(original.decode("utf-8")))
        else:
            current = ProviderFile(
                name=names.get(pid, pid),
                review_by=report.as_of,
                notes=f"Created by catalogue sync from OpenRouter on {report.as_of.isoformat()}: the provider's "
                "country and regions are not yet recorded, so hosting-country requirements exclude its offers "
                "until a person adds them from the provider's own pages.",
            )
        kept = [o for o in current.offers if o.model not in by_model]
        merged = kept + [o for model_id in sorted(by_model) for o in by_model[model_id]]
        text = dump_provider_file(current.model_copy(update={"offers": merged})).encode("utf-8")
        if text != original:
            files[path] = text
    return files


def write_report(report: SyncReport) -> list[Path]:
    """Write every synced model with changes and the provider files of their offers, atomically (all files or
    none); returns the paths written.

    Raises :class:`AtomicWriteError` (the catalogue is then unchanged) or :class:`CatalogueChangedError`
    when a file was edited after the sync read it.
    """
    pending = [r for r in report.to_write if r.diff is not None]
    files: dict[Path, bytes] = {}
    expected: dict[Path, bytes | None] = {}
    for r in pending:
        if r.diff is None:
            continue
        text = dump_model_file(r.diff.updated).encode("utf-8")
        if text != r.original:
            files[r.path] = text
            expected[r.path] = r.original
    for path, text in provider_files(report).items():
        files[path] = text
        expected[path] = report.provider_originals.get(path.stem)
    if not files:
        return []
    return write_files_atomically(files, expected=expected)
