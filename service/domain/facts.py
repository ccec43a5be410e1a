"""A fact is a value with the public source that states it and the date it was true."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

__all__ = ["REASON_CITES", "Evidence", "Fact", "MeasuredBy", "SourceKind", "Strict", "citation"]

SourceKind = Literal["primary", "secondary"]
#: Who measured a benchmark result (see ``service.domain.measurements``).
MeasuredBy = Literal["developer", "third_party", "independent_leaderboard"]


class Strict(BaseModel):
    """Base for every data model: unknown keys are refused, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Fact(Strict, Generic[T]):
    """One sourced value. A fact that is not known is absent (null), never guessed."""

    value: T
    source: str = Field(min_length=1, description="Public URL (or citation) that states the value.")
    as_of: dt.date = Field(description="Date on which the source stated the value (or was read).")
    source_kind: SourceKind | None = Field(
        default=None,
        description="primary: the developer's or regulator's own text; secondary: a report of it.",
    )
    note: str | None = Field(default=None, description="Caveat on how the value was read or what it means.")


class Evidence(Strict):
    """A fact as cited in an answer: what it is, its value, where it is stated and when."""

    fact: str
    value: object
    source: str
    as_of: dt.date
    note: str | None = None
    source_kind: SourceKind | None = Field(default=None, description="primary or secondary, where recorded.")
    measured_by: MeasuredBy | None = Field(default=None, description="Who measured it, for a benchmark result.")


#: How many of a criterion's facts its reason sentence cites (the criterion's ``evidence`` holds every one).
REASON_CITES = 3


def citation(items: Iterable[Evidence]) -> str:
    """``items`` as a reason sentence cites them: ``fact = value (source, as of date)``, joined by "; "."""
    return "; ".join(f"{e.fact} = {e.value} ({e.source}, as of {e.as_of.isoformat()})" for e in items)
