"""Data files are read once: the loaders, the version digest and the archived version all use the same bytes."""

from __future__ import annotations

import gc
import shutil
import tomllib
import weakref
from datetime import date
from pathlib import Path

import pytest

from service.domain.errors import DataError
from service.loading.engine import build_engine, collector_paused
from service.loading.files import DataFiles, load_catalogue, read_toml
from service.storage import DataVersion
from tests.conftest import CATALOGUE, RULES


@pytest.mark.parametrize("directory", [CATALOGUE, RULES], ids=["catalogue", "rules"])
def test_the_files_read_once_are_the_version_the_archive_reads(directory: Path) -> None:
    files = DataFiles.read(directory)
    version = DataVersion.read("catalogue", directory)
    assert files.files == version.files
    assert files.digest == version.digest


def test_files_are_in_path_order_part_by_part(tmp_path: Path) -> None:
    for relative in ("a-b/c.toml", "a/b.toml", "a/a/z.toml", "b.toml"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("x = 1\n", encoding="utf-8")
    files = DataFiles.read(tmp_path)
    assert [name for name, _ in files.files] == ["a/a/z.toml", "a/b.toml", "a-b/c.toml", "b.toml"]
    assert [parts for parts, _ in files.matching("a/*.toml")] == [["a", "b.toml"]]
    assert files.digest == DataVersion.of("catalogue", files.files).digest


def test_an_engine_reports_the_digest_of_the_bytes_it_was_built_from(tmp_path: Path) -> None:
    catalogue = tmp_path / "catalogue"
    shutil.copytree(CATALOGUE, catalogue)
    files = DataFiles.read(catalogue)
    # A file edited after the read changes neither what is loaded nor the version: both come from the bytes read.
    model = next(catalogue.glob("models/*/*.toml"))
    model.write_text("not toml [", encoding="utf-8")
    engine = build_engine(files, DataFiles.read(RULES))
    assert engine.catalogue_version == files.digest
    with pytest.raises(DataError, match="not valid TOML"):
        load_catalogue(catalogue)


def test_a_file_with_windows_line_endings_parses_as_it_reads_as_text(tmp_path: Path) -> None:
    path = tmp_path / "crlf.toml"
    path.write_bytes(b'text = """first\r\nsecond"""\r\nold = """mac\rline"""\r\n')
    assert read_toml(path) == tomllib.loads(path.read_text(encoding="utf-8"))
    assert read_toml(path)["text"] == "first\nsecond"


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_during_a_load_and_restored_after(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        seen: list[bool] = []

        def failing_load() -> None:
            with collector_paused():
                seen.append(gc.isenabled())
                raise RuntimeError("a failed load")

        with pytest.raises(RuntimeError):
            failing_load()
        assert seen == [False]
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_a_load_leaves_the_loaded_data_out_of_the_collectors_passes_and_lets_the_previous_one_go() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self  # a cycle: only the cyclic collector frees it

    was = gc.isenabled()
    try:
        with collector_paused():
            kept = Node()
        assert gc.get_freeze_count() > 0
        assert not any(o is kept for o in gc.get_objects())  # the collector's generations no longer hold it
        dropped = weakref.ref(kept)
        del kept
        # Frozen: a cycle dropped after the load waits, and the next load collects it before loading.
        gc.collect()
        assert dropped() is not None
        with collector_paused():
            assert dropped() is None
    finally:
        gc.unfreeze()
        gc.enable() if was else gc.disable()


def test_equal_strings_and_dates_across_model_files_are_kept_once() -> None:
    catalogue = load_catalogue(CATALOGUE)
    sources: dict[str, list[object]] = {}
    for model in catalogue.models.values():
        sources.setdefault(model.licence.source, []).append(model.licence.source)
    shared = [copies for copies in sources.values() if len(copies) > 1]
    assert shared, "the shipped catalogue cites some licence page from several model files"
    assert all(all(c is copies[0] for c in copies) for copies in shared)
    dates: dict[date, date] = {}
    for model in catalogue.models.values():
        assert dates.setdefault(model.licence.as_of, model.licence.as_of) is model.licence.as_of


def test_loaded_records_share_one_set_per_distinct_set_of_field_names_and_keep_their_own() -> None:
    from pydantic import BaseModel

    from service.domain.catalogue import Model

    catalogue = load_catalogue(CATALOGUE)
    records: list[BaseModel] = []
    for model in catalogue.models.values():
        records.append(model)
        records.extend(model.measurements)
    distinct = {frozenset(r.model_fields_set) for r in records}
    assert len({id(r.model_fields_set) for r in records}) == len(distinct) < len(records) / 10
    for model_id, model in list(catalogue.models.items())[:20]:
        owner, name = model_id.split("/", 1)
        alone = Model.model_validate({**read_toml(CATALOGUE / "models" / owner / f"{name}.toml"), "id": model_id})
        assert model.model_fields_set == alone.model_fields_set
        assert model.model_copy(update={"name": "x"}).model_fields_set is not model.model_fields_set


def test_every_string_and_date_the_loaded_records_hold_is_kept_once_whatever_its_depth() -> None:
    from pydantic import BaseModel

    catalogue = load_catalogue(CATALOGUE)
    held: dict[object, set[int]] = {}
    pending: list[object] = [
        *catalogue.models.values(),
        *catalogue.providers.values(),
        *catalogue.leaderboards.values(),
    ]
    while pending:
        node = pending.pop()
        if isinstance(node, BaseModel):
            pending.extend(node.__dict__.values())
        elif isinstance(node, list | tuple):
            pending.extend(node)
        elif isinstance(node, dict):
            pending.extend(node.values())
        elif type(node) in (str, date):
            held.setdefault(node, set()).add(id(node))
    assert len(held) > 1000  # facts, measurements, offers, their sources and dates, lists of formats and modalities
    assert [value for value, ids in held.items() if len(ids) > 1] == []
