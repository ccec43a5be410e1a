"""Regulatory and provenance facts as data: training compute, EU AI Act status, Code of Practice status,
export-control listings, provenance allegations, public-sector restrictions and data-access laws.

Every record here carries its source, the date it was true (``as_of``) and whether the source is primary
(the regulator's, court's or developer's own text) or secondary (a report of it). A fact that is not known
is absent and stays unknown: an organisation with no recorded export-control check is *unknown*, never
"not listed"; a model with no training-compute estimate has an *unknown* systemic-risk status, never "no".

The classes mirror the files that hold them: organisation and model files in ``catalogue/`` (compute,
Code of Practice, export controls, allegations), ``rules/jurisdictions/<CC>.toml`` (public-sector
restrictions) and ``rules/regulatory.toml`` (thresholds, exemption conditions, data-access laws, review dates).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from service.domain.facts import Evidence, Fact, SourceKind, Strict

__all__ = [
    "Binds",
    "CodeOfPractice",
    "ComputeEstimate",
    "Covers",
    "DataAccessLaw",
    "Denial",
    "EuAiActPolicy",
    "EuAiActStatus",
    "EuAiActStatusFields",
    "ExportControlListing",
    "ExportControls",
    "Jurisdiction",
    "JurisdictionFile",
    "LegalText",
    "ProvenanceAllegation",
    "ProvenancePolicy",
    "ProviderQuestion",
    "PublicSectorPolicy",
    "PublicSectorRestriction",
    "RegulatorCitation",
    "RegulatoryPolicy",
    "ReviewDates",
    "SystemicRisk",
]

CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
SystemicRisk = Literal["presumed", "not_presumed", "unknown"]
Exemption = Literal["may_apply", "does_not_apply", "unknown"]
#: Epoch AI's confidence labels, plus ``derived``: computed from developer-stated figures (6 x parameters x
#: tokens), not published as an estimate by anyone.
ComputeConfidence = Literal["confident", "likely", "speculative", "derived"]
#: ``training``: the estimator's figure for the model's training compute; ``pre_training_only``: the source
#: says post-training is left out, so the cumulative figure Art. 51(2) counts is higher; ``lower_bound``: the
#: source gives the figure as a lower bound.
ComputeCoverage = Literal["training", "pre_training_only", "lower_bound"]
CodeStatus = Literal["signed", "signed_partially", "refused", "not_signed", "no_evidence_found"]
CodeChapter = Literal["Transparency", "Copyright", "Safety and Security"]
#: What a public-sector restriction covers: the provider's own app, website or API; the model itself
#: (weights wherever they run); or wording the sources leave open.
Covers = Literal["hosted_service", "weights", "unclear"]
#: Who must comply: everyone in the jurisdiction, every public body, the central (federal) government, or
#: only some named bodies (one agency, one state).
Binds = Literal["everyone", "whole_public_sector", "central_government", "some_bodies"]


class _Sourced(Strict):
    """Where a record comes from and how direct that source is."""

    source: str = Field(min_length=1, description="Public URL(s) or citation stating the fact.")
    as_of: dt.date = Field(description="Date the source stated the fact (or was read).")
    source_kind: SourceKind = Field(
        description="primary: the authority's or developer's own text; secondary: a report."
    )
    note: str | None = None


# ------------------------------------------------------------------------------------------ catalogue side
class ComputeEstimate(Fact[float]):
    """Estimated cumulative training compute of a model in floating-point operations, with its confidence."""

    source_kind: SourceKind = Field(description="primary: the developer's own figure; secondary: a third party's.")
    confidence: ComputeConfidence
    covers: ComputeCoverage
    estimator: str = Field(min_length=1, description="Who made the estimate (e.g. Epoch AI).")
    method: str = Field(min_length=1, description="How the figure was obtained, as the estimator states it.")

    @field_validator("value")
    @classmethod
    def _positive(cls, value: float) -> float:
        if not value > 0:
            raise ValueError("training compute must be a positive number of FLOP")
        return value


class CodeOfPractice(_Sourced):
    """Whether an organisation signed the EU General-Purpose AI Code of Practice, and which chapters."""

    status: CodeStatus = Field(
        description="signed, signed_partially, refused, not_signed, or no_evidence_found (not on any list seen)."
    )
    chapters: list[CodeChapter] = []
    date: dt.date | None = Field(default=None, description="When it signed, refused or was observed absent.")

    @model_validator(mode="after")
    def _chapters_match_status(self) -> CodeOfPractice:
        if self.status in ("signed", "signed_partially") and not self.chapters:
            raise ValueError(f"status {self.status!r} needs the chapters signed")
        if self.status not in ("signed", "signed_partially") and self.chapters:
            raise ValueError(f"status {self.status!r} cannot list signed chapters")
        return self


class ExportControlListing(_Sourced):
    """One listing event: an organisation put on (or proposed for, or taken off) a government list."""

    list_name: str = Field(min_length=1, description="The list, e.g. 'US Entity List (BIS, 15 CFR 744 Supp. 4)'.")
    kind: Literal["export_control", "defence_procurement"] = Field(
        description="export_control: exports to the entity need a licence; defence_procurement: a list that bars "
        "defence contracting (e.g. the US DoD Section 1260H list), not an export control."
    )
    status: Literal["listed", "pending", "withdrawn", "vacated"]
    date: dt.date = Field(description="When the listing (or the pending, withdrawn or vacated state) started.")
    measure: str
    effect: str = Field(description="What the listing does, and what it does not do (e.g. to downloaded weights).")
    response: str | None = Field(default=None, description="The organisation's public response, if recorded.")


class ExportControls(_Sourced):
    """The export-control check of an organisation: which lists were searched, and what was found.

    The record's own source and date say where and when the lists were checked; with no listings, the check
    found none. An organisation with no such record has an unknown status.
    """

    lists_checked: list[str] = Field(min_length=1)
    listings: list[ExportControlListing] = []

    @property
    def restricted(self) -> bool:
        """Whether an export-control list currently names the organisation."""
        return any(item.kind == "export_control" and item.status == "listed" for item in self.listings)

    def evidence(self, organisation: str) -> tuple[Evidence, ...]:
        """The check and every listing, as evidence."""
        check = Evidence.model_construct(
            fact=f"organisation {organisation}: export-control lists checked",
            value="; ".join(self.lists_checked),
            source=self.source,
            as_of=self.as_of,
            source_kind=self.source_kind,
            note=self.note,
        )
        return (check, *(listing_evidence(organisation, item) for item in self.listings))


def listing_evidence(organisation: str, item: ExportControlListing) -> Evidence:
    """One listing as evidence."""
    return Evidence.model_construct(
        fact=f"organisation {organisation}: {item.list_name}",
        value=f"{item.status} since {item.date.isoformat()}",
        source=item.source,
        as_of=item.as_of,
        source_kind=item.source_kind,
        note=item.note,
    )


class Denial(_Sourced):
    """The accused developer's public response to an allegation."""

    by: str
    date: dt.date
    statement: str


