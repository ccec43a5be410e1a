"""Client of the Hugging Face Hub model API: signals and identity facts of one repo, and its derivatives.

* ``GET {HF_ENDPOINT}/api/models/{repo_id}``: ``likes``, ``downloads`` (the last 30 days), ``lastModified``,
  ``tags`` (with ``license:<id>`` entries), ``cardData.license``, ``safetensors.total`` and ``gated``.
* ``GET {HF_ENDPOINT}/api/models?filter=base_model:{repo_id}``: the Hub's model search by base model,
  followed page by page through ``Link: <...>; rel="next"``; each result's ``base_model:<kind>:<repo>`` tags
  say whether it is a fine-tune, an adapter, a quantisation or a merge.

The response schemas name fields exactly as the API does and ignore the many fields not used here.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Annotated, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from service.loading.sync.architecture import ArchitectureObservation, read_config
from service.loading.sync.diff import DERIVATIVE_KINDS, DerivativeCount, HubObservation
from service.loading.sync.http import Fetcher, UpstreamError
from service.loading.sync.options import DEFAULT_HF_ENDPOINT

__all__ = [
    "DEFAULT_HF_ENDPOINT",
    "HfCardData",
    "HfModelInfo",
    "HfSafetensors",
    "HfSearchResult",
    "HuggingFaceClient",
    "hub_licence",
]

Count = Annotated[int, Field(strict=True, ge=0)]
# Hub search pages are at most 1000 results long; a guard against a server that never stops paging.
_PAGE_SIZE = 1000


class _Upstream(BaseModel):
    # The real API returns many more fields; only the ones read here are declared and checked.
    model_config = ConfigDict(extra="ignore", frozen=True)


class HfCardData(_Upstream):
    """The parts of a repo's model-card metadata read here."""

    license: str | list[str] | None = None
    license_name: str | None = None


class HfSafetensors(_Upstream):
    """Parameter counts the Hub reads from the safetensors headers (``total`` is a raw count)."""

    total: Count
    parameters: dict[str, Count] = {}


class HfModelInfo(_Upstream):
    """``GET /api/models/{repo_id}``."""

    id: str = Field(min_length=1)
    sha: str | None = Field(default=None, pattern=r"^[0-9a-f]{40}$")
    likes: Count
    downloads: Count
    lastModified: dt.datetime  # noqa: N815 - the API's field name
    tags: list[str] = []
    cardData: HfCardData | None = None  # noqa: N815 - the API's field name
    safetensors: HfSafetensors | None = None
    gated: Annotated[bool, Field(strict=True)] | Literal["auto", "manual"] = False


class HfSearchResult(_Upstream):
    """One result of ``GET /api/models?filter=...``."""

    id: str = Field(min_length=1)
    tags: list[str] = []


def hub_licence(info: HfModelInfo) -> tuple[str | None, str | None]:
    """The licence id the Hub states (``license:`` tag, else ``cardData.license``) and any ``license_name``."""
    tag = next((t.split(":", 1)[1] for t in info.tags if t.startswith("license:")), None)
    card = info.cardData
    if tag is None and card is not None and card.license is not None:
        licence = card.license
        tag = licence if isinstance(licence, str) else (licence[0] if len(licence) == 1 else None)
    name = card.license_name if card is not None else None
    return (tag.strip().lower() if tag else None), name


