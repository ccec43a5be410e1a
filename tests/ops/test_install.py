"""How ``./dev`` installs: from the lock, and through another package index (a mirror) the same locked versions."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT / "dev"
#: The list ``./dev`` installs from another index: every locked dependency of the dev extra, with its hashes.
EXPORT = ["export", "--frozen", "--extra", "dev", "--no-emit-workspace", "--format", "requirements-txt", "--quiet"]


def _uv() -> str:
    found = shutil.which("uv") or (ROOT / ".tools" / "uv" / "bin" / "uv")
    if not Path(found).is_file():
        pytest.fail("uv is missing: ./dev installs it (on PATH or in .tools/uv) before the tests run")
    return str(found)


def test_the_mirror_install_exports_the_lock_as_the_dev_script_does() -> None:
    text = DEV.read_text()
    script = " ".join(text.replace("\\\n", " ").split())
    assert '"$uv" ' + " ".join(EXPORT) + " -o .venv/requirements.txt" in script
    assert "--require-hashes --compile-bytecode .venv/requirements.txt" in script
    assert "--no-deps --editable . --editable ./client" in script


def test_every_exported_requirement_is_pinned_and_hashed_and_none_is_a_local_path() -> None:
    """``uv pip sync --require-hashes`` refuses a list with any entry it cannot check (a workspace member installed
    from this checkout has no hash): the export must hold only pinned, hashed packages from an index."""
    exported = subprocess.run(
        [_uv(), *EXPORT], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    ).stdout
    entries = re.split(r"\n(?=[^\s#])", exported.strip())
    requirements = [e for e in entries if e.strip() and not e.lstrip().startswith("#")]
    assert len(requirements) > 50  # the dev extra's whole tree
    for entry in requirements:
        first = entry.splitlines()[0]
        assert not first.startswith(("-e", ".", "/", "file:")), f"a local path in the export: {first}"
        assert re.match(r"^[A-Za-z0-9_.\-\[\],]+==[^\s;]+", first), f"not pinned: {first}"
        assert "--hash=sha256:" in entry, f"no hash: {first}"
    names = {re.split(r"[=\[]", e, maxsplit=1)[0].lower() for e in requirements}
    assert {"litestar", "pydantic", "numpy"} <= names
    assert not names & {"open-model-advisor", "advisor-client"}  # installed from this checkout, without the index
