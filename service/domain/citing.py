"""Evidence listed once per answer and cited by id: the engine's :class:`Answer` as a :class:`FullAnswer`, and back.

A fact's id is a digest of its content (what, value, source, date, kind, who measured it, note): the same fact
has the same id in every answer and in both details, and a reader resolves each id in the answer's own
``evidence`` list, which holds exactly the facts the answer cites (none missing, none unused), in order of
first citation. A reason sentence names its facts by id (``Evidence: [e…, e…].``) instead of writing each
out. An obligation cites the licence text it is read from (fact ``licence text``, value the licence
id). Caveats keep their own ``fact``, ``source`` and ``as_of``: they are statements about evidence, not
evidence.

:func:`cite` and :func:`resolve` are inverses on what an answer lists: ``resolve(cite(a))`` is ``a`` (with
``exclusions="all"``). Both are deterministic, so the same answer always serialises to the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from service.domain.answer import (
    EXCLUSIONS_LISTED,
    Answer,
    Assessment,
    CitedAssessment,
    CitedCriterionScore,
    CitedEuAiActStatus,
    CitedEvidence,
    CitedExclusion,
    CitedFit,
    CitedObligation,
    CitedRuleOutcome,
    CriterionScore,
    Exclusion,
    Fit,
    FullAnswer,
    Obligation,
    RuleCount,
    RuleOutcome,
    trusted,
    trusted_from,
)
from service.domain.facts import REASON_CITES, Evidence, citation
from service.domain.kept import Kept
from service.domain.regulatory import EuAiActStatus
from service.domain.rules import EligibilityRule

__all__ = [
    "LICENCE_TEXT",
    "CitedGroup",
    "EvidenceTable",
    "Exclusions",
    "ShortIdClashError",
    "assemble",
    "cite",
    "cite_eu",
    "cite_evidence",
    "cite_exclusion",
    "cite_obligation",
    "cite_outcome",
    "cite_reasons",
    "cited_group",
    "count_exclusions",
    "dump_full",
    "dump_full_bytes",
    "encode_full",
    "evidence_id",
    "listed_exclusions",
    "resolve",
]

#: The request's choice of how many excluded models to list (see :data:`EXCLUSIONS_LISTED`).
Exclusions = Literal["by_rule", "all"]
#: The fact an obligation cites: the licence text its duty is read from.
LICENCE_TEXT = "licence text"
_EVIDENCE = " Evidence: "
_CITED_IDS = re.compile(r" Evidence: \[(e[0-9a-f]+(?:, e[0-9a-f]+)*)\]\.$")
#: Hex digits of the content digest in an evidence id (40 bits; a clash within one answer takes the whole digest).
_ID_HEX = 10


def _plain(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _key(e: Evidence) -> str:
    # The JSON form, so that a fact read back from a stored answer (lists for tuples, strings for dates) has
    # the same key, and so the same id, as the engine's own.
    return json.dumps(
        [e.fact, e.value, e.source, e.as_of.isoformat(), e.source_kind, e.measured_by, e.note],
        ensure_ascii=False,
        separators=(",", ":"),
        default=_plain,
    )


def _digest(key: str) -> str:
    return hashlib.blake2b(key.encode(), digest_size=20).hexdigest()


_SCALARS = (str, int, float, bool, type(None))
#: Facts seen lately, as listed (short id), by identity: a fact is digested and built once, not in every answer
#: that cites it. Bounded, so that a large catalogue cannot grow it without limit.
_LISTED: Kept[tuple[object, ...], tuple[str, CitedEvidence]] = Kept("citing.listed")
#: The same by object: most facts an answer cites are objects the engine keeps (a model's evidence), cited in
#: answer after answer, so their identity, digest and listed form are looked up by ``id()`` without reading the
#: fact. Each entry holds its object, so an ``id()`` here is never one of a new object. Bounded likewise.
_SEEN: Kept[int, tuple[Evidence, tuple[object, ...], str, CitedEvidence]] = Kept("citing.seen")


def _identity(e: Evidence) -> tuple[object, ...]:
    # A hashable stand-in for the JSON key, cheaper to build: the value's type keeps 1 and 1.0 (and True) apart,
    # as their JSON does; other values (lists, dates, not-a-number) go by their JSON text.
    v = e.value
    kind = type(v)
    if kind in _SCALARS and (kind is not float or not math.isnan(v)):  # type: ignore[arg-type]
        return (e.fact, kind, v, e.source, e.as_of, e.source_kind, e.measured_by, e.note)
    return (e.fact, "json", json.dumps(v, default=_plain), e.source, e.as_of, e.source_kind, e.measured_by, e.note)


def _item(e: Evidence, evidence_id: str) -> CitedEvidence:
    return trusted(
        CitedEvidence,
        id=evidence_id,
        fact=e.fact,
        value=e.value,
        source=e.source,
        as_of=e.as_of,
        source_kind=e.source_kind,
        measured_by=e.measured_by,
        note=e.note,
    )


def _seen(e: Evidence) -> tuple[Evidence, tuple[object, ...], str, CitedEvidence]:
    """``e`` with its identity, full digest and listed form (short id)."""
    found = _SEEN.get(id(e))
    if found is not None and found[0] is e:
        return found
    identity = _identity(e)
    listed = _LISTED.get(identity)
    if listed is None:
        digest = _digest(_key(e))
        listed = _LISTED.put(identity, (digest, _item(e, "e" + digest[:_ID_HEX])))
    return _SEEN.put(id(e), (e, identity, *listed))


def evidence_id(e: Evidence) -> str:
    """The id of ``e`` in any answer that does not also cite a different fact with the same short digest."""
    return "e" + _digest(_key(e))[:_ID_HEX]


class EvidenceTable:
    """The facts one answer cites, each listed once, in order of first citation."""

    def __init__(self) -> None:
        self._by_identity: dict[tuple[object, ...], str] = {}
        # Facts already cited by this table, by object (held, so that an ``id()`` is never reused meanwhile).
        self._by_object: dict[int, tuple[Evidence, str]] = {}
        self.items: dict[str, CitedEvidence] = {}
        # Facts listed by cite_group under their short id, not yet in _by_identity (which only cite reads).
        self._pending: list[tuple[tuple[object, ...], str, CitedEvidence]] = []

    def cite(self, e: Evidence) -> str:
        """The id of ``e``, listing it on its first citation."""
        hit = self._by_object.get(id(e))
        if hit is not None and hit[0] is e:
            return hit[1]
        if self._pending:
            by_identity = self._by_identity
            for identity, short, _ in self._pending:
                by_identity[identity] = short
            self._pending.clear()
        _, identity, digest, item = _seen(e)
        found = self._by_identity.get(identity)
        if found is None:
            found = item.id
            if found in self.items:  # two different facts share the short digest: the second takes the whole one
                found = "e" + digest
                item = _item(e, found)
            self._by_identity[identity] = found
            self.items[found] = item
        self._by_object[id(e)] = (e, found)
        return found

    def cite_all(self, items: Iterable[Evidence]) -> list[str]:
        """The ids of ``items``, in order, each once."""
        by_object = self._by_object
        ids = []
        for e in items:
            hit = by_object.get(id(e))
            ids.append(hit[1] if hit is not None and hit[0] is e else self.cite(e))
        return list(dict.fromkeys(ids)) if len(ids) > 1 else ids

    def cite_group(self, group: Sequence[Evidence], count: int, kept: bool) -> tuple[str, ...]:
        """The ids of ``group[:count]``, in order, each once: :meth:`cite_all`'s ids, listing the facts likewise.

        ``kept``: ``group`` is a list the engine keeps (never changed), so what its facts are (identities, ids)
        is looked up once for every answer that cites it. Its facts then take their short ids unless this
        table holds a different fact (or the same fact as another object) under one of them, which :meth:`cite`
        then settles.
        """
        facts = _group(group, count) if kept else _Group(group, count)
        return facts.ids if self._listed(facts) else tuple(dict.fromkeys(self.cite(e) for e in group[:count]))

    def cite_refs(self, group: Sequence[Evidence], count: int, kept: bool) -> str:
        """`` [id, ...]``: :meth:`cite_group`'s ids as a summary's reason line ends with them (empty for none), the
        text of a kept group written once."""
        facts = _group(group, count) if kept else _Group(group, count)
        if self._listed(facts):
            return facts.text()
        ids = tuple(dict.fromkeys(self.cite(e) for e in group[:count]))
        return f" [{', '.join(ids)}]" if ids else ""

    def _listed(self, facts: _Group) -> bool:
        """List ``facts`` under their short ids, as far as none is held by another fact; whether all of them are."""
        if facts.clash:
            return False
        items, pending = self.items, self._pending
        for entry in facts.listed:
            _, short, item = entry
            held = items.get(short)
            if held is None:  # no fact holds its short id, so it is not listed (a whole digest takes a held one)
                items[short] = item
                pending.append(entry)
            elif held is not item:  # the same fact listed from another object, or a different fact
                return False
        return True


class ShortIdClashError(Exception):
    """Two different facts cited in one answer share a short id: the second must take its whole digest."""


class _Group:
    """The facts of a group as an answer lists them (identity and listed form, short id) and their short ids in
    order, each once; ``clash`` when two different facts of the group share a short id (then cited one by one)."""

    __slots__ = ("clash", "group", "ids", "listed", "refs")

    def __init__(self, group: Sequence[Evidence], count: int) -> None:
        self.group = group
        listed = []
        owners: dict[str, tuple[object, ...]] = {}
        clash = False
        for e in group[:count]:
            _, identity, _, item = _seen(e)
            listed.append((identity, item.id, item))
            clash |= owners.setdefault(item.id, identity) != identity
        self.listed: tuple[tuple[tuple[object, ...], str, CitedEvidence], ...] = tuple(listed)
        self.ids: tuple[str, ...] = tuple(owners)
        self.clash = clash
        #: `` [id, ...]`` (see :meth:`EvidenceTable.cite_refs`), written on first use.
        self.refs: str | None = None

    def text(self) -> str:
        """`` [id, ...]``: the group's short ids as a summary's reason line ends with them (empty for none)."""
        refs = self.refs
        if refs is None:
            refs = self.refs = f" [{', '.join(self.ids)}]" if self.ids else ""
        return refs


#: A group of facts as an answer lists them (see :func:`cited_group`).
CitedGroup = _Group

#: Groups of facts the engine keeps (a kept rule outcome's or criterion's evidence), by the list and how many of
#: its facts are cited; each entry holds its list, so that an ``id()`` here is never one of a newer list. Bounded.
_GROUPS: Kept[tuple[int, int], _Group] = Kept("citing.groups")


def cited_group(group: Sequence[Evidence], count: int, kept: bool) -> _Group:
    """The facts of ``group[:count]`` as an answer lists them under their short ids (``kept``: a list the engine
    keeps, so this is looked up once for every answer that cites it)."""
    return _group(group, count) if kept else _Group(group, count)


def _group(group: Sequence[Evidence], count: int) -> _Group:
    key = (id(group), count)
    found = _GROUPS.get(key)
    if found is not None and found.group is group:
        return found
    return _GROUPS.put(key, _Group(group, count))


def count_exclusions(excluded: Sequence[Exclusion], eligibility: Mapping[str, EligibilityRule]) -> list[RuleCount]:
    """Excluded models per failing or unknown rule, by rule id (a model failing two rules counts for both)."""
    counts: dict[str, list[int]] = {}
    first: dict[str, RuleOutcome] = {}
    for exclusion in excluded:
        for reason in exclusion.reasons:
            tally = counts.setdefault(reason.rule_id, [0, 0])
            tally[0] += 1
            tally[1] += reason.outcome == "unknown"
            first.setdefault(reason.rule_id, reason)
    result = []
    for rule_id in sorted(counts):
        rule = eligibility.get(rule_id)
        outcome = first[rule_id]
        result.append(
            trusted(
                RuleCount,
                rule_id=rule_id,
                rule_version=outcome.rule_version,
                requirement=outcome.requirement,
                description=rule.description if rule is not None else outcome.message,
                count=counts[rule_id][0],
                unknown=counts[rule_id][1],
            )
        )
    return result


def listed_exclusions(excluded: Sequence[Exclusion], exclusions: Exclusions = "by_rule") -> list[Exclusion]:
    """The excluded models an answer lists, by model id: all of them, or the first :data:`EXCLUSIONS_LISTED`."""
    ordered = sorted(excluded, key=lambda e: e.model_id)
    return ordered if exclusions == "all" else ordered[:EXCLUSIONS_LISTED]


# ------------------------------------------------------------------------------------------------ cite
def cite_evidence(group: Sequence[Evidence], table: EvidenceTable, kept: bool) -> list[str]:
    """:meth:`EvidenceTable.cite_all` of ``group`` (``kept``: a list the engine keeps)."""
    return list(table.cite_group(group, len(group), kept)) if group else []


def cite_outcome(r: RuleOutcome, table: EvidenceTable, kept: bool) -> CitedRuleOutcome:
    """``r`` with its evidence cited by id in ``table`` (``kept``: the engine keeps ``r`` and its evidence)."""
    fields = dict(r.__dict__)  # the same fields in the same order, evidence last
    fields["evidence"] = cite_evidence(r.evidence, table, kept)
    return trusted_from(CitedRuleOutcome, fields)


def _criterion(c: CriterionScore, table: EvidenceTable) -> CitedCriterionScore:
    fields = dict(c.__dict__)
    fields["evidence"] = cite_evidence(c.evidence, table, True)
    return trusted_from(CitedCriterionScore, fields)


#: The licence text an obligation cites, one fact per licence, source and date (bounded, see kept.SIZES).
_LICENCE_TEXTS: Kept[tuple[str, str, dt.date], Evidence] = Kept("citing.licence_texts")


def _licence_text(o: Obligation) -> Evidence:
    key = (o.licence_id, o.source, o.as_of)
    found = _LICENCE_TEXTS.get(key)
    if found is None:
        found = _LICENCE_TEXTS.put(
            key,
            trusted(
                Evidence,
                fact=LICENCE_TEXT,
                value=o.licence_id,
                source=o.source,
                as_of=o.as_of,
                note=None,
                source_kind=None,
                measured_by=None,
            ),
        )
    return found


def cite_obligation(o: Obligation, table: EvidenceTable) -> CitedObligation:
    """``o`` citing the licence text it is read from, by id in ``table``."""
    return trusted(
        CitedObligation,
        licence_id=o.licence_id,
        kind=o.kind,
        duty=o.duty,
        applies=o.applies,
        evidence=[table.cite(_licence_text(o))],
    )


def _fit(f: Fit, table: EvidenceTable) -> CitedFit:
    fields = dict(f.__dict__)
    fields["evidence"] = cite_evidence(f.evidence, table, True)
    return trusted_from(CitedFit, fields)


def cite_eu(s: EuAiActStatus | None, table: EvidenceTable) -> CitedEuAiActStatus | None:
    """``s`` (a model's, kept by the engine) with its evidence cited by id in ``table``."""
    if s is None:
        return None
    fields = dict(s.__dict__)
    fields["evidence"] = cite_evidence(s.evidence, table, True)
    return trusted_from(CitedEuAiActStatus, fields)


#: Groups of facts as a reason sentence writes them (`` Evidence: fact = value (source, as of date); ….``), by the
#: group's list and how many of its facts the sentence cites: the lists the engine keeps are written once, not
#: in every answer. An answer's objects are never changed once built, so a list's text cannot change; each
#: entry holds its list, so that an ``id()`` here is never one of a newer list. Bounded.
_WRITTEN: Kept[tuple[int, int], tuple[Sequence[Evidence], str]] = Kept("citing.written")


def _written(group: Sequence[Evidence], count: int, kept: bool = True) -> str:
    if not kept:
        return f"{_EVIDENCE}{citation(group[:count])}."
    key = (id(group), count)
    found = _WRITTEN.get(key)
    if found is not None and found[0] is group:
        return found[1]
    return _WRITTEN.put(key, (group, f"{_EVIDENCE}{citation(group[:count])}."))[1]


def _cite_reasons(a: Assessment, table: EvidenceTable) -> list[str]:
    return cite_reasons(
        a.reasons, [(r.evidence, True) for r in a.rules], [(c.evidence, True) for c in a.criteria], table
    )


def cite_reasons(
    written: Sequence[str],
    rules: Iterable[tuple[Sequence[Evidence], bool]],
    criteria: Iterable[tuple[Sequence[Evidence], bool]],
    table: EvidenceTable,
) -> list[str]:
    """An assessment's reason sentences (``written``) with their facts cited by id, given its rules' and its
    criteria's evidence in the assessment's order, each with whether the engine keeps the list."""
    # A reason sentence ends with its rule's or criterion's facts written out (facts.citation); here they
    # become their ids, so a fact's source and date appear once per answer, in ``evidence``. A reason takes the
    # first group (rules, then criteria) whose written form it ends with.
    groups = [(group, len(group), kept) for group, kept in rules if group]
    groups += [(group, REASON_CITES, kept) for group, kept in criteria if group]
    texts = [_written(group, count, kept) for group, count, kept in groups]
    first: dict[str, int] = {}
    for n, text in enumerate(texts):
        first.setdefault(text, n)
    reasons = []
    for reason in written:
        chosen: int | None = None
        at = reason.find(_EVIDENCE)
        while at >= 0:
            found = first.get(reason[at:])
            if found is not None and (chosen is None or found < chosen):
                chosen = found
            at = reason.find(_EVIDENCE, at + 1)
        if chosen is None:
            reasons.append(reason)
            continue
        group, count, kept = groups[chosen]
        ids = table.cite_group(group, count, kept)  # each once; a sentence names a fact as often as it lists it
        if len(ids) < min(count, len(group)):
            ids = tuple(table.cite(e) for e in group[:count])
        reasons.append(f"{reason[: -len(texts[chosen])]}{_EVIDENCE}[{', '.join(ids)}].")
    return reasons


def _assessment(a: Assessment, table: EvidenceTable) -> CitedAssessment:
    return trusted(
        CitedAssessment,
        model_id=a.model_id,
        name=a.name,
        status=a.status,
        rank=a.rank,
        score=a.score,
        licence=a.licence,
        reasons=_cite_reasons(a, table),
        criteria=[_criterion(c, table) for c in a.criteria],
        rules=[cite_outcome(r, table, False) for r in a.rules],
        obligations=[cite_obligation(o, table) for o in a.obligations],
        fit=_fit(a.fit, table),
        caveats=a.caveats,
        eu_ai_act=cite_eu(a.eu_ai_act, table),
    )


def cite(
    answer: Answer, by_rule: list[RuleCount], exclusions: Exclusions = "all", excluded_count: int | None = None
) -> FullAnswer:
    """``answer`` in ``full`` detail: each fact listed once in ``evidence``, cited by id everywhere else.

    ``by_rule`` counts every exclusion (:func:`count_exclusions`); ``exclusions`` says which excluded models
    are listed (:func:`listed_exclusions`). The stored decision lists all of them. ``excluded_count`` is how
    many models are excluded (default: every one ``answer`` holds; given when ``answer`` lists only some).
    """
    table = EvidenceTable()
    recommendations = [_assessment(a, table) for a in answer.recommendations]
    excluded = [
        cite_exclusion(x.model_id, [(r, False) for r in x.reasons], table)
        for x in listed_exclusions(answer.excluded, exclusions)
    ]
    explained = [_assessment(a, table) for a in answer.explained]
    return assemble(answer, recommendations, excluded, explained, table, by_rule, excluded_count)


def cite_exclusion(model_id: str, reasons: Iterable[tuple[RuleOutcome, bool]], table: EvidenceTable) -> CitedExclusion:
    """An excluded model with its failing rules, their evidence cited by id in ``table`` (each rule outcome with
    whether the engine keeps it)."""
    return trusted(CitedExclusion, model_id=model_id, reasons=[cite_outcome(r, table, kept) for r, kept in reasons])


def assemble(
    answer: Answer,
    recommendations: list[CitedAssessment],
    excluded: list[CitedExclusion],
    explained: list[CitedAssessment],
    table: EvidenceTable,
    by_rule: list[RuleCount],
    excluded_count: int | None = None,
) -> FullAnswer:
    """The ``full`` answer of ``answer``'s decision from its parts cited in ``table`` (in this order: the
    recommendations, the listed exclusions, the explained models): ``answer`` gives the rest (its own models
    and exclusions are not read, but for ``excluded_count``'s default: how many it holds)."""
    return trusted(
        FullAnswer,
        id=answer.id,
        detail="full",
        catalogue_version=answer.catalogue_version,
        rules_version=answer.rules_version,
        evaluated_on=answer.evaluated_on,
        requirements=answer.requirements,
        profile=answer.profile,
        weights=answer.weights,
        eligible_count=answer.eligible_count,
        recommendations=recommendations,
        excluded_count=len(answer.excluded) if excluded_count is None else excluded_count,
        excluded_by_rule=by_rule,
        excluded=excluded,
        explained=explained,
        tradeoffs=answer.tradeoffs,
        method=answer.method,
        evidence=list(table.items.values()),
        disclaimer=answer.disclaimer,
    )


def encode_full(answer: Answer, eligibility: Mapping[str, EligibilityRule], exclusions: Exclusions = "all") -> str:
    """The ``full`` answer as JSON text: with ``exclusions="all"``, exactly the stored decision's bytes."""
    return dump_full(cite(answer, count_exclusions(answer.excluded, eligibility), exclusions))


#: The JSON of listed facts, by object (each entry holds its fact; bounded like the others): a fact the engine
#: keeps is written once, not in every answer that lists it.
_ITEM_JSON: Kept[int, tuple[CitedEvidence, bytes]] = Kept("citing.item_json")
_DISCLAIMER_AT = b',"disclaimer":'
_EVIDENCE_AT = b',"evidence":[]' + _DISCLAIMER_AT


def _item_json(item: CitedEvidence) -> bytes:
    found = _ITEM_JSON.get(id(item))
    if found is not None and found[0] is item:
        return found[1]
    return _ITEM_JSON.put(id(item), (item, CitedEvidence.__pydantic_serializer__.to_json(item)))[1]


def dump_full_bytes(full: FullAnswer) -> bytes:
    """``full.model_dump_json()`` as UTF-8 bytes, the same JSON, written faster: the answer is serialised without
    its evidence list, and the list is spliced in from each fact's own JSON (written once per fact and kept)."""
    fields = dict(full.__dict__)
    evidence = fields["evidence"]
    fields["evidence"] = []
    head = FullAnswer.__pydantic_serializer__.to_json(trusted_from(FullAnswer, fields))
    # The disclaimer follows the evidence and, as a JSON string, cannot hold the marker's unescaped quotes.
    at = head.rindex(_EVIDENCE_AT)
    listed = b",".join([_item_json(item) for item in evidence])
    return b"".join((head[:at], b',"evidence":[', listed, b"]", head[at + len(_EVIDENCE_AT) - len(_DISCLAIMER_AT) :]))


def dump_full(full: FullAnswer) -> str:
    """``full.model_dump_json()``, the same text (:func:`dump_full_bytes`, decoded)."""
    return dump_full_bytes(full).decode()


# --------------------------------------------------------------------------------------------- resolve
class _Lookup:
    def __init__(self, full: FullAnswer) -> None:
        self.items = {e.id: e for e in full.evidence}

    def __call__(self, ids: list[str]) -> list[Evidence]:
        return [self.one(i) for i in ids]

    def one(self, evidence_id: str) -> Evidence:
        try:
            e = self.items[evidence_id]
        except KeyError:
            raise ValueError(f"evidence id {evidence_id!r} is cited but not listed in the answer's evidence") from None
        return trusted(
            Evidence,
            fact=e.fact,
            value=e.value,
            source=e.source,
            as_of=e.as_of,
            note=e.note,
            source_kind=e.source_kind,
            measured_by=e.measured_by,
        )


def _resolve_outcome(r: CitedRuleOutcome, look: _Lookup) -> RuleOutcome:
    fields = {name: getattr(r, name) for name in RuleOutcome.model_fields if name != "evidence"}
    return trusted(RuleOutcome, **fields, evidence=look(r.evidence))


def _resolve_assessment(a: CitedAssessment, look: _Lookup) -> Assessment:
    obligations = []
    for o in a.obligations:
        text = look.one(o.evidence[0])
        obligations.append(
            trusted(
                Obligation,
                licence_id=o.licence_id,
                kind=o.kind,
                duty=o.duty,
                applies=o.applies,
                source=text.source,
                as_of=text.as_of,
            )
        )

    def without(model: object, names: Iterable[str]) -> dict[str, Any]:
        return {name: getattr(model, name) for name in names if name != "evidence"}

    def written(reason: str) -> str:
        found = _CITED_IDS.search(reason)
        if found is None:
            return reason
        return f"{reason[: found.start()]}{_EVIDENCE}{citation(look(found.group(1).split(', ')))}."

    eu = a.eu_ai_act
    return trusted(
        Assessment,
        model_id=a.model_id,
        name=a.name,
        status=a.status,
        rank=a.rank,
        score=a.score,
        licence=a.licence,
        reasons=[written(reason) for reason in a.reasons],
        criteria=[
            trusted(CriterionScore, **without(c, CriterionScore.model_fields), evidence=look(c.evidence))
            for c in a.criteria
        ],
        rules=[_resolve_outcome(r, look) for r in a.rules],
        obligations=obligations,
        fit=trusted(Fit, **without(a.fit, Fit.model_fields), evidence=look(a.fit.evidence)),
        caveats=a.caveats,
        eu_ai_act=None
        if eu is None
        else trusted(EuAiActStatus, **without(eu, EuAiActStatus.model_fields), evidence=look(eu.evidence)),
    )


def resolve(full: FullAnswer) -> Answer:
    """``full`` with each cited id replaced by its fact, as the engine returned it (the excluded models it lists).

    Raises ValueError when an id is cited but not listed.
    """
    look = _Lookup(full)
    return trusted(
        Answer,
        id=full.id,
        catalogue_version=full.catalogue_version,
        rules_version=full.rules_version,
        evaluated_on=full.evaluated_on,
        requirements=full.requirements,
        profile=full.profile,
        weights=full.weights,
        eligible_count=full.eligible_count,
        recommendations=[_resolve_assessment(a, look) for a in full.recommendations],
        excluded=[
            trusted(Exclusion, model_id=x.model_id, reasons=[_resolve_outcome(r, look) for r in x.reasons])
            for x in full.excluded
        ],
        explained=[_resolve_assessment(a, look) for a in full.explained],
        tradeoffs=full.tradeoffs,
        method=full.method,
        disclaimer=full.disclaimer,
    )
