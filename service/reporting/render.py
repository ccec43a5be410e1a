"""Render a stored answer as a procurement report (Markdown or self-contained, printable HTML).

The report is built from the :class:`~service.domain.answer.Answer` alone (plus what the record envelope
says about when it was stored and whether it is superseded), so the same record always renders the same
document: nothing in it depends on the clock or on today's catalogue.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from service.domain.answer import Answer, Assessment
from service.domain.requirements import Requirements

__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "CitedSource",
    "Format",
    "RecordInfo",
    "cited_sources",
    "describe_requirements",
    "render",
]

Format = Literal["md", "html"]
FORMATS: tuple[Format, ...] = ("md", "html")
#: Media types of the formats (served as UTF-8).
MEDIA_TYPES: dict[Format, str] = {"md": "text/markdown", "html": "text/html"}

#: One colour per criterion in the chart; chosen to stay distinguishable when printed in greyscale too.
PALETTE = ("#1f4e79", "#2e8b57", "#c9a227", "#8b3a3a", "#6a5acd", "#3a8fb7", "#b5651d", "#708090", "#9acd32")
CHART_LETTERS = "#=+*~o:x%"


@dataclass(frozen=True)
class RecordInfo:
    """What the decision record adds to the answer: when it was stored and how it relates to today's data."""

    stored_at: dt.datetime | None = None
    superseded: bool = False
    current_catalogue_version: str | None = None
    current_rules_version: str | None = None
    rerun_of: str | None = None


@dataclass(frozen=True)
class CitedSource:
    """A source the answer cites, with the date it was read or true, and the facts it backs."""

    source: str
    as_of: str
    facts: tuple[str, ...]

    @property
    def is_url(self) -> bool:
        """True when the source is a plain http(s) URL that can be linked."""
        return bool(re.fullmatch(r"https?://[^\s<>\"]+", self.source))


