"""The choices the requirements form offers, read from the loaded catalogue and rules (never a copied list)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from service.domain.engine import Engine
from service.domain.measurements import UseCase
from service.domain.requirements import Precision
from service.web.forms import slider_positions

__all__ = ["FormOptions", "form_options"]

Option = tuple[str, str, str | None]

#: What each use case means, in the words of the request schema and the design brief.
USE_CASE_HINTS: dict[str, str] = {
    "coding": "writing, reviewing and fixing code",
    "agentic": "multi-step tasks using tools",
    "reasoning": "hard multi-step problems",
    "math": "mathematics and quantitative work",
    "long_context": "quality over long inputs, not the window size alone",
    "instruction_following": "doing exactly what the prompt asks",
    "knowledge_reliability": "factual answers without making things up",
    "multilingual": "languages other than English",
    "vision": "images as input",
    "chat": "general conversation and assistance",
}
LICENCE_KIND_HINTS: dict[str, str] = {
    "permissive": "an OSI-approved permissive licence used unmodified (e.g. Apache 2.0, MIT)",
    "copyleft": "an OSI-approved copyleft licence",
    "custom": "everything else, including community licences and modified permissive ones",
}
PRECISION_WORDS: dict[str, str] = {
    "native": "Native: the most compact format the developer releases",
    "bf16": "BF16 (16-bit)",
    "fp8": "FP8 (8-bit)",
    "mxfp4": "MXFP4 (4-bit)",
    "nvfp4": "NVFP4 (4-bit)",
    "int4": "INT4 (4-bit)",
}


@dataclass(frozen=True)
class FormOptions:
    """Every list the form shows, each item ``(value, text, hint)``."""

    use_cases: list[Option]
    licence_kinds: list[Option]
    licences: list[Option]
    origin_countries: list[Option]
    provider_countries: list[str]
    jurisdictions: list[str]
    gpus: list[tuple[str, str]]
    precisions: list[tuple[str, str]]
    profiles: list[tuple[str, str]]
    profile_descriptions: list[tuple[str, str]]
    default_profile: str
    criteria: list[Option]
    slider_defaults: dict[str, int]


def form_options(engine: Engine) -> FormOptions:
    """The form's choices for the data ``engine`` has loaded."""
    catalogue, rules = engine.catalogue, engine.rules
    origin: dict[str, int] = {}
    for model in catalogue.models.values():
        country = catalogue.organisations[model.organisation].country.value
        origin[country] = origin.get(country, 0) + 1
    providers = sorted({p.country.value for p in catalogue.providers.values() if p.country is not None})
    default = rules.policy.default_profile
    return FormOptions(
        use_cases=[(u, u.replace("_", " ").capitalize(), USE_CASE_HINTS.get(u)) for u in get_args(UseCase)],
        licence_kinds=[(k, k.capitalize(), h) for k, h in LICENCE_KIND_HINTS.items()],
        licences=[
            (lic.id, lic.name, f"{lic.kind}; commercial use: {_yes_no(lic.commercial_use)}")
            for lic in sorted(rules.licences.values(), key=lambda item: item.name.lower())
        ],
        origin_countries=[
            (c, c, f"{n} model{'s' if n != 1 else ''} in the catalogue") for c, n in sorted(origin.items())
        ],
        provider_countries=providers,
        jurisdictions=[f"{j.id} ({j.name})" for j in sorted(rules.jurisdictions.values(), key=lambda j: j.id)],
        gpus=[("", "No GPU model: give the memory below, or none")]
        + [
            (g.id, f"{g.name} ({g.memory_gb.value:g} GB)")
            for g in sorted(rules.gpus.values(), key=lambda g: (g.vendor, g.name))
        ],
        precisions=[(p, PRECISION_WORDS.get(p, p)) for p in get_args(Precision)],
        profiles=[(p.id, p.name) for p in sorted(rules.profiles.values(), key=lambda p: p.id)],
        profile_descriptions=[(p.name, p.description) for p in sorted(rules.profiles.values(), key=lambda p: p.id)],
        default_profile=default,
        criteria=[(c.id, c.name, c.description) for c in rules.criteria.values()],
        slider_defaults=slider_positions({str(k): v for k, v in rules.profiles[default].weights.items()}),
    )


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")
