"""Architecture facts: the [transformer] table validates strictly and gives the KV cache per token."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from service.domain.architecture import Transformer, kv_cache_elements

SOURCE = {"source": "https://example.org/config.json", "as_of": dt.date(2025, 1, 1)}


def transformer(**fields: Any) -> Transformer:
    return Transformer.model_validate({**SOURCE, **fields})


LLAMA_70B = {"layers": 80, "hidden_size": 8192, "attention": "gqa", "attention_heads": 64, "kv_heads": 8,
             "head_dim": 128}  # fmt: skip


def test_grouped_query_attention_caches_a_key_and_a_value_per_kv_head_in_every_layer() -> None:
    model = transformer(**LLAMA_70B)
    assert kv_cache_elements(model, 1) == 80 * 8 * 128 * 2
    assert kv_cache_elements(model, 131_072) == 80 * 8 * 128 * 2 * 131_072


def test_latent_attention_caches_the_latent_and_the_rotary_key_only() -> None:
    deepseek_v3 = transformer(layers=61, hidden_size=7168, attention="mla", attention_heads=128,
                              kv_lora_rank=512, qk_rope_head_dim=64)  # fmt: skip
    assert kv_cache_elements(deepseek_v3, 1) == 61 * (512 + 64)
    assert kv_cache_elements(deepseek_v3, 1) < kv_cache_elements(transformer(**LLAMA_70B), 1) / 4


def test_sliding_window_layers_stop_growing_at_their_window() -> None:
    gpt_oss = transformer(layers=36, hidden_size=2880, attention="gqa", attention_heads=64, kv_heads=8,
                          head_dim=64, sliding_window=128, sliding_window_layers=18)  # fmt: skip
    per_layer = 2 * 8 * 64
    assert gpt_oss.full_attention_layers == 18
    assert kv_cache_elements(gpt_oss, 100) == 36 * per_layer * 100
    assert kv_cache_elements(gpt_oss, 10_000) == 18 * per_layer * 10_000 + 18 * per_layer * 128


def test_linear_attention_layers_hold_no_per_token_cache() -> None:
    hybrid = transformer(layers=48, hidden_size=2048, attention="gqa", attention_heads=16, kv_heads=2,
                         head_dim=256, linear_attention_layers=36)  # fmt: skip
    assert kv_cache_elements(hybrid, 1000) == 12 * 2 * 2 * 256 * 1000


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({**LLAMA_70B, "attention": "mla"}, "needs kv_lora_rank"),
        ({**LLAMA_70B, "kv_heads": None}, "needs kv_heads and head_dim"),
        ({**LLAMA_70B, "attention": "mha"}, "use 'gqa'"),
        ({**LLAMA_70B, "kv_heads": 64}, "use 'mha'"),
        ({**LLAMA_70B, "linear_attention_layers": 81}, "exceed layers"),
        ({**LLAMA_70B, "sliding_window_layers": 10}, "needs sliding_window"),
        ({**LLAMA_70B, "experts_total": 8}, "together"),
        ({**LLAMA_70B, "experts_total": 8, "experts_active": 9}, "exceeds experts_total"),
        ({**LLAMA_70B, "layers": 0}, "greater than 0"),
        ({**LLAMA_70B, "attention": "linear"}, "'mha', 'gqa' or 'mla'"),
        ({**LLAMA_70B, "kv_head": 8}, "Extra inputs are not permitted"),
    ],
)
def test_an_inconsistent_transformer_table_is_refused_with_a_plain_reason(fields: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        transformer(**fields)


def test_released_formats_come_from_the_fixed_vocabulary_once_each() -> None:
    from service.domain.catalogue import ModelFile

    base = {
        "name": "M",
        "family": "F",
        "organisation": "o",
        "review_by": "2027-01-01",
        "released": {"value": "2025-01", **SOURCE},
        "licence": {"value": "mit", **SOURCE},
    }
    ok = ModelFile.model_validate({**base, "released_formats": {"value": ["bf16", "fp8"], **SOURCE}})
    assert ok.released_formats is not None and ok.released_formats.value == ["bf16", "fp8"]
    with pytest.raises(ValidationError, match="'bf16', 'fp8', 'mxfp4', 'nvfp4' or 'int4'"):
        ModelFile.model_validate({**base, "released_formats": {"value": ["gguf"], **SOURCE}})
    with pytest.raises(ValidationError, match="each format once"):
        ModelFile.model_validate({**base, "released_formats": {"value": ["fp8", "fp8"], **SOURCE}})
