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


def test_a_bad_setting_is_named_and_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from service.settings import get_settings

    get_settings.cache_clear()
    monkeypatch.setenv("ADVISOR_LOG_LEVEL", "loud")
    try:
        assert main(["check"]) == 2
    finally:
        get_settings.cache_clear()
    assert "ADVISOR_LOG_LEVEL" in capsys.readouterr().err


def test_the_server_logs_json_lines_without_local_variables(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    import structlog

    from service.cli import configure_logging

    configure_logging("info")
    try:
        try:
            secret = "do-not-log-me"
            raise ValueError(secret[:2])
        except ValueError:
            structlog.get_logger("test").exception("boom")
        line = capsys.readouterr().out.strip().splitlines()[-1]
        record = json.loads(line)
        assert record["event"] == "boom"
        assert record["level"] == "error"
        assert "do-not-log-me" not in line
    finally:
        structlog.reset_defaults()
