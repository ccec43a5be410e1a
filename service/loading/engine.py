"""Build an :class:`Engine` from the catalogue and rules directories."""

from __future__ import annotations

from pathlib import Path

from service.domain.engine import Engine
from service.loading.files import content_hash, load_benchmarks, load_catalogue, load_rules
from service.loading.fits import FitDirectory

__all__ = ["build_engine"]


def build_engine(catalogue_dir: Path, rules_dir: Path, cache_dir: Path | None = None) -> Engine:
    """Load, validate and cross-check both directories, then compile per-model features once.

    With ``cache_dir``, the fitted capability model is kept there between processes (:class:`FitDirectory`:
    keyed by a digest of its exact inputs and re-checked when read, so answers are the same without it).
    """
    catalogue = load_catalogue(catalogue_dir, load_benchmarks(rules_dir))
    rules = load_rules(rules_dir, {model.licence.value for model in catalogue.models.values()})
    fits = FitDirectory(cache_dir) if cache_dir is not None else None
    return Engine(catalogue, rules, content_hash(catalogue_dir), content_hash(rules_dir), fits)
