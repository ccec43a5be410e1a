"""``advisor catalogue sync`` proposes [transformer] and [released_formats] from the Hub's config.json."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from service.loading.files import load_catalogue, model_path
from service.loading.sync.architecture import read_config
from tests.loading.sync.conftest import PHI, QWEN, Run
from tests.loading.sync.fake_upstream import FakeUpstream

RunSync = Callable[..., Run]

PHI_CONFIG = {
    "architectures": ["Phi3ForCausalLM"],
    "hidden_size": 5120,
    "num_hidden_layers": 40,
    "num_attention_heads": 40,
    "num_key_value_heads": 10,
    "torch_dtype": "bfloat16",
}


def read_model(catalogue_dir: Path, model_id: str) -> dict[str, Any]:
    return tomllib.loads(model_path(catalogue_dir, model_id).read_text(encoding="utf-8"))


def test_a_model_without_architecture_facts_gets_them_proposed_from_config_json_with_its_url(
    run_sync: RunSync, upstream: FakeUpstream, catalogue_dir: Path
) -> None:
    upstream.hub_configs[PHI] = PHI_CONFIG

    run = run_sync("--models", PHI, "--source", "hf", "--write")

    assert run.status == 0, run.out + run.err
    load_catalogue(catalogue_dir)
    written = read_model(catalogue_dir, PHI)
    table = written["transformer"]
    assert table["source"] == f"{upstream.url}/{PHI}/blob/{'0' * 40}/config.json"
    assert {k: table[k] for k in ("layers", "hidden_size", "attention", "attention_heads", "kv_heads", "head_dim")} == {
        "layers": 40, "hidden_size": 5120, "attention": "gqa", "attention_heads": 40, "kv_heads": 10, "head_dim": 128,
    }  # fmt: skip
    assert written["released_formats"]["value"] == ["bf16"]
    assert "+ transformer:" in run.out


def test_a_config_that_disagrees_with_curated_facts_is_a_conflict_and_is_never_written(
    run_sync: RunSync, upstream: FakeUpstream, catalogue_dir: Path
) -> None:
    before = read_model(catalogue_dir, QWEN).get("transformer")
    assert before is not None
    upstream.hub_configs[QWEN] = {
        "hidden_size": 4096, "num_hidden_layers": 36, "num_attention_heads": 32, "num_key_value_heads": 4,
        "head_dim": 128, "torch_dtype": "bfloat16",
    }  # fmt: skip

    run = run_sync("--models", QWEN, "--source", "hf", "--write", "--json")

    assert run.status == 0, run.out + run.err
    assert read_model(catalogue_dir, QWEN).get("transformer") == before
    conflicts = [c for m in run.json()["models"] for c in m["conflicts"] if c["field"] == "transformer"]
    assert conflicts and conflicts[0]["upstream_value"] == {"kv_heads": 4}


def test_a_repo_without_config_json_proposes_nothing_and_does_not_fail(
    run_sync: RunSync, upstream: FakeUpstream, catalogue_dir: Path
) -> None:
    run = run_sync("--models", PHI, "--source", "hf", "--json")
    assert run.status == 0, run.out + run.err
    assert "transformer" not in read_model(catalogue_dir, PHI)


def test_config_reading_covers_latent_sliding_linear_and_quantised_checkpoints() -> None:
    mla = read_config(
        {"num_hidden_layers": 61, "hidden_size": 7168, "num_attention_heads": 128, "kv_lora_rank": 512,
         "qk_rope_head_dim": 64, "n_routed_experts": 256, "num_experts_per_tok": 8,
         "quantization_config": {"quant_method": "fp8"}},
        "u",
    )  # fmt: skip
    assert mla.transformer is not None and mla.transformer["attention"] == "mla" and mla.weight_format == "fp8"
    hybrid = read_config(
        {"text_config": {"num_hidden_layers": 4, "hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 1,
                         "head_dim": 16, "sliding_window": 128,
                         "layer_types": ["sliding_attention", "full_attention", "linear_attention", "full_attention"]}},
        "u",
    )  # fmt: skip
    assert hybrid.transformer is not None
    assert hybrid.transformer["sliding_window_layers"] == 1 and hybrid.transformer["linear_attention_layers"] == 1
    broken = read_config({"hidden_size": 64}, "u")
    assert broken.transformer is None and broken.problem is not None
