"""The container recipe: linted, multi-stage, non-root, from the lock, with a health check and a data volume."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def _hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is a dev dependency: install the dev extra")
    return found


def test_the_dockerfile_passes_hadolint() -> None:
    linted = subprocess.run(
        [_hadolint(), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_the_image_installs_from_the_lock_runs_as_non_root_with_a_health_check_and_a_volume() -> None:
    text = DOCKERFILE.read_text()
    stages = [line for line in text.splitlines() if line.startswith("FROM ")]
    assert len(stages) == 2 and all("-slim" in stage for stage in stages)
    assert "uv sync --frozen" in text and "uv.lock" in text
    final = text[text.rindex("\nFROM ") :]
    assert "COPY --from=build /app/.venv" in final
    assert "pip install" not in final and "uv " not in final  # no build tools in the final stage
    assert "\nUSER 10001" in final
    assert "HEALTHCHECK" in final and "/health" in final
    assert 'VOLUME ["/data"]' in final and "sqlite:////data/advisor.db" in final
