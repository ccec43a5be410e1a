"""Hardware fit and capacity: GPU profiles, memory for a workload, GPUs needed and a decode-speed bound.

Memory for one deployment (GB = 10^9 bytes):

- weights: total parameters x bytes per parameter at the chosen precision (``native``: the most compact
  format the developer releases; every expert of a mixture-of-experts model must be resident);
- KV cache: concurrent requests x the cache one request of ``tokens_per_request`` tokens holds, from the
  model's ``[transformer]`` facts (:func:`service.domain.architecture.kv_cache_elements`) at the cache's bytes
  per element, or a stated conservative figure per token when the facts are not recorded;
- runtime overhead: a stated fraction of weights plus cache (activations, CUDA graphs, allocator slack).

A deployment fits on ``n`` GPUs when the total is at most ``n x memory x usable_memory_fraction``: a model
that would fill the GPUs to 100 % does not fit. Decode speed is an upper bound from memory bandwidth: every
generated token reads the active weights once and each request's cache once, at a stated efficiency of
the GPUs' peak bandwidth (and, where the GPU's dense throughput is recorded, at most what its compute allows).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np
import numpy.typing as npt
from pydantic import Field, field_validator

from service.domain.architecture import WEIGHT_FORMATS, WeightFormat
from service.domain.catalogue import Model
from service.domain.facts import Fact, SourceKind, Strict
from service.domain.kept import Kept

if TYPE_CHECKING:
    from service.domain.rules import HardwarePolicy

__all__ = [
    "DecodeMeasurement",
    "FitBasis",
    "FitPlan",
    "Gpu",
    "GpuProfile",
    "ModelArchitecture",
    "RequestPrecision",
    "ResolvedWorkload",
    "decode_tokens_per_second",
    "native_format",
    "plan_fit",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.intp]
RequestPrecision = Literal["native", "bf16", "fp8", "mxfp4", "nvfp4", "int4"]


class GpuProfile(Strict):
    """The content of one ``rules/gpus/<id>.toml`` file: what one GPU offers, each figure sourced."""

    name: str = Field(min_length=1)
    vendor: Literal["nvidia", "amd"]
    review_by: dt.date
    memory_gb: Fact[float] = Field(description="Memory of one GPU in GB (10^9 bytes).")
    memory_bandwidth_gb_s: Fact[float] = Field(description="Peak memory bandwidth in GB/s.")
    dense_bf16_tflops: Fact[float] | None = Field(default=None, description="Dense (no sparsity) BF16 TFLOPS.")
    dense_fp8_tflops: Fact[float] | None = Field(default=None, description="Dense (no sparsity) FP8 TFLOPS.")
    native_formats: Fact[list[WeightFormat]] | None = Field(
        default=None, description="Weight formats its tensor cores run natively, as the source states them."
    )

    @field_validator("memory_gb", "memory_bandwidth_gb_s", "dense_bf16_tflops", "dense_fp8_tflops")
    @classmethod
    def _positive(cls, fact: Fact[float] | None) -> Fact[float] | None:
        if fact is not None and fact.value <= 0:
            raise ValueError("must be positive")
        return fact


class Gpu(GpuProfile):
    """A GPU profile with its id (the file stem)."""

    id: str


class DecodeMeasurement(Strict):
    """A published single-request decode speed, used to test the bandwidth bound and its efficiency factor."""

    model: str = Field(description="Catalogue model id.")
    gpu: str = Field(description="GPU profile id.")
    weights: str = Field(description="The weight format measured, as the source names it.")
    bits_per_weight: float = Field(gt=0, le=32, description="Bits read per parameter for that format.")
    bits_note: str
    context_tokens: int = Field(ge=0, description="Tokens in the cache while decoding (0 when not stated).")
    tokens_per_second: float = Field(gt=0)
    engine: str
    source: str = Field(min_length=1)
    as_of: dt.date
    source_kind: SourceKind | None = None
    note: str | None = None


class ResolvedWorkload(NamedTuple):
    """The workload a fit is computed for, with where each figure came from (the request or a default): built from
    validated figures (the request's and the rules'), so a plain value with no validation of its own."""

    concurrent_requests: int
    tokens_per_request: int
    output_tokens_per_second: float | None
    defaulted: tuple[str, ...]


@dataclass(frozen=True)
class ModelArchitecture:
    """Per-model columns computed once: the cache per token and the formats released."""

    full_elements: FloatArray  # cache elements per token over the full-attention layers (NaN: not recorded)
    sliding_elements: FloatArray  # cache elements per token over the sliding-window layers
    window: FloatArray  # tokens a sliding-window layer keeps
    known: BoolArray  # [transformer] recorded
    native: tuple[WeightFormat | None, ...]  # most compact released format, None when not recorded
    released: tuple[tuple[WeightFormat, ...] | None, ...]
    native_costed: tuple[WeightFormat, ...]  # the format a ``native`` request costs: ``native``, else bf16
    native_code: IntArray  # index of ``native_costed`` in WEIGHT_FORMATS (vectorised look-ups per request)
    native_assumed: BoolArray  # released formats not recorded: a ``native`` request assumes bf16

    @classmethod
    def of(cls, models: tuple[Model, ...], bytes_per_parameter: dict[WeightFormat, float]) -> ModelArchitecture:
        """Columns for ``models`` (in order)."""
        full, sliding, window, known = [], [], [], []
        native: list[WeightFormat | None] = []
        released: list[tuple[WeightFormat, ...] | None] = []
        for m in models:
            t = m.transformer
            if t is None:
                full.append(math.nan)
                sliding.append(0.0)
                window.append(0.0)
                known.append(False)
            else:
                full.append(float(t.full_attention_layers * t.per_layer_elements()))
                sliding.append(float((t.sliding_window_layers or 0) * t.sliding_layer_elements()))
                window.append(float(t.sliding_window or 0))
                known.append(True)
            formats = tuple(m.released_formats.value) if m.released_formats else None
            released.append(formats)
            native.append(native_format(formats, bytes_per_parameter))
        costed = tuple(fmt or "bf16" for fmt in native)
        return cls(
            full_elements=np.array(full),
            sliding_elements=np.array(sliding),
            window=np.array(window),
            known=np.array(known, dtype=bool),
            native=tuple(native),
            released=tuple(released),
            native_costed=costed,
            native_code=np.array([WEIGHT_FORMATS.index(fmt) for fmt in costed], dtype=np.intp),
            native_assumed=np.array([fmt is None for fmt in native], dtype=bool),
        )


def native_format(
    formats: tuple[WeightFormat, ...] | None, bytes_per_parameter: dict[WeightFormat, float]
) -> WeightFormat | None:
    """The most compact of the formats a developer releases (ties: the catalogue's format order)."""
    if not formats:
        return None
    return min(formats, key=lambda f: (bytes_per_parameter[f], WEIGHT_FORMATS.index(f)))


class FitPlan:
    """Every model's fit for one request, as arrays aligned with the catalogue order (read-only by convention).

    The decode-speed figures (:attr:`decode_tps_per_request`, :attr:`decode_tps_total`, :attr:`compute_bound`,
    :attr:`gpus_for_throughput`) and :attr:`kv_bytes_per_token` are computed when first read, unless a speed the
    request asks for needs them for :attr:`gpus_needed`: a decision reads only memory and GPUs, its explanations
    the rest (the same figures whenever computed).
    """

    __slots__ = (
        "_basis",
        "_formatted",
        "_kv_all",
        "_kv_request",
        "_precision",
        "_speed",
        "bytes_per_parameter",
        "gpu",
        "gpu_memory_gb",
        "gpus_for_memory",
        "gpus_needed",
        "known",
        "kv_cache_gb",
        "kv_estimated",
        "memory_gb",
        "overhead_gb",
        "policy",
        "precision",
        "precision_assumed",
        "usable_gb_per_gpu",
        "weights_gb",
        "workload",
    )

    precision: tuple[str, ...]  # the format costed per model (native resolved)
    precision_assumed: BoolArray  # native asked but released formats not recorded: bf16 assumed
    bytes_per_parameter: FloatArray
    weights_gb: FloatArray
    kv_cache_gb: FloatArray
    kv_estimated: BoolArray  # the conservative per-token figure was used
    overhead_gb: FloatArray
    memory_gb: FloatArray
    gpus_for_memory: FloatArray
    gpus_needed: FloatArray
    known: BoolArray  # parameter count recorded
    gpu: Gpu | None
    gpu_memory_gb: float
    usable_gb_per_gpu: float
    workload: ResolvedWorkload
    policy: HardwarePolicy
    _basis: FitBasis
    _formatted: _Formatted
    _precision: RequestPrecision
    _kv_all: FloatArray  # every concurrent request's cache, in bytes
    _kv_request: FloatArray  # one request's cache, in bytes
    _speed: _Decode | None  # computed when first read (see :meth:`_decode`)

    @property
    def kv_bytes_per_token(self) -> FloatArray:
        """Cache bytes per token, averaged over the request's tokens."""
        per_token: FloatArray = self._kv_request / self.workload.tokens_per_request
        return per_token

    @property
    def gpus_for_throughput(self) -> FloatArray:
        """GPUs the asked speed needs; NaN when no speed was asked or the GPU's bandwidth is unknown."""
        return self._decode()[3]

    @property
    def decode_tps_per_request(self) -> FloatArray:
        """Decode tokens per second per request; NaN when the GPU's bandwidth is unknown."""
        return self._decode()[0]

    @property
    def decode_tps_total(self) -> FloatArray:
        """Decode tokens per second over every concurrent request."""
        return self._decode()[1]

    @property
    def compute_bound(self) -> BoolArray:
        """The compute ceiling, not bandwidth, limits the aggregate speed."""
        return self._decode()[2]

    def _decode(self) -> _Decode:
        speed: _Decode | None = self._speed
        if speed is None:
            speed = self._speed = _decode(
                self._basis,
                self._formatted,
                self._precision,
                self.gpu,
                self._kv_all,
                self.gpus_for_memory,
                self.workload,
                self.policy,
            )
        return speed


#: A plan's decode figures: per request, total, compute bound, GPUs for the asked speed.
_Decode = tuple[FloatArray, FloatArray, BoolArray, FloatArray]


@dataclass(frozen=True)
class _Formatted:
    """What a fit needs of one weight format asked, whatever the rest of the request."""

    labels: tuple[str, ...]
    code: IntArray
    assumed: BoolArray
    bpp: FloatArray
    weights: FloatArray  # GB of weights
    active_bytes: FloatArray  # bytes of the active weights read per decode step


class FitBasis:
    """The request-independent part of every model's fit (formats, weights, active bytes, computed once per
    weight format asked and kept: a few formats), and the speed arrays of a plan that states no speed (NaN, shared
    by every such plan); arrays read-only. Pass it to :func:`plan_fit`."""

    def __init__(
        self, arch: ModelArchitecture, total_b: FloatArray, active_b: FloatArray, policy: HardwarePolicy
    ) -> None:
        self.arch, self.total_b, self.policy = arch, total_b, policy
        self.known: BoolArray = ~np.isnan(total_b)
        self.active: FloatArray = np.where(np.isnan(active_b), total_b, active_b)
        self.known.setflags(write=False)
        self.active.setflags(write=False)
        #: Whether every model's cache shape is recorded (then no model needs the fallback per-token figure).
        self.all_kv_known = bool(arch.known.all())
        self.kv_estimated: BoolArray = ~arch.known
        #: The sliding-window layers' cache elements of a request of at least :attr:`widest_window` tokens: each
        #: such layer then holds its whole window (the product the fit computes for fewer tokens, computed once).
        self.sliding_whole: FloatArray = arch.sliding_elements * arch.window
        self.sliding_whole.setflags(write=False)
        self.widest_window = float(np.max(arch.window, initial=0.0, where=~np.isnan(arch.window)))
        # What a plan without a GPU profile states of speed: nothing (shared by every such plan; read-only).
        self.no_speed: FloatArray = np.full(total_b.size, np.nan)
        self.not_compute_bound: BoolArray = np.zeros(total_b.size, dtype=bool)
        #: FLOPs per decode step and request over 1e9 (two per active parameter): the compute ceiling's divisor.
        self.step_flops: FloatArray = 2 * self.active * 1e9
        for array in (self.kv_estimated, self.no_speed, self.not_compute_bound, self.step_flops):
            array.setflags(write=False)
        self._formats: dict[str, _Formatted] = {}
        #: Per GPU profile (by identity, the profile held in the entry) and precision: each model's dense FLOP/s.
        self._flops: Kept[tuple[int, str], tuple[Gpu, FloatArray]] = Kept("hardware.dense_flops", 64)

    def formatted(self, precision: RequestPrecision) -> _Formatted:
        found = self._formats.get(precision)
        if found is None:
            found = self._formats[precision] = _formatted(self.arch, self.total_b, self.active, precision, self.policy)
        return found

    def dense_flops(self, gpu: Gpu, precision: RequestPrecision) -> FloatArray:
        """Each model's dense FLOP/s on ``gpu`` at ``precision`` (:func:`_dense_flops`), kept per GPU profile and
        precision asked (read-only)."""
        key = (id(gpu), precision)
        found = self._flops.get(key)
        if found is None or found[0] is not gpu:
            flops = _dense_flops(gpu, self.formatted(precision).code)
            flops.setflags(write=False)
            found = self._flops.put(key, (gpu, flops))
        return found[1]


def _formatted(
    arch: ModelArchitecture,
    total_b: FloatArray,
    active: FloatArray,
    precision: RequestPrecision,
    policy: HardwarePolicy,
) -> _Formatted:
    n = total_b.size
    # Per-format figures looked up once, then per model by the format's index (no per-model loop).
    per_format = np.array([policy.bytes_per_parameter[f] for f in WEIGHT_FORMATS])
    labels: tuple[str, ...]
    if precision == "native":
        labels = arch.native_costed
        code = arch.native_code
        assumed = arch.native_assumed
    else:
        labels = (precision,) * n
        code = np.full(n, WEIGHT_FORMATS.index(precision), dtype=np.intp)
        assumed = np.zeros(n, dtype=bool)
    bpp = per_format[code]
    formatted = _Formatted(labels, code, assumed, bpp, total_b * bpp, active * bpp * 1e9)
    for array in (formatted.code, formatted.assumed, formatted.bpp, formatted.weights, formatted.active_bytes):
        array.setflags(write=False)
    return formatted


def plan_fit(
    models: tuple[Model, ...],
    arch: ModelArchitecture,
    total_b: FloatArray,
    active_b: FloatArray,
    *,
    precision: RequestPrecision,
    fine_tuning: str,
    gpu: Gpu | None,
    gpu_memory_gb: float,
    workload: ResolvedWorkload,
    policy: HardwarePolicy,
    basis: FitBasis | None = None,
) -> FitPlan:
    """Memory, GPUs needed and the decode bound for every model under one request (``basis``: the same
    models' :class:`FitBasis`, when kept)."""
    if basis is None:
        basis = FitBasis(arch, total_b, active_b, policy)
    formatted = basis.formatted(precision)
    labels, assumed, bpp = formatted.labels, formatted.assumed, formatted.bpp
    known = basis.known
    weights = formatted.weights

    tokens = workload.tokens_per_request
    # min(window, tokens) is every window when the request holds at least the widest (NaN windows stay NaN).
    sliding = (
        basis.sliding_whole
        if tokens >= basis.widest_window
        else arch.sliding_elements * np.minimum(arch.window, tokens)
    )
    elements = arch.full_elements * tokens + sliding
    kv_request = (
        elements * policy.kv_cache_bytes_per_element
        if basis.all_kv_known
        else np.where(
            arch.known, elements * policy.kv_cache_bytes_per_element, policy.fallback_kv_bytes_per_token * tokens
        )
    )
    # Every concurrent request's cache, in bytes (one request's when one: the same figures).
    kv_all = kv_request if workload.concurrent_requests == 1 else workload.concurrent_requests * kv_request
    kv_gb = kv_all / 1e9
    if fine_tuning == "full":
        base = total_b * policy.full_fine_tuning_bytes_per_parameter
    elif fine_tuning == "lora":
        base = weights * (1 + policy.lora_overhead_fraction)
    else:
        base = weights
    needed = base + kv_gb
    overhead = policy.runtime_overhead_fraction * needed
    memory = needed + overhead
    usable = gpu_memory_gb * policy.usable_memory_fraction
    gpus_memory = np.maximum(1.0, np.ceil(memory / usable))

    speed: _Decode | None = None
    if gpu is not None and workload.output_tokens_per_second is not None:
        speed = _decode(basis, formatted, precision, gpu, kv_all, gpus_memory, workload, policy)
    gpus_speed = basis.no_speed if speed is None else speed[3]
    if gpus_speed is basis.no_speed:  # no speed asked (or no GPU profile): memory alone decides
        gpus = gpus_memory
    else:
        gpus = np.where(np.isnan(gpus_speed), gpus_memory, np.fmax(gpus_memory, gpus_speed))
    plan = FitPlan.__new__(FitPlan)  # every field set here (a call with twenty keywords costs more than the fit)
    plan._basis, plan._formatted, plan._precision, plan._speed = basis, formatted, precision, speed
    plan._kv_all, plan._kv_request = kv_all, kv_request
    plan.precision, plan.precision_assumed, plan.bytes_per_parameter, plan.weights_gb = labels, assumed, bpp, weights
    plan.kv_cache_gb, plan.kv_estimated, plan.overhead_gb, plan.memory_gb = kv_gb, basis.kv_estimated, overhead, memory
    plan.gpus_for_memory, plan.gpus_needed, plan.known, plan.gpu = gpus_memory, gpus, known, gpu
    plan.gpu_memory_gb, plan.usable_gb_per_gpu, plan.workload, plan.policy = gpu_memory_gb, usable, workload, policy
    return plan


def _decode(
    basis: FitBasis,
    formatted: _Formatted,
    precision: RequestPrecision,
    gpu: Gpu | None,
    kv_all: FloatArray,
    gpus_memory: FloatArray,
    workload: ResolvedWorkload,
    policy: HardwarePolicy,
) -> _Decode:
    """The decode bound (per request, total, compute bound) and the GPUs the asked speed needs: per step, the
    active weights and every request's cache are read once. NaN without a GPU profile."""
    active = basis.active
    n_tps = total_tps = gpus_speed = basis.no_speed  # NaN: no GPU profile, no speed (replaced below)
    compute_bound = basis.not_compute_bound
    if gpu is not None:
        bytes_per_step = formatted.active_bytes + kv_all
        bandwidth = gpu.memory_bandwidth_gb_s.value * 1e9 * policy.decode_efficiency
        flops = basis.dense_flops(gpu, precision)
        per_request = (
            decode_tokens_per_second(gpu.memory_bandwidth_gb_s.value, 1, policy.decode_efficiency, 1.0, 0.0)
            * gpus_memory
            / bytes_per_step
        )
        aggregate = per_request * workload.concurrent_requests
        ceiling = gpus_memory * flops * policy.decode_efficiency / basis.step_flops
        compute_bound = ceiling < aggregate  # false where the ceiling is unknown (NaN)
        aggregate = np.where(compute_bound, ceiling, aggregate)
        n_tps = aggregate / workload.concurrent_requests
        total_tps = aggregate
        wanted = workload.output_tokens_per_second
        if wanted is not None:
            need_bw = np.ceil(wanted * bytes_per_step / bandwidth)
            need_flops = np.ceil(
                workload.concurrent_requests * wanted * 2 * active * 1e9 / (flops * policy.decode_efficiency)
            )
            gpus_speed = np.fmax(need_bw, need_flops)
    return n_tps, total_tps, compute_bound, gpus_speed


def decode_tokens_per_second(
    bandwidth_gb_s: float, gpus: int, efficiency: float, weight_bytes: float, cache_bytes: float
) -> float:
    """Bandwidth bound on one request's decode speed: each token reads the active weights and the cache once."""
    return gpus * bandwidth_gb_s * 1e9 * efficiency / (weight_bytes + cache_bytes)


def _dense_flops(gpu: Gpu, code: IntArray) -> FloatArray:
    """Dense FLOP/s per model's format (``code``: index in WEIGHT_FORMATS): FP8 throughput for fp8 weights on a
    GPU that runs FP8, else BF16."""
    bf16 = gpu.dense_bf16_tflops.value * 1e12 if gpu.dense_bf16_tflops else math.nan
    fp8 = gpu.dense_fp8_tflops.value * 1e12 if gpu.dense_fp8_tflops else bf16
    flops: FloatArray = np.where(code == WEIGHT_FORMATS.index("fp8"), fp8, bf16)
    return flops
