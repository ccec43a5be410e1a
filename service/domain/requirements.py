"""What a caller asks for. Every section is optional; an empty request means no constraints and the
default (balanced) profile. Unknown fields are refused so that a typo never passes as "no constraint"."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.config import JsonDict

from service.domain.rules import Criterion_, LicenceKind, UseCase

__all__ = [
    "EXCLUSIONS_LISTED",
    "IP",
    "Compliance",
    "Customisation",
    "Hardware",
    "Precision",
    "Privacy",
    "Requirements",
    "Workload",
]

#: How many excluded models an answer lists unless the request asks ``exclusions: "all"``: with more
#: exclusions than this, an answer lists the first ones by model id and counts all of them by rule.
EXCLUSIONS_LISTED = 25

Precision = Literal["native", "bf16", "fp8", "mxfp4", "nvfp4", "int4"]
Deployment = Literal["self_hosted", "private_cloud", "api"]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
ModelId = Annotated[str, Field(min_length=3, max_length=200, pattern=r"^[^/\s]+/[^/\s]+$")]
LicenceId = Annotated[str, Field(min_length=1, max_length=64)]
#: JSON Schema for "a list without repeated items" (a validator refuses duplicates; the schema says so too).
UNIQUE_ITEMS: JsonDict = {"uniqueItems": True}


def not_both(first: str, second: str) -> JsonDict:
    """JSON Schema for "these two fields are not both set" (a validator refuses it; the schema says so too)."""
    set_: JsonDict = {"not": {"type": "null"}}
    return {"not": {"required": [first, second], "properties": {first: set_, second: set_}}}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    @model_validator(mode="before")
    @classmethod
    def _whole_numbers(cls, data: Any) -> Any:
        """JSON does not tell 5 from 5.0 (JSON Schema calls both integers): a whole-number float is read as an
        int, so integer fields accept 5.0 and still refuse 5.5, "5" and true."""
        if isinstance(data, dict):
            return {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in data.items()}
        return data


class IP(_Section):
    """Intellectual property and licence terms the organisation can accept."""

    commercial_use: bool | None = Field(default=None, description="The model will be used commercially.")
    licence_kinds: list[LicenceKind] | None = Field(
        default=None,
        min_length=1,
        max_length=3,
        description="Acceptable licence kinds: permissive, copyleft, custom. Omit for no constraint.",
    )
    allowed_licences: list[LicenceId] | None = Field(
        default=None, min_length=1, max_length=50, description="Acceptable licence ids. Omit for no constraint."
    )
    monthly_active_users: int | None = Field(
        default=None,
        ge=0,
        le=100_000_000_000,
        description="Expected monthly active users, checked against licence user caps.",
    )
    train_on_outputs: bool | None = Field(default=None, description="Outputs will be used to train other models.")


class Privacy(_Section):
    """Where the model runs and whose models are acceptable."""

    deployment: Deployment | None = Field(
        default=None, description="self_hosted, private_cloud (weights on rented hardware) or api (hosted)."
    )
    excluded_origin_countries: list[CountryCode] = Field(
        default=[], max_length=250, description="ISO 3166-1 alpha-2 codes of developer countries to exclude."
    )
    hosting_countries: list[CountryCode] | None = Field(
        default=None,
        min_length=1,
        max_length=250,
        description="For deployment 'api': ISO 3166-1 alpha-2 codes of the countries where a provider serving the "
        "model may be based (each offer is judged by its provider's country). Separate from "
        "excluded_origin_countries, which judges where the model's developer is based. Omit for no constraint.",
    )
    require_open_training_data: bool = Field(
        default=False, description="Only models whose training data is openly published."
    )


class Customisation(_Section):
    """How the model will be adapted."""

    fine_tuning: Literal["none", "lora", "full"] = "none"


class Hardware(_Section):
    """The GPUs available for self-hosting."""

    model_config = ConfigDict(json_schema_extra=not_both("gpu", "gpu_memory_gb"))

    gpu: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="A GPU profile id (see rules/gpus/, e.g. h100-sxm); gives memory, bandwidth and formats. "
        "Give this or gpu_memory_gb, not both.",
    )
    gpu_memory_gb: float | None = Field(default=None, ge=1, le=4096, description="Memory of one GPU in GB.")
    gpu_count: int | None = Field(default=None, ge=1, le=100_000, description="Number of GPUs.")
    precision: Precision = Field(
        default="native",
        description="Weight format: native (the most compact format the developer releases), bf16, fp8, mxfp4, "
        "nvfp4 or int4. A format the model is not released in is a quantisation by the user.",
    )

    @field_validator("gpu_memory_gb")
    @classmethod
    def _not_with_gpu(cls, size: float | None, info: ValidationInfo) -> float | None:
        # 'gpu' is declared before 'gpu_memory_gb', so it has been validated by now.
        if size is not None and info.data.get("gpu") is not None:
            raise ValueError("give either 'gpu' (a GPU profile id) or 'gpu_memory_gb', not both")
        return size


class Workload(_Section):
    """What the deployment must serve: the KV cache and the GPUs needed follow from it."""

    concurrent_requests: int = Field(default=1, ge=1, le=100_000, description="Requests served at once.")
    tokens_per_request: int | None = Field(
        default=None,
        ge=1,
        le=100_000_000,
        description="Context tokens held per request (prompt plus output); omitted: the stated default.",
    )
    output_tokens_per_second: float | None = Field(
        default=None, gt=0, le=100_000, description="Decode speed each request needs; GPUs needed account for it."
    )


class Compliance(_Section):
    """Regulatory and provenance constraints: EU AI Act, public-sector restrictions, export controls and
    provenance allegations. Every answer reports these facts; this section makes them constraints."""

    eu_ai_act: bool = Field(
        default=False,
        description="The deployer is subject to the EU AI Act: each model's status becomes a criterion and a caveat.",
    )
    public_sector_jurisdictions: list[CountryCode] = Field(
        default=[],
        max_length=50,
        description="ISO 3166-1 alpha-2 codes where the deployer is a public body; their restrictions apply.",
    )
    exclude_export_restricted: bool = Field(
        default=False, description="Exclude models whose developer is on an export-control list."
    )
    exclude_provenance_disputes: bool = Field(
        default=False, description="Exclude models whose developer faces a dated, public provenance allegation."
    )


class Requirements(_Section):
    """A request for recommendations."""

    model_config = ConfigDict(json_schema_extra=not_both("weights", "profile"))

    use_cases: list[UseCase] = Field(
        default=[], max_length=20, json_schema_extra=UNIQUE_ITEMS, description="What the model is for."
    )
    ip: IP = IP()
    privacy: Privacy = Privacy()
    customisation: Customisation = Customisation()
    hardware: Hardware = Hardware()
    workload: Workload = Workload()
    compliance: Compliance = Compliance()
    min_context_tokens: int | None = Field(default=None, ge=1, le=100_000_000)
    reasoning: Literal["required", "preferred", "any"] = "any"
    weights: dict[Criterion_, Annotated[float, Field(ge=0, le=1_000_000)]] | None = Field(
        default=None,
        min_length=1,
        # "Not every weight is zero", said in JSON Schema so that the document states what validation enforces.
        json_schema_extra={"not": {"type": "object", "additionalProperties": {"const": 0}}},
        description="Criterion weights, at least one positive; give this or a profile, not both.",
    )
    profile: str | None = Field(default=None, max_length=64, description="Profile id (see GET /v1/profiles).")
    limit: int = Field(default=5, ge=1, le=100, description="How many recommendations to return.")
    explain: list[ModelId] = Field(
        default=[],
        max_length=50,
        json_schema_extra=UNIQUE_ITEMS,
        description="Model ids to explain even when excluded or ranked low.",
    )
    detail: Literal["summary", "full"] = Field(
        default="summary",
        # How much of the decision to return, not part of it: left out of the decision id and the stored record.
        exclude=True,
        description="summary: the answer in brief, evidence listed once and cited by id; full: every reason with "
        "its evidence (what the stored decision and its report hold).",
    )
    exclusions: Literal["by_rule", "all"] = Field(
        default="by_rule",
        # Like detail: how much of the decision to return, not part of it.
        exclude=True,
        description=f"by_rule: when more than {EXCLUSIONS_LISTED} models are excluded, list the first "
        f"{EXCLUSIONS_LISTED} by id and count every exclusion by rule (`excluded_by_rule`); all: list every "
        "excluded model. The stored decision and its report always list every one.",
    )

    @field_validator("use_cases", "explain")
    @classmethod
    def _no_duplicates(cls, values: list[str]) -> list[str]:
        if len(set(values)) != len(values):
            raise ValueError("list contains duplicates")
        return values

    @field_validator("weights")
    @classmethod
    def _some_weight(cls, weights: dict[str, float] | None) -> dict[str, float] | None:
        if weights is not None and not any(weights.values()):
            raise ValueError("at least one weight must be positive")
        return weights

    @field_validator("profile")
    @classmethod
    def _not_with_weights(cls, profile: str | None, info: ValidationInfo) -> str | None:
        # 'weights' is declared before 'profile', so it has been validated by now.
        if profile is not None and info.data.get("weights") is not None:
            raise ValueError("give either 'weights' or 'profile', not both")
        return profile

    def normalised(self) -> Requirements:
        """The same request with list fields sorted, so equal requests compare and hash equal.

        Parts already in that form are kept as they are (the models are frozen), so an already normalised
        request is returned itself.
        """
        update: dict[str, Any] = {}
        for name in ("use_cases", "explain"):
            values = getattr(self, name)
            if values != sorted(values):
                update[name] = sorted(values)
        ip = self.ip
        kinds = sorted(ip.licence_kinds) if ip.licence_kinds else ip.licence_kinds
        allowed = sorted(set(ip.allowed_licences)) if ip.allowed_licences is not None else None
        if kinds != ip.licence_kinds or allowed != ip.allowed_licences:
            update["ip"] = ip.model_copy(update={"licence_kinds": kinds, "allowed_licences": allowed})
        privacy = self.privacy
        origins = sorted(set(privacy.excluded_origin_countries))
        hosting = sorted(set(privacy.hosting_countries)) if privacy.hosting_countries is not None else None
        if origins != privacy.excluded_origin_countries or hosting != privacy.hosting_countries:
            update["privacy"] = privacy.model_copy(
                update={"excluded_origin_countries": origins, "hosting_countries": hosting}
            )
        jurisdictions = sorted(set(self.compliance.public_sector_jurisdictions))
        if jurisdictions != self.compliance.public_sector_jurisdictions:
            update["compliance"] = self.compliance.model_copy(update={"public_sector_jurisdictions": jurisdictions})
        return self.model_copy(update=update) if update else self
