"""Regulatory and provenance rules applied to the catalogue: EU AI Act status, public-sector restrictions,
export controls, provenance allegations and data-access laws.

Per-model facts are compiled once when the engine loads (:class:`ComplianceFeatures`). A request adds one
vectorised column, ``compliance.public_sector_restricted``, that the data rule ``compliance.public-sector``
checks (like ``fit.gpus_needed``), and, for the models an answer names, caveats that each carry the rule
id, the fact, its source, its date and whether the source is primary (:class:`ComplianceRequest`).

Statements here are decision support, not legal advice: allegations are reported as allegations, an unknown
fact stays unknown, and the wording of each restriction decides what it covers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from service.domain.answer import Caveat
from service.domain.catalogue import Catalogue, Model, Organisation
from service.domain.errors import DataError
from service.domain.facts import Evidence
from service.domain.features import Features, PerModel
from service.domain.kept import Kept
from service.domain.regulatory import (
    DataAccessLaw,
    EuAiActStatus,
    ExportControlListing,
    Jurisdiction,
    PublicSectorRestriction,
    SystemicRisk,
)
from service.domain.requirements import Requirements
from service.domain.rules import Licence, RuleSet
from service.domain.tokens import Tokens

__all__ = [
    "PUBLIC_SECTOR_COLUMN",
    "RULE_DATA_ACCESS",
    "RULE_EU_AI_ACT",
    "RULE_EXPORT",
    "RULE_PROVENANCE",
    "RULE_PUBLIC_SECTOR",
    "RULE_REVIEW",
    "ComplianceFeatures",
    "ComplianceRequest",
]

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
Effect = Literal["excludes", "unknown", "caveat"]

RULE_EU_AI_ACT = "compliance.eu-ai-act"
RULE_PUBLIC_SECTOR = "compliance.public-sector"
RULE_EXPORT = "compliance.export-control"
RULE_PROVENANCE = "compliance.provenance-dispute"
RULE_DATA_ACCESS = "compliance.data-access"
RULE_REVIEW = "compliance.review-by"
PUBLIC_SECTOR_COLUMN = "compliance.public_sector_restricted"

_COVERS_TEXT = {
    "hosted_service": "the developer's hosted service (app, website or API), not self-hosted weights",
    "weights": "the model itself, wherever its weights run",
    "unclear": "wording that may or may not reach self-hosted weights",
}


def _flop(value: float) -> str:
    return f"{value:.2e} FLOP"


def _sourced_evidence(fact: str, value: object, record: Any) -> Evidence:
    """Evidence from a record with ``source``, ``as_of``, ``source_kind`` and ``note``."""
    return Evidence.model_construct(
        fact=fact,
        value=value,
        source=record.source,
        as_of=record.as_of,
        source_kind=record.source_kind,
        note=record.note,
    )


@dataclass(frozen=True)
class _Applicable:
    """A restriction of a requested jurisdiction and the models it names."""

    jurisdiction: Jurisdiction
    restriction: PublicSectorRestriction
    mask: BoolArray


class ComplianceFeatures:
    """Regulatory facts per model, compiled once: EU AI Act status, the eu_ai_act criterion, hosting of the
    recorded offers, the restrictions of every jurisdiction as model masks, and the caveats that do not
    depend on the request (export-control listings, provenance allegations)."""

    def __init__(self, catalogue: Catalogue, rules: RuleSet, features: Features) -> None:
        self.rules = rules
        self.policy = rules.regulatory
        self.features = features
        models = features.models
        n = len(models)
        self.orgs: tuple[Organisation, ...] = tuple(catalogue.organisations[m.organisation] for m in models)
        org_index = np.array([m.organisation for m in models], dtype=object)

        # Which service an API request would use: the developer's own (every active offer is run by the
        # developer), a third party's (at least one active offer is), or not known. A provider file names the
        # organisation when it is a developer's own API, so every recorded offer's host is known.
        active = [tuple(o for o in offers if o.usable) for offers in features.offers]
        self.has_offer = np.array([bool(offers) for offers in active], dtype=bool)
        self.developer_only = np.array(
            [bool(offers) and all(o.developer_hosted for o in offers) for offers in active], dtype=bool
        )
        self.third_party = np.array([any(not o.developer_hosted for o in offers) for offers in active], dtype=bool)
        self.host_unknown = self.has_offer & ~self.developer_only & ~self.third_party

        self.restrictions: dict[str, list[tuple[Jurisdiction, PublicSectorRestriction, BoolArray]]] = {}
        problems: list[tuple[str, str, str]] = []
        for code, jurisdiction in sorted(rules.jurisdictions.items()):
            entries = []
            for k, restriction in enumerate(jurisdiction.restrictions):
                where = f"jurisdictions/{code}.toml"
                for org in restriction.organisations:
                    if org not in catalogue.organisations:
                        problems.append((where, f"restrictions.{k}.organisations", f"unknown organisation {org!r}"))
                for model_id in restriction.models:
                    if model_id not in features.index:
                        problems.append((where, f"restrictions.{k}.models", f"unknown model {model_id!r}"))
                mask = np.isin(org_index, restriction.organisations)
                if restriction.models:
                    mask &= np.isin(np.array(features.ids, dtype=object), restriction.models)
                entries.append((jurisdiction, restriction, mask))
            self.restrictions[code] = entries
        if problems:
            raise DataError(problems)

        # Built per model on first use: an answer shows a few models' status.
        self.eu_ai_act: PerModel[EuAiActStatus] = PerModel(
            lambda i: self._eu_status(models[i], features.licences[i], self.orgs[i]), n
        )
        scores = rules.criteria["eu_ai_act"].code_of_practice_scores or {}
        statuses = [o.code_of_practice.status if o.code_of_practice else None for o in self.orgs]
        self.criterion_known: BoolArray = np.array([s in scores for s in statuses], dtype=bool)
        self.criterion_value: FloatArray = np.array([scores.get(s, 0.0) if s else 0.0 for s in statuses])
        self.laws_by_country: dict[str, list[DataAccessLaw]] = {}
        for law in self.policy.data_access_laws:
            if law.cited_by:
                self.laws_by_country.setdefault(law.country, []).append(law)

        by_org = {org.id: org for org in self.orgs}
        self._org_caveats = {org_id: self._static_caveats(org) for org_id, org in by_org.items()}
        self._org_display = {org_id: self._static_display(org) for org_id, org in by_org.items()}
        #: The kinds of each model's regulatory caveats by what they read of a request (see
        #: :meth:`ComplianceRequest.caveat_kinds`); bounded.
        self.caveat_kinds: Kept[tuple[int, int], tuple[str, ...]] = Kept("compliance.caveat_kinds")
        #: Numbers for what a request's caveats read (see :meth:`ComplianceRequest.caveat_kinds`).
        self.token = Tokens("compliance.tokens")
        self.n = n
        # The public-sector column of a request that no restriction binds (most requests: none asks about a
        # jurisdiction): no model restricted, every model known. Shared by those requests (read-only).
        unrestricted = np.empty(n, dtype=object)
        unrestricted[:] = False
        known = np.ones(n, dtype=bool)
        for array in (unrestricted, known):
            array.setflags(write=False)
        self.unrestricted: tuple[npt.NDArray[Any], BoolArray, bool] = (unrestricted, known, False)

    # ---------------------------------------------------------------------------------------- EU AI Act
    def _eu_status(self, m: Model, lic: Licence, org: Organisation) -> EuAiActStatus:
        """The systemic-risk presumption, the open-source exemption and the questions for the provider."""
        eu = self.policy.eu_ai_act
        threshold = eu.systemic_risk_threshold_flop
        evidence = [
            _sourced_evidence(
                "EU AI Act systemic-risk presumption threshold", f"greater than {_flop(threshold)}", eu.threshold
            )
        ]
        compute = m.training_compute_flop
        risk: SystemicRisk
        if compute is None:
            risk = "unknown"
            reason = (
                "No training-compute estimate is recorded for this model, so whether the 10^25 FLOP presumption "
                "applies is unknown (not 'no')."
            )
        else:
            described = f"{compute.estimator}'s estimate of {_flop(compute.value)} ({compute.confidence})"
            evidence.append(
                Evidence.model_construct(
                    fact="training_compute_flop",
                    value=compute.value,
                    source=compute.source,
                    as_of=compute.as_of,
                    source_kind=compute.source_kind,
                    note=f"{compute.estimator}, confidence {compute.confidence}, covers {compute.covers}: "
                    f"{compute.method}." + (f" {compute.note}" if compute.note else ""),
                )
            )
            if compute.confidence == "speculative":
                risk = "unknown"
                reason = f"The only estimate, {described}, is speculative, so the presumption is unknown."
            elif compute.value > threshold:
                risk = "presumed"
                reason = f"{described} is greater than the threshold of {_flop(threshold)} (Art. 51(2))."
            elif compute.covers == "lower_bound":
                risk = "unknown"
                reason = f"{described} is a lower bound below the threshold, so it cannot rule the presumption out."
            elif compute.covers == "pre_training_only" and compute.value >= eu.partial_estimate_factor * threshold:
                risk = "unknown"
                reason = (
                    f"{described} covers pre-training only and is at least {eu.partial_estimate_factor:.0%} of the "
                    "threshold; post-training compute, which Art. 51(2) counts, could take it above."
                )
            else:
                risk = "not_presumed"
                reason = (
                    f"{described} is below the threshold of {_flop(threshold)}, so the presumption does not apply; "
                    "the Commission can still designate a model for its capabilities (Art. 51(1)(b))."
                )

        evidence.append(
            Evidence.model_construct(
                fact=f"licence {lic.id}: kind",
                value=lic.kind,
                source=lic.source,
                as_of=lic.as_of,
                source_kind=lic.source_kind,
            )
        )
        evidence.append(_sourced_evidence("EU AI Act open-source exemption", "conditions", eu.open_source_exemption))
        exemption: Literal["may_apply", "does_not_apply", "unknown"]
        if risk == "presumed":
            exemption = "does_not_apply"
            exemption_reason = "The Art. 53(2) exemption does not apply to models with systemic risk."
        elif lic.kind in ("permissive", "copyleft"):
            if risk == "unknown":
                exemption = "unknown"
                exemption_reason = (
                    f"{lic.name} is an OSI-approved {lic.kind} licence, but the exemption falls away if the model "
                    "has systemic risk, which is unknown."
                )
            else:
                exemption = "may_apply"
                exemption_reason = (
                    f"Released under {lic.name} (OSI-approved, {lic.kind}) with public weights, so the exemption from "
                    "Art. 53(1)(a)-(b) may apply if the release is not monetised (Commission guidelines); the "
                    "copyright policy and training-content summary are still owed."
                )
        else:
            exemption = "unknown"
            exemption_reason = (
                f"{lic.name} is a custom licence; whether it counts as free and open-source under Art. 53(2) "
                "needs legal review."
            )

        cop = org.code_of_practice
        if cop is not None:
            chapters = f" ({', '.join(cop.chapters)})" if cop.chapters else ""
            evidence.append(
                _sourced_evidence(f"organisation {org.id}: GPAI Code of Practice", f"{cop.status}{chapters}", cop)
            )
        status = cop.status if cop else None
        outside_eu = org.country.value not in eu.eu_member_states
        applies = {
            "always": True,
            "exemption_not_established": exemption != "may_apply",
            "systemic_risk_possible": risk != "not_presumed",
            "systemic_risk_unknown": risk == "unknown",
            "code_not_fully_signed": status != "signed",
            "provider_outside_eu": outside_eu and exemption != "may_apply",
        }
        asks = [f"{q.ask} ({q.basis})" for q in eu.ask_provider if applies[q.when]]
        return EuAiActStatus(
            rule_id=RULE_EU_AI_ACT,
            rule_version=eu.version,
            systemic_risk=risk,
            systemic_risk_reason=reason,
            compute_flop=compute.value if compute else None,
            compute_confidence=compute.confidence if compute else None,
            threshold_flop=threshold,
            open_source_exemption=exemption,
            exemption_reason=exemption_reason,
            code_of_practice=status,
            ask_provider=asks,
            evidence=evidence,
        )

    def criterion_explanation(self, i: int) -> tuple[str, list[Evidence]]:
        """Text and evidence of the eu_ai_act criterion for model ``i``."""
        org = self.orgs[i]
        cop = org.code_of_practice
        if cop is None:
            return f"Code of Practice status of {org.name} not recorded", []
        chapters = f" ({', '.join(cop.chapters)})" if cop.chapters else ""
        text = f"{org.name}: GPAI Code of Practice {cop.status.replace('_', ' ')}{chapters}, as of {cop.as_of}"
        return text, [
            _sourced_evidence(f"organisation {org.id}: GPAI Code of Practice", f"{cop.status}{chapters}", cop)
        ]

    # ----------------------------------------------------------------------------- per organisation
    def _static_caveats(self, org: Organisation) -> tuple[Caveat, ...]:
        """Export-control listings and provenance allegations: shown whatever the request."""
        caveats: list[Caveat] = []
        if org.export_controls is not None:
            for item in org.export_controls.listings:
                caveats.append(self._listing_caveat(org, item))
        for allegation in org.provenance_allegations:
            response = (
                f" {allegation.denial.by} responded on {allegation.denial.date.isoformat()}: "
                f"{allegation.denial.statement} ({allegation.denial.source}, as of {allegation.denial.as_of})"
                if allegation.denial
                else " No response from the developer is recorded."
            )
            caveats.append(
                Caveat.model_construct(
                    kind="provenance",
                    rule_id=RULE_PROVENANCE,
                    fact=f"organisation {org.id}: allegation by {allegation.author} ({allegation.date.isoformat()})",
                    source=allegation.source,
                    as_of=allegation.as_of,
                    source_kind=allegation.source_kind,
                    message=(
                        f"Allegation, not a finding: on {allegation.date.isoformat()} {allegation.author} alleged, "
                        f"about {org.name}: {allegation.claim} Evidence published: {allegation.evidence_published}."
                        + response
                    ),
                )
            )
        return tuple(caveats)

    @staticmethod
    def _listing_caveat(org: Organisation, item: ExportControlListing) -> Caveat:
        kind = "an export-control list" if item.kind == "export_control" else "a defence-procurement list"
        when = item.date.isoformat()
        status = {
            "listed": f"{org.name} is on the {item.list_name} ({kind}) since {when}",
            "pending": f"{org.name} is not on the {item.list_name} ({kind}); a listing was reported pending on {when}",
            "withdrawn": f"{org.name} was withdrawn from the {item.list_name} ({kind}) on {when}",
            "vacated": f"A designation of {org.name} on the {item.list_name} ({kind}) was vacated on {when}",
        }[item.status]
        response = f" Response: {item.response}" if item.response else ""
        return Caveat.model_construct(
            kind="export_control",
            rule_id=RULE_EXPORT,
            fact=f"organisation {org.id}: {item.list_name}",
            source=item.source,
            as_of=item.as_of,
            source_kind=item.source_kind,
            message=f"{status}. {item.measure} Effect: {item.effect}{response}",
        )

    @staticmethod
    def _static_display(org: Organisation) -> dict[str, str]:
        controls = org.export_controls
        if controls is None:
            listings = checked = "not recorded"
        else:
            checked = "; ".join(controls.lists_checked) + f" (as of {controls.as_of.isoformat()})"
            listings = (
                "; ".join(
                    f"{item.list_name}: {item.status} since {item.date.isoformat()} ({item.source}, as of "
                    f"{item.as_of.isoformat()})"
                    for item in controls.listings
                )
                or "none"
            )
        allegations = (
            "; ".join(
                f"{a.author} on {a.date.isoformat()} ({'denied' if a.denial else 'no response recorded'})"
                for a in org.provenance_allegations
            )
            or "none recorded"
        )
        return {
            "organisation.export_lists_checked": checked,
            "organisation.export_listings": listings,
            "organisation.provenance_allegations": allegations,
        }

    def organisation_caveats(self, i: int) -> tuple[Caveat, ...]:
        """The request-independent caveats of model ``i``'s developer."""
        return self._org_caveats[self.orgs[i].id]

    def organisation_display(self, i: int) -> dict[str, str]:
        """Message placeholders about model ``i``'s developer."""
        return self._org_display[self.orgs[i].id]

    def for_request(self, req: Requirements, evaluated_on: dt.date) -> ComplianceRequest:
        """The per-request column and explanations."""
        return ComplianceRequest(self, req, evaluated_on)


