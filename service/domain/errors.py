"""Errors raised by the domain core.

Exception tree::

    AdvisorError
    ├── DataError            a catalogue or rules file is invalid (carries path, field and problem)
    ├── RequirementError     a request is well-formed JSON but asks for something impossible or unknown
    │                        (carries the field and the problem)
    └── UnknownModelError    a model, licence or profile id that the catalogue does not hold
"""

from __future__ import annotations

__all__ = ["AdvisorError", "DataError", "RequirementError", "UnknownModelError"]


class AdvisorError(Exception):
    """Base class of every error the advisor raises on purpose."""


class DataError(AdvisorError):
    """A data file failed validation; ``problems`` lists (path, field, message) triples."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        self.problems = problems
        lines = [f"{path}: {field}: {message}" for path, field, message in problems]
        super().__init__("invalid data files:\n" + "\n".join(lines))


class RequirementError(AdvisorError):
    """A request field names something unknown or contradictory."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class UnknownModelError(AdvisorError):
    """An id that the loaded catalogue or rules do not contain."""

    def __init__(self, kind: str, identifier: str) -> None:
        self.kind = kind
        self.identifier = identifier
        super().__init__(f"unknown {kind}: {identifier}")
