"""A directory that keeps fitted capability models between processes (see :class:`FitStore`).

Fitting the capability model is the largest part of loading a catalogue, and its result depends only on the
catalogue's measurements, the benchmark registry, the fit settings and the fitting code. Each fit is kept as a
small ``.npz`` file named by a SHA-256 digest of all of those: the inputs' digest from
:func:`service.domain.criteria.capability.fit_catalogue`, the bytes of the fitting module, the NumPy version
and this file format's version. Any change to any of them names another file, so a kept fit is never applied
to other inputs. A fit read back is re-checked before use (the passes must stop at once from its stopping
point), so with or without the directory an answer is the same, byte for byte. Files are written atomically
(a temporary file, then a rename); one that cannot be read or written is ignored and the fit is computed.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import numpy.typing as npt

from service.domain import ability

__all__ = ["FitDirectory"]

FORMAT = "capability-fit-1"


def _code_digest() -> str:
    digest = hashlib.sha256(FORMAT.encode())
    digest.update(np.__version__.encode())
    digest.update(Path(ability.__file__).read_bytes())
    return digest.hexdigest()


class FitDirectory:
    """Fits kept as files in ``directory`` (created on first save). ``hits`` and ``misses`` count look-ups."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._code = _code_digest()
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> tuple[str, Path]:
        name = hashlib.sha256(f"{self._code}:{key}".encode()).hexdigest()
        return name, self.directory / f"fit-{name}.npz"

    def load(self, key: str) -> tuple[npt.NDArray[np.float64], int] | None:
        """The point and iteration count kept under ``key``, or None (absent, unreadable or not this key's)."""
        name, path = self._path(key)
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["key"]) != name:
                    raise ValueError("another key")
                point = np.array(data["point"], dtype=np.float64)
                iterations = int(data["iterations"])
        except (OSError, KeyError, ValueError, zipfile.BadZipFile):
            self.misses += 1
            return None
        self.hits += 1
        return point, iterations

    def save(self, key: str, point: npt.NDArray[np.float64], iterations: int) -> None:
        """Keep a fit under ``key``; a directory that cannot be written is left as it is."""
        name, path = self._path(key)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".fit-", suffix=".npz")
            try:
                with os.fdopen(handle, "wb") as out:
                    np.savez(out, key=np.array(name), point=point, iterations=np.array(iterations))
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError:
            return
