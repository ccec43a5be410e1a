"""The server's allocator settings: applied on glibc, never over an operator's own."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from service.allocator import allocator_for_loading, tune_allocator


@pytest.mark.parametrize(
    "environ",
    [{"MALLOC_ARENA_MAX": "4"}, {"MALLOC_MMAP_THRESHOLD_": "65536"}, {"GLIBC_TUNABLES": "glibc.malloc.arena_max=4"}],
)
def test_an_allocator_setting_in_the_environment_is_left_as_the_operator_chose(environ: dict[str, str]) -> None:
    assert allocator_for_loading(environ) is False
    assert tune_allocator(environ) is False


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the settings are glibc's")
def test_the_settings_are_applied_on_glibc() -> None:
    # In the order a server applies them: for loading, then for serving.
    assert allocator_for_loading({}) is True
    assert tune_allocator({}) is True


#: A stand-in for an answer's arrays: blocks just under the mapping threshold (carved from the heap's top), freed
#: together, run once to grow the heap and then 50 times, printing the page faults a run took (glibc's counter).
_ANSWERS = """
import resource
import numpy as np
from service.allocator import MMAP_THRESHOLD, tune_allocator

assert tune_allocator({})

def answer():
    arrays = [np.ones((MMAP_THRESHOLD - 28 * 1024) // 8) for _ in range(16)]
    return sum(float(a[0]) for a in arrays)

answer()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):
    answer()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 50)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the settings are glibc's")
def test_the_space_an_answer_frees_on_the_heap_is_not_faulted_in_again_by_the_next() -> None:
    # In a process of its own: the settings are the process's. With glibc's 128 KB trim threshold each run gave the
    # 1.6 MB back on its last free and faulted it in again (368 page faults a run, 4 KB pages).
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    out = subprocess.run([sys.executable, "-c", _ANSWERS], capture_output=True, text=True, check=True, env=env)
    assert float(out.stdout) < 20
