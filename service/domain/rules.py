"""Decision knowledge as data: licences, eligibility rules, scoring criteria, profiles and policies.

Every class here mirrors one kind of file under ``rules/``. Conditions use a small typed language
(field, operator from an allow-list, literal value or a reference to a request field, ``all``/``any``);
nothing is evaluated as code.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, field_validator, model_validator

from service.domain.architecture import WEIGHT_FORMATS, WeightFormat
from service.domain.catalogue import PriceBasis
from service.domain.facts import Strict
from service.domain.hardware import DecodeMeasurement, Gpu
from service.domain.measurements import MEASURED_BY, USE_CASES, Benchmark, MeasuredBy, UseCase
from service.domain.regulatory import Jurisdiction, RegulatoryPolicy

__all__ = [
    "CRITERIA",
    "MODEL_FIELDS",
    "REQUEST_FIELDS",
    "USE_CASES",
    "Check",
    "Condition",
    "Criterion",
    "EligibilityRule",
    "HardwarePolicy",
    "Licence",
    "LicenceKind",
    "LicenceThreshold",
    "Policy",
    "Profile",
    "RuleExample",
    "RuleSet",
    "TokenMix",
    "UseCase",
]

LicenceKind = Literal["permissive", "copyleft", "custom"]
OutputsTraining = Literal["permitted", "conditional", "prohibited", "unknown"]
Criterion_ = Literal[
    "capability",
    "openness",
    "cost",
    "adoption",
    "ecosystem",
    "hardware_efficiency",
    "freshness",
    "reasoning",
    "eu_ai_act",
]
#: The scoring criteria, in the order answers list them.
CRITERIA: tuple[str, ...] = get_args(Criterion_)

#: Model-side fields a rule may test, with what they mean. The engine computes one column per field.
MODEL_FIELDS: dict[str, str] = {
    "model.id": "Hugging Face repo id",
    "model.family": "model family",
    "model.context_tokens": "native context window in tokens",
    "model.context_tokens_max": "largest context window in tokens: the extended one where a source states an "
    "extension method (context_extension), else the native one",
    "model.input_modalities": "input modalities (text, image, audio, video)",
    "model.reasoning": "reasoning mode (none, hybrid, always)",
    "model.training_data": "training data openness (weights_only, open)",
    "model.has_offer": "whether an active hosted API offer is recorded (retired and superseded offers do not count)",
    "offers.hosting_countries": "ISO 3166-1 alpha-2 countries of the providers of the model's active offers "
    "(unknown while a provider's country is not recorded and no recorded one is allowed)",
    "model.parameters_total_b": "total parameters in billions",
    "licence.id": "licence id",
    "licence.kind": "licence kind (permissive, copyleft, custom)",
    "licence.commercial_use": "whether the licence permits commercial use",
    "licence.derivatives_permitted": "whether the licence permits fine-tuned derivatives",
    "licence.outputs_training": "whether outputs may train other models",
    "licence.separate_licence_above_mau": "monthly active users above which a separate licence is needed",
    "organisation.id": "organisation id",
    "organisation.country": "ISO 3166-1 alpha-2 country of the developer",
    "fit.memory_gb": "estimated memory at the requested precision and fine-tuning mode",
    "fit.gpus_needed": "GPUs of the requested size needed to hold that memory",
    "model.training_compute_flop": "estimated cumulative training compute in FLOP",
    "organisation.export_restricted": "whether an export-control list names the developer (unknown if never checked)",
    "organisation.provenance_disputed": "whether the developer faces a dated, public provenance allegation",
    "compliance.public_sector_restricted": "whether a public-sector restriction in a requested jurisdiction "
    "excludes the model for the requested deployment (computed per request)",
}

#: Request fields a rule may read, by dotted path.
REQUEST_FIELDS: frozenset[str] = frozenset(
    {
        "use_cases",
        "ip.commercial_use",
        "ip.licence_kinds",
        "ip.allowed_licences",
        "ip.monthly_active_users",
        "ip.train_on_outputs",
        "privacy.deployment",
        "privacy.excluded_origin_countries",
        "privacy.hosting_countries",
        "privacy.require_open_training_data",
        "customisation.fine_tuning",
        "hardware.gpu_memory_gb",
        "hardware.gpu_count",
        "hardware.precision",
        "min_context_tokens",
        "reasoning",
        "compliance.eu_ai_act",
        "compliance.public_sector_jurisdictions",
        "compliance.exclude_export_restricted",
        "compliance.exclude_provenance_disputes",
    }
)

RequestOp = Literal["eq", "ne", "in", "contains", "is_set", "is_true"]
CheckOp = Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "intersects"]


class Condition(Strict):
    """A test on the request: does this rule apply? ``op`` is from a fixed allow-list."""

    field: str
    op: RequestOp
    value: Any = None

    @model_validator(mode="after")
    def _known_field(self) -> Condition:
        if self.field not in REQUEST_FIELDS:
            raise ValueError(f"unknown request field {self.field!r}; known: {sorted(REQUEST_FIELDS)}")
        if self.op not in ("is_set", "is_true") and self.value is None:
            raise ValueError(f"operator {self.op!r} needs a value")
        return self


class Check(Strict):
    """A test on a model: ``field op value`` where value is a literal or a request field (``ref``)."""

    field: str
    op: CheckOp
    value: Any = None
    ref: str | None = Field(default=None, description="Request field whose value is compared against.")

    @model_validator(mode="after")
    def _well_formed(self) -> Check:
        if self.field not in MODEL_FIELDS:
            raise ValueError(f"unknown model field {self.field!r}; known: {sorted(MODEL_FIELDS)}")
        if (self.value is None) == (self.ref is None):
            raise ValueError("give exactly one of 'value' and 'ref'")
        if self.ref is not None and self.ref not in REQUEST_FIELDS:
            raise ValueError(f"unknown request field {self.ref!r} in ref")
        return self


class RuleExample(Strict):
    """A worked case that the generic rule test runs: request values, model column values, outcome."""

    description: str
    request: dict[str, Any] = {}
    model: dict[str, Any] = {}
    unknown: list[str] = Field(default=[], description="Model fields whose fact is unknown (null).")
    expect: Literal["pass", "fail", "unknown", "not_applicable"]


class EligibilityRule(Strict):
    """A hard constraint. It applies when every ``when`` condition holds; the model passes when ``check``
    holds (``all`` of ``checks``, or ``any`` of them when ``match = "any"``)."""

    id: str = Field(pattern=r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")
    version: int = Field(ge=1)
    requirement: str = Field(description="The request field this rule answers.")
    description: str
    when: list[Condition] = Field(min_length=1)
    checks: list[Check] = Field(min_length=1)
    match: Literal["all", "any"] = "all"
    message: str = Field(description="Sentence shown when the model fails; {placeholders} name columns.")
    pass_message: str = Field(description="Sentence shown when the model passes.")
    unknown_message: str = Field(description="Sentence shown when a needed fact is unknown.")
    review_by: dt.date
    examples: list[RuleExample] = Field(min_length=2)

    @model_validator(mode="after")
    def _requirement_known(self) -> EligibilityRule:
        if self.requirement not in REQUEST_FIELDS:
            raise ValueError(f"requirement {self.requirement!r} is not a request field")
        outcomes = {example.expect for example in self.examples}
        if not {"pass", "fail"} <= outcomes:
            raise ValueError("examples must include at least one 'pass' and one 'fail' case")
        return self


class LicenceThreshold(Strict):
    """A scale above which a licence demands something: a separate licence, or showing the model name."""

    monthly_active_users: int | None = Field(default=None, gt=0)
    monthly_revenue_usd: float | None = Field(default=None, gt=0)
    annual_revenue_usd: float | None = Field(default=None, gt=0)
    applies_to: str | None = Field(default=None, description="Who the threshold applies to, if not everyone.")
    effect: Literal["separate_licence", "display_name"]
    duty: str = Field(description="What the licensee must do above the threshold, in plain words.")


class Licence(Strict):
    """One ``rules/licences/<id>.toml`` file: what a licence permits and demands."""

    id: str
    name: str
    spdx: str | None = None
    kind: LicenceKind
    osi_approved: bool
    url: str
    source: str
    as_of: dt.date
    source_kind: Literal["primary", "secondary"]
    review_by: dt.date
    commercial_use: bool | None = Field(default=None, description="Null when not established.")
    derivatives_permitted: bool | None = Field(default=None, description="Null when not established.")
    attribution: str | None = Field(default=None, description="Notice and attribution duties; null when unknown.")
    naming_duty: str | None = Field(default=None, description="Duty to name derived models or products.")
    use_restrictions: list[str] | None = Field(default=None, description="Field-of-use limits; null when not reviewed.")
    outputs_training: OutputsTraining
    outputs_clause: str
    thresholds: list[LicenceThreshold] = []
    notes: str | None = None

    @model_validator(mode="after")
    def _kind_matches_osi(self) -> Licence:
        if self.kind in ("permissive", "copyleft") and not self.osi_approved:
            raise ValueError(f"kind {self.kind!r} needs an OSI-approved licence used unmodified")
        return self

    @property
    def separate_licence_above_mau(self) -> float:
        """Monthly active users above which a separate licence is needed (infinity when never)."""
        caps = [
            t.monthly_active_users
            for t in self.thresholds
            if t.effect == "separate_licence" and t.monthly_active_users is not None and t.applies_to is None
        ]
        return float(min(caps)) if caps else float("inf")


class TokenMix(Strict):
    """The share of input tokens in a use case's traffic; the rest is output (reasoning tokens bill as output)."""

    input_share: float = Field(ge=0, le=1)
    note: str = Field(min_length=1, description="Why this mix: what it rests on, in plain words.")
    source: str | None = Field(default=None, description="Public URL the mix (or its reasoning) comes from.")
    as_of: dt.date | None = None


