"""The ``full`` and ``summary`` details written straight to JSON bytes, without building their objects.

:meth:`Decision.full_bytes <service.domain.engine.Decision.full_bytes>` gives the same bytes as serialising
:meth:`Decision.full <service.domain.engine.Decision.full>` (:func:`~service.domain.citing.dump_full_bytes`):
each part of an answer is written by pydantic-core from the same values, through a serialiser made from the
answer model's own field types (so a number, a date or a string is written exactly as the model writes it),
and the parts are joined in the model's field order.

Parts that read nothing of a request are written once and kept as bytes: a model's EU AI Act status, a
criterion's explanation with its estimates and evidence ids, a rule outcome the engine keeps. Each is kept by
the object it is written from (the entry holds that object, so an ``id()`` found is the object's own) together
with the evidence ids it names, and is used only when the answer's evidence table gives those same ids (a fact
takes its whole digest as id when another fact of the answer holds its short one). A model's caveats, which cite
no evidence id, are kept per engine by the model and what they read of a request, each caveat's JSON once
however many models hold it. The stores are bounded (:class:`~service.domain.kept.Kept`).

:meth:`Decision.summary_bytes <service.domain.engine.Decision.summary_bytes>` gives the same bytes as serialising
:meth:`Decision.summary <service.domain.engine.Decision.summary>` with ``exclude_none`` (as the API sends it), the
same way: each returned model is written from the parts of its brief (its leading criteria's figures and its
licence's kinds of duty kept as JSON), each listed fact from its kept JSON, and the answer's other fields from
their values (the fields before the models, the counts by rule, the duties by licence and the trade-offs' figures
each by a serialiser of the summary's own field types), joined in the summary's field order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar, cast

from pydantic import TypeAdapter
from pydantic_core import SchemaSerializer
from typing_extensions import TypedDict

from service.domain.answer import (
    DISCLAIMER,
    Caveat,
    CitedAssessment,
    CitedCriterionScore,
    CitedEuAiActStatus,
    CitedExclusion,
    CitedFit,
    CitedObligation,
    CitedRuleOutcome,
    FullAnswer,
    RuleCount,
    RuleOutcome,
)
from service.domain.citing import EvidenceTable, _item_json
from service.domain.facts import Evidence
from service.domain.kept import Kept
from service.domain.regulatory import EuAiActStatus
from service.domain.summary import (
    AnswerSummary,
    FitSummary,
    ModelSummary,
    ObligationSummary,
    TradeoffSummary,
    criterion_figures,
)

__all__ = [
    "ASSESSMENT_HEAD",
    "CAVEATS",
    "CITED_FIT",
    "OBLIGATIONS",
    "REASONS",
    "assessment_json",
    "caveat_texts",
    "criterion_json",
    "eu_json",
    "exclusion_json",
    "exclusion_summary_json",
    "full_json",
    "group_ids",
    "joined_caveats",
    "kinds_json",
    "model_summary_json",
    "outcome_json",
    "summary_criterion_json",
    "summary_json",
    "text_json",
]


_T = TypeVar("_T")


def _shape(cls: type[Any], names: Sequence[str] | None = None, **types: Any) -> Any:
    """A TypedDict of ``cls``'s fields ``names`` (default: all), each of the field's type or of the one ``types``
    gives it (a dict's shape for a model field, say)."""
    fields = cls.model_fields
    shape = {name: types.get(name, fields[name].annotation) for name in names or fields}
    return cast(Any, TypedDict)(f"{cls.__name__}Part", shape)


def _fields(cls: type[Any], names: Sequence[str] | None = None, **types: Any) -> SchemaSerializer:
    """A serialiser of a dict holding ``cls``'s fields ``names`` (default: all), each written as ``cls`` writes
    it (or as the type ``types`` gives it); the dict's own order is kept and keys that are not among ``names`` are
    left out."""
    return TypeAdapter(_shape(cls, names, **types)).serializer


#: An assessment's fields before its reasons.
ASSESSMENT_HEAD = _fields(CitedAssessment, ("model_id", "name", "status", "rank", "score", "licence"))
REASONS = TypeAdapter(list[str]).serializer
CAVEATS = TypeAdapter(list[Caveat]).serializer
OBLIGATIONS = TypeAdapter(list[CitedObligation]).serializer
CITED_FIT = _fields(CitedFit)
_CRITERION_HEAD = _fields(
    CitedCriterionScore, ("criterion", "rule_version", "value", "weight", "contribution", "missing_data", "uncertainty")
)
_CRITERION_TAIL = _fields(CitedCriterionScore, ("explanation", "estimates", "evidence"))
_OUTCOME = _fields(CitedRuleOutcome)
_EU = _fields(CitedEuAiActStatus)
_MODEL_ID = _fields(CitedExclusion, ("model_id",))


#: Kept rule outcomes as cited, by the outcome: (outcome, evidence ids, bytes).
_OUTCOMES: Kept[int, tuple[RuleOutcome, tuple[str, ...], bytes]] = Kept("full.outcomes")
#: Kept explanations as a criterion's cited tail, by the explanation and whether its data is missing.
_TAILS: Kept[tuple[int, bool], tuple[object, tuple[str, ...], bytes]] = Kept("full.criterion_tails")
#: EU AI Act statuses as cited, by the status (one per model).
_EU_STATUSES: Kept[int, tuple[EuAiActStatus, tuple[str, ...], bytes]] = Kept("full.eu_ai_act")
#: Each caveat's JSON, kept once however many models' caveats hold it (most are the same for many models: a
#: regulatory review falling due, a licence's unverified terms).
_CAVEAT_TEXTS: Kept[bytes, bytes] = Kept("full.caveat_texts")
_CAVEAT = Caveat.__pydantic_serializer__


def caveat_texts(caveats: Sequence[Caveat]) -> tuple[bytes, ...]:
    """Each of ``caveats`` as JSON, the same text shared by every list that holds it."""
    texts = []
    for c in caveats:
        text: bytes = _CAVEAT.to_json(c)
        texts.append(_CAVEAT_TEXTS.get(text) or _CAVEAT_TEXTS.put(text, text))
    return tuple(texts)


def joined_caveats(texts: tuple[bytes, ...]) -> bytes:
    """A list of caveats written from each one's JSON (:func:`caveat_texts`)."""
    return b"[" + b",".join(texts) + b"]"


def group_ids(group: Sequence[Evidence], table: EvidenceTable, kept: bool) -> tuple[str, ...]:
    """The ids of ``group``'s facts in ``table``, each once, in order (``kept``: a list the engine keeps)."""
    return table.cite_group(group, len(group), kept) if group else ()


def outcome_json(r: RuleOutcome, table: EvidenceTable, kept: bool, keep: bool) -> bytes:
    """``r`` as a cited rule outcome, its evidence cited in ``table`` (``kept``: its evidence is a list the engine
    keeps; ``keep``: so is ``r`` itself, whose bytes are then kept)."""
    return _cited_json(r, group_ids(r.evidence, table, kept), _OUTCOME, _OUTCOMES if keep else None)


def _cited_json(
    item: _T,
    ids: tuple[str, ...],
    serializer: SchemaSerializer,
    store: Kept[int, tuple[_T, tuple[str, ...], bytes]] | None,
) -> bytes:
    """``item``'s fields with its evidence cited as ``ids``, written by ``serializer``; kept in ``store`` (when
    given) by the item, and reused only for the same ids."""
    if store is not None:
        found = store.get(id(item))
        if found is not None and found[0] is item and found[1] == ids:
            return found[2]
    fields = dict(item.__dict__)
    fields["evidence"] = list(ids)
    data: bytes = serializer.to_json(fields)
    if store is not None:
        store.put(id(item), (item, ids, data))
    return data


def criterion_json(fields: dict[str, Any], evidence: Sequence[Evidence], table: EvidenceTable, owner: object) -> bytes:
    """A cited criterion score from its fields (but evidence) and its evidence, cited in ``table``. ``owner``: the
    kept explanation the explanation text, estimates and evidence are read from (their bytes are then kept), or
    None."""
    ids = group_ids(evidence, table, owner is not None)
    head: bytes = _CRITERION_HEAD.to_json(fields)
    if owner is not None:
        key = (id(owner), fields["missing_data"])
        found = _TAILS.get(key)
        if found is not None and found[0] is owner and found[1] == ids:
            return head[:-1] + found[2]
    tail: bytes = _CRITERION_TAIL.to_json(
        {"explanation": fields["explanation"], "estimates": fields["estimates"], "evidence": list(ids)}
    )
    tail = b"," + tail[1:]
    if owner is not None:
        _TAILS.put(key, (owner, ids, tail))
    return head[:-1] + tail


def eu_json(status: EuAiActStatus | None, table: EvidenceTable) -> bytes:
    """A model's EU AI Act status (kept by the engine) as cited, its evidence cited in ``table``."""
    if status is None:
        return b"null"
    return _cited_json(status, group_ids(status.evidence, table, True), _EU, _EU_STATUSES)


def assessment_json(
    head: dict[str, Any],
    reasons: bytes,
    criteria: list[bytes],
    rules: list[bytes],
    obligations: bytes,
    fit: bytes,
    caveats: bytes,
    eu_ai_act: bytes,
) -> bytes:
    """A cited assessment from its fields before its reasons (``head``) and its parts, each written."""
    return b"".join(
        (
            ASSESSMENT_HEAD.to_json(head)[:-1],
            b',"reasons":',
            reasons,
            b',"criteria":[',
            b",".join(criteria),
            b'],"rules":[',
            b",".join(rules),
            b'],"obligations":',
            obligations,
            b',"fit":',
            fit,
            b',"caveats":',
            caveats,
            b',"eu_ai_act":',
            eu_ai_act,
            b"}",
        )
    )


def exclusion_json(model_id: str, reasons: list[bytes]) -> bytes:
    """A cited exclusion from its model id and its reasons, each written."""
    return b"".join((_MODEL_ID.to_json({"model_id": model_id})[:-1], b',"reasons":[', b",".join(reasons), b"]}"))


def _spliced(data: bytes, parts: Sequence[tuple[bytes, bytes, bytes, bytes]]) -> bytes:
    """``data``, JSON written with some fields empty, with those fields written in: per part, in the order the
    fields stand, ``(field, empty, next field, value)``, the first ``field`` + ``empty`` + ``next field`` after the
    part before (e.g. ``,"evidence":`` + ``[]`` + ``,"disclaimer":``) has ``empty`` replaced by ``value``. A JSON
    string cannot hold a marker's unescaped quotes, so a marker is found only where its fields are."""
    pieces: list[bytes] = []
    at = 0
    for field, empty, after, value in parts:
        found = data.index(field + empty + after, at) + len(field)
        pieces += (data[at:found], value)
        at = found + len(empty)
    pieces.append(data[at:])
    return b"".join(pieces)


def _listing(items: list[bytes]) -> bytes:
    return b"[" + b",".join(items) + b"]"


def full_json(
    head: FullAnswer, recommendations: list[bytes], excluded: list[bytes], explained: list[bytes], table: EvidenceTable
) -> bytes:
    """The ``full`` answer's bytes: ``head`` (with no recommendations, exclusions, explained models or evidence)
    with those written parts and ``table``'s facts spliced in."""
    return _spliced(
        FullAnswer.__pydantic_serializer__.to_json(head),
        (
            (b',"recommendations":', b"[]", b',"excluded_count":', _listing(recommendations)),
            (b',"excluded":', b"[]", b',"explained":', _listing(excluded)),
            (b',"explained":', b"[]", b',"tradeoffs":', _listing(explained)),
            (b',"evidence":', b"[]", b',"disclaimer":', _listing([_item_json(item) for item in table.items.values()])),
        ),
    )


# ------------------------------------------------------------------------------------------------ summary
#: A summarised model's fields before its criteria, and those after its obligations (the fit's figures as a dict).
_BRIEF_HEAD = _fields(ModelSummary, ("rank", "model_id", "status", "score", "licence", "reasons"))
_BRIEF_TAIL = _fields(ModelSummary, ("fit", "caveats", "eu_ai_act_systemic_risk"), fit=_shape(FitSummary))
_SOURCES = TypeAdapter(dict[str, str]).serializer
#: A summary's fields before its recommended models, and the parts after them that are not written from kept parts.
_SUMMARY_HEAD = _fields(
    AnswerSummary,
    ("id", "detail", "catalogue_version", "rules_version", "evaluated_on", "profile", "weights", "eligible_count"),
)
_RULE_COUNTS = TypeAdapter(list[RuleCount]).serializer
_DUTIES = TypeAdapter(list[ObligationSummary]).serializer
_TRADEOFFS = _fields(TradeoffSummary)
_TEXT = TypeAdapter(str).serializer
_DISCLAIMER = b',"disclaimer":' + _TEXT.to_json(DISCLAIMER) + b"}"
#: A criterion's figures as a summary writes them, by the figures (as :func:`criterion_summary` keys them).
_CRITERIA: Kept[tuple[str, float, float, float, float, bool], bytes] = Kept("summary.criteria_json")


def kinds_json(kinds: list[str]) -> bytes:
    """A list of kinds (of duty, of caveat) as a summary writes it."""
    data: bytes = REASONS.to_json(kinds)
    return data


def summary_criterion_json(
    criterion: str, value: float, weight: float, contribution: float, uncertainty: float, missing: bool
) -> bytes:
    """:func:`criterion_figures` as JSON (written once for the same figures, and kept: bounded; the object is not
    kept, only its JSON is read again)."""
    key = (criterion, value, weight, contribution, uncertainty, missing)
    found = _CRITERIA.get(key)
    if found is None:
        figures = criterion_figures(criterion, value, weight, contribution, uncertainty, missing)
        found = _CRITERIA.put(key, figures.__pydantic_serializer__.to_json(figures, exclude_none=True))
    return found


def model_summary_json(head: dict[str, Any], criteria: list[bytes], obligations: bytes, tail: dict[str, Any]) -> bytes:
    """A summarised model from its fields before its criteria (``head``), its criteria and its obligations' kinds,
    each written, and its fields after them (``tail``, the fit as a dict); nulls are left out."""
    return b"".join(
        (
            _BRIEF_HEAD.to_json(head, exclude_none=True)[:-1],
            b',"criteria":[',
            b",".join(criteria),
            b'],"obligations":',
            obligations,
            b",",
            _BRIEF_TAIL.to_json(tail, exclude_none=True)[1:],
        )
    )


def exclusion_summary_json(model_id: str, reasons: list[bytes]) -> bytes:
    """An excluded model in a summary (:func:`~service.domain.summary.exclusion_summary`) from its id and its
    reasons, each written (:func:`text_json`)."""
    return b"".join((b'{"model_id":', _TEXT.to_json(model_id), b',"reasons":[', b",".join(reasons), b"]}"))


def text_json(text: str) -> bytes:
    """A string as a summary writes it."""
    data: bytes = _TEXT.to_json(text)
    return data


def summary_json(
    head: dict[str, Any],
    recommendations: list[bytes],
    excluded_count: int,
    by_rule: list[RuleCount],
    excluded: list[bytes],
    explained: list[bytes],
    evidence: list[bytes],
    sources: dict[str, str],
    obligations: dict[str, list[ObligationSummary]],
    tradeoffs: dict[str, Any],
) -> bytes:
    """The ``summary`` answer's bytes, as serialising its :class:`AnswerSummary` with ``exclude_none`` writes them,
    written without building it: its fields before the recommended models (``head``: id to eligible count), the
    models, exclusions and listed facts each written, the counts by rule, the duties by licence and the trade-offs'
    figures (``tradeoffs``, a :class:`~service.domain.summary.TradeoffSummary`'s fields) written by the summary's own
    field types, in its field order."""
    duties = [_TEXT.to_json(licence) + b":" + _DUTIES.to_json(obligations[licence]) for licence in sorted(obligations)]
    return b"".join(
        (
            _SUMMARY_HEAD.to_json(head)[:-1],
            b',"recommendations":',
            _listing(recommendations),
            b',"excluded_count":',
            str(excluded_count).encode(),
            b',"excluded_by_rule":',
            _RULE_COUNTS.to_json(by_rule),
            b',"excluded":',
            _listing(excluded),
            b',"explained":',
            _listing(explained),
            b',"evidence":',
            _listing(evidence),
            b',"sources":',
            _SOURCES.to_json(sources),
            b',"licence_obligations":{',
            b",".join(duties),
            b'},"tradeoffs":',
            _TRADEOFFS.to_json(tradeoffs, exclude_none=True),
            _DISCLAIMER,
        )
    )
