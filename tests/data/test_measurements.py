"""Format A: the benchmark-variant registry, measurements in model files and leaderboard snapshots."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from service.domain.errors import DataError
from service.loading.files import load_benchmarks, load_catalogue
from tests.conftest import CATALOGUE, RULES

SNAPSHOT = """name = "Example leaderboard (test snapshot)"
benchmark = "aa_intelligence_index_v4"
measured_by = "independent_leaderboard"
source = "https://example.org/leaderboard"
as_of = 2026-11-20
source_kind = "secondary"
review_by = 2027-03-01

[[entries]]
model = "openai/gpt-oss-120b"
value = 33.0

[[entries]]
model = "{second}"
value = {value}
"""


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "catalogue"
    shutil.copytree(CATALOGUE, target)
    return target


def _snapshot(catalogue: Path, second: str = "openai/gpt-oss-20b", value: str = "24.5") -> Path:
    path = catalogue / "leaderboards" / "example-2026-11.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(SNAPSHOT.format(second=second, value=value))
    return path


def test_every_measurement_names_a_registered_variant_with_a_value_in_its_range() -> None:
    benchmarks = load_benchmarks(RULES)
    catalogue = load_catalogue(CATALOGUE, benchmarks)
    measured = [x for m in catalogue.models.values() for x in m.measurements]
    assert len(measured) >= 140
    for measurement in measured:
        assert benchmarks[measurement.benchmark].out_of_range(measurement.value) is None


def test_variants_that_differ_are_different_ids_never_one_loose_score() -> None:
    benchmarks = load_benchmarks(RULES)
    for family in ("livecodebench", "hle", "aime_2025", "tau2_bench"):
        variants = [b for b in benchmarks if b.startswith(family)]
        assert len(variants) >= 3, family
        assert f"{family}_unspecified" in variants


def test_a_measurement_on_an_unknown_benchmark_is_refused_with_path_and_field(tmp_path: Path) -> None:
    catalogue = _copy(tmp_path)
    path = catalogue / "models" / "openai" / "gpt-oss-120b.toml"
    path.write_text(path.read_text().replace('benchmark = "gpqa_diamond"', 'benchmark = "gpqa_platinum"', 1))
    with pytest.raises(DataError) as caught:
        load_catalogue(catalogue, load_benchmarks(RULES))
    [(where, field, problem)] = caught.value.problems
    assert (where, field) == (str(path), "measurements.0.benchmark")
    assert "unknown benchmark 'gpqa_platinum'" in problem


def test_a_percentage_above_100_is_refused_with_path_and_field(tmp_path: Path) -> None:
    catalogue = _copy(tmp_path)
    path = catalogue / "models" / "openai" / "gpt-oss-120b.toml"
    path.write_text(path.read_text().replace("value = 80.1", "value = 801.0", 1))
    with pytest.raises(DataError) as caught:
        load_catalogue(catalogue, load_benchmarks(RULES))
    [(where, field, problem)] = caught.value.problems
    assert (where, field) == (str(path), "measurements.0.value")
    assert "above the maximum" in problem


def test_an_unknown_measurer_is_refused(tmp_path: Path) -> None:
    catalogue = _copy(tmp_path)
    path = catalogue / "models" / "openai" / "gpt-oss-120b.toml"
    path.write_text(path.read_text().replace('measured_by = "developer"', 'measured_by = "vendor"', 1))
    with pytest.raises(DataError) as caught:
        load_catalogue(catalogue)
    [(where, field, problem)] = caught.value.problems
    assert (where, field) == (str(path), "measurements.0.measured_by")
    assert "'developer', 'third_party' or 'independent_leaderboard'" in problem


def test_a_leaderboard_snapshot_becomes_measurements_of_its_models(tmp_path: Path) -> None:
    catalogue_dir = _copy(tmp_path)
    _snapshot(catalogue_dir)
    catalogue = load_catalogue(catalogue_dir, load_benchmarks(RULES))
    measured = catalogue.measurements()
    [entry] = [x for x in measured["openai/gpt-oss-20b"] if x.benchmark == "aa_intelligence_index_v4"]
    assert entry.value == 24.5
    assert entry.measured_by == "independent_leaderboard"
    assert entry.source == "https://example.org/leaderboard"
    assert "example-2026-11" in (entry.note or "")


def test_a_leaderboard_entry_for_an_unknown_model_is_refused_with_its_index(tmp_path: Path) -> None:
    catalogue = _copy(tmp_path)
    path = _snapshot(catalogue, second="openai/gpt-oss-999b")
    with pytest.raises(DataError) as caught:
        load_catalogue(catalogue)
    [(where, field, problem)] = caught.value.problems
    assert (where, field) == (str(path), "entries.1.model")
    assert "openai/gpt-oss-999b" in problem


def test_a_broken_model_file_named_by_a_snapshot_is_reported_once_at_the_model_file(tmp_path: Path) -> None:
    catalogue = _copy(tmp_path)
    _snapshot(catalogue)
    path = catalogue / "models" / "openai" / "gpt-oss-20b.toml"
    path.write_text(path.read_text().replace('measured_by = "developer"', 'measured_by = "vendor"', 1))
    with pytest.raises(DataError) as caught:
        load_catalogue(catalogue)
    [(where, field, _)] = caught.value.problems
    assert (where, field) == (str(path), "measurements.0.measured_by")


def test_a_leaderboard_on_an_unknown_benchmark_or_out_of_range_is_refused(tmp_path: Path) -> None:
    catalogue = _copy(tmp_path)
    path = _snapshot(catalogue, value="140.0")
    with pytest.raises(DataError) as caught:
        load_catalogue(catalogue, load_benchmarks(RULES))
    assert caught.value.problems == [
        (str(path), "entries.1.value", "value 140 is above the maximum 100 of aa_intelligence_index_v4")
    ]
    path.write_text(path.read_text().replace("aa_intelligence_index_v4", "aa_index_v99"))
    with pytest.raises(DataError) as caught:
        load_catalogue(catalogue, load_benchmarks(RULES))
    assert [(w, f) for w, f, _ in caught.value.problems] == [(str(path), "benchmark")]


def test_a_model_listed_twice_in_one_snapshot_is_refused(tmp_path: Path) -> None:
    catalogue = _copy(tmp_path)
    path = _snapshot(catalogue, second="openai/gpt-oss-120b")
    with pytest.raises(DataError) as caught:
        load_catalogue(catalogue)
    assert any(where == str(path) and "appears twice" in problem for where, _, problem in caught.value.problems)


def test_a_benchmark_file_needs_bounds_unless_elo_and_a_reason_when_saturated(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    path = rules / "benchmarks" / "gpqa_diamond.toml"
    path.write_text(path.read_text().replace("max = 100.0\n", "").replace("saturated = false", "saturated = true"))
    with pytest.raises(DataError) as caught:
        load_benchmarks(rules)
    [(where, field, problem)] = caught.value.problems
    assert (where, field) == (str(path), "(file)")
    assert "needs min and max" in problem
