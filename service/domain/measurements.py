"""Benchmark variants, measurements of models on them, and snapshots of independent leaderboards.

A benchmark *variant* is one comparable measurement procedure (LiveCodeBench v6 and v5 are two variants; HLE
with tools and without are two): one ``rules/benchmarks/<id>.toml`` file each. A :class:`Measurement` is one
model's result on one variant, with who measured it, the source and the date; model files list them under
``[[measurements]]``. An independent leaderboard that publishes many models at one date is one
``catalogue/leaderboards/<snapshot-id>.toml`` file (:class:`LeaderboardFile`) whose entries become
measurements of the models they name. Different variants are never averaged as if they were the same.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, get_args

from pydantic import Field, model_validator

from service.domain.facts import MeasuredBy, SourceKind, Strict

__all__ = [
    "MEASURED_BY",
    "USE_CASES",
    "Benchmark",
    "Leaderboard",
    "LeaderboardEntry",
    "LeaderboardFile",
    "MeasuredBy",
    "Measurement",
    "Mode",
    "Scale",
    "UseCase",
]

UseCase = Literal[
    "coding",
    "agentic",
    "reasoning",
    "math",
    "long_context",
    "instruction_following",
    "knowledge_reliability",
    "multilingual",
    "vision",
    "chat",
]
USE_CASES: tuple[str, ...] = get_args(UseCase)
Scale = Literal["percent", "elo", "index"]
MEASURED_BY: tuple[str, ...] = get_args(MeasuredBy)
Mode = Literal["thinking", "non_thinking"]


class Benchmark(Strict):
    """One ``rules/benchmarks/<id>.toml`` file: a benchmark variant and what its numbers mean."""

    id: str
    name: str = Field(min_length=1, description="Display name, including the variant (e.g. 'LiveCodeBench v6').")
    description: str = Field(min_length=1, description="What the variant measures and how it differs from others.")
    scale: Scale = Field(description="percent: 0-100 score; elo: arena rating; index: a composite index.")
    min: float | None = Field(default=None, description="Smallest possible value (required unless elo).")
    max: float | None = Field(default=None, description="Largest possible value (required unless elo).")
    higher_is_better: bool = True
    use_cases: list[UseCase] = Field(
        min_length=1,
        description=(
            "The use cases this variant is evidence for, its main one first: the capability model loads a "
            "non-composite variant on general ability and on its first use case."
        ),
    )
    composite: bool = Field(default=False, description="An independent composite index over several evaluations.")
    saturated: bool = Field(default=False, description="Leading models cluster near the ceiling.")
    saturation_note: str | None = Field(default=None, description="Why it is (or is not) considered saturated.")
    source: str = Field(min_length=1, description="Public URL describing the benchmark variant.")
    as_of: dt.date
    review_by: dt.date

    @model_validator(mode="after")
    def _bounds(self) -> Benchmark:
        if self.scale != "elo" and (self.min is None or self.max is None):
            raise ValueError(f"a {self.scale} benchmark needs min and max")
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        if self.saturated and not self.saturation_note:
            raise ValueError("a saturated benchmark needs a saturation_note saying why")
        if len(set(self.use_cases)) != len(self.use_cases):
            raise ValueError("use_cases lists a use case twice")
        return self

    def out_of_range(self, value: float) -> str | None:
        """Why ``value`` cannot be a result on this variant, or None when it can."""
        if self.min is not None and value < self.min:
            return f"value {value:g} is below the minimum {self.min:g} of {self.id}"
        if self.max is not None and value > self.max:
            return f"value {value:g} is above the maximum {self.max:g} of {self.id}"
        return None


class Measurement(Strict):
    """One model's result on one benchmark variant (a ``[[measurements]]`` entry of a model file)."""

    benchmark: str = Field(min_length=1, description="Benchmark variant id: a file stem under rules/benchmarks/.")
    value: float
    measured_by: MeasuredBy = Field(
        description="developer: the model's developer; third_party: a competitor or an aggregator reports it; "
        "independent_leaderboard: an independent evaluator running many models on one harness."
    )
    mode: Mode | None = Field(default=None, description="thinking or non_thinking, when the source states it.")
    setting: str | None = Field(default=None, description="Effort, tools, harness or window, as the source states.")
    source: str = Field(min_length=1, description="Public URL that states the value.")
    as_of: dt.date = Field(description="Date on which the source stated the value (or was read).")
    source_kind: SourceKind | None = Field(
        default=None, description="primary: the measurer's own publication; secondary: a copy or report of it."
    )
    note: str | None = None


class LeaderboardEntry(Strict):
    """One model's value in a leaderboard snapshot."""

    model: str = Field(min_length=1, description="Catalogue model id (Hugging Face repo id).")
    value: float
    setting: str | None = None
    note: str | None = None


#: The fields a leaderboard entry's measurement is given (:meth:`LeaderboardFile.measurements`).
_LEADERBOARD_FIELDS = ("benchmark", "value", "measured_by", "setting", "source", "as_of", "source_kind", "note")


class LeaderboardFile(Strict):
    """One ``catalogue/leaderboards/<snapshot-id>.toml`` file: an independent leaderboard at one date."""

    name: str = Field(min_length=1)
    benchmark: str = Field(min_length=1, description="Benchmark variant id: a file stem under rules/benchmarks/.")
    measured_by: MeasuredBy = "independent_leaderboard"
    source: str = Field(min_length=1)
    as_of: dt.date
    source_kind: SourceKind | None = None
    review_by: dt.date
    note: str | None = None
    entries: list[LeaderboardEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_entry_per_model(self) -> LeaderboardFile:
        seen: set[str] = set()
        for i, entry in enumerate(self.entries):
            if entry.model in seen:
                raise ValueError(f"entries[{i}]: model {entry.model!r} appears twice")
            seen.add(entry.model)
        return self

    def measurements(self, snapshot_id: str) -> dict[str, Measurement]:
        """Each entry as a measurement of its model (model id -> measurement).

        Built without validation: every field comes from this snapshot's validated fields (the same types and
        constraints), so validating 10,000 entries again would only repeat what loading did. The entries share
        one set of the names of the fields given (a set per measurement was two thirds of its memory); a
        measurement is frozen, so the set is never changed, and a copy gets its own.
        """
        given = set(_LEADERBOARD_FIELDS)
        return {
            entry.model: Measurement.model_construct(
                given,
                benchmark=self.benchmark,
                value=entry.value,
                measured_by=self.measured_by,
                setting=entry.setting,
                source=self.source,
                as_of=self.as_of,
                source_kind=self.source_kind,
                note=f"leaderboard snapshot {snapshot_id}" + (f"; {entry.note}" if entry.note else ""),
            )
            for entry in self.entries
        }


class Leaderboard(LeaderboardFile):
    """A leaderboard snapshot with its id (the file stem)."""

    id: str
