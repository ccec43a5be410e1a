"""Hardware fit: KV cache from architecture facts, native precision, headroom, GPUs needed and decode speed."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest

from service.domain.architecture import kv_cache_elements
from service.domain.engine import Engine
from service.domain.errors import RequirementError
from service.domain.hardware import _dense_flops, decode_tokens_per_second
from service.domain.requirements import Requirements
from tests.conftest import TODAY

LLAMA_70B = "meta-llama/Llama-3.3-70B-Instruct"
DEEPSEEK_V3 = "deepseek-ai/DeepSeek-V3"
GPT_OSS_120B = "openai/gpt-oss-120b"


def ask(engine: Engine, request: dict[str, Any]) -> Any:
    return engine.recommend(Requirements.model_validate(request), TODAY)


def explained(engine: Engine, model_id: str, request: dict[str, Any]) -> Any:
    answer = ask(engine, {**request, "explain": [model_id]})
    return answer.explained[0]


def test_a_70b_grouped_query_model_holds_80x8x128x2x2_bytes_per_token_for_a_128k_request(engine: Engine) -> None:
    fit = explained(
        engine,
        LLAMA_70B,
        {"hardware": {"precision": "bf16"}, "workload": {"concurrent_requests": 1, "tokens_per_request": 131_072}},
    ).fit
    formula_gb = 80 * 8 * 128 * 2 * 2 * 131_072 / 1e9
    assert fit.kv_cache_gb == pytest.approx(formula_gb, rel=0.05)
    assert fit.kv_cache_gb > 40  # far more than a flat 20 % of the 140 GB of weights would allow for one request
    assert "80 full-attention layers x 2 x 8 KV heads x 128 dims" in fit.kv_cache_formula


def test_a_latent_attention_model_caches_its_compressed_latent_from_its_own_dimensions(engine: Engine) -> None:
    model = engine.catalogue.models[DEEPSEEK_V3]
    t = model.transformer
    assert t is not None and t.attention == "mla"
    fit = explained(engine, DEEPSEEK_V3, {"workload": {"tokens_per_request": 131_072}}).fit
    assert fit.kv_cache_bytes_per_token == t.layers * (t.kv_lora_rank + t.qk_rope_head_dim) * 2  # type: ignore[operator]
    llama = explained(engine, LLAMA_70B, {"workload": {"tokens_per_request": 131_072}}).fit
    assert fit.kv_cache_bytes_per_token is not None and llama.kv_cache_bytes_per_token is not None
    assert fit.kv_cache_bytes_per_token < llama.kv_cache_bytes_per_token / 4  # about a fifth of a 70B GQA cache
    assert "kv_lora_rank 512 + qk_rope_head_dim 64" in fit.kv_cache_formula


def test_gpt_oss_120b_at_its_native_mxfp4_fits_one_80gb_gpu_and_bf16_does_not(engine: Engine) -> None:
    request = {"hardware": {"gpu": "h100-sxm", "gpu_count": 1}}
    native = explained(engine, GPT_OSS_120B, request)
    assert native.fit.precision == "mxfp4" and native.fit.precision_requested == "native"
    assert native.fit.gpus_needed == 1 and native.fit.fits is True and native.status != "excluded"
    bf16 = explained(engine, GPT_OSS_120B, {"hardware": {**request["hardware"], "precision": "bf16"}})
    assert bf16.status == "excluded" and bf16.fit.gpus_needed is not None and bf16.fit.gpus_needed >= 4
    assert any(c.kind == "quantisation" for c in bf16.caveats)  # bf16 is not a format it is released in


def test_a_model_that_would_fill_its_gpus_exactly_does_not_fit(engine: Engine) -> None:
    first = explained(engine, "Qwen/Qwen3-8B", {"hardware": {"gpu_memory_gb": 80, "gpu_count": 1}}).fit
    assert first.memory_gb is not None
    exact = explained(engine, "Qwen/Qwen3-8B", {"hardware": {"gpu_memory_gb": first.memory_gb, "gpu_count": 1}}).fit
    assert exact.memory_gb == first.memory_gb
    assert exact.gpus_needed == 2 and exact.fits is False
    hw = engine.rules.hardware
    assert exact.usable_memory_gb == pytest.approx(2 * first.memory_gb * hw.usable_memory_fraction, abs=0.1)


def test_memory_is_weights_plus_cache_plus_overhead_and_grows_with_concurrency(engine: Engine) -> None:
    one = explained(engine, LLAMA_70B, {"workload": {"concurrent_requests": 1, "tokens_per_request": 32_768}}).fit
    ten = explained(engine, LLAMA_70B, {"workload": {"concurrent_requests": 10, "tokens_per_request": 32_768}}).fit
    for fit in (one, ten):
        assert fit.memory_gb == pytest.approx(fit.weights_gb + fit.kv_cache_gb + fit.overhead_gb, abs=0.15)
    assert ten.kv_cache_gb == pytest.approx(10 * one.kv_cache_gb, rel=1e-3)
    assert ten.gpus_needed > one.gpus_needed


def test_the_exclusion_says_by_how_much_and_for_which_part(engine: Engine) -> None:
    llama = explained(
        engine,
        LLAMA_70B,
        {"hardware": {"gpu": "h100-sxm", "gpu_count": 1}, "workload": {"tokens_per_request": 131_072}},
    )
    assert llama.status == "excluded"
    message = next(r.message for r in llama.rules if r.rule_id == "hardware.fits")
    assert "KV cache 42.9 GB" in message and "Short by memory:" in message and "weights 140.0 GB" in message
    evidence = next(r.evidence for r in llama.rules if r.rule_id == "hardware.fits")
    assert {e.fact for e in evidence} >= {"parameters_total_b", "transformer", "GPU h100-sxm: memory_gb"}


def test_a_requested_decode_speed_adds_gpus_beyond_what_memory_needs(engine: Engine) -> None:
    request = {"hardware": {"gpu": "h100-sxm"}, "workload": {"tokens_per_request": 4096}}
    slow = explained(engine, LLAMA_70B, request).fit
    fast = explained(engine, LLAMA_70B, {**request, "workload": {"tokens_per_request": 4096,
                                                                  "output_tokens_per_second": 100}}).fit  # fmt: skip
    assert slow.throughput is not None and slow.throughput.tokens_per_second_per_request < 100
    assert fast.gpus_for_throughput is not None and fast.gpus_for_memory is not None
    assert fast.gpus_for_throughput > fast.gpus_for_memory
    assert fast.gpus_needed == fast.gpus_for_throughput


def test_no_gpu_profile_means_no_speed_estimate_and_the_answer_says_why(engine: Engine) -> None:
    fit = explained(engine, LLAMA_70B, {"hardware": {"gpu_memory_gb": 80, "gpu_count": 4}}).fit
    assert fit.throughput is None
    assert any("no decode speed is estimated" in a for a in fit.assumptions)


def test_an_unknown_gpu_profile_is_refused_naming_the_field(engine: Engine) -> None:
    with pytest.raises(RequirementError) as caught:
        ask(engine, {"hardware": {"gpu": "h1000"}})
    assert caught.value.field == "hardware.gpu"


def test_a_gpu_and_a_gpu_size_together_are_refused() -> None:
    with pytest.raises(ValueError, match="either 'gpu'"):
        Requirements.model_validate({"hardware": {"gpu": "h100-sxm", "gpu_memory_gb": 80}})


def test_a_format_the_gpu_does_not_run_natively_is_a_caveat(engine: Engine) -> None:
    answer = explained(engine, DEEPSEEK_V3, {"hardware": {"gpu": "a100-80gb", "gpu_count": 8}})
    assert answer.fit.precision == "fp8"
    assert any(c.kind == "hardware" and "A100" in c.message for c in answer.caveats)


def test_a_missing_architecture_falls_back_to_the_stated_estimate_and_says_so(engine: Engine) -> None:
    unknown = [m for m in engine.catalogue.models.values() if m.transformer is None and m.parameters_total_b]
    assert unknown, "the test needs a model without [transformer] facts"
    answer = explained(engine, unknown[0].id, {"workload": {"tokens_per_request": 1000}})
    hw = engine.rules.hardware
    assert answer.fit.kv_cache_bytes_per_token == hw.fallback_kv_bytes_per_token
    assert any(c.fact == "transformer" for c in answer.caveats)


def _hf_style_estimate_gb(model: Any, tokens: int) -> float:
    """Weights at bf16 plus the KV term as Hugging Face's estimator states it: every layer caches keys and
    values for every token (2 x layers x KV heads x head_dim, or the latent for MLA), no runtime overhead."""
    t = model.transformer
    per_token_layer = t.kv_lora_rank + t.qk_rope_head_dim if t.attention == "mla" else 2 * t.kv_heads * t.head_dim
    cache_layers = t.layers - (t.linear_attention_layers or 0)
    return (model.parameters_total_b.value * 2e9 + cache_layers * per_token_layer * tokens * 2) / 1e9


def test_memory_at_2048_tokens_is_within_10_percent_of_the_hugging_face_style_estimate(engine: Engine) -> None:
    compared = 0
    for model in engine.catalogue.models.values():
        if model.transformer is None or model.parameters_total_b is None:
            continue
        fit = explained(
            engine, model.id, {"hardware": {"precision": "bf16"}, "workload": {"tokens_per_request": 2048}}
        ).fit
        reference = _hf_style_estimate_gb(model, 2048)
        assert fit.memory_gb == pytest.approx(reference, rel=0.10), model.id
        compared += 1
    assert compared >= 20


def test_the_decode_bound_matches_each_published_measurement_within_the_stated_tolerance(engine: Engine) -> None:
    hw = engine.rules.hardware
    assert len(hw.decode_measurements) >= 3
    for m in hw.decode_measurements:
        model = engine.catalogue.models[m.model]
        gpu = engine.rules.gpus[m.gpu]
        active = (model.parameters_active_b or model.parameters_total_b).value  # type: ignore[union-attr]
        cache = 0.0
        if model.transformer is not None:
            cache = kv_cache_elements(model.transformer, m.context_tokens) * hw.kv_cache_bytes_per_element
        estimate = decode_tokens_per_second(
            gpu.memory_bandwidth_gb_s.value, 1, hw.decode_efficiency, active * 1e9 * m.bits_per_weight / 8, cache
        )
        assert estimate == pytest.approx(m.tokens_per_second, rel=hw.decode_tolerance), (m.model, m.gpu)
        ceiling = estimate / hw.decode_efficiency
        assert m.tokens_per_second <= ceiling  # the raw bandwidth bound is a true upper bound


def test_gpus_needed_is_the_ceiling_of_memory_over_usable_memory(engine: Engine) -> None:
    fit = explained(engine, DEEPSEEK_V3, {"hardware": {"gpu": "h200", "gpu_count": 8}}).fit
    hw = engine.rules.hardware
    assert fit.memory_gb is not None
    assert fit.gpus_needed == math.ceil(fit.memory_gb / (141 * hw.usable_memory_fraction))
    assert fit.headroom_gb is not None and fit.headroom_gb >= 0


@pytest.mark.parametrize("fine_tuning", ["none", "lora", "full"])
def test_the_parts_of_a_fit_message_add_up_to_its_total(engine: Engine, fine_tuning: str) -> None:
    request = {"hardware": {"gpu_memory_gb": 80, "gpu_count": 8}, "customisation": {"fine_tuning": fine_tuning}}
    llama = explained(engine, "meta-llama/Llama-3.3-70B-Instruct", request)
    message = next(r.message for r in llama.rules if r.rule_id == "hardware.fits")
    found = re.search(r"needs about ([\d,.]+) GB at \w+ \(([^)]*)\)", message)
    assert found is not None, message
    total = float(found.group(1).replace(",", ""))
    parts = [float(x.replace(",", "")) for x in re.findall(r"([\d,.]+) GB", found.group(2))]
    assert ("fine-tuning" in message) == (fine_tuning != "none"), message
    assert abs(sum(parts) - total) <= 1.0, message  # each part is rounded to 0.1 GB, the total to 1 GB
    if fine_tuning == "full":  # the largest part named in the shortfall is the training state, not the weights
        assert "largest part: full fine-tuning" in message, message


def test_without_a_gpu_profile_a_plan_states_no_speed_and_memory_alone_sets_the_gpus(engine: Engine) -> None:
    plan = engine._fit_plan(Requirements.model_validate({}).normalised())
    assert plan.gpu is None
    for speed in (plan.decode_tps_per_request, plan.decode_tps_total, plan.gpus_for_throughput):
        assert np.isnan(speed).all()
        assert not speed.flags.writeable  # shared by every such plan
    assert not plan.compute_bound.any()
    assert np.array_equal(plan.gpus_needed, plan.gpus_for_memory, equal_nan=True)  # NaN: size not recorded
    timed = engine._fit_plan(
        Requirements.model_validate(
            {"hardware": {"gpu": "h100-sxm"}, "workload": {"output_tokens_per_second": 400}}
        ).normalised()
    )
    assert not np.isnan(timed.decode_tps_per_request).all()
    assert (timed.gpus_needed > timed.gpus_for_memory).any()  # the speed asked adds GPUs somewhere
    assert np.isnan(plan.decode_tps_per_request).all()  # the shared arrays were not written


def test_the_cache_figure_without_the_fallback_is_the_same_for_models_whose_shapes_are_recorded(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    req = Requirements.model_validate({"workload": {"tokens_per_request": 50_000, "concurrent_requests": 3}})
    plan = engine._fit_plan(req.normalised())
    # The shortcut a catalogue takes when every model's cache shape is recorded, taken here for all models.
    monkeypatch.setattr(engine._fit_basis, "all_kv_known", True)
    shortcut = engine._fit_plan(req.normalised())
    known = engine.features.architecture.known
    assert known.any()
    for name in ("kv_cache_gb", "kv_bytes_per_token", "overhead_gb", "memory_gb", "gpus_needed"):
        assert np.array_equal(getattr(plan, name)[known], getattr(shortcut, name)[known], equal_nan=True), name


def test_the_dense_flops_kept_per_gpu_and_precision_are_those_each_reads(engine: Engine) -> None:
    basis = engine._fit_basis
    h100 = engine.rules.gpus["h100-sxm"]
    assert h100.dense_fp8_tflops is not None and h100.dense_bf16_tflops is not None
    # The same profile id with other figures (a reloaded rules file) is another GPU: its own figures are read.
    slower = h100.model_copy(update={"dense_fp8_tflops": h100.dense_fp8_tflops.model_copy(update={"value": 1.0})})
    for gpu in (h100, slower, h100):
        for precision in ("fp8", "bf16", "native"):
            code = basis.formatted(precision).code
            expected = _dense_flops(gpu, code)
            kept = basis.dense_flops(gpu, precision)
            assert np.array_equal(kept, expected, equal_nan=True), (gpu.dense_fp8_tflops, precision)
    assert not np.array_equal(basis.dense_flops(h100, "fp8"), basis.dense_flops(slower, "fp8"))
    assert not np.array_equal(basis.dense_flops(h100, "fp8"), basis.dense_flops(h100, "bf16"))


def test_a_plans_decode_figures_read_later_are_those_a_speed_request_computes_at_once(engine: Engine) -> None:
    # A plan without a speed asked computes its decode figures when first read; one with a speed asked needs them
    # for the GPUs at once. The speed asked changes only the GPUs it needs, not the decode bound.
    hardware = {"gpu": "h100-sxm", "gpu_count": 4, "precision": "fp8"}
    workload = {"concurrent_requests": 3, "tokens_per_request": 20_000}
    lazy = engine._fit_plan(Requirements.model_validate({"hardware": hardware, "workload": workload}).normalised())
    eager = engine._fit_plan(
        Requirements.model_validate(
            {"hardware": hardware, "workload": {**workload, "output_tokens_per_second": 0.001}}
        ).normalised()
    )
    assert lazy._speed is None and eager._speed is not None
    for name in ("decode_tps_per_request", "decode_tps_total", "compute_bound", "memory_gb", "kv_bytes_per_token"):
        assert np.array_equal(getattr(lazy, name), getattr(eager, name), equal_nan=True), name
    assert lazy._speed is not None  # computed once read, then kept with the plan
    assert np.isnan(lazy.gpus_for_throughput).all() and not np.isnan(eager.gpus_for_throughput).all()
    assert np.array_equal(eager.gpus_needed, lazy.gpus_needed, equal_nan=True)  # 0.001 tokens/s adds no GPU
