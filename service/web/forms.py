"""The requirements form: plain form fields to the API's :class:`Requirements`, and API errors back to fields.

Controls are named by the API's field paths (``ip.monthly_active_users``, ``hardware.gpu``,
``weights.capability``), so an error the API would report for a field (``errors[].field``) lands next to the
control of that name. The form builds the same pydantic ``Requirements`` the API validates, so the page and
``POST /v1/recommendations`` decide the same request the same way.

Form-only conveniences, each stated in the control's hint: numbers may use thousands separators, country
codes may be typed in any case and separated by commas or spaces, model ids may be one per line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pydantic

from service.domain.errors import RequirementError
from service.domain.requirements import Requirements
from service.domain.rules import CRITERIA

__all__ = [
    "LABELS",
    "SLIDER_MAX",
    "FormState",
    "add_requirement_error",
    "form_values",
    "plain_message",
    "requirements_from_form",
    "slider_positions",
]

#: Weights are set on sliders from 0 (ignore) to SLIDER_MAX (weigh most); the engine normalises them.
SLIDER_MAX = 10

#: Every control's label, for the error summary (the template shows the same words next to the control).
LABELS: dict[str, str] = {
    "use_cases": "Use cases",
    "ip.commercial_use": "Commercial use",
    "ip.licence_kinds": "Licence kinds",
    "ip.allowed_licences": "Licences",
    "ip.monthly_active_users": "Expected monthly users",
    "ip.train_on_outputs": "Training on outputs",
    "privacy.deployment": "Deployment",
    "privacy.hosting_countries": "Hosting countries",
    "privacy.excluded_origin_countries": "Excluded origin countries",
    "privacy.require_open_training_data": "Open training data",
    "customisation.fine_tuning": "Fine-tuning",
    "hardware.gpu": "GPU model",
    "hardware.gpu_memory_gb": "Memory per GPU",
    "hardware.gpu_count": "Number of GPUs",
    "hardware.precision": "Precision",
    "workload.concurrent_requests": "Requests at once",
    "workload.tokens_per_request": "Tokens per request",
    "workload.output_tokens_per_second": "Output speed",
    "min_context_tokens": "Minimum context",
    "reasoning": "Reasoning",
    "weighting": "How to weigh the criteria",
    "profile": "Profile",
    "weights": "Weights",
    **{f"weights.{c}": f"Weight of {c.replace('_', ' ')}" for c in CRITERIA},
    "compliance.eu_ai_act": "EU AI Act",
    "compliance.public_sector_jurisdictions": "Public-sector jurisdictions",
    "compliance.exclude_export_restricted": "Export controls",
    "compliance.exclude_provenance_disputes": "Provenance disputes",
    "explain": "Models to explain",
    "limit": "Number of recommendations",
    "(form)": "The form",
}

_INTEGERS = (
    "ip.monthly_active_users",
    "hardware.gpu_count",
    "workload.concurrent_requests",
    "workload.tokens_per_request",
    "min_context_tokens",
    "limit",
)
_NUMBERS = ("hardware.gpu_memory_gb", "workload.output_tokens_per_second")
_FLAGS = (
    "ip.commercial_use",
    "ip.train_on_outputs",
    "privacy.require_open_training_data",
    "compliance.eu_ai_act",
    "compliance.exclude_export_restricted",
    "compliance.exclude_provenance_disputes",
)
_LISTS = ("use_cases", "ip.licence_kinds", "ip.allowed_licences", "privacy.excluded_origin_countries")
_OPTIONAL_LISTS = ("ip.licence_kinds", "ip.allowed_licences")
_CODES = ("privacy.hosting_countries", "compliance.public_sector_jurisdictions")
_CHOICES = ("privacy.deployment", "customisation.fine_tuning", "hardware.gpu", "hardware.precision", "reasoning")
_WHOLE = re.compile(r"^\d{1,3}(,\d{3})+$|^\d+$")
_MAX_TEXT = 5_000


@dataclass
class FormState:
    """What the user typed (every value, as text) and the problem with each control, by control name."""

    values: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, Any]]) -> FormState:
        """From (name, value) pairs, e.g. a form's or a query string's ``multi_items()``."""
        values: dict[str, list[str]] = {}
        for name, value in pairs:
            if isinstance(value, str) and name != "_csrf_token":
                values.setdefault(name, []).append(value[:_MAX_TEXT])
        return cls(values)

    @classmethod
    def from_query(cls, query: Any) -> FormState:
        """From Litestar's query parameters (a multi-dict)."""
        return cls.from_pairs(query.multi_items())

    def value(self, name: str) -> str:
        """The first value of ``name`` as typed, or ``""``."""
        given = self.values.get(name)
        return given[0] if given else ""

    def all(self, name: str) -> list[str]:
        """Every value of ``name`` (checkboxes)."""
        return list(self.values.get(name, []))

    def has(self, name: str, value: str) -> bool:
        """True when ``value`` is among the values of ``name`` (a checked box or chosen radio)."""
        return value in self.values.get(name, [])

    def error(self, name: str) -> str | None:
        """The problem with control ``name``, in words, or None."""
        return self.errors.get(name)


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    *sections, last = path.split(".")
    node = data
    for section in sections:
        node = node.setdefault(section, {})
    node[last] = value


