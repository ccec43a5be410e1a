"""Stored decisions rebuilt on demand: one way in (:meth:`DecisionArchive.answer_text`), verified by digest.

An answer is deterministic given its requirements, its catalogue and rules versions and its evaluation date,
so a record keeps those and two digests. The **decision digest** (:meth:`Decision.digest`: order, scores, rule
verdicts, trade-offs) is written with the record, before the response is sent; computing it explains no model,
so a ``summary`` response never builds the whole answer. The **answer digest** is the SHA-256 of the whole
answer's exact bytes (:func:`answer_digest`), fixed the first time that answer is served: at once when the
response was the whole answer, else when the record is first fetched (it is then sealed, and later fetches must
match it).

Reading a record re-runs the engine of its versions: the engine now serving when the versions match, else one
built from the version files stored in the database (the last one built is kept). The rebuilt decision must
have the stored decision digest, and the rebuilt bytes the stored answer digest; when they do not (an engine
change that alters decisions or answers, or damaged data) the caller gets :class:`DecisionMismatchError` or
:class:`AnswerMismatchError` naming both digests, never a different answer.

Records stored before versions were kept (or whose versions could not be archived) hold their answer text,
which is served as stored; so do records frozen (:meth:`DecisionArchive.freeze`, ``advisor records freeze``)
before an upgrade, whose text is checked against their answer digest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from service.domain.answer import Answer, FullAnswer
from service.domain.citing import resolve
from service.domain.engine import Decision, Engine
from service.domain.errors import DataError
from service.domain.requirements import Requirements
from service.storage.records import DecisionRecord, DecisionStore
from service.storage.versions import DataVersion

__all__ = [
    "AnswerMismatchError",
    "DecisionArchive",
    "DecisionMismatchError",
    "RebuildError",
    "answer_digest",
    "encode_answer",
]

#: Built engines of past versions kept besides the one serving: each holds a whole catalogue in memory, and a
#: record of an older version is rarely read, so one (at first the engine a reload replaced) is enough.
ENGINES_KEPT = 1


class RebuildError(Exception):
    """A stored decision cannot be rebuilt: a version it names is missing or no longer loads."""

    def __init__(self, record_id: str, message: str) -> None:
        super().__init__(message)
        self.record_id = record_id


class _DigestMismatchError(RebuildError):
    """A rebuilt digest differs from the stored one; the message names both (``_what``: which digest)."""

    _what = ("", "", "")  # (rebuilt to ..., which digest, the engine ... differently)

    def __init__(self, record_id: str, stored: str, rebuilt: str) -> None:
        result, digest, verb = self._what
        super().__init__(
            record_id,
            f"decision record {record_id!r} rebuilt to {result}: the stored {digest} digest is {stored}, "
            f"the rebuilt one {rebuilt} (this version of the engine {verb} differently); re-run it to decide again",
        )
        self.stored = stored
        self.rebuilt = rebuilt


class AnswerMismatchError(_DigestMismatchError):
    """The rebuilt answer's digest differs from the one stored with the record."""

    _what = ("different bytes", "answer", "answers")


class DecisionMismatchError(_DigestMismatchError):
    """The rebuilt decision's digest differs from the one stored when it was decided."""

    _what = ("a different decision", "decision", "decides")


def encode_answer(decision: Decision) -> bytes:
    """The exact JSON of a decision's whole answer as UTF-8 bytes, as stored by digest and rebuilt (the one place
    that encodes it): ``full`` detail with every exclusion (evidence listed once, cited by id)."""
    return decision.full_bytes("all")


def answer_digest(text: str | bytes) -> str:
    """``sha256:`` and the hex SHA-256 of the answer's UTF-8 bytes (``text``, or the bytes themselves)."""
    return "sha256:" + hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


