"""Read a model's ``config.json`` (as the Hub serves it) into a proposed ``[transformer]`` table and format.

Only fields the config states are used; anything that cannot be read leaves the proposal out (``None``) with
the reason, never a guess. Multimodal configs keep the language model under ``text_config``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from service.domain.architecture import Transformer, WeightFormat

__all__ = ["ArchitectureObservation", "read_config"]

_QUANT_FORMATS: dict[str, WeightFormat] = {"fp8": "fp8", "mxfp4": "mxfp4", "nvfp4": "nvfp4"}


@dataclass(frozen=True)
class ArchitectureObservation:
    """What one config.json says: the proposed table (as data) and the checkpoint's weight format."""

    source: str
    transformer: Mapping[str, Any] | None
    weight_format: WeightFormat | None
    problem: str | None


def _int(config: Mapping[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = config.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def _weight_format(config: Mapping[str, Any]) -> WeightFormat | None:
    quant = config.get("quantization_config")
    if isinstance(quant, Mapping):
        method = str(quant.get("quant_method", "")).lower()
        if method in _QUANT_FORMATS:
            return _QUANT_FORMATS[method]
        if method in {"compressed-tensors", "modelopt"}:
            return None  # the scheme varies; a person reads it
        return None
    dtype = config.get("torch_dtype") or config.get("dtype")
    return "bf16" if dtype == "bfloat16" else None


def read_config(config: Mapping[str, Any], source: str) -> ArchitectureObservation:
    """Propose ``[transformer]`` fields from ``config`` (cited as ``source``); say why when it cannot."""
    weight_format = _weight_format(config)
    text = config.get("text_config")
    cfg: Mapping[str, Any] = text if isinstance(text, Mapping) else config
    layers = _int(cfg, "num_hidden_layers", "n_layers", "num_layers")
    hidden = _int(cfg, "hidden_size", "dim", "d_model")
    heads = _int(cfg, "num_attention_heads", "n_heads")
    if layers is None or heads is None:
        return ArchitectureObservation(source, None, weight_format, "no num_hidden_layers or num_attention_heads")
    fields: dict[str, Any] = {"layers": layers, "hidden_size": hidden, "attention_heads": heads}
    lora, rope = _int(cfg, "kv_lora_rank"), _int(cfg, "qk_rope_head_dim")
    if lora is not None and rope is not None:
        fields |= {"attention": "mla", "kv_lora_rank": lora, "qk_rope_head_dim": rope}
    else:
        kv = _int(cfg, "num_key_value_heads", "n_kv_heads") or heads
        head_dim = _int(cfg, "head_dim") or (hidden // heads if hidden and hidden % heads == 0 else None)
        fields |= {"attention": "mha" if kv == heads else "gqa", "kv_heads": kv, "head_dim": head_dim}
    layer_types = cfg.get("layer_types")
    if isinstance(layer_types, list) and len(layer_types) == layers:
        sliding = sum(1 for t in layer_types if t in {"sliding_attention", "chunked_attention"})
        linear = sum(1 for t in layer_types if t in {"linear_attention", "mamba", "mamba2"})
        if sliding:
            fields["sliding_window_layers"] = sliding
            fields["sliding_window"] = _int(cfg, "sliding_window", "attention_chunk_size")
        if linear:
            fields["linear_attention_layers"] = linear
    experts = _int(cfg, "n_routed_experts", "num_experts", "num_local_experts")
    active = _int(cfg, "num_experts_per_tok", "experts_per_token", "moe_topk")
    if experts is not None and active is not None:
        fields |= {"experts_total": experts, "experts_active": active}
    try:
        Transformer.model_validate({"source": source, "as_of": "2000-01-01", **fields})
    except ValidationError as exc:
        return ArchitectureObservation(source, None, weight_format, exc.errors()[0]["msg"])
    return ArchitectureObservation(source, {k: v for k, v in fields.items() if v is not None}, weight_format, None)
