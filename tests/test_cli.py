"""The ``advisor`` command line."""

from __future__ import annotations

import pytest

from service.cli import main


def test_check_validates_the_shipped_data(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: ") and " models, " in out


def test_the_committed_schemas_are_current() -> None:
    assert main(["schema", "--check"]) == 0


def test_catalogue_sync_is_wired_and_refuses_an_unknown_model_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalogue", "sync", "--models", "no-such-org/no-such-model"]) == 2
    assert "no-such-org/no-such-model" in capsys.readouterr().err


def test_an_unknown_command_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["frobnicate"])
    assert caught.value.code == 2
