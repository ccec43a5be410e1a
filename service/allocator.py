"""Tune the C allocator of a long-running server process (glibc only).

An answer is built from many short-lived buffers of 0.1-2 MB (encoded JSON, compressed records, numpy
arrays). glibc serves a block that large from ``mmap`` and returns it on ``free``, but it raises that threshold
to the size of each such block freed (up to 32 MB): after the first few answers, every later one is carved from
the heap, where freed space is kept by the process instead of returned, and each thread of the server's pool
gets a heap (an "arena") of its own. Under 32 concurrent requests the server's resident memory grew by 130 MB
over its 118 MB at start-up, most of it freed but kept. Fixing the threshold at glibc's own starting value and
allowing two arenas keeps the peak to the memory actually in use (bench/RESULTS.md has the figures).

A server tunes its allocator once its data is loaded, not before: loading makes many short-lived arrays of a
few hundred KB (the capability fit's, at 10,000 models), and mapping and unmapping each of them made the fit
three times slower. What the load freed on the heap is then handed back to the system (``malloc_trim``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform

__all__ = ["ARENA_MAX", "MMAP_THRESHOLD", "tune_allocator"]

# mallopt parameters (glibc malloc.h).
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8

#: Blocks at least this large are mapped on their own and unmapped when freed (glibc's initial value; setting it
#: turns off the dynamic raising of the threshold).
MMAP_THRESHOLD = 128 * 1024
#: Heaps shared by the process's threads (glibc's default is eight per core).
ARENA_MAX = 2


def tune_allocator(environ: dict[str, str] | None = None) -> bool:
    """Apply the settings above and return the heap's free memory to the system; True when applied. Nothing is
    changed off glibc, or when the environment already tunes the allocator (a ``MALLOC_*`` variable or a malloc
    tunable in ``GLIBC_TUNABLES``): an operator's own setting wins."""
    env = os.environ if environ is None else environ
    if any(name.startswith("MALLOC_") for name in env) or "glibc.malloc" in env.get("GLIBC_TUNABLES", ""):
        return False
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # mallopt returns 1 on success.
    applied = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_ARENA_MAX, ARENA_MAX))
    if applied:
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.malloc_trim(0)
    return applied
