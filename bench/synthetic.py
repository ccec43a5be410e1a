"""Synthetic catalogues of N models: the shipped catalogue plus perturbed copies of its real entries.

A copy keeps every fact of its original (sources and dates included) under a new id ``<owner>/<name>-sK``;
its parameter counts are scaled by one factor in [0.8, 1.25] (total and active together) and each benchmark
measurement by a factor in [0.9, 1.0], so that copies spread out instead of tying with their originals.
Leaderboards and provider offers keep naming the real models only.
"""

from __future__ import annotations

import random
import shutil
import tomllib
from pathlib import Path

import tomli_w

__all__ = ["synthetic_catalogue"]


def synthetic_catalogue(source: Path, target: Path, models: int, seed: int = 7) -> int:
    """Write a catalogue of ``models`` models (at least the real ones) into ``target``; return the count."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    real = sorted((target / "models").glob("*/*.toml"))
    rng = random.Random(seed)
    count = len(real)
    copy = 0
    while count < models:
        path = real[copy % len(real)]
        generation = copy // len(real) + 1
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        data["name"] = f"{data['name']} (synthetic {generation})"
        factor = rng.uniform(0.8, 1.25)
        for key in ("parameters_total_b", "parameters_active_b"):
            if key in data:
                data[key]["value"] = round(float(data[key]["value"]) * factor, 3)
        for measurement in data.get("measurements", []):
            measurement["value"] = round(float(measurement["value"]) * rng.uniform(0.9, 1.0), 2)
        (path.parent / f"{path.stem}-s{generation}.toml").write_text(tomli_w.dumps(data), encoding="utf-8")
        copy += 1
        count += 1
    return count