def _walk(node: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(node, Mapping):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def cited_sources(answer: Answer) -> list[CitedSource]:
    """Every (source, date) pair anywhere in the answer, sorted, with the names of the facts citing it.

    The walk is generic (any object with ``source`` and ``as_of``), so evidence added to answers later is
    cited without changing this function.
    """
    found: dict[tuple[str, str], set[str]] = {}
    for node in _walk(answer.model_dump(mode="json")):
        source, as_of = node.get("source"), node.get("as_of")
        if isinstance(source, str) and source and isinstance(as_of, str):
            label = node.get("fact") or node.get("licence_id") or node.get("kind") or ""
            found.setdefault((source, as_of), set()).add(str(label))
    return [
        CitedSource(source, as_of, tuple(sorted(f for f in facts if f)))
        for (source, as_of), facts in sorted(found.items())
    ]


# --------------------------------------------------------------------------------------- plain words
_DEPLOYMENT = {
    "self_hosted": "self-hosted on the organisation's own hardware",
    "private_cloud": "in a private cloud (weights on rented hardware)",
    "api": "through a hosted API",
}
_FINE_TUNING = {"none": "no fine-tuning", "lora": "fine-tuning with LoRA adapters", "full": "full fine-tuning"}


def _words(items: list[Any]) -> str:
    return ", ".join(str(i).replace("_", " ") for i in items)


def describe_requirements(requirements: Requirements, profile: str | None = None) -> list[str]:
    """The requirements as sentences a reviewer can read, one per constraint the request sets.

    ``profile`` is the weight profile the answer used (the request may leave it to the default).
    """
    data = requirements.model_dump(mode="json")
    default = Requirements().model_dump(mode="json")
    said: set[str] = set()
    lines: list[str] = []

    def get(path: str) -> Any:
        said.add(path)
        node: Any = data
        for part in path.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        return node

    cases = get("use_cases")
    lines.append(
        f"Use cases: {_words(cases)}."
        if cases
        else "Use cases: none given, so capability is judged on the criterion's default use cases."
    )
    commercial = get("ip.commercial_use")
    if commercial is not None:
        lines.append(
            "The model will be used commercially." if commercial else "The model will not be used commercially."
        )
    if (kinds := get("ip.licence_kinds")) is not None:
        lines.append(f"Acceptable licence kinds: {_words(kinds)}.")
    if (allowed := get("ip.allowed_licences")) is not None:
        lines.append(f"Acceptable licences: {', '.join(allowed)}.")
    if (mau := get("ip.monthly_active_users")) is not None:
        lines.append(f"Expected scale: {mau:,} monthly active users, checked against licence user caps.")
    training = get("ip.train_on_outputs")
    if training is not None:
        lines.append(
            "Its outputs will be used to train other models."
            if training
            else "Its outputs will not be used to train other models."
        )
    if (deployment := get("privacy.deployment")) is not None:
        lines.append(f"Deployment: {_DEPLOYMENT.get(deployment, deployment)}.")
    if countries := get("privacy.excluded_origin_countries"):
        lines.append(f"Models from developers in these countries are excluded: {', '.join(countries)}.")
    if get("privacy.require_open_training_data"):
        lines.append("Only models whose training data is openly published are acceptable.")
    tuning = get("customisation.fine_tuning")
    lines.append(f"Customisation: {_FINE_TUNING.get(tuning, tuning)}.")
    size, count, precision = get("hardware.gpu_memory_gb"), get("hardware.gpu_count"), get("hardware.precision")
    gpu = get("hardware.gpu")
    gpus = f"{count} GPU(s)" if count is not None else "an unstated number of GPUs"
    if gpu is not None:
        memory = f" ({gpu})"
    elif size is not None:
        memory = f" of {size:g} GB each"
    else:
        memory = " (no GPU size given: the reference size is assumed)"
    weights = "the format each model is released in" if precision == "native" else precision
    lines.append(f"Hardware: {gpus}{memory}; weights at {weights}.")
    concurrent, tokens = get("workload.concurrent_requests"), get("workload.tokens_per_request")
    speed = get("workload.output_tokens_per_second")
    held = f"{tokens:,} tokens each" if tokens is not None else "the default context length"
    lines.append(
        f"Workload: {concurrent:,} concurrent request(s), {held}"
        + (f", at {speed:g} output tokens per second each." if speed is not None else ".")
    )
    if (context := get("min_context_tokens")) is not None:
        lines.append(f"Context window of at least {context:,} tokens.")
    reasoning = get("reasoning")
    if reasoning == "required":
        lines.append("A reasoning (thinking) mode is required.")
    elif reasoning == "preferred":
        lines.append("A reasoning (thinking) mode is preferred and weighted in the score.")
    weights = get("weights")
    if weights is not None:
        lines.append("Custom weights: " + ", ".join(f"{k.replace('_', ' ')} {v:g}" for k, v in weights.items()) + ".")
    else:
        chosen = get("profile")
        lines.append(
            f"Weights: the {chosen} profile."
            if chosen
            else f"Weights: the default profile{f' ({profile})' if profile else ''}."
        )
    lines.append(f"Shortlist length: {get('limit')}.")
    if explain := get("explain"):
        lines.append(f"Also explained on request: {', '.join(explain)}.")
    for flag, sentence in (
        ("compliance.eu_ai_act", "The deployer is subject to the EU AI Act."),
        ("compliance.exclude_export_restricted", "Models whose developer is on an export-control list are excluded."),
        (
            "compliance.exclude_provenance_disputes",
            "Models whose developer faces a provenance allegation are excluded.",
        ),
    ):
        if get(flag) is True:
            lines.append(sentence)
    if jurisdictions := get("compliance.public_sector_jurisdictions"):
        lines.append(f"The deployer is a public body in: {', '.join(jurisdictions)}; their restrictions apply.")
    # Anything the request sets that has no sentence above is still stated, so no constraint goes unreported.
    for path, value in _leaves(data):
        if path not in said and value != _at(default, path):
            lines.append(f"{path.replace('_', ' ')}: {value}.")
    return lines


def _leaves(node: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value and path != "weights":
            yield from _leaves(value, path + ".")
        else:
            yield path, value


def _at(node: Any, path: str) -> Any:
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


# ------------------------------------------------------------------------------------------ the chart
@dataclass(frozen=True)
class _Segment:
    criterion: str
    contribution: float
    x: float
    width: float
    colour: str
    letter: str


@dataclass(frozen=True)
class _Bar:
    model_id: str
    name: str
    rank: int | None
    score: float
    segments: tuple[_Segment, ...]
    text: str


def _chart(models: list[Assessment], criteria: list[str], width: float = 420.0, cells: int = 40) -> list[_Bar]:
    colour = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(criteria)}
    letter = {c: CHART_LETTERS[i % len(CHART_LETTERS)] for i, c in enumerate(criteria)}
    bars = []
    for model in models:
        x = 0.0
        segments = []
        text = ""
        for score in model.criteria:
            w = max(score.contribution, 0.0) * width
            segments.append(
                _Segment(score.criterion, score.contribution, x, w, colour[score.criterion], letter[score.criterion])
            )
            x += w
            text += letter[score.criterion] * round(score.contribution * cells)
        bars.append(_Bar(model.model_id, model.name, model.rank, model.score or 0.0, tuple(segments), text))
    return bars


# ------------------------------------------------------------------------------------------ filters
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def _md(value: Any) -> str:
    """Markdown-safe inline text: special characters escaped, line breaks folded (safe in table cells)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(value).split()))


def _source(value: Any) -> str:
    """A source in Markdown: an autolink for a plain URL (kept verbatim), escaped text for a citation."""
    text = str(value)
    if re.fullmatch(r"https?://[^\s<>\"]+", text):
        return f"<{text}>"
    return _md(text)


def _code(value: Any) -> str:
    """An inline code span that survives any backticks in the value."""
    text = str(value)
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}" if fence == "`" else f"{fence} {text} {fence}"


def _num(value: Any, places: int = 3) -> str:
    if value is None:
        return "n/a"
    return f"{float(value):.{places}f}"


def _pct(value: Any) -> str:
    return f"{float(value) * 100:.1f}%"


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("service.reporting", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=_md, code=_code, num=_num, pct=_pct, source=_source)
    return env


def render(answer: Answer, fmt: Format, record: RecordInfo | None = None) -> str:
    """The report on ``answer`` as Markdown (``md``) or self-contained, printable HTML (``html``)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")
    criteria = list(answer.weights)
    chart = _chart(answer.recommendations, criteria)
    legend = [
        {"criterion": c, "colour": PALETTE[i % len(PALETTE)], "letter": CHART_LETTERS[i % len(CHART_LETTERS)]}
        for i, c in enumerate(criteria)
        if answer.weights[c]
    ]
    template = _environment().get_template(f"report.{fmt}.j2")
    return template.render(
        answer=answer,
        record=record or RecordInfo(),
        requirements=describe_requirements(answer.requirements, answer.profile),
        sources=cited_sources(answer),
        chart=chart,
        legend=legend,
        chart_width=420,
    )
