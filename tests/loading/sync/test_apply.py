"""Atomic multi-file writes: all files or none, and no temp file left behind."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from service.loading.sync.apply import AtomicWriteError, CatalogueChangedError, write_files_atomically
from tests.loading.sync.conftest import snapshot


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for owner, name, text in [("a", "one", "1"), ("a", "two", "2"), ("b", "three", "3")]:
        (tmp_path / owner).mkdir(exist_ok=True)
        (tmp_path / owner / f"{name}.toml").write_text(f"value = {text}\n")
    os.chmod(tmp_path / "b" / "three.toml", 0o600)
    return tmp_path


def new_contents(tree: Path) -> dict[Path, bytes]:
    return {
        tree / "a" / "one.toml": b"value = 10\n",
        tree / "a" / "two.toml": b"value = 20\n",
        tree / "b" / "three.toml": b"value = 30\n",
    }


def fail_on_call(real: Callable[..., object], failing_calls: set[int]) -> Callable[..., object]:
    calls = 0

    def wrapper(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls in failing_calls:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    return wrapper


def test_all_files_are_replaced_and_keep_their_modes(tree: Path) -> None:
    written = write_files_atomically(new_contents(tree))
    assert written == sorted(new_contents(tree))
    assert snapshot(tree) == {
        "a/one.toml": b"value = 10\n",
        "a/two.toml": b"value = 20\n",
        "b/three.toml": b"value = 30\n",
    }
    assert stat.S_IMODE((tree / "b" / "three.toml").stat().st_mode) == 0o600


def test_a_new_file_can_be_part_of_the_write(tree: Path) -> None:
    write_files_atomically({tree / "b" / "four.toml": b"value = 4\n"}, expected={tree / "b" / "four.toml": None})
    assert (tree / "b" / "four.toml").read_bytes() == b"value = 4\n"


@pytest.mark.parametrize("failing_fsync", [1, 2, 5, 6])
def test_a_failure_while_staging_touches_nothing(
    tree: Path, monkeypatch: pytest.MonkeyPatch, failing_fsync: int
) -> None:
    before = snapshot(tree)
    monkeypatch.setattr(os, "fsync", fail_on_call(os.fsync, {failing_fsync}))
    with pytest.raises(AtomicWriteError, match="nothing written"):
        write_files_atomically(new_contents(tree))
    assert snapshot(tree) == before


@pytest.mark.parametrize("failing_rename", [1, 2, 3])
def test_a_failure_while_renaming_restores_every_original(
    tree: Path, monkeypatch: pytest.MonkeyPatch, failing_rename: int
) -> None:
    before = snapshot(tree)
    monkeypatch.setattr(os, "replace", fail_on_call(os.replace, {failing_rename}))
    with pytest.raises(AtomicWriteError, match="every file restored") as raised:
        write_files_atomically(new_contents(tree))
    assert raised.value.restored is True
    assert snapshot(tree) == before
    assert stat.S_IMODE((tree / "b" / "three.toml").stat().st_mode) == 0o600


def test_a_failed_rollback_keeps_the_copies_of_the_originals(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Rename 1 commits a/one.toml, rename 2 fails, and so does rename 3 (the rollback of a/one.toml).
    monkeypatch.setattr(os, "replace", fail_on_call(os.replace, {2, 3}))
    with pytest.raises(AtomicWriteError, match="copies are kept") as raised:
        write_files_atomically(new_contents(tree))
    assert raised.value.restored is False
    copies = [p for p in (tree / "a").iterdir() if p.name.startswith(".one.toml.")]
    assert [p.read_bytes() for p in copies] == [b"value = 1\n"]


def test_a_file_edited_since_it_was_read_stops_the_write(tree: Path) -> None:
    before = snapshot(tree)
    expected: dict[Path, bytes | None] = dict.fromkeys(new_contents(tree), b"value = 1\n")
    with pytest.raises(CatalogueChangedError):
        write_files_atomically(new_contents(tree), expected=expected)
    assert snapshot(tree) == before
