"""Procurement reports: complete (every model, source and version), safe to render, and filed by the CLI."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.cli import main
from service.domain.answer import Answer
from service.domain.citing import encode_full
from service.domain.engine import Engine
from service.domain.requirements import Requirements
from service.records_cli import write_atomically
from service.reporting import RecordInfo, describe_requirements, render
from service.reporting.render import Format
from service.settings import get_settings
from service.storage import DecisionRecord, open_store

TODAY = dt.date(2026, 11, 25)
# A request that sets constraints, so the report has exclusions, obligations, fit and explained models.
REQUEST: dict[str, Any] = {
    "use_cases": ["coding", "long_context"],
    "ip": {"commercial_use": True, "licence_kinds": ["permissive", "custom"], "monthly_active_users": 2_000_000},
    "privacy": {"deployment": "self_hosted", "excluded_origin_countries": ["RU"]},
    "customisation": {"fine_tuning": "lora"},
    "hardware": {"gpu": "h100-sxm", "gpu_count": 8, "precision": "fp8"},
    "workload": {"concurrent_requests": 4, "tokens_per_request": 32768},
    "limit": 4,
    "explain": ["moonshotai/Kimi-K2-Instruct"],
}


@pytest.fixture(scope="module")
def answer(engine: Engine) -> Answer:
    return engine.recommend(Requirements.model_validate(REQUEST), TODAY)


def _sources(node: Any) -> set[tuple[str, str]]:
    """Every (source, as_of) pair in an answer, found independently of the report code."""
    found: set[tuple[str, str]] = set()
    if isinstance(node, dict):
        if isinstance(node.get("source"), str) and isinstance(node.get("as_of"), str):
            found.add((node["source"], node["as_of"]))
        for value in node.values():
            found |= _sources(value)
    elif isinstance(node, list):
        for item in node:
            found |= _sources(item)
    return found


def _visible_text(document: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", document))


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_the_report_names_every_model_every_source_with_its_date_and_both_versions(answer: Answer, fmt: Format) -> None:
    assert answer.excluded, "the request should exclude some models"
    document = render(answer, fmt, RecordInfo(stored_at=dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)))
    text = _visible_text(document) if fmt == "html" else document
    assert answer.catalogue_version in text
    assert answer.rules_version in text
    assert answer.id in text
    for recommendation in answer.recommendations:
        assert recommendation.model_id in text
        assert recommendation.name in text
        for obligation in recommendation.obligations:
            assert obligation.duty.split()[0] in text
    for exclusion in answer.excluded:
        assert exclusion.model_id in text
        for reason in exclusion.reasons:
            assert reason.rule_id in text
    sources = _sources(answer.model_dump(mode="json"))
    assert sources
    listed = text[text.index("7. Sources") :]
    for source, as_of in sources:
        shown = source if fmt == "html" or source.startswith("http") else source.replace("_", "\\_")
        assert shown in listed, source
        assert as_of in listed
    for section in ("Requirements", "Shortlist", "Criteria breakdown", "Licence obligations", "Hardware fit"):
        assert section in text
    for section in ("Exclusions", "Pareto front", "Sensitivity", "Caveats", "Method", "Versions"):
        assert section in text
    for fit_part in ("KV cache", "headroom", "Decode speed (upper bound)", "Assumption:", "4 concurrent request(s)"):
        assert fit_part in text


def test_the_html_report_is_self_contained_printable_and_has_a_chart(answer: Answer) -> None:
    document = render(answer, "html")
    assert document.startswith("<!DOCTYPE html>")
    assert "@media print" in document
    assert "@page" in document
    assert "<svg" in document
    assert document.count("<rect") >= sum(len(r.criteria) for r in answer.recommendations)
    assert "<script" not in document
    assert not re.search(r"<link\b|<img\b|@import|url\(", document)  # nothing fetched from elsewhere


def test_text_from_the_data_is_escaped_in_both_formats(answer: Answer) -> None:
    hostile = "<script>alert(1)</script> | *bold* [link](javascript:x) ```"
    first = answer.recommendations[0].model_copy(update={"name": hostile, "reasons": [hostile]})
    tampered = answer.model_copy(update={"recommendations": [first, *answer.recommendations[1:]]})
    page = render(tampered, "html")
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    markdown = render(tampered, "md")
    assert markdown.count("```") % 2 == 0  # no fence broken open
    prose = re.sub(r"```text\n.*?\n```", "", markdown, flags=re.DOTALL)  # the chart is literal text
    assert "<script>" not in prose
    assert "[link](javascript:" not in prose  # brackets are escaped, so no link is made


def test_a_superseded_record_says_so_and_how_to_rerun_it(answer: Answer) -> None:
    info = RecordInfo(superseded=True, current_catalogue_version="sha256:new", current_rules_version="sha256:rules")
    for fmt in ("md", "html"):
        document = render(answer, fmt, info)
        assert "Superseded" in document
        assert "sha256:new" in document
        assert f"/v1/recommendations/{answer.id}/rerun" in document


def test_the_report_is_the_same_every_time(answer: Answer) -> None:
    assert render(answer, "md") == render(answer, "md")
    assert render(answer, "html") == render(answer, "html")


def test_an_unknown_format_is_refused(answer: Answer) -> None:
    with pytest.raises(ValueError, match="pdf"):
        render(answer, "pdf")  # type: ignore[arg-type]


def test_every_requirement_the_request_sets_is_put_in_plain_words() -> None:
    words = " ".join(describe_requirements(Requirements.model_validate(REQUEST)))
    for expected in (
        "coding, long context",
        "used commercially",
        "permissive, custom",
        "2,000,000 monthly active users",
        "self-hosted",
        "RU",
        "LoRA",
        "8 GPU(s) (h100-sxm)",
        "4 concurrent request(s), 32,768 tokens each",
        "fp8",
        "Shortlist length: 4",
        "moonshotai/Kimi-K2-Instruct",
    ):
        assert expected in words
    minimal = describe_requirements(Requirements(), profile="balanced")
    assert "Weights: the default profile (balanced)." in minimal


def test_a_request_field_without_a_sentence_is_still_reported() -> None:
    words = " ".join(
        describe_requirements(Requirements.model_validate({"reasoning": "required", "weights": {"cost": 1}}))
    )
    assert "reasoning (thinking) mode is required" in words
    assert "Custom weights: cost 1" in words


# ----------------------------------------------------------------------------------------------- CLI
@pytest.fixture
def stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: Answer, engine: Engine) -> Iterator[str]:
    """A database holding ``answer`` as a record, in full detail as the API stores it (ADVISOR_DATABASE_URL)."""
    url = f"sqlite:///{tmp_path / 'advisor.db'}"
    store = open_store(url)
    store.save(
        DecisionRecord(
            id=answer.id,
            stored_at=dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC),
            evaluated_on=answer.evaluated_on,
            catalogue_version=answer.catalogue_version,
            rules_version=answer.rules_version,
            profile=answer.profile,
            top_models=tuple(r.model_id for r in answer.recommendations),
            rerun_of=None,
            requirements=answer.requirements.model_dump_json(),
            answer=encode_full(answer, engine.rules.eligibility),
        )
    )
    store.close()
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    get_settings.cache_clear()
    yield answer.id
    get_settings.cache_clear()


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_advisor_report_writes_the_report_of_a_stored_decision(
    stored: str, tmp_path: Path, fmt: Format, answer: Answer
) -> None:
    target = tmp_path / "out" / f"report.{fmt}"
    target.parent.mkdir()
    assert main(["report", stored, "--format", fmt, "-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == render(
        answer,
        fmt,
        RecordInfo(
            stored_at=dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC),
            current_catalogue_version=answer.catalogue_version,
            current_rules_version=answer.rules_version,
        ),
    )
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temporary file left behind


def test_advisor_report_picks_html_from_the_file_name_and_writes_markdown_to_stdout(
    stored: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", stored, "-o", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert main(["report", stored]) == 0
    assert capsys.readouterr().out.startswith("# Model selection decision")


def test_advisor_report_on_an_unknown_id_fails_clearly_and_writes_nothing(
    stored: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "report.md"
    assert main(["report", "rec_" + "f" * 32, "-o", str(target)]) == 1
    assert "no decision record with id 'rec_ffffffffffffffffffffffffffffffff'" in capsys.readouterr().err
    assert not target.exists()


def test_advisor_report_refuses_an_unknown_format(stored: str) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["report", stored, "--format", "pdf"])
    assert caught.value.code == 2


def test_an_atomic_write_replaces_the_old_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    target.write_text("old")
    target.chmod(0o640)
    write_atomically(target, "new ✓")
    assert target.read_text(encoding="utf-8") == "new ✓"
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]