def _whole_number(text: str) -> int:
    cleaned = text.strip().replace(" ", "").replace("_", "").replace("\u202f", "")
    if not _WHOLE.match(cleaned):
        raise ValueError("enter a whole number, such as 2000 (digits only; commas between thousands are fine)")
    return int(cleaned.replace(",", ""))


def _number(text: str) -> float:
    cleaned = text.strip().replace(" ", "").replace("_", "")
    if not re.fullmatch(r"\d+(\.\d+)?", cleaned):
        raise ValueError("enter a number, such as 80 or 80.5 (a point before any decimals)")
    return float(cleaned)


def _codes(text: str) -> list[str]:
    return [part.upper() for part in re.split(r"[\s,;]+", text.strip()) if part]


def _ids(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,]+", text.strip()) if part]


def requirements_from_form(form: FormState, criteria: Iterable[str] = CRITERIA) -> Requirements | None:
    """Build the API's requirements from the form; on failure, fill ``form.errors`` and return None."""
    data: dict[str, Any] = {}
    for name in _INTEGERS + _NUMBERS:
        text = form.value(name).strip()
        if text:
            try:
                _set(data, name, _whole_number(text) if name in _INTEGERS else _number(text))
            except ValueError as exc:
                form.errors[name] = str(exc)
    for name in _FLAGS:
        if form.has(name, "yes"):
            _set(data, name, True)
    for name in _LISTS:
        chosen = form.all(name)
        if chosen or name not in _OPTIONAL_LISTS:
            _set(data, name, chosen)
    for name in _CODES:
        if form.value(name).strip():
            _set(data, name, _codes(form.value(name)))
    for name in _CHOICES:
        if form.value(name):
            _set(data, name, form.value(name))
    if form.value("explain").strip():
        data["explain"] = _ids(form.value("explain"))
    if form.value("weighting") == "custom":
        weights: dict[str, int] = {}
        for criterion in criteria:
            text = form.value(f"weights.{criterion}").strip() or "0"
            try:
                weights[criterion] = _whole_number(text)
            except ValueError as exc:
                form.errors[f"weights.{criterion}"] = str(exc)
        data["weights"] = weights
    elif form.value("profile"):
        data["profile"] = form.value("profile")
    # Validate even after a number could not be read (it is left out), so every problem is reported at once.
    try:
        requirements = Requirements.model_validate(data)
    except pydantic.ValidationError as exc:
        for item in exc.errors(include_url=False):
            name = control_name(item["loc"])
            message = plain_message(name, item["type"], str(item["msg"]), item.get("ctx") or {})
            given = item.get("input")
            if item["type"] == "string_pattern_mismatch" and isinstance(given, str):
                message = f"{given[:40]!r}: {message}"
            form.errors.setdefault(name, message)
        return None
    return None if form.errors else requirements


def add_requirement_error(form: FormState, exc: RequirementError) -> None:
    """Put an error the engine raised (unknown profile, licence, GPU or model id) next to its control."""
    form.errors[control_name(_split_path(exc.field))] = exc.problem


def _split_path(path: str) -> tuple[str | int, ...]:
    parts: list[str | int] = []
    for piece in re.split(r"\.|(?=\[)", path):
        if piece.startswith("[") and piece.endswith("]") and piece[1:-1].isdigit():
            parts.append(int(piece[1:-1]))
        elif piece:
            parts.append(piece)
    return tuple(parts)


