"""Data versions: the catalogue or rules files an answer was decided on, stored once, keyed by their digest.

A version is every ``*.toml`` file of a data directory, by relative path, with its exact bytes. Its digest is
the same SHA-256 the engine reports as ``catalogue_version`` / ``rules_version`` (each file's relative path,
a NUL, its bytes, a NUL, in path order), so a record's version names the snapshot that can rebuild it. The
stored form is a length-prefixed archive of those files, zlib-compressed; reading it back checks the digest.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

__all__ = ["DataVersion", "VersionKind", "digest_of"]

VersionKind = Literal["catalogue", "rules"]
_MAGIC = b"advisor-data-version-1\n"
_HEADER = struct.Struct(">IQ")  # path length, content length


def digest_of(files: Iterable[tuple[str, bytes]]) -> str:
    """The version digest of ``(relative path, bytes)`` pairs, in path order (as ``content_hash`` computes it)."""
    digest = hashlib.sha256()
    # Ordered as paths (part by part), as ``content_hash`` orders them: "a/b" before "a-b/c".
    for path, content in sorted(files, key=lambda file: PurePosixPath(file[0])):
        digest.update(path.encode())
        digest.update(b"\0")
        digest.update(content)
        digest.update(b"\0")
    return "sha256:" + digest.hexdigest()


@dataclass(frozen=True)
class DataVersion:
    """One catalogue or rules snapshot: its kind, its digest and its files (relative POSIX path, bytes)."""

    kind: VersionKind
    digest: str
    files: tuple[tuple[str, bytes], ...]

    @classmethod
    def of(cls, kind: VersionKind, files: Iterable[tuple[str, bytes]]) -> DataVersion:
        """The version made of ``files`` (relative POSIX path, bytes), in path order, with their digest."""
        ordered = tuple(sorted(files, key=lambda file: PurePosixPath(file[0])))
        return cls(kind=kind, digest=digest_of(ordered), files=ordered)

    @classmethod
    def read(cls, kind: VersionKind, directory: Path) -> DataVersion:
        """Every ``*.toml`` file under ``directory``, with the digest computed from exactly the bytes read."""
        return cls.of(kind, ((p.relative_to(directory).as_posix(), p.read_bytes()) for p in directory.rglob("*.toml")))

    @property
    def size(self) -> int:
        """The files' total size in bytes."""
        return sum(len(content) for _, content in self.files)

    def pack(self) -> bytes:
        """The stored form: a length-prefixed archive of the files in path order, zlib-compressed."""
        parts = [_MAGIC]
        for path, content in self.files:
            encoded = path.encode()
            parts += [_HEADER.pack(len(encoded), len(content)), encoded, content]
        return zlib.compress(b"".join(parts), 9)

    @classmethod
    def unpack(cls, kind: VersionKind, digest: str, packed: bytes) -> DataVersion:
        """Read a stored form back; raises ValueError when it is damaged or its files do not have ``digest``."""
        try:
            data = zlib.decompress(packed)
        except zlib.error as exc:
            raise ValueError(f"{kind} version {digest} is damaged: {exc}") from exc
        if not data.startswith(_MAGIC):
            raise ValueError(f"{kind} version {digest} is not in a format this version can read")
        files: list[tuple[str, bytes]] = []
        at = len(_MAGIC)
        while at < len(data):
            if at + _HEADER.size > len(data):
                raise ValueError(f"{kind} version {digest} is truncated")
            path_length, content_length = _HEADER.unpack_from(data, at)
            at += _HEADER.size
            path = data[at : at + path_length].decode()
            at += path_length
            files.append((path, data[at : at + content_length]))
            at += content_length
        if at != len(data):
            raise ValueError(f"{kind} version {digest} is truncated")
        version = cls.of(kind, files)
        if version.digest != digest:
            raise ValueError(f"{kind} version {digest} holds files whose digest is {version.digest}")
        return version

    def write_to(self, directory: Path) -> None:
        """Write the files under ``directory`` (which should be empty), refusing paths that leave it."""
        for path, content in self.files:
            relative = PurePosixPath(path)
            if relative.is_absolute() or ".." in relative.parts:
                raise ValueError(f"{self.kind} version {self.digest} names a file outside its directory: {path}")
            target = directory.joinpath(*relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
