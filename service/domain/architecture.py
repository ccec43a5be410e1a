"""Architecture facts of a model (its ``[transformer]`` table) and the KV cache they imply.

The facts are read from the model's ``config.json`` (or its card) at one date and carry one source for the
whole table. They are what a memory estimate needs beyond the parameter count: how many layers hold a
key/value cache, how large each layer's cache is per token, and which layers hold only a bounded cache
(a sliding window) or a fixed-size state (linear attention, state-space layers).

KV cache per token, in elements (multiply by the cache's bytes per element):

- ``mha`` and ``gqa``: ``2 x kv_heads x head_dim`` per layer (a key and a value per KV head);
- ``mla``: ``kv_lora_rank + qk_rope_head_dim`` per layer (the compressed latent and the decoupled
  rotary key, as DeepSeek-V2 and later cache them);
- a sliding-window layer holds at most ``sliding_window`` tokens (its own KV heads and head size when the
  config gives different ones);
- a linear-attention (or state-space) layer holds a state whose size does not grow with the context: it
  holds no per-token cache and is left out of the per-token figure.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from service.domain.facts import SourceKind, Strict

__all__ = ["WEIGHT_FORMATS", "AttentionKind", "Transformer", "WeightFormat", "kv_cache_elements"]

AttentionKind = Literal["mha", "gqa", "mla"]
WeightFormat = Literal["bf16", "fp8", "mxfp4", "nvfp4", "int4"]
#: The weight formats a developer may release a checkpoint in, in the catalogue's vocabulary.
WEIGHT_FORMATS: tuple[WeightFormat, ...] = ("bf16", "fp8", "mxfp4", "nvfp4", "int4")


class Transformer(Strict):
    """Architecture facts from one ``config.json`` (or card), with the source and date of that read.

    Layer counts: ``layers`` is every decoder layer. ``sliding_window_layers`` and ``linear_attention_layers``
    say how many of them hold a bounded cache or a fixed-size state; the rest hold a full cache. An absent
    count means the source declares no such layers (which can only overstate, never understate, the cache).
    """

    source: str = Field(min_length=1, description="Public URL of the config.json (at a commit where possible).")
    as_of: dt.date = Field(description="Date of the source (the commit date, or the date it was read).")
    source_kind: SourceKind | None = None
    note: str | None = None

    layers: int = Field(gt=0, description="Decoder layers (config num_hidden_layers).")
    hidden_size: int = Field(gt=0, description="Model width (config hidden_size).")
    attention: AttentionKind = Field(
        description="Attention of the layers that hold a per-token cache: mha (one KV head per query head), "
        "gqa (fewer KV heads than query heads, including one: multi-query), mla (multi-head latent attention)."
    )
    attention_heads: int = Field(gt=0, description="Query heads per layer (config num_attention_heads).")
    kv_heads: int | None = Field(
        default=None, gt=0, description="Key/value heads per layer (config num_key_value_heads); mha and gqa."
    )
    head_dim: int | None = Field(
        default=None,
        gt=0,
        description="Dimension of one key/value head; mha and gqa (hidden_size / heads when "
        "the config gives no head_dim).",
    )
    kv_lora_rank: int | None = Field(default=None, gt=0, description="mla: compressed key/value latent size.")
    qk_rope_head_dim: int | None = Field(
        default=None, gt=0, description="mla: decoupled rotary key dimension, cached beside the latent."
    )
    sliding_window: int | None = Field(
        default=None, gt=0, description="Tokens a sliding-window (or chunked local attention) layer keeps."
    )
    sliding_window_layers: int | None = Field(
        default=None, ge=0, description="Layers that attend within the sliding window only."
    )
    sliding_window_kv_heads: int | None = Field(
        default=None, gt=0, description="KV heads of the sliding-window layers when they differ from kv_heads."
    )
    sliding_window_head_dim: int | None = Field(
        default=None, gt=0, description="Head dimension of the sliding-window layers when it differs."
    )
    linear_attention_layers: int | None = Field(
        default=None,
        ge=0,
        description="Linear-attention or state-space layers (fixed-size state, no per-token cache).",
    )
    experts_total: int | None = Field(default=None, gt=0, description="Routed experts per MoE layer.")
    experts_active: int | None = Field(default=None, gt=0, description="Routed experts used per token.")

    @property
    def full_attention_layers(self) -> int:
        """Layers that keep a key/value cache for every token of the context."""
        return self.layers - (self.sliding_window_layers or 0) - (self.linear_attention_layers or 0)

    @model_validator(mode="after")
    def _consistent(self) -> Transformer:
        if self.attention == "mla":
            if self.kv_lora_rank is None or self.qk_rope_head_dim is None:
                raise ValueError("attention 'mla' needs kv_lora_rank and qk_rope_head_dim")
        else:
            if self.kv_heads is None or self.head_dim is None:
                raise ValueError(f"attention {self.attention!r} needs kv_heads and head_dim")
            if self.attention == "mha" and self.kv_heads != self.attention_heads:
                raise ValueError(
                    f"attention 'mha' has one KV head per query head; kv_heads {self.kv_heads} != "
                    f"attention_heads {self.attention_heads} (use 'gqa')"
                )
            if self.attention == "gqa" and self.kv_heads >= self.attention_heads:
                raise ValueError(
                    f"attention 'gqa' has fewer KV heads than query heads; kv_heads {self.kv_heads} >= "
                    f"attention_heads {self.attention_heads} (use 'mha')"
                )
        if self.full_attention_layers < 0:
            raise ValueError(f"sliding_window_layers + linear_attention_layers exceed layers ({self.layers})")
        if self.sliding_window_layers and self.sliding_window is None:
            raise ValueError("sliding_window_layers needs sliding_window (its size in tokens)")
        if (self.experts_total is None) != (self.experts_active is None):
            raise ValueError("give experts_total and experts_active together")
        if (
            self.experts_total is not None
            and self.experts_active is not None
            and (self.experts_active > self.experts_total)
        ):
            raise ValueError(f"experts_active ({self.experts_active}) exceeds experts_total ({self.experts_total})")
        return self

    def per_layer_elements(self) -> int:
        """Cache elements per token in one full-attention layer."""
        if self.attention == "mla":
            assert self.kv_lora_rank is not None and self.qk_rope_head_dim is not None  # validated
            return self.kv_lora_rank + self.qk_rope_head_dim
        assert self.kv_heads is not None and self.head_dim is not None  # validated
        return 2 * self.kv_heads * self.head_dim

    def sliding_layer_elements(self) -> int:
        """Cache elements per token in one sliding-window layer."""
        if self.attention == "mla" and self.sliding_window_kv_heads is None:
            return self.per_layer_elements()
        kv_heads = self.sliding_window_kv_heads or self.kv_heads or 0
        head_dim = self.sliding_window_head_dim or self.head_dim or 0
        return 2 * kv_heads * head_dim


def kv_cache_elements(transformer: Transformer, tokens: int) -> int:
    """Cache elements one request of ``tokens`` tokens holds (all layers; multiply by bytes per element)."""
    full = transformer.full_attention_layers * transformer.per_layer_elements() * tokens
    sliding_layers = transformer.sliding_window_layers or 0
    window = min(tokens, transformer.sliding_window or 0)
    return full + sliding_layers * transformer.sliding_layer_elements() * window
