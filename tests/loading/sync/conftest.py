"""Fixtures of the sync tests: a copy of the shipped catalogue, a fake upstream server and a fast policy."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from service.loading.files import load_catalogue
from service.loading.sync import RetryPolicy, SyncConfig
from service.loading.sync.cli import add_sync_arguments, run_sync_command
from tests.loading.sync.fake_upstream import FakeUpstream

SHIPPED = Path(__file__).resolve().parents[3] / "catalogue"
AS_OF = dt.date(2026, 11, 26)
TOKEN = "hf_test_token"

QWEN = "Qwen/Qwen3-8B"  # apache-2.0, 8.2 B, 32768 tokens, one OpenRouter offer in the catalogue
LLAMA = "meta-llama/Llama-3.1-8B-Instruct"  # llama-3.1-community, 8.0 B, has likes and downloads
PHI = "microsoft/phi-4"  # mit, 14.7 B


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (hidden temp files included) by relative path, with its bytes."""
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@dataclass
class Run:
    """What one ``advisor catalogue sync`` invocation returned and printed."""

    status: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def catalogue_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped catalogue, so no test touches the real one."""
    target = tmp_path / "catalogue"
    shutil.copytree(SHIPPED, target)
    return target


@pytest.fixture
def upstream(catalogue_dir: Path) -> Iterator[FakeUpstream]:
    """The fake Hub and OpenRouter, agreeing with the catalogue's identity facts by default."""
    with FakeUpstream(load_catalogue(catalogue_dir)) as server:
        yield server


@pytest.fixture
def config(upstream: FakeUpstream) -> SyncConfig:
    """Both upstreams on the fake server; tiny backoff so that retries cost milliseconds."""
    return SyncConfig(
        hf_endpoint=upstream.url,
        hf_token=TOKEN,
        openrouter_base_url=upstream.url,
        policy=RetryPolicy(
            max_attempts=3, backoff_base_s=0.01, backoff_max_s=0.05, timeout_s=5.0, deadline_s=60.0, concurrency=4
        ),
        as_of=AS_OF,
    )


@pytest.fixture
def run_sync(catalogue_dir: Path, config: SyncConfig) -> Callable[..., Run]:
    """Run the command with argv as on the command line; ``config=`` replaces the fixture's."""

    def run(*argv: str, config: SyncConfig = config) -> Run:
        parser = argparse.ArgumentParser()
        add_sync_arguments(parser)
        out, err = io.StringIO(), io.StringIO()
        status = run_sync_command(parser.parse_args(argv), catalogue_dir, config=config, stdout=out, stderr=err)
        return Run(status, out.getvalue(), err.getvalue())

    return run