class CapabilityModel(Strict):
    """The stated assumptions of the capability model (see service.domain.ability)."""

    description: str = Field(description="The model in plain words.")
    general_prior_sd: float = Field(gt=0, description="Prior standard deviation of general ability (logits).")
    use_case_prior_sd: float = Field(gt=0, description="Prior standard deviation of a use-case deviation.")
    scale_prior_sd: float = Field(
        gt=0,
        description=(
            "Prior standard deviation of a variant's log-scale around 0 (the common scale 1) when its measurements "
            "carry no information about it."
        ),
    )
    scale_prior_measurements: float = Field(
        ge=0,
        description=(
            "How many measurements (of weight 1, abilities spread as their prior) the prior on a variant's "
            "log-scale is worth besides: its own scale gets a weight of about n / (n + this), the common scale 1 "
            "the rest."
        ),
    )
    scale_prior_note: str = Field(min_length=1, description="Why the scales are shrunk so, in plain words.")
    difficulty_prior_sd: float = Field(gt=0, description="Prior standard deviation of a variant's difficulty.")
    clip: float = Field(gt=0, lt=0.5, description="Percent and index values are clipped to [clip, 1 - clip].")
    measurer_weights: dict[MeasuredBy, Annotated[float, Field(gt=0, le=1)]] = Field(
        description="Weight of a measurement by who measured it (independent leaderboards weigh most)."
    )
    measurer_weights_note: str
    saturated_factor: float = Field(gt=0, le=1, description="Weight multiplier for a saturated variant.")
    saturated_note: str
    max_iterations: int = Field(gt=0)
    tolerance: float = Field(gt=0)

    @model_validator(mode="after")
    def _every_measurer(self) -> CapabilityModel:
        missing = sorted(set(MEASURED_BY) - set(self.measurer_weights))
        if missing:
            raise ValueError(f"measurer_weights lacks {missing}")
        return self


