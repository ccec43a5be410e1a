"""``advisor catalogue sync`` end to end, against a real HTTP server on 127.0.0.1 with injected faults."""

from __future__ import annotations

import argparse
import dataclasses
import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from service.loading.files import load_catalogue, model_path, provider_path
from service.loading.sync import SyncConfig
from service.loading.sync.cli import add_sync_parser
from service.loading.sync.http import USER_AGENT
from tests.loading.sync.conftest import AS_OF, LLAMA, PHI, QWEN, TOKEN, Run, snapshot
from tests.loading.sync.fake_upstream import FakeUpstream, Reply, openrouter_endpoint, search_result

RunSync = Callable[..., Run]


def read_model(catalogue_dir: Path, model_id: str) -> dict[str, Any]:
    return tomllib.loads(model_path(catalogue_dir, model_id).read_text(encoding="utf-8"))


def read_offers(catalogue_dir: Path, provider_id: str, model_id: str) -> list[dict[str, Any]]:
    path = provider_path(catalogue_dir, provider_id)
    if not path.exists():
        return []
    offers: list[dict[str, Any]] = tomllib.loads(path.read_text(encoding="utf-8")).get("offers", [])
    return [o for o in offers if o["model"] == model_id]


def failures(run: Run) -> dict[str, list[dict[str, Any]]]:
    return {m["id"]: m["failures"] for m in run.json()["models"] if m["failures"]}


# --- the happy path ------------------------------------------------------------------------------------


def test_dry_run_prints_a_reviewable_diff_and_writes_nothing(
    run_sync: RunSync, upstream: FakeUpstream, catalogue_dir: Path
) -> None:
    upstream.hub_models[LLAMA]["likes"] = 7000
    upstream.derivatives[LLAMA] = [
        search_result("someone/llama-ft", LLAMA, "finetune"),
        search_result("someone/llama-lora", LLAMA, "adapter"),
        search_result("someone/llama-gguf", LLAMA, "quantized"),
    ]
    before = snapshot(catalogue_dir)

    run = run_sync("--models", LLAMA)

    assert run.status == 0, run.out + run.err
    assert snapshot(catalogue_dir) == before
    source = f"{upstream.url}/api/models/{LLAMA}"
    assert f"--- models/{LLAMA}.toml  ({LLAMA})" in run.out
    assert f"~ adoption.hf_likes: 6581 -> 7000  [huggingface, as_of {AS_OF}, source {source}]" in run.out
    assert "~ adoption.hf_downloads_30d: 7300000 -> 50000" in run.out
    assert "+ adoption.hf_derivatives: (none) -> 3" in run.out
    assert "+ adoption.hf_last_modified: (none) -> 2026-10-01" in run.out
    assert "Dry run: nothing written" in run.out


def test_write_applies_signals_with_source_and_date_and_a_second_run_changes_nothing(
    run_sync: RunSync, upstream: FakeUpstream, catalogue_dir: Path
) -> None:
    upstream.derivatives[QWEN] = [
        search_result(f"someone/qwen-{n}", QWEN, kind)
        for n, kind in enumerate(["finetune", "finetune", "adapter", "quantized", "merge"])
    ]
    upstream.serve_openrouter(
        "qwen/qwen3-8b", QWEN, openrouter_endpoint("Example A", "example-a/fp8", "0.000000035", "0.000000138", 32768)
    )

    run = run_sync("--models", QWEN, LLAMA, "--write")

    assert run.status == 0, run.out + run.err
    assert "Wrote 3 file(s)." in run.out  # two model files and the new provider file
    load_catalogue(catalogue_dir)  # still a valid catalogue
    qwen = read_model(catalogue_dir, QWEN)
    adoption = qwen["adoption"]
    assert isinstance(adoption, dict)
    assert adoption["hf_likes"] == {
        "value": 1000,
        "source": f"{upstream.url}/api/models/{QWEN}",
        "as_of": AS_OF,
        "note": "likes of the Hugging Face Hub model API",
    }
    assert adoption["hf_derivatives"]["value"] == 5
    assert "fine-tunes 2, adapters 1, quantisations 1, merges 1" in adoption["hf_derivatives"]["note"]
    assert adoption["hf_derivatives"]["source"] == f"{upstream.url}/api/models?filter=base_model:{QWEN}"

    after_first = snapshot(catalogue_dir)
    second = run_sync("--models", QWEN, LLAMA, "--write")
    assert second.status == 0
    assert "Wrote 0 file(s)." in second.out
    assert snapshot(catalogue_dir) == after_first


