"""Client of the OpenRouter API: which providers serve each catalogue model, at what price and limits.

``GET {OPENROUTER_BASE_URL}/api/v1/models`` answers ``{"data": [...]}``; each entry has an ``id`` such as
``qwen/qwen3-8b`` and a ``hugging_face_id`` (empty for models without open weights). For each entry that
names a catalogue model, ``GET /api/v1/models/{id}/endpoints`` lists the providers serving it: each
endpoint has a ``provider_name``, a ``tag`` (``deepinfra/fp8``: the provider slug, then the variant),
``pricing.prompt`` / ``pricing.completion`` (and ``input_cache_read``) as decimal strings in USD per token,
``context_length``, ``max_completion_tokens`` and ``quantization``. An entry or endpoint list that fails
its schema is an error only for the catalogue model it names (it is never turned into an offer); entries
that name no catalogue model are not checked and their endpoints are not fetched.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, get_args
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from service.domain.catalogue import Quantisation
from service.loading.sync.diff import OpenRouterObservation
from service.loading.sync.http import Fetcher, UpstreamError
from service.loading.sync.options import DEFAULT_OPENROUTER_BASE_URL

__all__ = [
    "DEFAULT_OPENROUTER_BASE_URL",
    "OpenRouterClient",
    "OpenRouterEndpoint",
    "OpenRouterEndpoints",
    "OpenRouterListing",
    "OpenRouterModel",
    "OpenRouterModels",
    "OpenRouterPricing",
    "provider_id",
    "usd_per_million",
]

_DECIMAL = re.compile(r"^\d+(\.\d+)?([eE][-+]?\d+)?$")
_SLUG = re.compile(r"[^a-z0-9]+")
_QUANTISATIONS: dict[str, Quantisation] = {q: q for q in get_args(Quantisation)}
_NOTE = (
    "OpenRouter endpoints API: {provider} serving {id}; pricing.prompt, pricing.completion and "
    "pricing.input_cache_read (USD per token) converted to USD per million tokens; context_length, "
    "max_completion_tokens and quantization as listed"
)


def usd_per_million(per_token: str) -> float:
    """Convert a USD-per-token decimal string to USD per million tokens, rounded to 6 significant digits.

    Decimal arithmetic keeps ``"0.0000002"`` from becoming ``0.19999999999999998``; the rounding only
    removes noise far below a cent per million tokens.
    """
    try:
        value = Decimal(per_token) * 1_000_000
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal number: {per_token!r}") from exc
    if not value.is_finite() or value < 0:
        raise ValueError(f"not a non-negative price: {per_token!r}")
    return float(f"{value:.6g}")


class _Upstream(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class OpenRouterPricing(_Upstream):
    """Prices in USD per token, as decimal strings (``"-1"`` marks a variable-price router, refused here)."""

    prompt: Annotated[str, Field(strict=True)]
    completion: Annotated[str, Field(strict=True)]

    @field_validator("prompt", "completion")
    @classmethod
    def _decimal(cls, value: str) -> str:
        if not _DECIMAL.match(value.strip()):
            raise ValueError(f"price {value!r} is not a non-negative decimal string")
        return value.strip()


class OpenRouterModel(_Upstream):
    """One entry of ``data`` (its own price is OpenRouter's routed price; offers come from its endpoints)."""

    id: str = Field(min_length=1)
    hugging_face_id: str | None = None
    context_length: Annotated[int, Field(strict=True, gt=0)] | None = None


class OpenRouterEndpointPricing(OpenRouterPricing):
    """An endpoint's prices; ``input_cache_read`` is absent where the provider states no cached price."""

    input_cache_read: Annotated[str, Field(strict=True)] | None = None

    @field_validator("input_cache_read")
    @classmethod
    def _cache_decimal(cls, value: str | None) -> str | None:
        if value is not None and not _DECIMAL.match(value.strip()):
            raise ValueError(f"price {value!r} is not a non-negative decimal string")
        return None if value is None else value.strip()


class OpenRouterEndpoint(_Upstream):
    """One provider serving a model."""

    provider_name: str = Field(min_length=1)
    tag: str | None = None
    context_length: Annotated[int, Field(strict=True, gt=0)] | None = None
    max_completion_tokens: Annotated[int, Field(strict=True, gt=0)] | None = None
    quantization: str | None = None
    pricing: OpenRouterEndpointPricing


class OpenRouterEndpointList(_Upstream):
    """``data`` of the endpoints answer."""

    id: str = Field(min_length=1)
    endpoints: list[OpenRouterEndpoint]


class OpenRouterEndpoints(_Upstream):
    """The envelope of the endpoints answer."""

    data: OpenRouterEndpointList


class OpenRouterModels(_Upstream):
    """The envelope; entries are checked one by one so that one bad entry spoils only its own model."""

    data: list[dict[str, Any]]


@dataclass
class OpenRouterListing:
    """Offers by lower-cased Hugging Face repo id, and why entries naming a model could not be read."""

    source: str
    offers: dict[str, list[OpenRouterObservation]] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=dict)
    failed_urls: dict[str, str] = field(default_factory=dict)

    def for_model(self, repo_id: str) -> list[OpenRouterObservation]:
        """The offers listed for a catalogue model (matched case-insensitively, as the Hub does)."""
        return self.offers.get(repo_id.lower(), [])

    def problems_for(self, repo_id: str) -> list[str]:
        """Why entries naming this model could not be read (empty when none failed)."""
        return self.problems.get(repo_id.lower(), [])

    def failed_url(self, repo_id: str) -> str:
        """The URL of the last request that failed for this model (the models list when none did)."""
        return self.failed_urls.get(repo_id.lower(), self.source)


