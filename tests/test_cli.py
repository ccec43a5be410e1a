"""The ``advisor`` command line."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from service.cli import main


def test_check_validates_the_shipped_data(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: ") and " models, " in out
    assert re.search(r"measurements: \d+ \(\d+ models with at least 3\); independent: \d+ \(on \d+ models\)", out)
    assert re.search(r"priced offers: \d+ active on \d+ models from \d+ providers \(\d+ retired or superseded\)", out)


def test_catalogue_counts_match_the_files() -> None:
    from service.loading.files import load_catalogue, read_toml
    from tests.conftest import CATALOGUE

    counts = load_catalogue(CATALOGUE).counts()
    assert counts["models"] == len(list((CATALOGUE / "models").glob("*/*.toml")))
    offers = [o for p in (CATALOGUE / "providers").glob("*.toml") for o in read_toml(p).get("offers", [])]
    assert counts["priced_offers"] == sum(1 for o in offers if o.get("status", "active") == "active")
    assert counts["inactive_offers"] == len(offers) - counts["priced_offers"]
    in_files = sum(len(read_toml(p).get("measurements", [])) for p in (CATALOGUE / "models").glob("*/*.toml"))
    boards = [read_toml(p) for p in (CATALOGUE / "leaderboards").glob("*.toml")]
    assert counts["measurements"] == in_files + sum(len(b.get("entries", [])) for b in boards)
    independent_in_files = sum(
        1
        for p in (CATALOGUE / "models").glob("*/*.toml")
        for m in read_toml(p).get("measurements", [])
        if m["measured_by"] == "independent_leaderboard"
    )
    on_boards = sum(
        len(b.get("entries", []))
        for b in boards
        if b.get("measured_by", "independent_leaderboard") == "independent_leaderboard"
    )
    assert counts["independent_measurements"] == independent_in_files + on_boards


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


def test_the_command_line_imports_no_http_client_until_a_sync_runs() -> None:
    # Every `advisor` process (the server among them) builds the whole parser; httpx and tenacity are for
    # `catalogue sync` alone. A fresh interpreter, so that other tests' imports do not count.
    code = (
        "import sys, service.cli; service.cli.build_parser(); print(sorted({'httpx', 'tenacity'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_server_process_leaves_out_the_libraries_only_other_commands_use() -> None:
    # What `advisor serve` imports, in a fresh interpreter: the upstream clients are only for `catalogue sync`,
    # and rich (with pygments) only for terminals; each would only take memory in every server process.
    code = (
        "import sys, service.cli, service.http.app, uvicorn; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'rich', 'pygments', 'httpx', 'tenacity'}))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
