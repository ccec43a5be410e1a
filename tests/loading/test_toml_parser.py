"""The loader's TOML parser (rtoml) reads every shipped data file exactly as the standard library does."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

import pytest

from service.domain.errors import DataError
from service.loading.files import read_toml
from tests.conftest import CATALOGUE, RULES


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same types, keys in the same order, all the way down."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def test_every_shipped_file_parses_as_the_standard_library_parses_it() -> None:
    files = sorted([*CATALOGUE.rglob("*.toml"), *RULES.rglob("*.toml")])
    assert len(files) > 100
    different = [str(p) for p in files if not _same(read_toml(p), tomllib.loads(p.read_text(encoding="utf-8")))]
    assert different == []


def test_the_types_a_catalogue_uses_come_back_as_the_standard_library_gives_them(tmp_path: Path) -> None:
    path = tmp_path / "kinds.toml"
    path.write_text(
        'text = "a \\"quoted\\" é"\nwhole = 12_345\nreal = 0.1\nday = 2026-12-01\nflag = true\n'
        'many = [1, 2.5, "x"]\n[table]\nnested = { inner = [2026-01-02] }\n[[rows]]\nvalue = -1e-3\n',
        encoding="utf-8",
    )
    parsed = read_toml(path)
    assert _same(parsed, tomllib.loads(path.read_text(encoding="utf-8")))
    assert type(parsed["day"]) is dt.date


@pytest.mark.parametrize("text", ["a = [", "a = 1\na = 2", "[t]\n[t]\n", "a = 1979-05-27T25:00:00"])
def test_a_file_the_standard_library_refuses_is_refused_with_its_path(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(tomllib.TOMLDecodeError):
        tomllib.loads(text)
    with pytest.raises(DataError) as caught:
        read_toml(path)
    assert caught.value.problems[0][0] == str(path)
    assert "not valid TOML" in caught.value.problems[0][2]
