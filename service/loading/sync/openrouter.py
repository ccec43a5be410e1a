"""Client of the OpenRouter models API: hosted prices and context lengths, matched by ``hugging_face_id``.

``GET {OPENROUTER_BASE_URL}/api/v1/models`` answers ``{"data": [...]}``; each entry has an ``id`` such as
``qwen/qwen3-8b``, a ``hugging_face_id`` (empty for models without open weights), a ``context_length`` and
``pricing.prompt`` / ``pricing.completion`` as decimal strings in USD per token. One request serves every
catalogue model. An entry that fails its schema is an error only for the catalogue model it names (it is
never turned into an offer); entries that name no catalogue model are not checked.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from service.loading.sync.diff import OpenRouterObservation
from service.loading.sync.http import Fetcher, UpstreamError

__all__ = [
    "DEFAULT_OPENROUTER_BASE_URL",
    "OpenRouterClient",
    "OpenRouterListing",
    "OpenRouterModel",
    "OpenRouterModels",
    "OpenRouterPricing",
    "usd_per_million",
]

DEFAULT_OPENROUTER_BASE_URL = "https://openrouter.ai"

_DECIMAL = re.compile(r"^\d+(\.\d+)?([eE][-+]?\d+)?$")


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
    """One entry of ``data``."""

    id: str = Field(min_length=1)
    hugging_face_id: str | None = None
    context_length: Annotated[int, Field(strict=True, gt=0)] | None = None
    pricing: OpenRouterPricing


class OpenRouterModels(_Upstream):
    """The envelope; entries are checked one by one so that one bad entry spoils only its own model."""

    data: list[dict[str, Any]]


@dataclass
class OpenRouterListing:
    """Offers by lower-cased Hugging Face repo id, and the schema problems of entries that named one."""

    source: str
    offers: dict[str, list[OpenRouterObservation]] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=dict)

    def for_model(self, repo_id: str) -> list[OpenRouterObservation]:
        """The offers listed for a catalogue model (matched case-insensitively, as the Hub does)."""
        return self.offers.get(repo_id.lower(), [])

    def problems_for(self, repo_id: str) -> list[str]:
        """Why entries naming this model could not be read (empty when none failed)."""
        return self.problems.get(repo_id.lower(), [])


class OpenRouterClient:
    """Reads the OpenRouter models list once per run."""

    def __init__(self, fetcher: Fetcher, base_url: str = DEFAULT_OPENROUTER_BASE_URL) -> None:
        self.fetcher = fetcher
        self.base_url = base_url.rstrip("/")

    @property
    def models_url(self) -> str:
        """The models API URL (also the source written on each offer)."""
        return f"{self.base_url}/api/v1/models"

    async def listing(self) -> OpenRouterListing:
        """Fetch and parse the models list; raises :class:`UpstreamError` if the list as a whole is unusable."""
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
        offers: dict[str, list[OpenRouterObservation]] = defaultdict(list)
        problems: dict[str, list[str]] = defaultdict(list)
        seen: set[str] = set()
        for raw in envelope.data:
            hf_id = raw.get("hugging_face_id")
            if not isinstance(hf_id, str) or not hf_id.strip():
                continue  # not an open-weight model on the Hub: nothing in the catalogue to match
            key = hf_id.strip().lower()
            try:
                entry = OpenRouterModel.model_validate(raw)
                observation = _observation(entry, url)
            except (ValidationError, ValueError) as exc:
                problems[key].append(f"entry {raw.get('id', '?')!r}: {_first_error(exc)}")
                continue
            if observation is None or observation.openrouter_id in seen:
                continue
            seen.add(observation.openrouter_id)
            offers[key].append(observation)
        return OpenRouterListing(source=url, offers=dict(offers), problems=dict(problems))


def _observation(entry: OpenRouterModel, source: str) -> OpenRouterObservation | None:
    # A ':free' variant is a rate-limited free tier of the same model, not a price anyone can plan with;
    # recording it as an offer would make the model look free in cost comparisons.
    if entry.id.endswith(":free"):
        return None
    return OpenRouterObservation(
        openrouter_id=entry.id,
        input_usd_per_m=usd_per_million(entry.pricing.prompt),
        output_usd_per_m=usd_per_million(entry.pricing.completion),
        context_tokens=entry.context_length,
        source=source,
    )


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        return f"{'.'.join(str(p) for p in error['loc']) or '(root)'}: {error['msg']}"
    return str(exc)