def test_openrouter_offers_are_written_per_provider_and_curated_offers_are_left_alone(
    run_sync: RunSync, upstream: FakeUpstream, catalogue_dir: Path
) -> None:
    upstream.serve_openrouter(
        "qwen/qwen3-8b",
        QWEN,
        openrouter_endpoint(
            "Example A",
            "example-a/fp8",
            "0.0000002",
            "0.0000008",
            32768,
            max_completion_tokens=16384,
            quantization="fp8",
            input_cache_read="0.00000005",
        ),
        openrouter_endpoint("Example B", "example-b", "0.00000025", "0.0000009", 32768, quantization="unknown"),
    )
    upstream.serve_openrouter(
        "qwen/qwen3-8b:free", QWEN, openrouter_endpoint("Example Free", "example-free", "0", "0", 32768)
    )
    upstream.serve_openrouter(
        "microsoft/phi-4",
        "microsoft/PHI-4",
        openrouter_endpoint("Example A", "example-a", "0.00000006", "0.00000014", 16384),
    )
    curated = provider_path(catalogue_dir, "deepseek").read_bytes()
    routed = read_offers(catalogue_dir, "openrouter", QWEN)

    run = run_sync("--models", QWEN, PHI, "deepseek-ai/DeepSeek-V4-Pro", "--source", "openrouter", "--write")

    assert run.status == 0, run.out + run.err
    endpoints = f"{upstream.url}/api/v1/models/qwen/qwen3-8b/endpoints"
    (example_a,) = read_offers(catalogue_dir, "example-a", QWEN)
    assert example_a == {
        "model": QWEN,
        "input_usd_per_m": 0.2,  # not 0.19999999999999998
        "output_usd_per_m": 0.8,
        "cached_input_usd_per_m": 0.05,
        "price_basis": "flat",
        "context_tokens": 32768,
        "max_output_tokens": 16384,
        "quantisation": "fp8",
        "status": "active",
        "source": endpoints,
        "as_of": AS_OF,
        "source_kind": "secondary",
        "note": example_a["note"],
    }
    (example_b,) = read_offers(catalogue_dir, "example-b", QWEN)
    assert "quantisation" not in example_b  # "unknown" is not a stated format
    assert [(o["input_usd_per_m"], o["output_usd_per_m"]) for o in read_offers(catalogue_dir, "example-a", PHI)] == [
        (0.06, 0.14)
    ]
    assert not read_offers(catalogue_dir, "example-free", QWEN)  # a free tier is not an offer
    assert provider_path(catalogue_dir, "deepseek").read_bytes() == curated
    assert read_offers(catalogue_dir, "openrouter", QWEN) == routed
    load_catalogue(catalogue_dir)  # new provider files are valid
    new_provider = tomllib.loads(provider_path(catalogue_dir, "example-b").read_text(encoding="utf-8"))
    assert new_provider["name"] == "Example B" and "country" not in new_provider
    assert "+ offers[example-a].input_usd_per_m: (none) -> 0.2" in run.out


