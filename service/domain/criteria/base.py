"""The one interface every scoring criterion implements.

A criterion computes its value for every model at once (a 0-1 NumPy vector, higher is better), says which
values rest on data and how uncertain they are, and explains one model on demand: the text, the evidence
(facts with sources and dates) and the caveats a reviewer should read. The engine loops over criteria and
never branches on a criterion's name; adding a criterion is adding a module and a ``rules/criteria`` file.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import numpy as np
import numpy.typing as npt

from service.domain.answer import Caveat, UseCaseEstimate
from service.domain.facts import REASON_CITES, Evidence, citation
from service.domain.requirements import Requirements
from service.domain.rules import Criterion

__all__ = ["CriterionModule", "Explanation", "RequestView", "Scores"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class RequestView:
    """What a criterion may read about one request: the requirements and per-request model columns."""

    requirements: Requirements
    evaluated_on: dt.date
    memory_gb: FloatArray  # memory estimate per model at the requested precision and fine-tuning mode
    precision: tuple[str, ...]  # the weight format costed per model (``native`` resolved)


@lru_cache(maxsize=8)
def _no_uncertainty(shape: tuple[int, ...]) -> FloatArray:
    """Zeros of ``shape``, read-only: the uncertainty of exact scores, shared by every such criterion and request."""
    zeros: FloatArray = np.zeros(shape)
    zeros.setflags(write=False)
    return zeros


@dataclass(frozen=True)
class Scores:
    """A criterion's values for every model: 0-1 value, whether it rests on data, and its standard deviation."""

    value: FloatArray
    known: BoolArray
    uncertainty: FloatArray  # 0 where the value is exact given the facts


@dataclass(frozen=True)
class Explanation:
    """One model's criterion explained: text, evidence, caveats and (for capability) per-use-case estimates."""

    text: str
    evidence: list[Evidence]
    caveats: list[Caveat] = field(default_factory=list)
    estimates: list[UseCaseEstimate] | None = None

    @cached_property
    def cited(self) -> str:
        """The facts a reason sentence cites (the first :data:`REASON_CITES`), written out: computed once."""
        return citation(self.evidence[:REASON_CITES])


class CriterionModule(ABC):
    """Base of the criterion modules: ``spec`` is the criterion's ``rules/criteria/<id>.toml``."""

    id: str
    #: True when :meth:`explain` reads nothing of the request: the engine then keeps each model's explanation.
    same_for_every_request: bool = False
    #: True when :meth:`scores` reads nothing of the request: the engine then computes them once and keeps them.
    scores_fixed: bool = False

    def __init__(self, spec: Criterion) -> None:
        self.spec = spec

    @abstractmethod
    def scores(self, request: RequestView) -> Scores:
        """Values for every model under ``request`` (vectorised)."""

    @abstractmethod
    def explain(self, request: RequestView, i: int) -> Explanation:
        """Text, evidence and caveats for model ``i``."""

    def explanation_key(self, request: RequestView) -> Hashable | None:
        """What :meth:`explain` reads of ``request``, as a key under which the engine keeps each model's explanation
        (bounded) for later requests with the same key; None when it reads more than a key says (never kept).

        Default: one key for every request when :attr:`same_for_every_request`, else None.
        """
        return () if self.same_for_every_request else None

    def evidence_key(self, request: RequestView) -> Hashable | None:
        """What the evidence and caveats of :meth:`explain` read of ``request``, as a key: a model's are the same
        (equal) for every request with the same key; None when they read more than a key says.

        Default: :meth:`explanation_key`.
        """
        return self.explanation_key(request)

    def method(self, request: RequestView) -> list[str]:
        """Plain statements of how this criterion was computed for ``request`` (default: none)."""
        return []

    @staticmethod
    def exact(value: FloatArray, known: BoolArray) -> Scores:
        """Scores whose values are exact given the facts (no uncertainty: zeros, shared and read-only)."""
        return Scores(value, known, _no_uncertainty(value.shape))
