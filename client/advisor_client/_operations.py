"""Every operation of the HTTP API that the client calls: method, path, request and answer models.

The drift test (tests/client/test_drift.py) checks this table against the service's OpenAPI document: every
operation id there is here and the other way round, with the same method, path, request body schema and
answer schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from advisor_client.models import (
    CompareOut,
    CompareRequest,
    LicenceOut,
    ModelOut,
    ProfileOut,
    RecordedAnswer,
    RecordedSummary,
    RecordPage,
    Requirements,
)

__all__ = ["OPERATIONS", "Operation"]


@dataclass(frozen=True)
class Operation:
    """One API operation. ``answers`` is empty when the service declares a free-form object, text or no body."""

    method: Literal["GET", "POST", "DELETE"]
    path: str
    request: type[BaseModel] | None = None
    answers: tuple[type[BaseModel], ...] = ()


OPERATIONS: dict[str, Operation] = {
    "createRecommendation": Operation("POST", "/v1/recommendations", Requirements, (RecordedSummary, RecordedAnswer)),
    "listRecommendations": Operation("GET", "/v1/recommendations", answers=(RecordPage,)),
    "getRecommendation": Operation("GET", "/v1/recommendations/{record_id}", answers=(RecordedAnswer,)),
    "rerunRecommendation": Operation("POST", "/v1/recommendations/{record_id}/rerun", answers=(RecordedAnswer,)),
    "getRecommendationReport": Operation("GET", "/v1/recommendations/{record_id}/report"),
    "deleteRecommendation": Operation("DELETE", "/v1/recommendations/{record_id}"),
    "compareModels": Operation("POST", "/v1/compare", CompareRequest, (CompareOut,)),
    "listModels": Operation("GET", "/v1/models"),
    "getModel": Operation("GET", "/v1/models/{owner}/{name}", answers=(ModelOut,)),
    "listLicences": Operation("GET", "/v1/licences"),
    "getLicence": Operation("GET", "/v1/licences/{licence_id}", answers=(LicenceOut,)),
    "listProfiles": Operation("GET", "/v1/profiles"),
    "getProfile": Operation("GET", "/v1/profiles/{profile_id}", answers=(ProfileOut,)),
    "listRules": Operation("GET", "/v1/rules"),
    "reloadData": Operation("POST", "/v1/admin/reload"),
    "health": Operation("GET", "/health"),
    "ready": Operation("GET", "/ready"),
    "metrics": Operation("GET", "/metrics"),
}