def test_an_offer_gone_upstream_is_marked_retired_in_a_reviewable_diff(
    run_sync: RunSync, upstream: FakeUpstream, catalogue_dir: Path
) -> None:
    upstream.serve_openrouter(
        "qwen/qwen3-8b",
        QWEN,
        openrouter_endpoint("Example A", "example-a", "0.0000002", "0.0000008", 32768),
        openrouter_endpoint("Example B", "example-b", "0.00000025", "0.0000009", 32768),
    )
    assert run_sync("--models", QWEN, "--source", "openrouter", "--write").status == 0
    upstream.openrouter_endpoints["qwen/qwen3-8b"].pop()  # Example B stops serving it

    dry = run_sync("--models", QWEN, "--source", "openrouter")
    assert '~ offers[example-b].status: "active" -> "retired"' in dry.out
    assert read_offers(catalogue_dir, "example-b", QWEN)[0]["status"] == "active"  # a dry run writes nothing

    run = run_sync("--models", QWEN, "--source", "openrouter", "--write")
    assert run.status == 0, run.out
    (example_b,) = read_offers(catalogue_dir, "example-b", QWEN)
    assert example_b["status"] == "retired"
    assert read_offers(catalogue_dir, "example-a", QWEN)[0]["status"] == "active"
    assert "Wrote 1 file(s)." in run.out  # only the provider file changed


def test_identity_conflicts_are_reported_not_applied_and_do_not_fail_the_run(
    run_sync: RunSync, upstream: FakeUpstream, catalogue_dir: Path
) -> None:
    hub = upstream.hub_models[QWEN]
    hub["tags"] = [t for t in hub["tags"] if not t.startswith("license:")] + ["license:mit"]
    hub["safetensors"] = {"parameters": {"BF16": 30_000_000_000}, "total": 30_000_000_000}
    hub["gated"] = "auto"
    upstream.hub_models[PHI]["safetensors"] = {"parameters": {"BF16": 14_659_507_200}, "total": 14_659_507_200}
    upstream.serve_openrouter(
        "qwen/qwen3-8b", QWEN, openrouter_endpoint("Example A", "example-a", "0.00000005", "0.0000004", 131072)
    )
    before = read_model(catalogue_dir, QWEN)

    run = run_sync("--models", QWEN, PHI, "--write", "--json")

    assert run.status == 0, run.out + run.err
    report = run.json()
    conflicts = {(m["id"], c["field"], c["kind"]) for m in report["models"] for c in m["conflicts"]}
    assert (QWEN, "licence", "disagrees") in conflicts
    assert (QWEN, "parameters_total_b", "disagrees") in conflicts
    assert (QWEN, "gated", "not_curated") in conflicts
    assert (QWEN, "context_tokens", "disagrees") in conflicts
    assert (PHI, "parameters_total_b", "disagrees") not in conflicts  # 14.66 B is within 5% of 14.7 B
    after = read_model(catalogue_dir, QWEN)
    for field in ("licence", "parameters_total_b", "context_tokens"):
        assert after[field] == before[field]
    assert "gated" not in after
    # The offer itself records what the provider serves.
    assert read_offers(catalogue_dir, "example-a", QWEN)[0]["context_tokens"] == 131072


def test_a_hub_licence_without_a_catalogue_equivalent_is_a_notice(run_sync: RunSync, catalogue_dir: Path) -> None:
    kimi = "moonshotai/Kimi-K2-Instruct"  # curated modified-mit-moonshot; the fake Hub says license:other
    run = run_sync("--models", kimi, "--source", "hf", "--json")
    assert run.status == 0
    (model,) = run.json()["models"]
    licence = [c for c in model["conflicts"] if c["field"] == "licence"]
    assert licence == [
        {
            "field": "licence",
            "kind": "unmapped",
            "curated": "modified-mit-moonshot",
            "upstream_value": "other",
            "upstream": "huggingface",
            "source": licence[0]["source"],
            "note": licence[0]["note"],
        }
    ]
    assert read_model(catalogue_dir, kimi)["licence"]["value"] == "modified-mit-moonshot"


def test_requests_name_the_service_and_the_token_goes_only_to_the_hub(
    run_sync: RunSync, upstream: FakeUpstream
) -> None:
    upstream.serve_openrouter("qwen/qwen3-8b", QWEN, openrouter_endpoint("Example A", "example-a", "0", "0", 32768))
    assert run_sync("--models", QWEN).status == 0
    assert upstream.requests_to(FakeUpstream.endpoints_key("qwen/qwen3-8b"))
    for seen in upstream.seen:
        assert seen.headers["user-agent"] == USER_AGENT
        if seen.path.startswith("/api/v1/models"):
            assert "authorization" not in seen.headers
        else:
            assert seen.headers["authorization"] == f"Bearer {TOKEN}"