def control_name(location: Iterable[int | str]) -> str:
    """The control an error location belongs to: the dotted path up to the first list index."""
    names: list[str] = []
    for part in location:
        if isinstance(part, int) or part == "[key]":
            break
        names.append(part)
    name = ".".join(names)
    while name and name not in LABELS:
        name = name.rpartition(".")[0]
    return name or "(form)"


def plain_message(name: str, kind: str, message: str, ctx: Mapping[str, Any]) -> str:
    """A pydantic error in words a person filling the form understands."""
    if kind == "greater_than_equal":
        return f"enter {ctx.get('ge')} or more"
    if kind == "less_than_equal":
        return f"enter {ctx.get('le')} or less"
    if kind == "greater_than":
        return f"enter a number above {ctx.get('gt')}"
    if kind == "string_pattern_mismatch":
        if name in ("explain", "models"):
            return "write each model id as owner/name, for example deepseek-ai/DeepSeek-V3.2"
        return "use two-letter country codes (ISO 3166), for example DE, FR or US"
    if kind == "too_long":
        return f"choose or write at most {ctx.get('max_length')}"
    if kind in ("literal_error", "enum"):
        return "choose one of the options shown"
    return message.removeprefix("Value error, ")


def form_values(requirements: Requirements, default_profile: str) -> FormState:
    """The form filled in with ``requirements`` (to change a stored decision's request)."""
    r = requirements
    values: dict[str, list[str]] = {"use_cases": list(r.use_cases), "limit": [str(r.limit)]}

    def put(name: str, value: object) -> None:
        if value is None or value is False:
            return
        if value is True:
            values[name] = ["yes"]
        elif isinstance(value, list):
            values[name] = [str(v) for v in value]
        else:
            values[name] = [str(int(value) if isinstance(value, float) and value.is_integer() else value)]

    put("ip.commercial_use", r.ip.commercial_use)
    put("ip.licence_kinds", r.ip.licence_kinds)
    put("ip.allowed_licences", r.ip.allowed_licences)
    put("ip.monthly_active_users", r.ip.monthly_active_users)
    put("ip.train_on_outputs", r.ip.train_on_outputs)
    values["privacy.deployment"] = [r.privacy.deployment or ""]  # "" is the "Not decided" choice
    put("privacy.excluded_origin_countries", r.privacy.excluded_origin_countries)
    if r.privacy.hosting_countries:
        values["privacy.hosting_countries"] = [", ".join(r.privacy.hosting_countries)]
    put("privacy.require_open_training_data", r.privacy.require_open_training_data)
    put("customisation.fine_tuning", r.customisation.fine_tuning)
    put("hardware.gpu", r.hardware.gpu)
    put("hardware.gpu_memory_gb", r.hardware.gpu_memory_gb)
    put("hardware.gpu_count", r.hardware.gpu_count)
    put("hardware.precision", r.hardware.precision)
    put("workload.concurrent_requests", r.workload.concurrent_requests)
    put("workload.tokens_per_request", r.workload.tokens_per_request)
    put("workload.output_tokens_per_second", r.workload.output_tokens_per_second)
    put("min_context_tokens", r.min_context_tokens)
    put("reasoning", r.reasoning)
    put("compliance.eu_ai_act", r.compliance.eu_ai_act)
    if r.compliance.public_sector_jurisdictions:
        values["compliance.public_sector_jurisdictions"] = [", ".join(r.compliance.public_sector_jurisdictions)]
    put("compliance.exclude_export_restricted", r.compliance.exclude_export_restricted)
    put("compliance.exclude_provenance_disputes", r.compliance.exclude_provenance_disputes)
    if r.explain:
        values["explain"] = ["\n".join(r.explain)]
    if r.weights is not None:
        values["weighting"] = ["custom"]
        for criterion, position in slider_positions({str(k): v for k, v in r.weights.items()}).items():
            values[f"weights.{criterion}"] = [str(position)]
    else:
        values["weighting"] = ["profile"]
        values["profile"] = [r.profile or default_profile]
    return FormState(values)


def slider_positions(weights: Mapping[str, float]) -> dict[str, int]:
    """Weights as slider positions 0..SLIDER_MAX in the same proportions (whole numbers up to SLIDER_MAX stay)."""
    top = max(weights.values(), default=0.0)
    if top <= 0:
        return dict.fromkeys(weights, 0)
    exact = all(float(w).is_integer() for w in weights.values()) and top <= SLIDER_MAX
    scale = 1.0 if exact else SLIDER_MAX / top
    return {c: round(w * scale) for c, w in weights.items()}