class ComplianceRequest:
    """One request's view: the public-sector column for every model, then (only for the models an answer
    names) the evidence, message placeholders and caveats of the regulatory rules."""

    def __init__(self, cf: ComplianceFeatures, req: Requirements, evaluated_on: dt.date) -> None:
        self.cf, self.req, self.evaluated_on = cf, req, evaluated_on
        self.deployment = req.privacy.deployment
        self.codes = list(req.compliance.public_sector_jurisdictions)
        self.unreviewed = [code for code in self.codes if code not in cf.restrictions]
        self._affecting_memo: dict[int, list[tuple[_Applicable, Effect]]] = {}
        self.applicable = [
            _Applicable(jurisdiction, restriction, mask)
            for code in self.codes
            for jurisdiction, restriction, mask in cf.restrictions.get(code, [])
        ]
        if not self.applicable or not any(
            item.restriction.binds in cf.policy.public_sector.applied_binds for item in self.applicable
        ):
            self.columns: dict[str, tuple[npt.NDArray[Any], BoolArray, bool]] = {PUBLIC_SECTOR_COLUMN: cf.unrestricted}
            return
        n = cf.n
        applied = set(cf.policy.public_sector.applied_binds)
        failed = np.zeros(n, dtype=bool)
        unknown = np.zeros(n, dtype=bool)
        api = self.deployment == "api"
        for item in self.applicable:
            restriction, mask = item.restriction, item.mask
            if restriction.binds not in applied:
                continue
            if restriction.covers == "weights":
                failed |= mask
            elif api:
                # Through an API the developer's own service is used when it runs every recorded offer; when
                # no offer or the host of an offer is unrecorded, which service would be used is unknown.
                failed |= mask & cf.developer_only
                if restriction.covers == "hosted_service":
                    unknown |= mask & (cf.host_unknown | ~cf.has_offer)
                else:
                    unknown |= mask & ~cf.developer_only
            elif restriction.covers == "unclear":
                unknown |= mask
        unknown &= ~failed
        values = np.empty(n, dtype=object)
        values[:] = False
        values[failed] = True
        values[unknown] = None
        self.columns = {PUBLIC_SECTOR_COLUMN: (values, ~unknown, False)}

    @cached_property
    def _reads_token(self) -> int:
        """What the caveats read of the request (see :meth:`caveat_kinds`), as a number (a tuple's hash is not
        kept); asked only when a model is explained."""
        req = self.req
        return self.cf.token((self.deployment, tuple(self.codes), req.compliance.eu_ai_act, self.evaluated_on))

    # -------------------------------------------------------------------------------- public sector
    def _effect(self, item: _Applicable, i: int) -> Effect:
        """What one restriction does to model ``i`` (the scalar form of the column above)."""
        restriction, cf = item.restriction, self.cf
        if restriction.binds not in cf.policy.public_sector.applied_binds:
            return "caveat"
        if restriction.covers == "weights":
            return "excludes"
        if self.deployment == "api":
            if cf.developer_only[i]:
                return "excludes"
            if restriction.covers == "unclear" or cf.host_unknown[i] or not cf.has_offer[i]:
                return "unknown"
            return "caveat"
        return "unknown" if restriction.covers == "unclear" else "caveat"

    def _affecting(self, i: int) -> list[tuple[_Applicable, Effect]]:
        # Asked by several explanations of the same model (its message, evidence and caveats): computed once per
        # model and request (this object lives for one request).
        affecting = self._affecting_memo.get(i)
        if affecting is None:
            affecting = [(item, self._effect(item, i)) for item in self.applicable if item.mask[i]]
            self._affecting_memo[i] = affecting
        return affecting

    def _restriction_evidence(self, item: _Applicable) -> Evidence:
        r, j = item.restriction, item.jurisdiction
        return Evidence.model_construct(
            fact=f"{j.id} public-sector restriction {r.id}: {r.authority}",
            value=f"covers {_COVERS_TEXT[r.covers]}; binds {r.bodies}; since {r.started.isoformat()}",
            source=r.source,
            as_of=r.as_of,
            source_kind=r.source_kind,
            note=r.covers_basis,
        )

    def evidence(self, field: str, i: int) -> tuple[list[Evidence], list[str]]:
        """Evidence for a per-request column, and the facts whose absence made it unknown."""
        if field != PUBLIC_SECTOR_COLUMN:
            return [], []
        cf = self.cf
        org = cf.orgs[i]
        evidence: list[Evidence] = []
        missing: list[str] = []
        affecting = self._affecting(i)
        for item, effect in affecting:
            evidence.append(self._restriction_evidence(item))
            if effect == "unknown":
                if item.restriction.covers == "unclear":
                    missing.append(
                        f"{item.jurisdiction.id} {item.restriction.id}: whether it covers self-hosted weights"
                    )
                else:
                    missing.append(f"offers of {cf.features.ids[i]}: which provider would host the API")
        if self.deployment == "api" and affecting:
            evidence.extend(cf.features.columns["model.has_offer"].evidence[i])
        for code in self.codes:
            if code in cf.restrictions and not any(item.jurisdiction.id == code for item, _ in affecting):
                jurisdiction = self.cf.rules.jurisdictions[code]
                evidence.append(
                    Evidence.model_construct(
                        fact=f"{code} public-sector restrictions recorded",
                        value=f"none naming {org.name}",
                        source=f"rules/jurisdictions/{code}.toml",
                        as_of=jurisdiction.reviewed_on,
                        note=cf.policy.public_sector.search_note,
                    )
                )
        for code in self.unreviewed:
            evidence.append(self._unreviewed_evidence(code))
        return evidence, missing

    def _unreviewed_evidence(self, code: str) -> Evidence:
        policy = self.cf.policy.public_sector
        return Evidence.model_construct(
            fact=f"{code} public-sector restrictions recorded",
            value="none: no jurisdiction file",
            source="rules/jurisdictions",
            as_of=policy.searched_on,
            note=policy.search_note,
        )

    @staticmethod
    def _restriction_text(item: _Applicable, effect: Effect) -> str:
        r, j = item.restriction, item.jurisdiction
        head = f"{j.name} ({j.id}): {r.authority}, since {r.started.isoformat()}: {r.measure}"
        if effect == "excludes" and r.covers == "weights":
            why = f"It covers {_COVERS_TEXT['weights']} ({r.covers_basis})"
        elif effect == "excludes":
            why = (
                "It covers the developer's own hosted service, which this API request would use: every recorded "
                "offer is run by the developer"
            )
        elif r.covers == "unclear":
            why = f"Whether it covers self-hosted weights is unclear: {r.covers_basis}"
        else:
            why = "Which provider would host the API is not recorded, and it covers the developer's own service"
        return f"{head} {why} ({r.source}, as of {r.as_of.isoformat()})."

    def display_value(self, i: int, key: str) -> str | None:
        """One placeholder of :meth:`display` (None when it has no such key), computing only that one."""
        if key == "request.compliance.public_sector_jurisdictions":
            return ", ".join(self.codes) or "none"
        if key == "compliance.public_sector_restriction":
            deciding = [(item, effect) for item, effect in self._affecting(i) if effect != "caveat"]
            return " ".join(self._restriction_text(item, effect) for item, effect in deciding) or "none"
        return self.cf.organisation_display(i).get(key)

    def display(self, i: int) -> dict[str, str]:
        """Message placeholders for model ``i`` (organisation facts and this request's restrictions)."""
        values = dict(self.cf.organisation_display(i))
        values["request.compliance.public_sector_jurisdictions"] = ", ".join(self.codes) or "none"
        deciding = [(item, effect) for item, effect in self._affecting(i) if effect != "caveat"]
        values["compliance.public_sector_restriction"] = (
            " ".join(self._restriction_text(item, effect) for item, effect in deciding) or "none"
        )
        return values

    # ------------------------------------------------------------------------------------------ caveats
    def caveats(self, i: int) -> list[Caveat]:
        """Every regulatory caveat for model ``i`` under this request."""
        cf = self.cf
        result = list(cf.organisation_caveats(i))
        result.extend(self._public_sector_caveats(i))
        result.extend(self._data_access_caveats(i))
        if self.req.compliance.eu_ai_act:
            result.append(self._eu_caveat(i))
        result.extend(self._stale_caveats(i))
        return result

    def caveat_kinds(self, i: int) -> tuple[str, ...]:
        """The kinds of :meth:`caveats` for model ``i``, in order of first appearance, without writing a message.

        Kept (bounded) by the model and what :meth:`caveats` reads of the request: the deployment, the
        jurisdictions, whether EU AI Act questions are asked, and the evaluation date."""
        key = (i, self._reads_token)
        kept = self.cf.caveat_kinds
        found = kept.get(key)
        return found if found is not None else kept.put(key, self._caveat_kinds(i))

    def _caveat_kinds(self, i: int) -> tuple[str, ...]:
        cf = self.cf
        kinds = [c.kind for c in cf.organisation_caveats(i)]
        if self.unreviewed or any(effect == "caveat" for _, effect in self._affecting(i)):
            kinds.append("public_sector")
        if self.deployment == "api" and cf.laws_by_country.get(cf.orgs[i].country.value):
            kinds.append("data_access")
        if self.req.compliance.eu_ai_act:
            kinds.append("eu_ai_act")
        if self._overdue(i):
            kinds.append("stale_regulatory")
        return tuple(dict.fromkeys(kinds))

    def _overdue(self, i: int) -> bool:
        """Whether :meth:`_stale_caveats` finds a regulatory fact used for model ``i`` past its review-by date."""
        cf = self.cf
        today = self.evaluated_on
        due = cf.policy.fact_review_by
        if cf.policy.review_by < today or due.eu_ai_act < today:
            return True
        org, model = cf.orgs[i], cf.features.models[i]
        return (
            (model.training_compute_flop is not None and due.training_compute < today)
            or (org.code_of_practice is not None and due.code_of_practice < today)
            or (org.export_controls is not None and due.export_controls < today)
            or (bool(org.provenance_allegations) and due.provenance < today)
            or (
                self.deployment == "api"
                and due.data_access_laws < today
                and bool(cf.laws_by_country.get(org.country.value))
            )
            or any(item.jurisdiction.review_by < today for item, _ in self._affecting(i))
        )

    def _public_sector_caveats(self, i: int) -> list[Caveat]:
        cf = self.cf
        org = cf.orgs[i]
        result = []
        for item, effect in self._affecting(i):
            if effect != "caveat":
                continue
            r, j = item.restriction, item.jurisdiction
            if r.binds not in cf.policy.public_sector.applied_binds:
                if r.covers == "weights":
                    consequence = "it would exclude the model whatever the deployment"
                elif r.covers == "hosted_service":
                    consequence = "it would exclude the model only when using the developer's own service"
                else:
                    consequence = "whether it reaches self-hosted weights is unclear"
                tail = f"It binds only {r.bodies} If your body is one of them, {consequence}."
            elif self.deployment == "api":
                tail = (
                    "It covers the developer's own hosted service; the recorded offers include a third-party host, "
                    "so use that, not the developer's own API."
                )
            else:
                how = {
                    "self_hosted": "on your own infrastructure",
                    "private_cloud": "on rented infrastructure (private cloud)",
                }.get(self.deployment or "", "yourself (the request does not say how the model will run)")
                tail = (
                    f"It covers {_COVERS_TEXT['hosted_service']}: {r.covers_basis} Running the weights {how} is "
                    "outside it; using the developer's own app, website or API would not be."
                )
            exceptions = f" Exceptions: {r.exceptions}" if r.exceptions else ""
            result.append(
                Caveat.model_construct(
                    kind="public_sector",
                    rule_id=RULE_PUBLIC_SECTOR,
                    fact=f"{j.id} public-sector restriction {r.id}",
                    source=r.source,
                    as_of=r.as_of,
                    source_kind=r.source_kind,
                    message=(
                        f"{j.name} ({j.id}): {r.authority} restricted {org.name} from {r.started.isoformat()}: "
                        f"{r.measure} {tail}{exceptions}"
                    ),
                )
            )
        for code in self.unreviewed:
            evidence = self._unreviewed_evidence(code)
            result.append(
                Caveat.model_construct(
                    kind="public_sector",
                    rule_id=RULE_PUBLIC_SECTOR,
                    fact=evidence.fact,
                    source=evidence.source,
                    as_of=evidence.as_of,
                    message=(
                        f"No public-sector restriction is recorded for {code}: the rules have no file for it "
                        f"(sources searched to {evidence.as_of.isoformat()}). {evidence.note}"
                    ),
                )
            )
        return result

    def _data_access_caveats(self, i: int) -> list[Caveat]:
        """For API use only: the laws of the developer's country that regulators cited."""
        if self.deployment != "api":
            return []
        cf = self.cf
        org, offers = cf.orgs[i], [o for o in cf.features.offers[i] if o.usable]
        laws = cf.laws_by_country.get(org.country.value, [])
        own = list(dict.fromkeys(o.provider for o in offers if o.developer_hosted))
        others = list(dict.fromkeys(o.provider for o in offers if not o.developer_hosted))
        result = []
        for law in laws:
            cited = "; ".join(f"{c.regulator} ({c.date.isoformat()}, {c.source})" for c in law.cited_by)
            if own:
                where = (
                    f"Through the developer's own API ({', '.join(own)}) prompts and outputs are held by "
                    f"{org.name}, a provider in {org.country.value}"
                )
            else:
                hosts = ", ".join(others) if others else "no recorded offer"
                where = (
                    f"The recorded offers ({hosts}) are not recorded as run by {org.name}; where a third-party host "
                    f"keeps data depends on that host, but the developer's own service would be in {org.country.value}"
                )
            result.append(
                Caveat.model_construct(
                    kind="data_access",
                    rule_id=RULE_DATA_ACCESS,
                    fact=law.law,
                    source=law.source,
                    as_of=law.as_of,
                    source_kind=law.source_kind,
                    message=(
                        f"{where}, where the {law.law} applies ({law.provisions}). Regulators cited it, or the "
                        f"obligations it sets, when restricting a service: {cited}. {law.relevance}"
                    ),
                )
            )
        return result

    def _eu_caveat(self, i: int) -> Caveat:
        status = self.cf.eu_ai_act[i]
        basis = status.evidence[1] if status.compute_flop is not None else status.evidence[0]
        asks = "; ".join(status.ask_provider)
        return Caveat.model_construct(
            kind="eu_ai_act",
            rule_id=RULE_EU_AI_ACT,
            fact="EU AI Act status" + (": training_compute_flop" if status.compute_flop is not None else ""),
            source=basis.source,
            as_of=basis.as_of,
            source_kind=basis.source_kind,
            message=(
                f"EU AI Act: systemic risk {status.systemic_risk.replace('_', ' ')}. {status.systemic_risk_reason} "
                f"Open-source exemption {status.open_source_exemption.replace('_', ' ')}: {status.exemption_reason} "
                f"Ask the provider for: {asks}."
            ),
        )

    def _stale_caveats(self, i: int) -> list[Caveat]:
        """Regulatory facts used for model ``i`` whose review-by date has passed."""
        cf = self.cf
        today = self.evaluated_on
        due = cf.policy.fact_review_by
        org, model = cf.orgs[i], cf.features.models[i]
        used: list[tuple[dt.date, str, Any]] = []
        if model.training_compute_flop is not None:
            used.append((due.training_compute, "training_compute_flop", model.training_compute_flop))
        if org.code_of_practice is not None:
            used.append((due.code_of_practice, f"organisation {org.id}: GPAI Code of Practice", org.code_of_practice))
        if org.export_controls is not None:
            used.append((due.export_controls, f"organisation {org.id}: export controls", org.export_controls))
        used.extend(
            (due.provenance, f"organisation {org.id}: allegation by {a.author}", a) for a in org.provenance_allegations
        )
        used.append((due.eu_ai_act, "EU AI Act systemic-risk threshold", cf.policy.eu_ai_act.threshold))
        if self.deployment == "api":
            used.extend((due.data_access_laws, law.law, law) for law in cf.laws_by_country.get(org.country.value, []))
        used.extend(
            (
                item.jurisdiction.review_by,
                f"{item.jurisdiction.id} public-sector restriction {item.restriction.id}",
                item.restriction,
            )
            for item, _ in self._affecting(i)
        )
        result = [
            Caveat.model_construct(
                kind="stale_regulatory",
                rule_id=RULE_REVIEW,
                fact=fact,
                source=record.source,
                as_of=record.as_of,
                source_kind=record.source_kind,
                message=(
                    f"{fact} (as of {record.as_of.isoformat()}) was due for review on {review_by.isoformat()}; "
                    "it may be out of date."
                ),
            )
            for review_by, fact, record in used
            if review_by < today
        ]
        if cf.policy.review_by < today:
            result.append(
                Caveat.model_construct(
                    kind="stale_regulatory",
                    rule_id=RULE_REVIEW,
                    fact="rules/regulatory.toml",
                    source="rules/regulatory.toml",
                    as_of=cf.policy.review_by,
                    message=(
                        f"The regulatory rules were due for review on {cf.policy.review_by.isoformat()}; they may "
                        "be out of date."
                    ),
                )
            )
        return result

    def method(self) -> list[str]:
        """Plain statements of how the regulatory rules were applied."""
        eu = self.cf.policy.eu_ai_act
        lines = [
            f"EU AI Act ({RULE_EU_AI_ACT} v{eu.version}): systemic risk is presumed when estimated cumulative "
            f"training compute is greater than {_flop(eu.systemic_risk_threshold_flop)} (Art. 51(2)); without a "
            "usable estimate it is unknown, never 'not presumed'.",
            "Provenance allegations are reported as allegations, with their author, date and any response; "
            "export-control listings are always shown.",
        ]
        if self.codes:
            policy = self.cf.policy.public_sector
            lines.append(
                f"Public-sector restrictions ({RULE_PUBLIC_SECTOR} v{policy.version}) for "
                f"{', '.join(self.codes)}: a restriction on a developer's hosted service excludes a model only when "
                "the request would use that service; one covering the model itself excludes it; one binding only "
                f"some bodies is a caveat. {policy.applied_binds_note}"
            )
        return lines


def request_display_keys() -> Mapping[str, str]:
    """The message placeholders this module fills, with what they mean (for rule authors)."""
    return {
        "organisation.export_lists_checked": "export-control lists checked for the developer, with the date",
        "organisation.export_listings": "the developer's listings, each with status, date and source",
        "organisation.provenance_allegations": "who alleged what about the developer, and when",
        "compliance.public_sector_restriction": "the restrictions that exclude the model, with source and date",
        "request.compliance.public_sector_jurisdictions": "the jurisdictions the request lists",
    }