class ProvenanceAllegation(_Sourced):
    """A public, dated allegation about how a developer built its models (e.g. distillation from a closed
    model). It is recorded as an allegation by its author, never as a finding."""

    author: str = Field(min_length=1, description="Who made the allegation.")
    date: dt.date = Field(description="When the allegation was made public.")
    claim: str = Field(min_length=1, description="What was alleged, paraphrased neutrally.")
    evidence_published: str = Field(description="What evidence the author made public, if any.")
    denial: Denial | None = Field(default=None, description="The developer's response; null when none recorded.")

    def evidence(self, organisation: str) -> Evidence:
        """The allegation as evidence, labelled as an allegation."""
        response = (
            f"{self.denial.by} responded on {self.denial.date.isoformat()}: {self.denial.statement}"
            if self.denial
            else "no response recorded"
        )
        return Evidence.model_construct(
            fact=f"organisation {organisation}: allegation by {self.author} ({self.date.isoformat()})",
            value=f"alleged, not found: {self.claim}",
            source=self.source,
            as_of=self.as_of,
            source_kind=self.source_kind,
            note=f"Evidence published: {self.evidence_published}. {response}",
        )


# ---------------------------------------------------------------------------------------------- rules side
class PublicSectorRestriction(_Sourced):
    """A government measure that restricts the use of a developer's models or services, with exactly what
    it covers and who must comply."""

    id: Slug = Field(description="Stable id, unique within the jurisdiction file.")
    authority: str
    measure: str = Field(description="What the measure says, paraphrased.")
    organisations: list[str] = Field(min_length=1, description="Organisation ids (catalogue) it names.")
    models: list[str] = Field(default=[], description="Only these model ids; empty means all of theirs.")
    covers: Covers
    covers_basis: str = Field(description="The wording (or its absence) that decides what the measure covers.")
    binds: Binds
    bodies: str = Field(description="Who must comply, as the source states it.")
    started: dt.date
    legal_basis: str | None = None
    exceptions: str | None = Field(default=None, description="Exemptions the source states.")


class JurisdictionFile(Strict):
    """The content of one ``rules/jurisdictions/<CC>.toml`` file (CC: ISO 3166-1 alpha-2)."""

    name: str
    reviewed_on: dt.date = Field(description="When public sources were last searched for restrictions here.")
    review_by: dt.date
    restrictions: list[PublicSectorRestriction] = []

    @model_validator(mode="after")
    def _unique_ids(self) -> JurisdictionFile:
        ids = [r.id for r in self.restrictions]
        if len(ids) != len(set(ids)):
            raise ValueError("restriction ids must be unique within a jurisdiction")
        return self


