"""Replace several files so that either all of them change or none does.

1. **Check**: every target still holds the bytes the sync read (nobody edited it meanwhile).
2. **Stage**: write each new content, and a copy of each original, to hidden temp files in the target's
   own directory (same file system, so a rename is atomic), each flushed and fsynced.
3. **Commit**: rename every new file over its target. If any rename fails, rename the copies of the
   originals back (and remove targets that did not exist before), so the catalogue is byte-for-byte as it
   was. Renames are the only steps that touch targets, and the rollback uses renames too.
4. **Clean up**: fsync the directories, then remove the copies of the originals.

Temp files end in ``.tmp`` and start with a dot, so the catalogue loader never mistakes them for data.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from service.domain.errors import AdvisorError

__all__ = ["AtomicWriteError", "CatalogueChangedError", "write_files_atomically"]


class AtomicWriteError(AdvisorError):
    """A multi-file write failed; ``restored`` says whether every target is back to its original bytes."""

    def __init__(self, message: str, *, restored: bool = True) -> None:
        self.restored = restored
        super().__init__(message)


class CatalogueChangedError(AtomicWriteError):
    """A target changed on disk after the sync read it; nothing was written."""


@dataclass
class _Staged:
    target: Path
    new: Path
    backup: Path | None
    committed: bool = False


def _write_temp(directory: Path, name: str, content: bytes, mode: int) -> Path:
    fd, raw = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    path = Path(raw)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(path, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    return path


def _fsync_directory(directory: Path) -> None:
    # Makes the renames durable; not every platform can open a directory, which only weakens durability.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path | None) -> None:
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def write_files_atomically(
    files: Mapping[Path, bytes], *, expected: Mapping[Path, bytes | None] | None = None
) -> list[Path]:
    """Write every ``files[path]`` to ``path``, all or none; returns the paths written.

    ``expected`` maps a target to the bytes it must still hold (None: it must not exist); when one differs,
    :class:`CatalogueChangedError` is raised before anything is touched. Any other failure raises
    :class:`AtomicWriteError` after the originals are restored.
    """
    targets = sorted(files)
    for target in targets:
        if expected is not None and target in expected:
            current = target.read_bytes() if target.exists() else None
            if current != expected[target]:
                raise CatalogueChangedError(f"{target} changed on disk since it was read; nothing written")

    staged: list[_Staged] = []
    try:
        for target in targets:
            directory, name = target.parent, target.name
            backup: Path | None = None
            # New files get the usual mode of a data file; a replaced file keeps its own.
            mode = 0o644
            if target.exists():
                mode = stat.S_IMODE(target.stat().st_mode)
                backup = _write_temp(directory, name, target.read_bytes(), mode)
            try:
                new = _write_temp(directory, name, files[target], mode)
            except BaseException:
                _remove(backup)
                raise
            staged.append(_Staged(target=target, new=new, backup=backup))
    except BaseException as exc:
        for item in staged:
            _remove(item.backup)
            _remove(item.new)
        if isinstance(exc, OSError):
            raise AtomicWriteError(f"could not stage the new files, nothing written: {exc}") from exc
        raise

    try:
        for item in staged:
            os.replace(item.new, item.target)
            item.committed = True
    except BaseException as exc:
        restored = _roll_back(staged)
        for item in staged:
            if not item.committed:
                _remove(item.new)
        if not restored:
            kept = ", ".join(str(i.backup) for i in staged if i.backup is not None and i.backup.exists())
            raise AtomicWriteError(
                f"write failed ({exc}) and the originals could not all be restored; copies are kept at {kept}",
                restored=False,
            ) from exc
        if isinstance(exc, OSError):
            raise AtomicWriteError(f"write failed, every file restored: {exc}") from exc
        raise

    for directory in sorted({item.target.parent for item in staged}):
        _fsync_directory(directory)
    for item in staged:
        _remove(item.backup)
    return targets


def _roll_back(staged: list[_Staged]) -> bool:
    """Put back every committed target; True when all of them are restored."""
    restored = True
    for item in reversed(staged):
        if item.committed:
            try:
                if item.backup is not None:
                    os.replace(item.backup, item.target)
                    item.backup = None
                else:
                    item.target.unlink()
                item.committed = False
            except OSError:
                restored = False
    # A target still committed keeps its backup so that a person can restore it by hand.
    for item in staged:
        if not item.committed:
            _remove(item.backup)
    return restored
