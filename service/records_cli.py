"""``advisor report ID --format md|html -o FILE`` (a procurement report on a stored decision),
``advisor records prune`` (retention by age or count) and ``advisor records freeze`` (keep each record's whole
answer in it, before an upgrade)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from service.loading.engine import build_engine
from service.loading.files import content_hash
from service.reporting import FORMATS, RecordInfo, render
from service.reporting.render import Format
from service.settings import get_settings
from service.storage import DecisionArchive, RebuildError, StorageError, open_store

__all__ = ["add_records_parser", "add_report_parser", "write_atomically"]


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory and a rename.

    A reader never sees a half-written report, and a failure leaves any previous file untouched.
    """
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private; give the report the mode an ordinary new file (or the old one) has.
        os.chmod(temporary, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask())
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _current_version(directory: Path) -> str | None:
    return content_hash(directory) if directory.is_dir() else None


def _report(args: argparse.Namespace) -> int:
    settings = get_settings()
    output: Path | None = None if args.output in (None, "-") else Path(args.output)
    fmt: Format = args.format or ("html" if output is not None and output.suffix.lower() in {".html", ".htm"} else "md")
    try:
        store = open_store(settings.database_url)
        try:
            record = store.get(args.id)
            # The answer is rebuilt from the record's stored catalogue and rules versions, checked by digest.
            answer = (
                None
                if record is None
                else DecisionArchive(
                    store, lambda: None, lambda catalogue, rules: build_engine(catalogue, rules, settings.cache_dir)
                ).answer(record)
            )
        finally:
            store.close()
    except (StorageError, RebuildError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if record is None or answer is None:
        print(f"error: no decision record with id {args.id!r} (ADVISOR_DATABASE_URL={store.url})", file=sys.stderr)
        return 1
    catalogue, rules = _current_version(settings.catalogue_dir), _current_version(settings.rules_dir)
    info = RecordInfo(
        stored_at=record.stored_at,
        superseded=(catalogue is not None and catalogue != record.catalogue_version)
        or (rules is not None and rules != record.rules_version),
        current_catalogue_version=catalogue,
        current_rules_version=rules,
        rerun_of=record.rerun_of,
    )
    text = render(answer, fmt, info)
    if output is None:
        sys.stdout.write(text)
        return 0
    try:
        write_atomically(output, text)
    except OSError as exc:
        print(f"error: cannot write {output}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"wrote {output} ({fmt}, decision {record.id})", file=sys.stderr)
    return 0


def _prune(args: argparse.Namespace) -> int:
    settings = get_settings()
    days = args.older_than_days if args.older_than_days is not None else settings.record_retention_days
    keep = args.keep if args.keep is not None else settings.record_retention_count
    if days is None and keep is None:
        print(
            "error: nothing to prune by: give --older-than-days or --keep, or set ADVISOR_RECORD_RETENTION_DAYS "
            "or ADVISOR_RECORD_RETENTION_COUNT",
            file=sys.stderr,
        )
        return 2
    older_than = dt.datetime.now(dt.UTC) - dt.timedelta(days=days) if days is not None else None
    try:
        store = open_store(settings.database_url)
        try:
            removed = store.prune(older_than=older_than, keep_newest=keep)
            left = store.count()
        finally:
            store.close()
    except StorageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"pruned {removed} decision records; {left} kept")
    return 0


#: Engines of past catalogue and rules versions kept built while freezing (records are read by id, so versions
#: come mixed; each engine holds a catalogue in memory).
FREEZE_ENGINES_KEPT = 4


def _freeze(_: argparse.Namespace) -> int:
    settings = get_settings()
    frozen = failed = 0
    try:
        store = open_store(settings.database_url)
        try:
            archive = DecisionArchive(
                store,
                lambda: None,
                lambda catalogue, rules: build_engine(catalogue, rules, settings.cache_dir),
                engines_kept=FREEZE_ENGINES_KEPT,
            )
            after = ""
            while ids := store.unfrozen(after):
                for record_id in ids:
                    record = store.get(record_id)
                    if record is None:  # deleted meanwhile
                        continue
                    try:
                        frozen += archive.freeze(record)
                    except RebuildError as exc:
                        failed += 1
                        print(f"error: {exc}", file=sys.stderr)
                after = ids[-1]
        finally:
            store.close()
    except StorageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"froze {frozen} decision records (each now holds its whole answer, checked against its digests); "
        f"{failed} could not be rebuilt exactly and were left as they were"
    )
    return 1 if failed else 0


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return value


def add_records_parser(commands: Any) -> None:
    """Register ``advisor records prune`` and ``advisor records freeze`` on the ``advisor`` sub-command parsers."""
    records = commands.add_parser("records", help="manage stored decision records")
    actions = records.add_subparsers(dest="records_command", required=True)
    prune = actions.add_parser(
        "prune",
        help="delete records past the retention age or count",
        description="Delete decision records older than N days and/or beyond the newest N (defaults: the "
        "ADVISOR_RECORD_RETENTION_DAYS and ADVISOR_RECORD_RETENTION_COUNT settings).",
    )
    prune.add_argument("--older-than-days", type=_positive, default=None)
    prune.add_argument("--keep", type=_positive, default=None, help="keep this many newest records")
    prune.set_defaults(handler=_prune)
    freeze = actions.add_parser(
        "freeze",
        help="keep each record's whole answer in it (run with the release that stored them, before an upgrade)",
        description="Rebuild every record that holds no answer text on its own catalogue and rules versions, check it "
        "against the record's digests (sealing the answer digest if it was not), and keep the text, compressed, in "
        "the record: it is then served as stored by any later release, even one that words answers differently. "
        "Records that cannot be rebuilt exactly are named and left as they were (exit status 1). About 50 KB a record.",
    )
    freeze.set_defaults(handler=_freeze)


def add_report_parser(commands: Any) -> None:
    """Register ``advisor report`` on the ``advisor`` sub-command parsers."""
    report = commands.add_parser(
        "report",
        help="write the procurement report of a stored decision",
        description="Render a stored decision record (from ADVISOR_DATABASE_URL) as Markdown or printable HTML.",
    )
    report.add_argument("id", help="the decision record id, e.g. rec_0123...")
    report.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="md or html (default: html when the output file ends in .html, else md)",
    )
    report.add_argument("-o", "--output", default=None, help="the file to write (default: standard output)")
    report.set_defaults(handler=_report)
