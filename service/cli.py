"""The ``advisor`` command line: ``serve``, ``check``, ``schema``, ``evaluate``, ``catalogue sync``, ``report``,
``records prune``, ``records freeze`` and ``mcp``."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from service.allocator import allocator_for_loading, tune_allocator
from service.domain.errors import DataError
from service.loading.sync.cli import add_sync_parser
from service.records_cli import add_records_parser, add_report_parser
from service.settings import Settings, get_settings, is_loopback
from service.storage import is_in_memory

if TYPE_CHECKING:
    from service.domain.engine import Engine
    from service.loading.files import DataFiles

__all__ = ["main"]


def configure_logging(level: str, fmt: str = "json") -> None:
    """One JSON object per log line, for log shippers (``console``: readable lines for a terminal).
    Tracebacks are structured and carry no local variables, so a request's data never lands in the log."""
    import logging

    import structlog
    from structlog.tracebacks import ExceptionDictTransformer

    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False)),
            structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        cache_logger_on_first_use=True,
    )


def bind_refusal(host: str, settings: Settings) -> str | None:
    """Why serving on ``host`` is refused, or None: without API keys only loopback, unless behind a proxy."""
    if settings.auth_enabled or settings.behind_proxy or is_loopback(host):
        return None
    return (
        f"refusing to serve on {host} without API keys: anyone who can reach it could use it. Configure "
        "ADVISOR_API_KEYS (or ADVISOR_API_KEYS_FILE), or set ADVISOR_BEHIND_PROXY=true when an authenticating "
        "proxy stands in front of the service."
    )


def create_app_from_environment() -> Any:
    """The app on the process's settings (the factory each server worker process calls)."""
    from service.http.app import create_app

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    allocator_for_loading()  # as in _serve
    app = create_app(settings)
    tune_allocator()
    return app


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    host = args.host or settings.host
    refusal = bind_refusal(host, settings)
    if refusal is not None:
        print(f"error: {refusal}", file=sys.stderr)
        return 2
    workers = args.workers or settings.workers
    if workers > 1 and is_in_memory(settings.database_url):
        print(
            "error: ADVISOR_DATABASE_URL=sqlite:// keeps decision records in one process's memory; with "
            f"{workers} worker processes each would have its own records. Use one worker or a database file.",
            file=sys.stderr,
        )
        return 2
    # Validate the data once here, so that bad files stop the command with their path and field.
    from service.loading.files import DataFiles

    # The allocator: one setting for loading the data, another for serving (see the module).
    allocator_for_loading()
    sources = DataFiles.read(settings.catalogue_dir), DataFiles.read(settings.rules_dir)
    engine = _load_or_report(settings, sources)
    if engine is None:
        return 1
    if workers == 1:
        # One process: serve the engine just validated (and archive the files it was built from) rather than
        # loading the data a second time.
        from service.http.app import create_app

        app: Any = create_app(settings, engine=engine, sources=sources)
    else:
        # Each worker process builds its own app (and engine) from the environment. The workers must sign the
        # web pages' session and CSRF cookies alike: without a configured secret, they share one made here.
        if settings.session_secret is None:
            os.environ["ADVISOR_SESSION_SECRET"] = secrets.token_urlsafe(48)
        app = "service.cli:create_app_from_environment"
    # The files read are with the records store now (until the first record stores them), and a worker process
    # builds its own engine: this frame, alive while serving, keeps neither.
    del sources, engine
    # A server process: return freed answer buffers to the system rather than keeping them (see the module).
    tune_allocator()
    options: dict[str, Any] = {
        "host": host,
        "port": args.port or settings.port,
        "log_level": settings.log_level,
        # The request log is the app's own (route template, status, duration, request id, key name): uvicorn's
        # access log would print raw query strings, where a caller may have put a secret.
        "access_log": False,
        # SIGTERM: stop accepting, let in-flight requests finish (up to 30 s), then exit.
        "timeout_graceful_shutdown": 30,
        # A worker loads and validates the catalogue and rules before it serves: give it time on a busy machine.
        "timeout_worker_healthcheck": 60,
        "proxy_headers": settings.behind_proxy,
    }
    if workers == 1:
        uvicorn.run(app, **options)
        return 0
    from service.serving import WorkersRefusedError, serve_workers

    try:
        serve_workers(app, workers, **options)
    except WorkersRefusedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _mcp(args: argparse.Namespace) -> int:
    try:
        from advisor_client import mcp
    except ImportError as exc:
        print(
            f"error: advisor mcp needs the client package with its MCP extra (advisor-client[mcp]): {exc}",
            file=sys.stderr,
        )
        return 2
    settings = get_settings()
    if args.transport == "stdio":
        mcp.run_stdio(args.url, args.api_key)
        return 0
    refusal = bind_refusal(args.host, settings)
    if refusal is not None:
        print(f"error: {refusal}", file=sys.stderr)
        return 2
    from service.http.security import KeyRing

    keys = KeyRing(tuple(settings.api_keys)) if settings.auth_enabled else None
    mcp.run_http(args.url, args.api_key, keys, args.host, args.port)
    return 0


