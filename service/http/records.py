"""Decision records, re-runs, procurement reports and side-by-side comparison.

A stored decision is served as the whole answer's exact bytes (rebuilt from the record's versions and checked
against its digests by :class:`~service.storage.DecisionArchive`), with a ``record`` object appended: when it
was stored, whether the catalogue or rules have changed since (``superseded``), and links to its report and
to a re-run on today's data. A POST explains only what its response returns: a ``summary`` never builds the
whole answer; its record fixes the decision's digest at once and the whole answer's bytes at the first fetch.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from litestar import Controller, MediaType, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import JSONBody, PathParameter, QueryParameter
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from service.domain.answer import DISCLAIMER, ComparedModel, FullAnswer, trusted
from service.domain.citing import Exclusions
from service.domain.engine import Decision, Engine
from service.domain.errors import RequirementError
from service.domain.requirements import EXCLUSIONS_LISTED, ModelId, Requirements
from service.domain.summary import AnswerSummary
from service.http.metrics import Metrics
from service.http.resources import ModelOut, model_out
from service.http.security import key_name
from service.reporting import MEDIA_TYPES, RecordInfo, render
from service.storage import (
    DecisionArchive,
    DecisionMismatchError,
    DecisionRecord,
    DecisionStore,
    RecordSummary,
    encode_answer,
)

__all__ = [
    "CompareController",
    "CompareOut",
    "CompareRequest",
    "Decider",
    "RecordController",
    "RecordEnvelope",
    "RecordedAnswer",
    "RecordedSummary",
    "answer_response",
    "decide",
    "decide_async",
    "record_page",
]

Clock = Callable[[], dt.date]
RECORDS = "/v1/recommendations"


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class RecordEnvelope(_Out):
    """What the record adds to a stored answer."""

    id: str
    stored_at: dt.datetime = Field(description="When the decision was first stored (UTC).")
    superseded: bool = Field(description="True when today's catalogue or rules differ from the ones decided on.")
    superseded_because: list[str] = Field(description="Which of catalogue and rules changed; empty when current.")
    current_catalogue_version: str
    current_rules_version: str
    rerun_of: str | None = Field(description="The record this one re-ran on newer data, if any.")
    links: dict[str, str] = Field(description="self, report_md, report_html, rerun (and rerun_of when set).")


class RecordedAnswer(FullAnswer):
    """A ``full`` answer: the stored answer exactly as first returned, plus its ``record`` envelope."""

    record: RecordEnvelope


class RecordLink(_Out):
    """Where the full decision behind a ``summary`` answer is stored."""

    id: str
    stored_at: dt.datetime = Field(description="When the decision was first stored (UTC).")
    links: dict[str, str] = Field(description="self: the full decision, with the links to its reports and re-run.")


class RecordedSummary(AnswerSummary):
    """An answer in ``summary`` detail, with where its full decision is stored."""

    record: RecordLink


class RecordItem(_Out):
    """One record in a listing (the answer itself is fetched by id)."""

    id: str
    stored_at: dt.datetime
    evaluated_on: dt.date
    catalogue_version: str
    rules_version: str
    superseded: bool
    profile: str
    top_models: list[str]
    rerun_of: str | None
    links: dict[str, str]


class RecordPage(_Out):
    """A page of records, newest first."""

    count: int = Field(description="Records stored in total.")
    limit: int
    offset: int
    next_offset: int | None = Field(description="The offset of the next page; null on the last page.")
    items: list[RecordItem]


class CompareRequest(BaseModel):
    """Two to six catalogue models to put side by side, optionally under a set of requirements."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    models: list[ModelId] = Field(min_length=2, max_length=6, description="Hugging Face repo ids, 2 to 6, unique.")
    requirements: Requirements | None = Field(
        default=None, description="Same schema as POST /v1/recommendations; decides which rules each model fails."
    )

    @field_validator("models")
    @classmethod
    def _unique(cls, values: list[str]) -> list[str]:
        if len(set(values)) != len(values):
            raise ValueError("list contains duplicates")
        return values


class CompareItem(ComparedModel):
    """One compared model: its assessment, what it fails, and its catalogue entry with every sourced fact."""

    entry: ModelOut


class CompareOut(_Out):
    """The models side by side, in the order requested."""

    catalogue_version: str
    rules_version: str
    evaluated_on: dt.date
    requirements: Requirements
    profile: str
    weights: dict[str, float]
    criteria: list[str]
    models: list[CompareItem]
    method: list[str]
    disclaimer: str = DISCLAIMER