def test_derivatives_follow_the_link_header_across_pages(run_sync: RunSync, upstream: FakeUpstream) -> None:
    upstream.derivatives[QWEN] = [search_result(f"someone/qwen-{n}", QWEN, "quantized") for n in range(7)]
    run = run_sync("--models", QWEN, "--source", "hf", "--json")
    assert run.status == 0
    pages = upstream.requests_to(FakeUpstream.derivatives_key(QWEN))
    assert len(pages) == 4  # page size 2 on the fake server
    (model,) = run.json()["models"]
    (derivatives,) = [c for c in model["changes"] if c["field"] == "adoption.hf_derivatives"]
    assert derivatives["new"] == 7


# --- faults ----------------------------------------------------------------------------------------------


def test_500_then_success_is_retried_and_syncs(run_sync: RunSync, upstream: FakeUpstream) -> None:
    key = FakeUpstream.model_key(QWEN)
    upstream.script(key, Reply(status=500), Reply())
    run = run_sync("--models", QWEN, "--json")
    assert run.status == 0, run.out
    assert len(upstream.requests_to(key)) == 2
    attempts = [a for a in run.json()["attempts"] if a["url"].endswith(key)]
    assert [a["outcome"] for a in attempts] == ["500", "200"]
    assert attempts[0]["wait_s"] is not None


def test_429_with_retry_after_waits_as_asked(run_sync: RunSync, upstream: FakeUpstream) -> None:
    key = FakeUpstream.model_key(QWEN)
    upstream.script(key, Reply(status=429, headers={"Retry-After": "1"}), Reply())
    run = run_sync("--models", QWEN, "--source", "hf", "--json")
    assert run.status == 0, run.out
    attempts = [a for a in run.json()["attempts"] if a["url"].endswith(key)]
    assert [a["outcome"] for a in attempts] == ["429", "200"]
    assert attempts[0]["wait_s"] >= 1.0


def test_retry_after_beyond_the_deadline_gives_up_at_once(
    run_sync: RunSync, upstream: FakeUpstream, config: SyncConfig
) -> None:
    key = FakeUpstream.model_key(QWEN)
    upstream.script(key, Reply(status=429, headers={"Retry-After": "3600"}))
    run = run_sync("--models", QWEN, "--source", "hf", "--deadline", "30")
    assert run.status == 1
    assert len(upstream.requests_to(key)) == 1
    assert "Retry-After 3600 s is beyond the run deadline" in run.out


def test_slow_answers_past_the_timeout_are_retried_then_fail(
    run_sync: RunSync, upstream: FakeUpstream, catalogue_dir: Path
) -> None:
    key = FakeUpstream.model_key(QWEN)
    upstream.script(key, Reply(delay=10))
    before = snapshot(catalogue_dir)
    run = run_sync("--models", QWEN, "--source", "hf", "--timeout", "0.3", "--write")
    assert run.status == 1
    assert len(upstream.requests_to(key)) == 3
    assert f"  {QWEN}  huggingface  no complete answer within 0.3 s after 3 attempts" in run.out
    assert snapshot(catalogue_dir) == before


def test_a_slow_answer_then_a_quick_one_syncs(run_sync: RunSync, upstream: FakeUpstream) -> None:
    key = FakeUpstream.model_key(QWEN)
    upstream.script(key, Reply(delay=10), Reply())
    run = run_sync("--models", QWEN, "--source", "hf", "--timeout", "1")
    assert run.status == 0, run.out
    assert len(upstream.requests_to(key)) == 2


def test_a_connection_reset_is_retried(run_sync: RunSync, upstream: FakeUpstream) -> None:
    key = FakeUpstream.model_key(QWEN)
    upstream.script(key, Reply(fault="reset"), Reply())
    run = run_sync("--models", QWEN, "--source", "hf")
    assert run.status == 0, run.out
    assert len(upstream.requests_to(key)) == 2