class HuggingFaceClient:
    """Reads one repo's model info and derivative count through the run's :class:`Fetcher`."""

    def __init__(
        self, fetcher: Fetcher, endpoint: str = DEFAULT_HF_ENDPOINT, token: str | None = None, *, max_pages: int = 200
    ) -> None:
        self.fetcher = fetcher
        self.endpoint = endpoint.rstrip("/")
        self.token = token or None
        self.max_pages = max_pages

    def model_url(self, repo_id: str) -> str:
        """The model API URL of a repo."""
        return f"{self.endpoint}/api/models/{_quote_repo(repo_id)}"

    def derivatives_url(self, repo_id: str) -> str:
        """A readable URL of the Hub's search by base model (used as the source of the count)."""
        return f"{self.endpoint}/api/models?filter=base_model:{repo_id}"

    def _headers(self, url: str) -> dict[str, str]:
        # The token only ever goes to the configured Hub endpoint, never to a host named by a Link header.
        if self.token and url.startswith(self.endpoint + "/"):
            return {"Authorization": f"Bearer {self.token}"}
        return {}

    async def model_info(self, repo_id: str) -> tuple[HfModelInfo, str]:
        """The repo's model info and the URL it came from."""
        url = self.model_url(repo_id)
        response = await self.fetcher.get_json(url, headers=self._headers(url))
        try:
            info = HfModelInfo.model_validate(response.data)
        except ValidationError as exc:
            raise UpstreamError(
                url, f"answer does not match the Hub model schema: {_errors(exc)}", attempts=response.attempts
            ) from exc
        if info.id.lower() != repo_id.lower():
            raise UpstreamError(url, f"the Hub answered for {info.id!r}, not {repo_id!r}", attempts=response.attempts)
        return info, url

    async def derivatives(self, repo_id: str) -> DerivativeCount:
        """Count the Hub repos that name ``repo_id`` as their base model, by kind of relation."""
        url: str | None = f"{self.endpoint}/api/models"
        params: dict[str, str | int] | None = {"filter": f"base_model:{repo_id}", "limit": _PAGE_SIZE}
        seen: set[str] = set()
        kinds: Counter[str] = Counter()
        pages = 0
        while url is not None:
            pages += 1
            if pages > self.max_pages:
                raise UpstreamError(url, f"derivative search did not end within {self.max_pages} pages")
            response = await self.fetcher.get_json(url, params=params, headers=self._headers(url))
            if not isinstance(response.data, list):
                raise UpstreamError(
                    response.url, "derivative search did not answer a JSON list", attempts=response.attempts
                )
            for item in response.data:
                try:
                    result = HfSearchResult.model_validate(item)
                except ValidationError as exc:
                    raise UpstreamError(
                        response.url,
                        f"search result does not match the Hub schema: {_errors(exc)}",
                        attempts=response.attempts,
                    ) from exc
                if result.id in seen or result.id.lower() == repo_id.lower():
                    continue
                seen.add(result.id)
                kinds[_relation(result.tags, repo_id)] += 1
            url, params = response.next_url, None  # the next link already carries the query
        return DerivativeCount(
            total=len(seen), by_kind=dict(sorted(kinds.items())), source=self.derivatives_url(repo_id)
        )

    async def architecture(self, repo_id: str, revision: str) -> ArchitectureObservation | None:
        """The repo's config.json at ``revision`` read into a proposal; None when the repo has no config."""
        url = f"{self.endpoint}/{_quote_repo(repo_id)}/resolve/{revision}/config.json"
        try:
            response = await self.fetcher.get_json(url, headers=self._headers(url))
        except UpstreamError as exc:
            if exc.status == 404:
                return None
            raise
        if not isinstance(response.data, dict):
            raise UpstreamError(url, "config.json is not a JSON object", attempts=response.attempts)
        cited = f"{self.endpoint}/{_quote_repo(repo_id)}/blob/{revision}/config.json"
        return read_config(response.data, cited)

    async def observe(self, repo_id: str, *, with_derivatives: bool = True) -> HubObservation:
        """Everything the sync reads from the Hub about one repo."""
        info, url = await self.model_info(repo_id)
        architecture = await self.architecture(repo_id, info.sha or "main")
        derivatives = await self.derivatives(repo_id) if with_derivatives else None
        licence, licence_name = hub_licence(info)
        return HubObservation(
            repo_id=repo_id,
            source=url,
            likes=info.likes,
            downloads_30d=info.downloads,
            last_modified=info.lastModified.astimezone(dt.UTC).date()
            if info.lastModified.tzinfo
            else info.lastModified.date(),
            licence=licence,
            licence_name=licence_name,
            parameters_total=info.safetensors.total if info.safetensors else None,
            gated=info.gated is not False,
            derivatives=derivatives,
            architecture=architecture,
        )


def _relation(tags: list[str], repo_id: str) -> str:
    target = repo_id.lower()
    for tag in tags:
        parts = tag.split(":", 2)
        if len(parts) == 3 and parts[0] == "base_model" and parts[2].lower() == target and parts[1] in DERIVATIVE_KINDS:
            return parts[1]
    return "other"


def _quote_repo(repo_id: str) -> str:
    return "/".join(quote(part, safe="") for part in repo_id.split("/"))


def _errors(exc: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()[:3]]
    more = len(exc.errors()) - 3
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