# ------------------------------------------------------------------------------------------- helpers
def _links(record_id: str, rerun_of: str | None) -> dict[str, str]:
    links = {
        "self": f"{RECORDS}/{record_id}",
        "report_md": f"{RECORDS}/{record_id}/report?format=md",
        "report_html": f"{RECORDS}/{record_id}/report?format=html",
        "rerun": f"{RECORDS}/{record_id}/rerun",
    }
    if rerun_of:
        links["rerun_of"] = f"{RECORDS}/{rerun_of}"
    return links


def _superseded_because(record: RecordSummary, engine: Engine) -> list[str]:
    because = []
    if record.catalogue_version != engine.catalogue_version:
        because.append("catalogue changed")
    if record.rules_version != engine.rules_version:
        because.append("rules changed")
    return because


def _envelope(record: RecordSummary, engine: Engine) -> RecordEnvelope:
    because = _superseded_because(record, engine)
    return RecordEnvelope(
        id=record.id,
        stored_at=record.stored_at,
        superseded=bool(because),
        superseded_because=because,
        current_catalogue_version=engine.catalogue_version,
        current_rules_version=engine.rules_version,
        rerun_of=record.rerun_of,
        links=_links(record.id, record.rerun_of),
    )


def _recorded(
    record: RecordSummary, text: str | bytes, engine: Engine, status: int, headers: dict[str, str]
) -> Response[bytes]:
    """The answer ``text`` (or its UTF-8 bytes) with ``"record": {...}`` appended as the last member of the object."""
    envelope = _envelope(record, engine).model_dump_json().encode()
    # The answer is served as first encoded (or rebuilt and checked against its digest), never re-serialised
    # from a parsed copy, so it stays byte-identical to the first response and to what a procurement file cites.
    # Joined as bytes: an answer's text holds characters beyond Latin-1, and slicing and joining such a string
    # copies two or four bytes per character before it is encoded again.
    data = text.encode() if isinstance(text, str) else text
    return Response(_appended(data, envelope), status_code=status, media_type=MediaType.JSON, headers=headers)


def _appended(data: bytes, record: bytes) -> bytes:
    """The JSON object ``data`` with ``"record": record`` as its last member (``data`` copied once, not sliced
    first)."""
    return b"".join((memoryview(data)[: data.rindex(b"}")], b',"record":', record, b"}"))


#: What storing a decision gave: the stored record, whether it is new, and the whole answer's exact UTF-8 bytes
#: when the response serves the whole answer (encoded once: digested, and sent, as these bytes).
Decided = tuple[DecisionRecord, bool, bytes | None]


def _store(
    decision: Decision,
    records: DecisionStore,
    archive: DecisionArchive,
    *,
    whole: bool,
    rerun_of: str | None = None,
    created_by: str | None = None,
) -> Decided:
    """Record ``decision``; return the stored record, whether it is new, and (when ``whole``) the whole answer's
    exact text, which the caller serves.

    Returns only once the record is committed. The record fixes the decision (its digest) at once, and the
    whole answer's bytes when ``whole`` (else at its first fetch). When the decision was stored before (the id is
    a content hash), the stored record is returned, and must hold the same decision and answer digests.
    """
    record, text = _record(decision, archive, whole=whole, rerun_of=rerun_of, created_by=created_by)
    stored, created = records.save(record)
    return _stored(record, stored, created, text, archive)


def _record(
    decision: Decision,
    archive: DecisionArchive,
    *,
    whole: bool,
    rerun_of: str | None = None,
    created_by: str | None = None,
) -> tuple[DecisionRecord, bytes | None]:
    """The record of ``decision`` and (when ``whole``) the whole answer's exact UTF-8 bytes."""
    text = encode_answer(decision) if whole else None
    record = archive.record(decision, text, stored_at=dt.datetime.now(dt.UTC), rerun_of=rerun_of, created_by=created_by)
    return record, text