def test_connection_resets_every_time_fail_the_model(
    run_sync: RunSync, upstream: FakeUpstream, catalogue_dir: Path
) -> None:
    key = FakeUpstream.model_key(QWEN)
    upstream.script(key, Reply(fault="reset"))
    before = snapshot(catalogue_dir)
    run = run_sync("--models", QWEN, "--source", "hf", "--write", "--json")
    assert run.status == 1
    assert len(upstream.requests_to(key)) == 3
    (failure,) = failures(run)[QWEN]
    assert failure["upstream"] == "huggingface"
    assert failure["attempts"] == 3
    assert snapshot(catalogue_dir) == before


def test_a_truncated_body_is_retried_and_never_written(
    run_sync: RunSync, upstream: FakeUpstream, catalogue_dir: Path
) -> None:
    key = FakeUpstream.model_key(QWEN)
    upstream.script(key, Reply(fault="truncate"))
    before = snapshot(catalogue_dir)
    run = run_sync("--models", QWEN, "--source", "hf", "--write", "--json")
    assert run.status == 1
    assert len(upstream.requests_to(key)) == 3
    assert failures(run)[QWEN][0]["error"].startswith("RemoteProtocolError")
    assert snapshot(catalogue_dir) == before


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        (Reply(body=b'{"id": "Qwen/Qwen3-8B", "likes": 12,'), "malformed JSON"),
        (Reply(body=b"<html>rate limited</html>", content_type="text/html"), "expected a JSON answer"),
        (Reply(json_body={"id": QWEN, "likes": "many", "downloads": 1}), "does not match the Hub model schema"),
        (Reply(status=404), "HTTP 404"),
        (Reply(status=403), "HTTP 403"),
    ],
    ids=["malformed-json", "wrong-content-type", "schema", "not-found", "forbidden"],
)
def test_answers_that_retrying_cannot_fix_fail_the_model_at_once(
    run_sync: RunSync, upstream: FakeUpstream, reply: Reply, problem: str
) -> None:
    key = FakeUpstream.model_key(QWEN)
    upstream.script(key, reply)
    run = run_sync("--models", QWEN, "--source", "hf", "--json")
    assert run.status == 1
    assert len(upstream.requests_to(key)) == 1
    (failure,) = failures(run)[QWEN]
    assert problem in str(failure["error"])
    assert failure["attempts"] == 1


def test_an_unknown_repo_is_a_404_for_that_model_only(
    run_sync: RunSync, upstream: FakeUpstream, catalogue_dir: Path
) -> None:
    del upstream.hub_models[QWEN]  # the fake Hub now answers 404 for it, as the real one does
    before = snapshot(catalogue_dir)
    run = run_sync("--models", QWEN, LLAMA, "--source", "hf", "--write")
    assert run.status == 1
    assert f"  {QWEN}  huggingface  HTTP 404: not found upstream after 1 attempt" in run.out
    assert "1 synced, 1 with changes, 1 failed" in run.out
    after = snapshot(catalogue_dir)
    qwen_file = f"models/{QWEN}.toml"
    llama_file = f"models/{LLAMA}.toml"
    assert after[qwen_file] == before[qwen_file]
    assert after[llama_file] != before[llama_file]
    assert {k for k in after if after[k] != before.get(k)} == {llama_file}


def test_malformed_json_for_one_model_still_writes_the_others(
    run_sync: RunSync, upstream: FakeUpstream, catalogue_dir: Path
) -> None:
    upstream.script(FakeUpstream.model_key(PHI), Reply(body=b"{not json"))
    before = snapshot(catalogue_dir)
    run = run_sync("--models", QWEN, PHI, LLAMA, "--write")
    assert run.status == 1
    assert f"  {PHI}  huggingface  malformed JSON" in run.out
    assert "Wrote 2 file(s)." in run.out
    after = snapshot(catalogue_dir)
    assert after[f"models/{PHI}.toml"] == before[f"models/{PHI}.toml"]
    assert {k for k in after if after[k] != before.get(k)} == {f"models/{LLAMA}.toml", f"models/{QWEN}.toml"}