def _load_or_report(settings: Settings, sources: tuple[DataFiles, DataFiles] | None = None) -> Engine | None:
    """The engine on the configured data (or on ``sources``, its files already read), or None after printing
    every invalid file, field and problem."""
    from service.loading.engine import build_engine

    catalogue, rules = sources or (settings.catalogue_dir, settings.rules_dir)
    try:
        return build_engine(catalogue, rules, settings.cache_dir)
    except DataError as exc:
        print(exc, file=sys.stderr)
        return None


def _check(_: argparse.Namespace) -> int:
    engine = _load_or_report(get_settings())
    if engine is None:
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


def _evaluate(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from service.domain.evaluation import evaluate

    engine = _load_or_report(get_settings())
    if engine is None:
        return 1
    result = evaluate(engine.catalogue, engine.rules)
    if args.json:
        print(json.dumps({**asdict(result), "coverage": result.coverage}, indent=2, sort_keys=True))
    else:
        print("\n".join(result.lines()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (sub-commands register here)."""
    parser = argparse.ArgumentParser(prog="advisor", description="Open-model selection advisor.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--workers", type=int, default=None, help="server processes (default: ADVISOR_WORKERS or 1)")
    serve.set_defaults(handler=_serve)
    check = commands.add_parser("check", help="validate the catalogue and rules")
    check.set_defaults(handler=_check)
    schema = commands.add_parser("schema", help="regenerate the JSON Schemas of the data files")
    schema.add_argument("--check", action="store_true", help="fail if the committed schemas are out of date")
    schema.set_defaults(handler=_schema)
    evaluate = commands.add_parser(
        "evaluate", help="validate the capability model: leave-one-out errors, held-out composites, coverage"
    )
    evaluate.add_argument("--json", action="store_true", help="print the figures as JSON")
    evaluate.set_defaults(handler=_evaluate)
    mcp = commands.add_parser(
        "mcp",
        help="serve the API as MCP tools for LLM agents (stdio, or streamable HTTP at /mcp/)",
        description="Each tool calls the API at --url (default ADVISOR_URL, else http://127.0.0.1:8000) with "
        "--api-key (default ADVISOR_API_KEY). Over HTTP with ADVISOR_API_KEYS configured, every MCP request "
        "needs one of those keys, and that key is the one forwarded to the API.",
    )
    mcp.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    mcp.add_argument("--url", default=None, help="the advisor API's base URL")
    mcp.add_argument("--api-key", default=None, help="key for the API (stdio; HTTP without configured keys)")
    mcp.add_argument("--host", default="127.0.0.1", help="HTTP transport: address to bind")
    mcp.add_argument("--port", type=int, default=8001, help="HTTP transport: port")
    mcp.set_defaults(handler=_mcp)
    add_sync_parser(commands)
    add_report_parser(commands)
    add_records_parser(commands)
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