def provider_id(endpoint: OpenRouterEndpoint) -> str:
    """The catalogue provider id of an endpoint: the slug its ``tag`` starts with, else its name as a slug."""
    slug = (endpoint.tag or "").split("/", 1)[0].strip().lower()
    if not slug:
        slug = endpoint.provider_name.lower()
    return _SLUG.sub("-", slug).strip("-") or "unnamed"


class OpenRouterClient:
    """Reads the OpenRouter models list once per run, then the endpoints of each catalogue model it lists."""

    def __init__(self, fetcher: Fetcher, base_url: str = DEFAULT_OPENROUTER_BASE_URL) -> None:
        self.fetcher = fetcher
        self.base_url = base_url.rstrip("/")

    @property
    def api_prefix(self) -> str:
        """Every OpenRouter API URL starts with this; an offer whose source does was written by sync."""
        return f"{self.base_url}/api/v1/"

    @property
    def models_url(self) -> str:
        """The models API URL."""
        return f"{self.base_url}/api/v1/models"

    def endpoints_url(self, openrouter_id: str) -> str:
        """The endpoints API URL of one OpenRouter model id (also the source written on its offers)."""
        return f"{self.base_url}/api/v1/models/{quote(openrouter_id, safe='/:')}/endpoints"

    async def listing(self, repo_ids: Iterable[str] | None = None) -> OpenRouterListing:
        """Fetch the models list, then the endpoints of each entry naming one of ``repo_ids`` (all when None).

        Raises :class:`UpstreamError` if the list as a whole is unusable; a failed endpoints request is a
        problem of the model it names only.
        """
        url = self.models_url
        response = await self.fetcher.get_json(url)
        try:
            envelope = OpenRouterModels.model_validate(response.data)
        except ValidationError as exc:
            raise UpstreamError(
                url,
                f"answer does not match the OpenRouter models schema: {exc.errors()[0]['msg']}",
                attempts=response.attempts,
            ) from exc
        wanted = None if repo_ids is None else {r.lower() for r in repo_ids}
        listing = OpenRouterListing(source=url)
        problems: dict[str, list[str]] = defaultdict(list)
        entries: list[tuple[str, OpenRouterModel]] = []
        seen: set[str] = set()
        for raw in envelope.data:
            hf_id = raw.get("hugging_face_id")
            if not isinstance(hf_id, str) or not hf_id.strip():
                continue  # not an open-weight model on the Hub: nothing in the catalogue to match
            key = hf_id.strip().lower()
            if wanted is not None and key not in wanted:
                continue
            try:
                entry = OpenRouterModel.model_validate(raw)
            except ValidationError as exc:
                problems[key].append(f"entry {raw.get('id', '?')!r}: {_first_error(exc)}")
                continue
            # A ':free' variant is a rate-limited free tier of the same model, not a price anyone can plan
            # with; recording it as an offer would make the model look free in cost comparisons.
            if entry.id.endswith(":free") or entry.id in seen:
                continue
            seen.add(entry.id)
            entries.append((key, entry))

        async def endpoints(key: str, entry: OpenRouterModel) -> None:
            endpoints_url = self.endpoints_url(entry.id)
            try:
                answer = await self.fetcher.get_json(endpoints_url)
                document = OpenRouterEndpoints.model_validate(answer.data)
                observations = [_observation(entry.id, e, endpoints_url) for e in document.data.endpoints]
            except UpstreamError as exc:
                problems[key].append(f"endpoints of {entry.id!r}: {exc}")
                listing.failed_urls[key] = endpoints_url
                return
            except (ValidationError, ValueError) as exc:
                problems[key].append(f"endpoints of {entry.id!r}: {_first_error(exc)}")
                listing.failed_urls[key] = endpoints_url
                return
            listing.offers.setdefault(key, []).extend(observations)

        async with asyncio.TaskGroup() as group:
            for key, entry in entries:
                group.create_task(endpoints(key, entry))
        listing.offers = {
            k: sorted(v, key=lambda o: (o.provider_id, o.openrouter_id)) for k, v in listing.offers.items()
        }
        listing.problems = dict(problems)
        return listing


def _observation(openrouter_id: str, endpoint: OpenRouterEndpoint, source: str) -> OpenRouterObservation:
    quantisation = (endpoint.quantization or "").lower()
    cached = endpoint.pricing.input_cache_read
    return OpenRouterObservation(
        openrouter_id=openrouter_id,
        provider_id=provider_id(endpoint),
        provider_name=endpoint.provider_name,
        input_usd_per_m=usd_per_million(endpoint.pricing.prompt),
        output_usd_per_m=usd_per_million(endpoint.pricing.completion),
        cached_input_usd_per_m=usd_per_million(cached) if cached is not None else None,
        context_tokens=endpoint.context_length,
        max_output_tokens=endpoint.max_completion_tokens,
        # "unknown" and formats outside the catalogue's list are left out: not stated, so not recorded.
        quantisation=_QUANTISATIONS.get(quantisation),
        source=source,
        note=_NOTE.format(provider=endpoint.provider_name, id=openrouter_id),
    )


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        return f"{'.'.join(str(p) for p in error['loc']) or '(root)'}: {error['msg']}"
    return str(exc)