def _stored(
    record: DecisionRecord, stored: DecisionRecord, created: bool, text: bytes | None, archive: DecisionArchive
) -> Decided:
    """What saving ``record`` gave: a new record as it is, a stored one checked against it (and, when the whole
    answer ``text`` is served, sealed with it or replaced by the answer the record holds)."""
    if not created:
        if stored.decision_digest is not None and stored.decision_digest != record.decision_digest:
            raise DecisionMismatchError(stored.id, stored.decision_digest, record.decision_digest or "")
        if text is not None:
            if stored.answer is not None:
                text = archive.answer_text(stored)  # a record that holds its answer is served as stored
            else:
                archive.seal(stored, text)
    return stored, created, text


def _whole(requirements: Requirements, decision: Decision) -> bool:
    """Whether the response to ``requirements`` is the whole answer, as stored (``full``, every exclusion)."""
    return requirements.detail == "full" and (
        requirements.exclusions == "all" or decision.excluded_count <= EXCLUSIONS_LISTED
    )


def decide(
    engine: Engine,
    requirements: Requirements,
    today: dt.date,
    records: DecisionStore,
    archive: DecisionArchive,
    metrics: Metrics,
    created_by: str | None = None,
) -> tuple[Decision, Decided]:
    """Decide ``requirements`` on ``today``'s data and store the decision (idempotently: its id is a content hash).

    Behind the requirements form (``POST /v1/recommendations`` awaits the same steps in :func:`decide_async`);
    returns once the record has committed. Returns the decision and what :func:`_store` returned (the stored
    record, whether it is new, and the whole answer's exact JSON text when the request's ``detail`` and
    ``exclusions`` ask for the whole answer). Only what the response returns is explained. ``created_by`` is the
    name of the API key that asked (None when keys are not configured).
    """
    decision = engine.decide(requirements, today)
    metrics.decisions.inc()
    whole = _whole(requirements, decision)
    return decision, _store(decision, records, archive, whole=whole, created_by=created_by)


async def decide_async(
    engine: Engine,
    requirements: Requirements,
    today: dt.date,
    records: DecisionStore,
    archive: DecisionArchive,
    metrics: Metrics,
    created_by: str | None = None,
) -> tuple[Decision, Decided]:
    """:func:`decide` for a handler on the event loop: the decision is computed on the loop and the record's
    group commit is awaited, not waited for on a thread (a store without ``save_async`` is called on a thread).

    The same outcome as :func:`decide`: it returns only once the record has committed. What the loop computes is
    bounded whatever the catalogue's size (the decision core, at most ``limit`` and ``explain`` models explained,
    at most :data:`EXCLUSIONS_LISTED` exclusions listed), except the whole answer with every exclusion explained:
    when that lists more than :data:`EXCLUSIONS_LISTED`, it is built on a worker thread, so other requests (and
    ``/health``) are not held behind it.
    """
    decision = engine.decide(requirements, today)
    metrics.decisions.inc()
    whole = _whole(requirements, decision)
    if whole and decision.excluded_count > EXCLUSIONS_LISTED:
        record, text = await asyncio.to_thread(_record, decision, archive, whole=True, created_by=created_by)
    else:
        record, text = _record(decision, archive, whole=whole, created_by=created_by)
    save_async: Callable[[DecisionRecord], Awaitable[tuple[DecisionRecord, bool]]] | None = getattr(
        records, "save_async", None
    )
    if save_async is None:
        stored, created = await asyncio.to_thread(records.save, record)
    else:
        stored, created = await save_async(record)
    if created or text is None:
        return decision, _stored(record, stored, created, text, archive)
    # A decision stored before, its whole answer served now: sealing or reading it goes to the database.
    return decision, await asyncio.to_thread(_stored, record, stored, created, text, archive)


