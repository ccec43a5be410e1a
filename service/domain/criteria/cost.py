"""Cost: the cheapest hosted price for ``deployment: api`` in the use cases' token mix, otherwise compute per
token when self-hosting."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from service.domain.catalogue import HostedOffer
from service.domain.criteria.base import BoolArray, CriterionModule, Explanation, FloatArray, RequestView, Scores
from service.domain.features import Features, api_cost_criterion, api_prices, fact_evidence
from service.domain.kept import Kept
from service.domain.requirements import Requirements
from service.domain.rules import Criterion, TokenMix

__all__ = ["ApiCost", "CostCriterion"]


@dataclass(frozen=True)
class ApiCost:
    """The cost of a hosted API for one request: the token mix, and per model the cheapest offer that ranks."""

    input_share: float
    mixes: dict[str, TokenMix]
    prices: FloatArray
    best: list[HostedOffer | None]
    allowed: frozenset[str] | None
    value: FloatArray  # the criterion's values from these prices (read-only)
    known: BoolArray

    def mix_text(self) -> str:
        """The token mix in words, with the use cases it comes from."""
        cases = ", ".join(self.mixes)
        return (
            f"token mix {self.input_share:.0%} input / {1 - self.input_share:.0%} output tokens "
            f"({cases}; rules/criteria/cost.toml)"
        )


class CostCriterion(CriterionModule):
    """Blended hosted price (log scale, cheaper is better) or active parameters (log scale, fewer is better)."""

    id = "cost"

    def __init__(self, spec: Criterion, features: Features) -> None:
        super().__init__(spec)
        self.f = features
        #: The API cost per use-case list and allowed hosting countries: what :meth:`api_cost` reads of a request.
        self._api: Kept[tuple[tuple[str, ...], frozenset[str] | None], ApiCost] = Kept("cost.api", 64)
        #: The scores of a deployment that is not an API (read, never changed).
        self._self_hosted = self.exact(features.criterion_value["cost_self"], features.criterion_known["cost_self"])

    def api_cost(self, req: Requirements) -> ApiCost:
        """The token mix of the request's use cases and, per model, the cheapest offer that may rank."""
        hosting = req.privacy.hosting_countries
        allowed = frozenset(hosting) if hosting else None
        key = (tuple(req.use_cases), allowed)
        cached = self._api.get(key)
        if cached is None:
            share, mixes = self.spec.mix_for(list(req.use_cases))
            prices, best = api_prices(self.f, self.spec, share, allowed)
            value, known = api_cost_criterion(self.f, self.spec, prices)
            value.setflags(write=False)
            known.setflags(write=False)
            cached = ApiCost(
                input_share=share, mixes=mixes, prices=prices, best=best, allowed=allowed, value=value, known=known
            )
            cached = self._api.put(key, cached)
        return cached

    def scores(self, request: RequestView) -> Scores:
        req = request.requirements
        if req.privacy.deployment == "api":
            api = self.api_cost(req)
            return self.exact(api.value, api.known)
        return self._self_hosted

    def explanation_key(self, request: RequestView) -> Hashable | None:
        # explain reads the deployment and, for an API, what api_cost reads (use cases, hosting countries).
        req = request.requirements
        if req.privacy.deployment != "api":
            return ("self_hosted",)
        hosting = req.privacy.hosting_countries
        return ("api", tuple(req.use_cases), frozenset(hosting) if hosting else None)

    def explain(self, request: RequestView, i: int) -> Explanation:
        m = self.f.models[i]
        if request.requirements.privacy.deployment == "api":
            api = self.api_cost(request.requirements)
            evidence = list(self.f.offer_evidence[i])
            best = api.best[i]
            if best is None:
                where = f" from a provider in {', '.join(sorted(api.allowed))}" if api.allowed is not None else ""
                return Explanation(
                    f"no hosted price that ranks (active, flat or peak){where}; {api.mix_text()}", evidence
                )
            return Explanation(
                f"cheapest blended price {api.prices[i]:.3f} USD per M tokens at {best.label} "
                f"(price as of {best.offer.as_of.isoformat()}); {api.mix_text()}",
                evidence,
            )
        fact = m.parameters_active_b or m.parameters_total_b
        name = "parameters_active_b" if m.parameters_active_b else "parameters_total_b"
        text = f"self-hosting compute per token from {fact.value:g}B active parameters" if fact else "unknown"
        return Explanation(text, list(fact_evidence(name, fact)))
