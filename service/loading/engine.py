"""Build an :class:`Engine` from the catalogue and rules directories."""

from __future__ import annotations

from pathlib import Path

from service.domain.engine import Engine
from service.loading.files import content_hash, load_benchmarks, load_catalogue, load_rules

__all__ = ["build_engine"]


def build_engine(catalogue_dir: Path, rules_dir: Path) -> Engine:
    """Load, validate and cross-check both directories, then compile per-model features once."""
    catalogue = load_catalogue(catalogue_dir, load_benchmarks(rules_dir))
    rules = load_rules(rules_dir, {model.licence.value for model in catalogue.models.values()})
    return Engine(catalogue, rules, content_hash(catalogue_dir), content_hash(rules_dir))
