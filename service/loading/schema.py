"""Generate the committed JSON Schemas of every data file from the pydantic models."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from service.domain.catalogue import ModelFile, OrganisationFile, ProviderFile
from service.domain.hardware import GpuProfile
from service.domain.measurements import Benchmark, LeaderboardFile
from service.domain.regulatory import JurisdictionFile, RegulatoryPolicy
from service.domain.rules import Criterion, EligibilityRule, HardwarePolicy, Licence, Policy, Profile

__all__ = ["SCHEMAS", "render_schemas", "write_schemas"]

#: Schema file name -> the model that validates that kind of file.
SCHEMAS: dict[str, type[BaseModel]] = {
    "model.schema.json": ModelFile,
    "organisation.schema.json": OrganisationFile,
    "leaderboard.schema.json": LeaderboardFile,
    "benchmark.schema.json": Benchmark,
    "provider.schema.json": ProviderFile,
    "licence.schema.json": Licence,
    "eligibility-rule.schema.json": EligibilityRule,
    "criterion.schema.json": Criterion,
    "profile.schema.json": Profile,
    "hardware.schema.json": HardwarePolicy,
    "policy.schema.json": Policy,
    "jurisdiction.schema.json": JurisdictionFile,
    "regulatory.schema.json": RegulatoryPolicy,
    "gpu.schema.json": GpuProfile,
}
_DERIVED = {"id"}  # the id comes from the file path, never from the file


def render_schemas() -> dict[str, str]:
    """Schema file name -> JSON text (stable, sorted keys)."""
    rendered = {}
    for name, model in SCHEMAS.items():
        schema = model.model_json_schema(mode="validation")
        schema["properties"] = {k: v for k, v in schema.get("properties", {}).items() if k not in _DERIVED}
        schema["required"] = [k for k in schema.get("required", []) if k not in _DERIVED]
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        rendered[name] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return rendered


def write_schemas(directory: Path, check: bool = False) -> list[str]:
    """Write (or with ``check``, only compare) the schemas; return the names that differed."""
    directory.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, text in render_schemas().items():
        path = directory / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            changed.append(name)
            if not check:
                path.write_text(text, encoding="utf-8")
    return changed
