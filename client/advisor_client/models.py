"""The request and answer models: the service's own pydantic schemas, re-exported (never copied).

``Requirements`` and ``CompareRequest`` validate a request before it is sent, exactly as the service will;
answers are parsed into ``RecordedAnswer``, ``CompareOut``, ``ModelOut``, ``LicenceOut``, ``ProfileOut`` and
``RecordPage``.
"""

from __future__ import annotations

from service.domain.answer import Answer, Assessment, Exclusion
from service.domain.requirements import Requirements
from service.http.records import CompareOut, CompareRequest, RecordedAnswer, RecordEnvelope, RecordPage
from service.http.resources import LicenceOut, ModelOut, ProfileOut

__all__ = [
    "Answer",
    "Assessment",
    "CompareOut",
    "CompareRequest",
    "Exclusion",
    "LicenceOut",
    "ModelOut",
    "ProfileOut",
    "RecordEnvelope",
    "RecordPage",
    "RecordedAnswer",
    "Requirements",
]
