"""The server's allocator settings: applied on glibc, never over an operator's own."""

from __future__ import annotations

import platform

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
