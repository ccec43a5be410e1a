"""A corpus of varied, realistic requests, generated reproducibly from the loaded catalogue and rules.

Every request in the corpus is distinct; the HTTP load adds a per-request ``workload.tokens_per_request`` so
that every request sent in a run is distinct too (a different decision id, a new record).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from typing import Any

from service.domain.engine import Engine
from service.domain.errors import RequirementError
from service.domain.requirements import Requirements

__all__ = ["build_corpus"]

USE_CASES = ["coding", "agentic", "reasoning", "math", "long_context", "instruction_following", "multilingual", "chat"]


def _one(rng: random.Random, engine: Engine, gpus: list[str], profiles: list[str], models: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if rng.random() < 0.8:
        body["use_cases"] = sorted(rng.sample(USE_CASES, rng.randint(1, 3)))
    if rng.random() < 0.6:
        ip: dict[str, Any] = {"commercial_use": True}
        if rng.random() < 0.5:
            ip["licence_kinds"] = sorted(rng.sample(["permissive", "copyleft", "custom"], rng.randint(1, 2)))
        if rng.random() < 0.3:
            ip["monthly_active_users"] = rng.choice([1_000, 50_000, 1_000_000, 800_000_000])
        body["ip"] = ip
    deployment = rng.choice(["self_hosted", "self_hosted", "private_cloud", "api", None])
    if deployment is not None:
        privacy: dict[str, Any] = {"deployment": deployment}
        if rng.random() < 0.3:
            privacy["excluded_origin_countries"] = ["CN"]
        if deployment == "api" and rng.random() < 0.4:
            privacy["hosting_countries"] = sorted(rng.sample(["US", "DE", "FR", "GB", "SG"], 2))
        body["privacy"] = privacy
    if deployment in ("self_hosted", "private_cloud", None) and rng.random() < 0.7:
        if rng.random() < 0.6:
            hardware: dict[str, Any] = {"gpu": rng.choice(gpus), "gpu_count": rng.choice([1, 2, 4, 8])}
        else:
            hardware = {"gpu_memory_gb": rng.choice([24, 48, 80, 141]), "gpu_count": rng.choice([1, 2, 8])}
        hardware["precision"] = rng.choice(["native", "bf16", "fp8", "int4"])
        body["hardware"] = hardware
    if rng.random() < 0.2:
        body["customisation"] = {"fine_tuning": rng.choice(["lora", "full"])}
    if rng.random() < 0.3:
        body["min_context_tokens"] = rng.choice([32_768, 131_072, 262_144])
    if rng.random() < 0.3:
        body["reasoning"] = rng.choice(["preferred", "required"])
    if rng.random() < 0.3:
        body["compliance"] = {"eu_ai_act": True}
    if rng.random() < 0.5:
        body["profile"] = rng.choice(profiles)
    body["limit"] = rng.randint(1, 50)
    if rng.random() < 0.3:
        body["explain"] = sorted(rng.sample(models, rng.randint(1, 2)))
    return body


def build_corpus(engine: Engine, size: int = 60, seed: int = 13) -> list[dict[str, Any]]:
    """``size`` distinct request bodies, each accepted by ``engine`` (none is refused)."""
    rng = random.Random(seed)
    gpus = sorted(engine.rules.gpus)
    profiles = sorted(engine.rules.profiles)
    models = sorted(engine.catalogue.models)[:200]
    seen: set[str] = set()
    corpus: list[dict[str, Any]] = []
    while len(corpus) < size:
        body = _one(rng, engine, gpus, profiles, models)
        key = json.dumps(body, sort_keys=True)
        if key in seen:
            continue
        try:
            engine.recommend(Requirements.model_validate(body), dt.date(2026, 12, 1))
        except (ValueError, RequirementError):
            continue
        seen.add(key)
        corpus.append(body)
    return corpus