def test_openrouter_down_fails_every_model_and_write_changes_nothing(
    run_sync: RunSync, upstream: FakeUpstream, catalogue_dir: Path
) -> None:
    upstream.script(FakeUpstream.OPENROUTER_KEY, Reply(status=503, headers={"Retry-After": "0"}))
    before = snapshot(catalogue_dir)
    run = run_sync("--models", QWEN, LLAMA, "--write")
    assert run.status == 1
    assert len(upstream.requests_to(FakeUpstream.OPENROUTER_KEY)) == 3  # one list request, retried
    assert f"  {QWEN}  openrouter  HTTP 503 Service Unavailable after 3 attempts" in run.out
    assert f"  {LLAMA}  openrouter  HTTP 503 Service Unavailable after 3 attempts" in run.out
    assert snapshot(catalogue_dir) == before


def test_a_bad_openrouter_endpoint_list_fails_only_the_model_it_names(
    run_sync: RunSync, upstream: FakeUpstream, catalogue_dir: Path
) -> None:
    upstream.serve_openrouter(
        "qwen/qwen3-8b", QWEN, openrouter_endpoint("Example A", "example-a", "free!", "0.0000004", 32768)
    )
    upstream.serve_openrouter(
        "microsoft/phi-4", PHI, openrouter_endpoint("Example A", "example-a", "0.00000006", "0.00000014", 16384)
    )
    run = run_sync("--models", QWEN, PHI, "--source", "openrouter", "--write", "--json")
    assert run.status == 1
    assert set(failures(run)) == {QWEN}
    (failure,) = failures(run)[QWEN]
    assert "endpoints of 'qwen/qwen3-8b'" in str(failure["error"])
    assert failure["url"].endswith("/api/v1/models/qwen/qwen3-8b/endpoints")
    assert not read_offers(catalogue_dir, "example-a", QWEN)
    assert read_offers(catalogue_dir, "example-a", PHI)[0]["input_usd_per_m"] == 0.06


def test_endpoints_of_models_outside_the_run_are_not_fetched(run_sync: RunSync, upstream: FakeUpstream) -> None:
    upstream.serve_openrouter("qwen/qwen3-8b", QWEN, openrouter_endpoint("Example A", "example-a", "0", "0", 32768))
    upstream.serve_openrouter("microsoft/phi-4", PHI, openrouter_endpoint("Example A", "example-a", "0", "0", 16384))
    assert run_sync("--models", PHI, "--source", "openrouter").status == 0
    assert upstream.requests_to(FakeUpstream.endpoints_key("microsoft/phi-4"))
    assert not upstream.requests_to(FakeUpstream.endpoints_key("qwen/qwen3-8b"))


def test_the_run_deadline_bounds_retries(run_sync: RunSync, upstream: FakeUpstream, config: SyncConfig) -> None:
    key = FakeUpstream.model_key(QWEN)
    upstream.script(key, Reply(status=500))
    patient = dataclasses.replace(
        config, policy=dataclasses.replace(config.policy, max_attempts=1000, backoff_base_s=0.05, backoff_max_s=0.1)
    )
    run = run_sync("--models", QWEN, "--source", "hf", "--deadline", "1", config=patient)
    assert run.status == 1
    assert len(upstream.requests_to(key)) < 1000
    assert "run deadline reached" in run.out


def test_a_failed_write_leaves_the_catalogue_byte_for_byte_unchanged(
    run_sync: RunSync, catalogue_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(catalogue_dir)
    real_replace = os.replace
    calls: list[str] = []

    def flaky_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        calls.append(str(dst))
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)
    run = run_sync("--models", QWEN, LLAMA, PHI, "--write")
    monkeypatch.undo()
    assert run.status == 1
    assert "Write failed, the catalogue is unchanged" in run.out
    assert len(calls) > 2  # the first file was replaced, then put back
    assert snapshot(catalogue_dir) == before


# --- usage ------------------------------------------------------------------------------------------------


def test_an_unknown_model_id_is_a_usage_error(run_sync: RunSync, upstream: FakeUpstream) -> None:
    run = run_sync("--models", QWEN, "nobody/no-such-model")
    assert run.status == 2
    assert "unknown model: nobody/no-such-model" in run.err
    assert upstream.seen == []  # checked before any request


