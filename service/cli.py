"""The ``advisor`` command line: ``serve``, ``check``, ``schema``, ``catalogue sync`` and ``report``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from service.domain.errors import DataError
from service.loading.sync.cli import add_sync_parser
from service.records_cli import add_report_parser
from service.settings import get_settings

__all__ = ["main"]


def configure_logging(level: str) -> None:
    """One JSON object per log line, for log shippers. Tracebacks are structured and carry no local
    variables, so a request's data never lands in the log."""
    import logging

    import structlog
    from structlog.tracebacks import ExceptionDictTransformer

    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False)),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        cache_logger_on_first_use=True,
    )


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.http.app import create_app

    settings = get_settings()
    configure_logging(settings.log_level)
    try:
        app = create_app(settings)
    except DataError as exc:
        print(exc, file=sys.stderr)
        return 1
    uvicorn.run(app, host=args.host or settings.host, port=args.port or settings.port, log_level=settings.log_level)
    return 0


def _check(_: argparse.Namespace) -> int:
    from service.loading.engine import build_engine

    settings = get_settings()
    try:
        engine = build_engine(settings.catalogue_dir, settings.rules_dir)
    except DataError as exc:
        print(exc, file=sys.stderr)
        return 1
    c = engine.catalogue.counts()
    print(
        f"ok: {c['models']} models, {len(engine.rules.licences)} licences, {len(engine.rules.eligibility)} rules; "
        f"catalogue {engine.catalogue_version}, rules {engine.rules_version}\n"
        f"  measurements: {c['measurements']} ({c['models_with_3_measurements']} models with at least 3); "
        f"independent: {c['independent_measurements']} (on {c['models_with_independent_measurement']} models)\n"
        f"  priced offers: {c['priced_offers']} active on {c['models_with_priced_offer']} models from "
        f"{c['providers']} providers ({c['inactive_offers']} retired or superseded)"
    )
    return 0


def _schema(args: argparse.Namespace) -> int:
    from service.loading.schema import write_schemas

    settings = get_settings()
    written = write_schemas(settings.rules_dir / "schema", check=args.check)
    if args.check and written:
        print("JSON Schemas are out of date: " + ", ".join(written), file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (sub-commands register here)."""
    parser = argparse.ArgumentParser(prog="advisor", description="Open-model selection advisor.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.set_defaults(handler=_serve)
    check = commands.add_parser("check", help="validate the catalogue and rules")
    check.set_defaults(handler=_check)
    schema = commands.add_parser("schema", help="regenerate the JSON Schemas of the data files")
    schema.add_argument("--check", action="store_true", help="fail if the committed schemas are out of date")
    schema.set_defaults(handler=_schema)
    add_sync_parser(commands)
    add_report_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``advisor`` console script."""
    args = build_parser().parse_args(argv)
    try:
        get_settings()
    except ValidationError as exc:
        # Settings come from ADVISOR_* environment variables: name the variable and the problem.
        for error in exc.errors():
            name = "ADVISOR_" + "_".join(str(part) for part in error["loc"]).upper()
            print(f"invalid setting {name}: {error['msg']}", file=sys.stderr)
        return 2
    status: int = args.handler(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