class InsufficientEvidence(Strict):
    """How a model without any usable measurement is ranked (never a silent 0)."""

    policy: Literal["conservative_bound"]
    quantile: float = Field(
        gt=0, lt=0.5, description="The value given: this quantile of the estimated models' general ability."
    )
    note: str = Field(description="The policy in plain words; every answer states it.")


class Criterion(Strict):
    """One ``rules/criteria/<name>.toml`` file: which facts feed a score, how, and what missing data means."""

    id: Criterion_
    name: str
    version: int = Field(ge=1)
    description: str
    normalisation: str = Field(description="How raw values become 0-1, in plain words.")
    missing: Literal["zero", "catalogue_median", "conservative_bound"]
    missing_note: str
    review_by: dt.date
    # Per-kind parameters; only the ones the criterion uses are set.
    default_use_cases: list[UseCase] | None = Field(
        default=None, description="Capability: use cases when a request names none (empty: general ability)."
    )
    model: CapabilityModel | None = Field(default=None, description="Capability: the latent-ability model.")
    insufficient_evidence: InsufficientEvidence | None = Field(
        default=None, description="Capability: what a model with no usable measurement scores, and why."
    )
    licence_kind_scores: dict[LicenceKind, float] | None = None
    training_data_scores: dict[str, float] | None = None
    part_weights: dict[str, float] | None = None
    token_mix: dict[str, TokenMix] | None = Field(
        default=None,
        description="Cost: the stated share of input tokens per use case ('default' for use cases not listed); a "
        "request with several use cases uses the mean of their shares.",
    )
    price_bases: list[PriceBasis] | None = Field(
        default=None,
        description="Price bases a ranking compares (cost): prices that hold at every hour, not off-peak discounts.",
    )
    horizon_days: int | None = Field(default=None, gt=0)
    reasoning_scores: dict[str, float] | None = None
    code_of_practice_scores: dict[str, float] | None = Field(
        default=None, description="EU GPAI Code of Practice status -> score (eu_ai_act criterion)."
    )

    @model_validator(mode="after")
    def _use_cases_known(self) -> Criterion:
        if self.id == "capability" and (self.model is None or self.insufficient_evidence is None):
            raise ValueError("the capability criterion needs [model] and [insufficient_evidence] tables")
        if self.token_mix is not None:
            if "default" not in self.token_mix:
                raise ValueError("token_mix needs a 'default' entry for use cases it does not list")
            for case in self.token_mix:
                if case != "default" and case not in USE_CASES:
                    raise ValueError(f"token_mix: unknown use case {case!r}; known: default, {', '.join(USE_CASES)}")
        return self

    def mix_for(self, use_cases: list[str]) -> tuple[float, dict[str, TokenMix]]:
        """The input share for these use cases (the mean of each case's mix, the default mix for a case without
        one, or the default alone when no use case is given) and the mixes used, by name."""
        mixes = self.token_mix or {}
        default = mixes.get("default") or TokenMix(input_share=0.75, note="3:1 input to output tokens")
        used = {case if case in mixes else "default": mixes.get(case, default) for case in use_cases}
        if not used:
            used = {"default": default}
        shares = [mixes.get(case, default).input_share for case in use_cases] or [default.input_share]
        return round(sum(shares) / len(shares), 6), dict(sorted(used.items()))


