"""Tune the C allocator of a long-running server process (glibc only).

An answer is built from many short-lived buffers of 0.1-2 MB (encoded JSON, compressed records, numpy
arrays). glibc serves a block that large from ``mmap`` and returns it on ``free``, but it raises that threshold
to the size of each such block freed (up to 32 MB): after the first few answers, every later one is carved from
the heap, where freed space is kept by the process instead of returned, and each thread of the server's pool
gets a heap (an "arena") of its own. Under 32 concurrent requests the server's resident memory grew by 130 MB
over its 118 MB at start-up, most of it freed but kept. Fixing the threshold at glibc's own starting value and
allowing two arenas keeps the peak to the memory actually in use (bench/RESULTS.md has the figures).

What a heap's top holds free is kept up to :data:`TRIM_THRESHOLD` (4 MB), not glibc's 128 KB: an answer's
arrays just under the mapping threshold (the evidence pass's blocks, a ``full`` answer's parts) are carved from the
heap's top and freed, and with 128 KB every free that left more than that free at the top gave it back to the
system, so the next answer's arrays faulted it in again, page by page (about 930 page faults and an eighth of the
server's CPU for each ``full`` POST under load; 120-190 faults with 4 MB, the peak the same).

Loading the data is the opposite case: one thread makes and frees many arrays of a few hundred KB (the
capability fit's, at 10,000 models) and then keeps what it built. Mapped and unmapped one by one, or given back
each time the heap's top is free, their pages were faulted in again and again: the fit took three times as
long. So a server loads with :func:`allocator_for_loading` (large blocks on the heap, the heap not trimmed) and
then applies :func:`tune_allocator`, which also hands what the load freed back to the system (``malloc_trim``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
from collections.abc import Callable

__all__ = ["ARENA_MAX", "MMAP_THRESHOLD", "TRIM_THRESHOLD", "allocator_for_loading", "tune_allocator"]

# mallopt parameters (glibc malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8

#: Blocks at least this large are mapped on their own and unmapped when freed (glibc's initial value; setting it
#: turns off the dynamic raising of the threshold).
MMAP_THRESHOLD = 128 * 1024
#: Free memory at the heap's top beyond this is given back to the system: at most this much of each heap is kept
#: free (glibc's initial value, 128 KB, gave back what the next answer's arrays faulted in again; see the module).
TRIM_THRESHOLD = 4 * 1024 * 1024
#: Heaps shared by the process's threads (glibc's default is eight per core).
ARENA_MAX = 2
#: While loading: blocks up to glibc's largest threshold come from the heap, and its top is kept up to this much.
_LOADING_MMAP_THRESHOLD = 32 * 1024 * 1024
_LOADING_TRIM_THRESHOLD = 256 * 1024 * 1024


def _libc(environ: dict[str, str] | None) -> ctypes.CDLL | None:
    """glibc, or None off glibc or when the environment already tunes the allocator (a ``MALLOC_*`` variable or
    a malloc tunable in ``GLIBC_TUNABLES``): an operator's own setting wins."""
    env = os.environ if environ is None else environ
    if any(name.startswith("MALLOC_") for name in env) or "glibc.malloc" in env.get("GLIBC_TUNABLES", ""):
        return None
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.mallopt.restype = ctypes.c_int
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
    except (OSError, AttributeError):
        return None
    return libc


def _set(mallopt: Callable[[int, int], int], *settings: tuple[int, int]) -> bool:
    # mallopt returns 1 on success.
    return all(bool(mallopt(parameter, value)) for parameter, value in settings)


def allocator_for_loading(environ: dict[str, str] | None = None) -> bool:
    """Settings for loading the data (see the module); True when applied, under the conditions of
    :func:`tune_allocator`, which must follow once the data is loaded."""
    libc = _libc(environ)
    if libc is None:
        return False
    return _set(
        libc.mallopt, (_M_MMAP_THRESHOLD, _LOADING_MMAP_THRESHOLD), (_M_TRIM_THRESHOLD, _LOADING_TRIM_THRESHOLD)
    )


def tune_allocator(environ: dict[str, str] | None = None) -> bool:
    """Apply the serving settings above and return the heap's free memory to the system; True when applied.
    Nothing is changed off glibc, or when the environment already tunes the allocator (a ``MALLOC_*`` variable
    or a malloc tunable in ``GLIBC_TUNABLES``): an operator's own setting wins."""
    libc = _libc(environ)
    if libc is None:
        return False
    applied = _set(
        libc.mallopt,
        (_M_MMAP_THRESHOLD, MMAP_THRESHOLD),
        (_M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        (_M_ARENA_MAX, ARENA_MAX),
    )
    if applied:
        libc.malloc_trim(0)
    return applied
