"""The bench's account of where a POST's server CPU goes: the in-process parts it measures (``bench/engine_child.py``
with ``--post-parts``) and the table that sets them beside the HTTP load's figures and the targets' budgets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import ECHO_ROUTE, TARGET_SHARES, cost_breakdown
from service.settings import default_data_dir

ROOT = Path(__file__).resolve().parents[2]
PARTS = ("summary_decide", "summary_write", "full_decide", "evidence", "full_write")

SERVER = {"health": 0.25, "post summary": 2.5, "post full": 8.0}
ECHO = {"health": 0.24, ECHO_ROUTE: 0.4}
ENGINE = {
    "post_summary_decide_mean_cpu_ms": 0.5,
    "post_full_decide_mean_cpu_ms": 0.6,
    "post_summary_write_mean_cpu_ms": 1.2,
    "post_evidence_mean_cpu_ms": 1.3,
    "post_full_write_mean_cpu_ms": 3.9,
}


def _cells(lines: list[str], label: str) -> list[str]:
    row = next(line for line in lines if line.startswith(f"| {label}"))
    return [cell.strip() for cell in row.strip("|").split("|")][1:]


def test_the_parts_add_up_to_the_server_s_cpu_and_the_budget_is_health_s_over_the_target_share() -> None:
    lines = cost_breakdown(SERVER, ECHO, ENGINE)
    assert lines[0].split("|")[2:4] == [" `summary` POST ", " `full` POST "]
    assert _cells(lines, "framework")[:2] == ["0.400", "0.400"]
    assert _cells(lines, "decision core")[:2] == ["0.500", "0.600"]
    assert _cells(lines, "evidence pass")[:2] == ["0.000", "1.300"]
    assert _cells(lines, "answer written")[:2] == ["1.200", "3.900"]
    # What the parts measured do not account for: 2.5 - 0.4 - 0.5 - 1.2, and 8.0 - 0.4 - 0.6 - 1.3 - 3.9.
    assert _cells(lines, "rest")[:2] == ["0.400", "1.800"]
    assert _cells(lines, "**server CPU a POST**")[:2] == ["2.500", "8.000"]
    budget = [0.25 / TARGET_SHARES["summary"], 0.25 / TARGET_SHARES["full"]]
    assert _cells(lines, "budget")[:2] == [f"{b:.3f}" for b in budget]
    # The parts no answer writing can remove, against the budget: (0.4 + 0.5) / 0.833 and (0.4 + 0.6 + 1.3) / 2.5.
    assert _cells(lines, "framework + decision core")[:2] == [f"{0.9 / budget[0]:.3f}", f"{2.3 / budget[1]:.3f}"]


def test_nothing_is_stated_when_a_part_it_needs_was_not_measured() -> None:
    assert cost_breakdown({}, ECHO, ENGINE) == []  # no HTTP load (wrk missing or skipped)
    assert cost_breakdown(SERVER, {}, ENGINE) == []  # no framework ceiling
    assert cost_breakdown(SERVER, ECHO, {}) == []  # no engine figures
    only_summary = cost_breakdown({"health": 0.25, "post summary": 2.5}, ECHO, ENGINE)
    assert only_summary[0].count("POST") == 1


@pytest.mark.parametrize("post_parts", [True, False])
def test_the_engine_child_measures_a_post_s_parts_only_when_asked(tmp_path: Path, post_parts: bool) -> None:
    corpus = tmp_path / "corpus.json"
    corpus.write_text(json.dumps([{"detail": "summary", "limit": 3}, {"use_cases": ["coding"], "detail": "summary"}]))
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.engine_child",
            str(default_data_dir("catalogue")),
            str(default_data_dir("rules")),
            str(corpus),
            "1",
            *(["--post-parts"] if post_parts else []),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    names = [f"post_{part}_mean_cpu_ms" for part in PARTS]
    if post_parts:
        assert all(figures[name] > 0 for name in names), figures
    else:
        assert not set(names) & figures.keys()