class DecisionArchive:
    """Makes records of answers, and rebuilds the answers of records, over a :class:`DecisionStore`.

    ``current`` returns the engine now serving (None when there is none, as in a command-line tool); ``build``
    loads an engine from a catalogue and a rules directory (the same loader the service starts with).
    """

    def __init__(
        self,
        store: DecisionStore,
        current: Callable[[], Engine | None],
        build: Callable[[Path, Path], Engine],
        *,
        engines_kept: int = ENGINES_KEPT,
    ) -> None:
        self._store = store
        self._current = current
        self._build = build
        self._engines_kept = engines_kept
        self._engines: OrderedDict[tuple[str, str], Engine] = OrderedDict()
        self._archived: set[str] = set()
        self._lock = threading.Lock()
        self._building = threading.Lock()

    def register(self, *data: DataVersion) -> None:
        """Make versions archivable: they are stored with the first record that names them."""
        for version in data:
            self._store.register_version(version)
            with self._lock:
                self._archived.add(version.digest)

    def keep(self, engine: Engine) -> None:
        """Keep a built engine for rebuilding (e.g. the one a reload replaced); the oldest kept one is let go."""
        with self._lock:
            key = (engine.catalogue_version, engine.rules_version)
            self._engines[key] = engine
            self._engines.move_to_end(key)
            while len(self._engines) > self._engines_kept:
                self._engines.popitem(last=False)

    def record(
        self,
        decision: Decision,
        text: str | bytes | None = None,
        *,
        stored_at: dt.datetime,
        rerun_of: str | None = None,
        created_by: str | None = None,
    ) -> DecisionRecord:
        """The record of ``decision``: its decision digest, and its answer digest when ``text`` (the whole
        answer's exact text, :func:`encode_answer`, or its UTF-8 bytes) is being served now. When its versions
        cannot be archived (an engine not loaded from files this process read), the record holds the answer text
        itself (built here when not given)."""
        engine = decision.engine
        with self._lock:
            archived = {engine.catalogue_version, engine.rules_version} <= self._archived
        if not archived and text is None:
            text = encode_answer(decision)
        return DecisionRecord(
            id=decision.id,
            stored_at=stored_at,
            evaluated_on=decision.evaluated_on,
            catalogue_version=engine.catalogue_version,
            rules_version=engine.rules_version,
            profile=decision.profile,
            top_models=tuple(decision.top_models()),
            rerun_of=rerun_of,
            requirements=decision.requirements.model_dump_json(),
            answer_digest=answer_digest(text) if text is not None else None,
            answer=None if archived or text is None else text if isinstance(text, str) else text.decode(),
            decision_digest=decision.digest(),
            created_by=created_by,
        )

    def seal(self, record: DecisionRecord, text: str | bytes) -> None:
        """Fix ``record``'s answer digest as that of ``text`` (the whole answer being served, as text or UTF-8
        bytes) unless it has one.

        Raises :class:`AnswerMismatchError` when the record holds (or another process sealed) another digest.
        """
        digest = answer_digest(text)
        held = record.answer_digest
        if held is None and record.answer is None:
            held = self._store.seal(record.id, digest)
        if held is not None and held != digest:
            raise AnswerMismatchError(record.id, held, digest)

    def answer_text(self, record: DecisionRecord) -> bytes:
        """The record's full answer (UTF-8 JSON), byte-identical to the one first returned.

        Raises :class:`RebuildError` (or :class:`AnswerMismatchError`) when it cannot be rebuilt exactly, and
        :class:`~service.storage.StorageError` when a version cannot be read.
        """
        if record.answer is not None:
            return self._held(record).encode()
        return self._rebuild(record)[1]

    def _held(self, record: DecisionRecord) -> str:
        """The answer text a record holds, checked against its answer digest when it has one (a frozen record)."""
        assert record.answer is not None  # callers check
        if record.answer_digest is not None:
            held = answer_digest(record.answer)
            if held != record.answer_digest:
                raise AnswerMismatchError(record.id, record.answer_digest, held)
        return record.answer

    def freeze(self, record: DecisionRecord) -> bool:
        """Keep ``record``'s whole answer in the record itself, rebuilt and checked (and sealed if it was not):
        from then on it is served as stored, so a later release that words answers differently still serves it.

        Returns False when the record already holds its answer. Raises like :meth:`answer_text` when the answer
        cannot be rebuilt exactly (the record is then left as it was).
        """
        if record.answer is not None:
            return False
        _, text = self._rebuild(record)
        return self._store.freeze(record.id, text.decode())

    def answer(self, record: DecisionRecord) -> Answer:
        """The record's full answer as an object (rebuilt and verified like :meth:`answer_text`).

        A legacy record whose stored text this version cannot read raises :class:`RebuildError`.
        """
        if record.answer is not None:
            try:
                return resolve(FullAnswer.model_validate_json(self._held(record)))
            except ValueError as exc:  # pydantic's ValidationError, or an evidence id cited but not listed
                why = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
                raise RebuildError(
                    record.id,
                    f"decision record {record.id!r} was stored in an answer format this version cannot read: "
                    f"{why}; fetch it as JSON or re-run it",
                ) from exc
        return self._rebuild(record)[0]

    def _rebuild(self, record: DecisionRecord) -> tuple[Answer, bytes]:
        if record.answer_digest is None and record.decision_digest is None:
            raise RebuildError(record.id, f"decision record {record.id!r} holds neither its answer nor its digests")
        engine = self._engine_for(record)
        try:
            requirements = Requirements.model_validate_json(record.requirements)
        except ValidationError as exc:
            raise RebuildError(
                record.id,
                f"decision record {record.id!r}: its stored requirements are not valid under this version's schema: "
                f"{exc.errors()[0]['msg']}",
            ) from exc
        decision = engine.decide(requirements, record.evaluated_on)
        if record.decision_digest is not None:
            rebuilt = decision.digest()
            if rebuilt != record.decision_digest:
                raise DecisionMismatchError(record.id, record.decision_digest, rebuilt)
        text = encode_answer(decision)
        # The first whole answer served fixes the record's bytes; every later one must match them.
        self.seal(record, text)
        return decision.answer(), text

    def _engine_for(self, record: DecisionRecord) -> Engine:
        key = (record.catalogue_version, record.rules_version)
        current = self._current()
        if current is not None and (current.catalogue_version, current.rules_version) == key:
            return current
        with self._lock:
            kept = self._engines.get(key)
            if kept is not None:
                self._engines.move_to_end(key)
                return kept
        # One build at a time: concurrent readers of one old version wait for its engine, not build it twice.
        with self._building:
            with self._lock:
                kept = self._engines.get(key)
            if kept is None:
                kept = self._load(record)
                self.keep(kept)
            return kept

    def _load(self, record: DecisionRecord) -> Engine:
        catalogue = self._store.get_version(record.catalogue_version)
        rules = self._store.get_version(record.rules_version)
        for name, digest, version in (
            ("catalogue", record.catalogue_version, catalogue),
            ("rules", record.rules_version, rules),
        ):
            if version is None:
                raise RebuildError(
                    record.id,
                    f"decision record {record.id!r} was decided on {name} version {digest}, which is not stored",
                )
        assert catalogue is not None and rules is not None  # checked above, for the type checker
        with tempfile.TemporaryDirectory(prefix="advisor-version-") as directory:
            root = Path(directory)
            catalogue.write_to(root / "catalogue")
            rules.write_to(root / "rules")
            try:
                engine = self._build(root / "catalogue", root / "rules")
            except DataError as exc:
                where, field, problem = exc.problems[0]
                raise RebuildError(
                    record.id,
                    f"decision record {record.id!r}: its catalogue and rules versions no longer load in this version "
                    f"({Path(where).name}: {field}: {problem})",
                ) from exc
        if (engine.catalogue_version, engine.rules_version) != (record.catalogue_version, record.rules_version):
            raise RebuildError(record.id, f"decision record {record.id!r}: its stored versions load with other digests")
        return engine