class Profile(Strict):
    """A named weight set (``rules/profiles/<id>.toml``)."""

    id: str
    name: str
    description: str
    review_by: dt.date = Field(description="Date by which a person should re-check these weights.")
    weights: dict[Criterion_, Annotated[float, Field(ge=0)]]

    @model_validator(mode="after")
    def _some_weight(self) -> Profile:
        if not any(self.weights.values()):
            raise ValueError("at least one weight must be positive")
        return self


class HardwarePolicy(Strict):
    """Memory, headroom and decode-speed constants (``rules/hardware.toml``), each stated with its reason."""

    bytes_per_parameter: dict[WeightFormat, float] = Field(
        description="Bytes per parameter of each weight format (scales included)."
    )
    bytes_per_parameter_note: str
    kv_cache_bytes_per_element: float = Field(gt=0, description="Bytes per cached key/value element.")
    kv_cache_note: str
    fallback_kv_bytes_per_token: float = Field(
        gt=0, description="KV cache bytes per token assumed when a model's [transformer] facts are not recorded."
    )
    fallback_kv_note: str
    runtime_overhead_fraction: float = Field(ge=0, description="Runtime memory as a fraction of weights + cache.")
    runtime_overhead_note: str
    usable_memory_fraction: float = Field(gt=0, lt=1, description="Share of each GPU's memory a fit may use.")
    usable_memory_note: str
    default_concurrent_requests: int = Field(ge=1)
    default_tokens_per_request: int = Field(ge=1)
    default_workload_note: str
    decode_efficiency: float = Field(gt=0, le=1, description="Share of peak bandwidth (and compute) decoding reaches.")
    decode_efficiency_note: str
    decode_tolerance: float = Field(gt=0, lt=1, description="Largest relative gap to a published measurement.")
    decode_measurements: list[DecodeMeasurement] = Field(min_length=3)
    inference_overhead_fraction: float = Field(ge=0)
    inference_overhead_note: str
    lora_overhead_fraction: float = Field(ge=0)
    lora_overhead_note: str
    full_fine_tuning_bytes_per_parameter: float = Field(gt=0)
    full_fine_tuning_note: str
    reference_gpu_memory_gb: float = Field(gt=0)
    source: str
    as_of: dt.date
    review_by: dt.date

    @field_validator("bytes_per_parameter")
    @classmethod
    def _every_format(cls, table: dict[str, float]) -> dict[str, float]:
        missing = [f for f in WEIGHT_FORMATS if f not in table]
        if missing:
            raise ValueError(f"bytes_per_parameter lacks {missing}")
        if any(v <= 0 for v in table.values()):
            raise ValueError("bytes per parameter must be positive")
        return table


class Policy(Strict):
    """Engine-wide settings (``rules/policy.toml``): staleness thresholds and the default profile."""

    default_profile: str
    signal_max_age_days: int = Field(gt=0, description="Adoption and price facts older than this are stale.")
    fact_max_age_days: int = Field(
        gt=0,
        description=(
            "Other facts that can change (licence terms, country, counts) older than this are flagged; a "
            "checkpoint's fixed facts (size, context, release, reported scores) are not."
        ),
    )
    max_limit: int = Field(gt=0)
    preferred_reasoning_weight: float = Field(ge=0)
    review_by: dt.date


class RuleSet(Strict):
    """All decision knowledge, loaded and cross-checked."""

    licences: dict[str, Licence]
    eligibility: dict[str, EligibilityRule]
    criteria: dict[str, Criterion]
    profiles: dict[str, Profile]
    hardware: HardwarePolicy
    policy: Policy
    regulatory: RegulatoryPolicy
    jurisdictions: dict[str, Jurisdiction] = {}
    benchmarks: dict[str, Benchmark] = {}
    gpus: dict[str, Gpu] = {}

    @model_validator(mode="after")
    def _complete(self) -> RuleSet:
        missing = [c for c in CRITERIA if c not in self.criteria]
        if missing:
            raise ValueError(f"criteria files missing for {missing}")
        if self.policy.default_profile not in self.profiles:
            raise ValueError(f"default profile {self.policy.default_profile!r} has no profile file")
        return self
