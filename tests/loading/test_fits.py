"""The fitted capability model kept between processes: same answers byte for byte, re-checked when read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from service.domain.criteria import capability
from service.domain.requirements import Requirements
from service.loading.engine import build_engine
from service.loading.fits import FitDirectory
from tests.conftest import CATALOGUE, RULES

DAY = dt.date(2026, 12, 1)
REQUESTS = [Requirements(), Requirements.model_validate({"use_cases": ["coding", "math"], "limit": 8})]


@pytest.fixture(autouse=True)
def _no_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each build below must reach the directory, not the fits memoised in this process.
    monkeypatch.setattr(capability, "_FITS", {})


def _answers(cache: Path | None) -> list[str]:
    capability._FITS.clear()
    engine = build_engine(CATALOGUE, RULES, cache)
    return [engine.recommend(r, DAY).model_dump_json() for r in REQUESTS]


def _stored(cache: Path) -> Path:
    (path,) = cache.glob("fit-*.npz")
    return path


def test_a_kept_fit_gives_the_same_answers_byte_for_byte(tmp_path: Path) -> None:
    cold = _answers(None)
    assert _answers(tmp_path) == cold  # fits, then keeps the fit
    _stored(tmp_path)
    store = FitDirectory(tmp_path)
    capability._FITS.clear()
    engine = build_engine(CATALOGUE, RULES, None)
    capability._FITS.clear()
    kept = capability.fit_catalogue(engine.catalogue, engine.rules, store=store)[0]
    assert (store.hits, store.misses) == (1, 0)
    assert kept.iterations == engine.criteria["capability"].fit.iterations > 1  # type: ignore[attr-defined]
    assert _answers(tmp_path) == cold


def test_a_kept_fit_that_is_not_where_the_fit_stops_is_not_used(tmp_path: Path) -> None:
    cold = _answers(None)
    _answers(tmp_path)
    path = _stored(tmp_path)
    with np.load(path) as data:
        key, point, iterations = data["key"], data["point"], data["iterations"]
    np.savez(path, key=key, point=point + 0.01, iterations=iterations)
    assert _answers(tmp_path) == cold
    np.savez(path, key=np.array("another"), point=point, iterations=np.array(1))
    assert _answers(tmp_path) == cold
    path.write_bytes(b"not a fit")
    assert _answers(tmp_path) == cold


def test_a_directory_that_cannot_be_written_only_costs_the_fit(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the directory would be")
    assert _answers(blocked) == _answers(None)
    assert blocked.read_text() == "a file where the directory would be"
