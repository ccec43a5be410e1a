"""The request and answer models: the service's own pydantic schemas, re-exported (never copied).

``Requirements`` and ``CompareRequest`` validate a request before it is sent, exactly as the service will;
answers are parsed into ``RecordedSummary`` (``detail: summary``, the default) or ``RecordedAnswer``
(``detail: full``, and every stored decision), ``CompareOut``, ``ModelOut``, ``LicenceOut``, ``ProfileOut`` and
``RecordPage``. A full answer lists each fact once in ``evidence`` (``CitedEvidence``) and cites it by id;
``resolve(answer)`` gives the same decision with each fact in place (an ``Answer``, as the engine returns it).
"""

from __future__ import annotations

from service.domain.answer import (
    Answer,
    Assessment,
    CitedAssessment,
    CitedEvidence,
    CitedExclusion,
    Exclusion,
    FullAnswer,
    RuleCount,
)
from service.domain.citing import resolve
from service.domain.requirements import Requirements
from service.domain.summary import AnswerSummary, ModelSummary
from service.http.records import (
    CompareOut,
    CompareRequest,
    RecordedAnswer,
    RecordedSummary,
    RecordEnvelope,
    RecordLink,
    RecordPage,
)
from service.http.resources import LicenceOut, ModelOut, ProfileOut

__all__ = [
    "Answer",
    "AnswerSummary",
    "Assessment",
    "CitedAssessment",
    "CitedEvidence",
    "CitedExclusion",
    "CompareOut",
    "CompareRequest",
    "Exclusion",
    "FullAnswer",
    "LicenceOut",
    "ModelOut",
    "ModelSummary",
    "ProfileOut",
    "RecordEnvelope",
    "RecordLink",
    "RecordPage",
    "RecordedAnswer",
    "RecordedSummary",
    "Requirements",
    "RuleCount",
    "resolve",
]