def test_the_parser_registers_under_an_existing_catalogue_command() -> None:
    parser = argparse.ArgumentParser(prog="advisor")
    commands = parser.add_subparsers(dest="command", required=True)
    catalogue = commands.add_parser("catalogue")
    catalogue.add_subparsers(dest="what").add_parser("check")
    add_sync_parser(commands)
    args = parser.parse_args(["catalogue", "sync", "--source", "hf", "--models", QWEN, "--write"])
    assert (args.source, args.models, args.write, args.json) == ("hf", [QWEN], True, False)
    assert callable(args.handler)
    assert parser.parse_args(["catalogue", "check"]).what == "check"


def test_the_parser_creates_the_catalogue_command_when_missing() -> None:
    parser = argparse.ArgumentParser(prog="advisor")
    add_sync_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["catalogue", "sync"])
    assert (args.command, args.catalogue_command, args.source, args.write) == ("catalogue", "sync", "all", False)
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(["catalogue", "sync", "--source", "github"])
    assert exited.value.code == 2


def test_upstream_locations_come_from_the_environment() -> None:
    config = SyncConfig.from_env(
        {"HF_ENDPOINT": "http://hub.test", "HF_TOKEN": "", "OPENROUTER_BASE_URL": "http://or.test"}
    )
    assert (config.hf_endpoint, config.hf_token, config.openrouter_base_url) == (
        "http://hub.test",
        None,
        "http://or.test",
    )
    defaults = SyncConfig.from_env({})
    assert (defaults.hf_endpoint, defaults.openrouter_base_url) == ("https://huggingface.co", "https://openrouter.ai")


def test_the_whole_catalogue_syncs_and_a_second_run_is_a_no_op(
    run_sync: RunSync, upstream: FakeUpstream, catalogue_dir: Path
) -> None:
    first = run_sync("--write", "--json")
    assert first.status == 0, first.out
    assert len(first.json()["written"]) == len(load_catalogue(catalogue_dir).models)
    second = run_sync("--json")
    assert second.status == 0
    assert [m["id"] for m in second.json()["models"] if m["changes"]] == []


def test_python_m_entry_point_uses_the_configured_catalogue_and_upstreams(
    upstream: FakeUpstream, catalogue_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from service.loading.sync.cli import main
    from service.settings import get_settings

    monkeypatch.setenv("ADVISOR_CATALOGUE_DIR", str(catalogue_dir))
    monkeypatch.setenv("HF_ENDPOINT", upstream.url)
    monkeypatch.setenv("OPENROUTER_BASE_URL", upstream.url)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    get_settings.cache_clear()
    try:
        status = main(["--models", PHI, "--max-attempts", "1"])
    finally:
        get_settings.cache_clear()
    assert status == 0
    assert f"--- models/{PHI}.toml  ({PHI})" in capsys.readouterr().out
    assert all("authorization" not in seen.headers for seen in upstream.seen)


def test_the_outcome_is_written_as_prometheus_metrics_when_asked(
    run_sync: RunSync, upstream: FakeUpstream, tmp_path: Path
) -> None:
    upstream.hub_models[LLAMA]["likes"] = 7000
    metrics = tmp_path / "advisor_sync.prom"
    run = run_sync("--models", LLAMA, "--metrics-file", str(metrics))
    assert run.status == 0, run.out + run.err
    text = metrics.read_text()
    assert 'advisor_sync_models{outcome="synced"} 1.0' in text
    assert 'advisor_sync_models{outcome="failed"} 0.0' in text
    assert "advisor_sync_exit_status 0.0" in text
    assert "advisor_sync_written 0.0" in text  # a dry run writes no catalogue file
    assert "advisor_sync_last_run_timestamp_seconds " in text

    upstream.script(FakeUpstream.OPENROUTER_KEY, Reply(status=503, headers={"Retry-After": "0"}))
    failed = run_sync("--models", LLAMA, "--metrics-file", str(metrics))
    assert failed.status == 1
    assert 'advisor_sync_models{outcome="failed"} 1.0' in metrics.read_text()
    assert "advisor_sync_exit_status 1.0" in metrics.read_text()