class Jurisdiction(JurisdictionFile):
    """A jurisdiction with its ISO code (from the file name)."""

    id: CountryCode


class LegalText(_Sourced):
    """A provision as the rules rely on it: where it is, and what it says in plain words."""

    provision: str
    says: str


class ProviderQuestion(Strict):
    """Something a deployer should ask the provider for, and when the question applies."""

    id: Slug
    ask: str
    basis: str = Field(description="The provision that makes the provider answer for it.")
    when: Literal[
        "always",
        "exemption_not_established",
        "systemic_risk_possible",
        "systemic_risk_unknown",
        "code_not_fully_signed",
        "provider_outside_eu",
    ]


class EuAiActPolicy(Strict):
    """How the EU AI Act status of a model is derived (rule ``compliance.eu-ai-act``)."""

    version: int = Field(ge=1)
    systemic_risk_threshold_flop: float = Field(gt=0)
    threshold: LegalText
    partial_estimate_factor: float = Field(
        gt=0,
        le=1,
        description="A pre-training-only estimate at or above this share of the threshold is reported as unknown.",
    )
    partial_estimate_note: str
    open_source_exemption: LegalText
    code_of_practice: LegalText
    eu_member_states: list[CountryCode] = Field(min_length=1)
    eu_member_states_source: str
    criterion_weight: float = Field(
        ge=0, description="Weight of the eu_ai_act criterion when a request sets compliance.eu_ai_act without one."
    )
    ask_provider: list[ProviderQuestion] = Field(min_length=1)


class PublicSectorPolicy(Strict):
    """How public-sector restrictions decide (rule ``compliance.public-sector``)."""

    version: int = Field(ge=1)
    applied_binds: list[Binds] = Field(
        description="Restrictions binding these audiences decide eligibility; the others become caveats."
    )
    applied_binds_note: str
    search_note: str = Field(description="How restrictions were searched; what absence of a file means.")
    searched_on: dt.date


class ProvenancePolicy(Strict):
    """How provenance allegations are searched and reported (rule ``compliance.provenance-dispute``)."""

    version: int = Field(ge=1)
    search_note: str
    searched_on: dt.date


class RegulatorCitation(Strict):
    """A regulator (or government) that cited a law when restricting a service."""

    regulator: str
    date: dt.date
    source: str


class DataAccessLaw(_Sourced):
    """A law of a provider's jurisdiction that lets its government obtain data a hosted service holds."""

    country: CountryCode
    law: str
    provisions: str
    in_force: str
    cited_by: list[RegulatorCitation] = Field(
        default=[], description="Regulators that cited it; only cited laws become caveats."
    )
    relevance: str


class ReviewDates(Strict):
    """When each kind of regulatory fact must be checked again; past it, answers say it may be out of date."""

    training_compute: dt.date
    code_of_practice: dt.date
    export_controls: dt.date
    provenance: dt.date
    data_access_laws: dt.date
    eu_ai_act: dt.date


class RegulatoryPolicy(Strict):
    """The content of ``rules/regulatory.toml``."""

    review_by: dt.date
    eu_ai_act: EuAiActPolicy
    public_sector: PublicSectorPolicy
    provenance: ProvenancePolicy
    data_access_laws: list[DataAccessLaw]
    fact_review_by: ReviewDates


# ------------------------------------------------------------------------------------------------- answers
class EuAiActStatusFields(Strict):
    """What an EU AI Act status says, apart from its evidence (cited in full, or by id in an answer)."""

    rule_id: str
    rule_version: int
    systemic_risk: SystemicRisk = Field(
        description="presumed: estimated training compute above the threshold (Art. 51(2)); unknown when no usable "
        "estimate exists."
    )
    systemic_risk_reason: str
    compute_flop: float | None = Field(description="Estimated cumulative training compute; null when none recorded.")
    compute_confidence: str | None
    threshold_flop: float
    open_source_exemption: Exemption = Field(
        description="Whether the Art. 53(2) exemption from the documentation duties can apply to the provider."
    )
    exemption_reason: str
    code_of_practice: CodeStatus | None = Field(
        description="The provider's Code of Practice status; null if unrecorded."
    )
    ask_provider: list[str] = Field(description="What the deployer should ask the provider for.")


class EuAiActStatus(EuAiActStatusFields):
    """A model's position under the EU AI Act's rules for general-purpose AI models, as far as the recorded
    facts allow. ``unknown`` is never turned into "no"."""

    evidence: list[Evidence]