class Decider:
    """What ``POST /v1/recommendations`` needs to decide and record a request, as one dependency.

    One injected object rather than five (engine, clock, store, archive, metrics): Litestar resolves several
    dependencies of one handler in a task group, one task each, and checks each value against its annotation
    (for the store, a runtime protocol check); one dependency is resolved by a plain call.
    """

    __slots__ = ("_archive", "_clock", "_engine", "_metrics", "_records")

    def __init__(
        self,
        engine: Callable[[], Engine],
        clock: Clock,
        records: DecisionStore,
        archive: DecisionArchive,
        metrics: Metrics,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._records = records
        self._archive = archive
        self._metrics = metrics

    async def decide(self, requirements: Requirements, created_by: str | None = None) -> tuple[Decision, Decided]:
        """:func:`decide_async` on the engine now served and today's date."""
        return await decide_async(
            self._engine(), requirements, self._clock(), self._records, self._archive, self._metrics, created_by
        )


def answer_response(
    decision: Decision,
    decided: Decided,
    detail: Literal["summary", "full"] = "full",
    exclusions: Exclusions = "by_rule",
) -> Response[bytes]:
    """``decision`` in ``detail`` with its record envelope (``decided``: what :func:`decide` stored for it).

    The response is sent only after the record is committed: an answer's id is always fetchable.
    ``detail="summary"`` returns the answer in brief, with a link to the stored decision; ``exclusions="by_rule"``
    lists only the first excluded models when there are many (both details count them all by rule).
    """
    record, _, text = decided
    headers = {"Content-Location": f"{RECORDS}/{record.id}"}
    if detail == "full":
        body = text if text is not None else decision.full_bytes(exclusions)
        return _recorded(record, body, decision.engine, 200, headers)
    # The record's own fields (valid: it was just stored or read back), not validated again.
    link = trusted(RecordLink, id=record.id, stored_at=record.stored_at, links={"self": f"{RECORDS}/{record.id}"})
    data = decision.summary_bytes(exclusions)  # the summary written straight to JSON, without its objects
    body = _appended(data, link.__pydantic_serializer__.to_json(link))
    return Response(body, status_code=200, media_type=MediaType.JSON, headers=headers)


def record_page(engine: Engine, records: DecisionStore, limit: int, offset: int) -> RecordPage:
    """A page of stored decisions, newest first, each marked superseded or current against ``engine``."""
    total = records.count()
    items = [
        RecordItem(
            id=r.id,
            stored_at=r.stored_at,
            evaluated_on=r.evaluated_on,
            catalogue_version=r.catalogue_version,
            rules_version=r.rules_version,
            superseded=bool(_superseded_because(r, engine)),
            profile=r.profile,
            top_models=list(r.top_models),
            rerun_of=r.rerun_of,
            links=_links(r.id, r.rerun_of),
        )
        for r in records.list_recent(limit, offset)
    ]
    return RecordPage(
        count=total,
        limit=limit,
        offset=offset,
        next_offset=offset + limit if offset + limit < total else None,
        items=items,
    )


def _get(records: DecisionStore, record_id: str) -> DecisionRecord:
    record = records.get(record_id)
    if record is None:
        raise NotFoundException(detail=f"no decision record with id {record_id!r}")
    return record


RecordId = Annotated[
    str, PathParameter(description="A decision record id (rec_ followed by 32 hex digits).", max_length=100)
]


class RecordController(Controller):
    """Stored decisions: fetch, re-run on today's data, and export as a procurement report.

    Listing (``GET /v1/recommendations``) lives on the recommendation controller: Litestar allows one
    controller per path, and that path is shared with ``POST /v1/recommendations``.
    """

    path = RECORDS
    tags = ["recommendations"]

    @get(
        "/{record_id:str}",
        operation_id="getRecommendation",
        summary="A stored decision, exactly as decided",
        description=(
            "The whole answer (`full` detail, every exclusion listed), plus a `record` object: when it was stored, "
            "whether the catalogue or rules have changed since (`superseded`), and links to its report and to a "
            "re-run on today's data. The answer is rebuilt from the record's requirements, stored catalogue and "
            "rules versions and date, and served only if the decision (order, scores, rule verdicts, trade-offs) has "
            "the digest stored when it was decided and the bytes have the SHA-256 fixed when the whole answer was "
            "first served (by a `full` response, else by the first fetch: always the same bytes from then on); "
            "otherwise 409 names both digests (re-run it to decide again)."
        ),
        sync_to_thread=True,
        response_description="The stored answer with its record envelope.",
    )
    def get_record(
        self,
        engine: NamedDependency[Engine],
        records: NamedDependency[DecisionStore],
        archive: NamedDependency[DecisionArchive],
        record_id: RecordId,
    ) -> Response[RecordedAnswer]:
        record = _get(records, record_id)
        return _recorded(record, archive.answer_text(record), engine, 200, {})  # type: ignore[return-value]

    @post(
        "/{record_id:str}/rerun",
        operation_id="rerunRecommendation",
        summary="Decide a stored request again on today's catalogue and rules",
        description=(
            "Runs the stored requirements on today's data and date and stores the result, linked to the original "
            "by `record.rerun_of`. 201 when that creates a record; 200 when the same decision is already stored "
            "(same requirements, catalogue, rules and day)."
        ),
        status_code=201,
        sync_to_thread=True,
        opt={"scope": "write"},
    )
    def rerun(
        self,
        request: Request[Any, Any, Any],
        engine: NamedDependency[Engine],
        clock: NamedDependency[Clock],
        records: NamedDependency[DecisionStore],
        archive: NamedDependency[DecisionArchive],
        record_id: RecordId,
    ) -> Response[RecordedAnswer]:
        original = _get(records, record_id)
        try:
            requirements = Requirements.model_validate_json(original.requirements)
        except ValidationError as exc:
            raise RequirementError(
                "requirements", f"the stored requirements are not valid under today's schema: {exc.errors()[0]['msg']}"
            ) from exc
        decision = engine.decide(requirements, clock())
        record, created, text = _store(
            decision,
            records,
            archive,
            whole=True,
            rerun_of=original.id if decision.id != original.id else None,
            created_by=key_name(request),
        )
        assert text is not None  # whole=True: the whole answer is served
        headers = {"Location": f"{RECORDS}/{record.id}"}
        return _recorded(record, text, engine, 201 if created else 200, headers)  # type: ignore[return-value]

    @get(
        "/{record_id:str}/report",
        operation_id="getRecommendationReport",
        summary="A procurement report on a stored decision (Markdown or printable HTML)",
        description=(
            "The requirements in plain words, the shortlist with reasons, the criteria breakdown with a chart, "
            "licence obligations, hardware fit, exclusions with rule ids, trade-offs and sensitivity, caveats, "
            "every source cited with its date, and the catalogue and rules versions."
        ),
        media_type=MediaType.TEXT,
        sync_to_thread=True,
    )
    def report(
        self,
        engine: NamedDependency[Engine],
        records: NamedDependency[DecisionStore],
        archive: NamedDependency[DecisionArchive],
        record_id: RecordId,
        # Named like the query parameter so that a refusal names it ("format"), shadowing the builtin here.
        format: Annotated[
            Literal["md", "html"], QueryParameter(description="md (text/markdown) or html (text/html, printable).")
        ] = "md",
    ) -> Response[str]:
        record = _get(records, record_id)
        answer = archive.answer(record)
        envelope = _envelope(record, engine)
        info = RecordInfo(
            stored_at=record.stored_at,
            superseded=envelope.superseded,
            current_catalogue_version=engine.catalogue_version,
            current_rules_version=engine.rules_version,
            rerun_of=record.rerun_of,
        )
        return Response(
            render(answer, format, info),
            media_type=MEDIA_TYPES[format],
            headers={"Content-Disposition": f'inline; filename="{record.id}.{format}"'},
        )

    @delete(
        "/{record_id:str}",
        operation_id="deleteRecommendation",
        summary="Delete a stored decision (scope admin)",
        status_code=204,
        sync_to_thread=True,
        opt={"scope": "admin"},
    )
    def delete_record(self, records: NamedDependency[DecisionStore], record_id: RecordId) -> None:
        if not records.delete(record_id):
            raise NotFoundException(detail=f"no decision record with id {record_id!r}")


class CompareController(Controller):
    """Models side by side."""

    path = "/v1/compare"
    tags = ["recommendations"]

    @post(
        "/",
        operation_id="compareModels",
        summary="Compare 2 to 6 models on every criterion and fact",
        description=(
            "Every criterion (weighted or not) with its value and evidence, every rule outcome, the rules each model "
            "fails under the given requirements, and each model's catalogue entry with every sourced fact."
        ),
        status_code=200,
    )
    async def compare(
        self, engine: NamedDependency[Engine], clock: NamedDependency[Clock], data: JSONBody[CompareRequest]
    ) -> CompareOut:
        comparison = engine.compare(list(data.models), data.requirements or Requirements(), clock())
        catalogue, rules = engine.catalogue, engine.rules
        items = []
        for compared in comparison.models:
            model = catalogue.models[compared.model_id]
            entry = model_out(
                model,
                catalogue.organisations[model.organisation],
                rules.licences[model.licence.value],
                catalogue.offers_for(model.id),
            )
            items.append(CompareItem(**dict(compared), entry=entry))
        fields: dict[str, Any] = {
            name: getattr(comparison, name) for name in CompareOut.model_fields if name != "models"
        }
        return CompareOut(**fields, models=items)
