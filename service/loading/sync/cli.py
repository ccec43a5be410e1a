"""``advisor catalogue sync``: a dry-run diff by default, ``--write`` to apply it atomically.

Exit status: 0 when every selected model synced (conflicts left for review do not fail a run), 1 when
any model or upstream failed or the write failed, 2 for a usage error such as an unknown ``--models`` id.
The service's CLI registers the command with :func:`add_sync_parser` and runs it with
:func:`run_sync_command`.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from service.domain.errors import DataError, UnknownModelError
from service.loading.sync import UPSTREAMS, RetryPolicy, SyncConfig, sync_catalogue, write_report
from service.loading.sync.apply import AtomicWriteError
from service.loading.sync.diff import render_text, report_json

__all__ = ["add_sync_arguments", "add_sync_parser", "main", "run_sync_command"]

_DESCRIPTION = (
    "Refresh signals (likes, downloads, derivative counts, last-modified dates, OpenRouter prices) from the "
    "Hugging Face Hub and OpenRouter. Without --write, print a reviewable diff and change nothing; with "
    "--write, apply the changes of every model that synced, all files or none. Identity facts (licence, "
    "parameters, context length, gating) that disagree are reported, never applied. Upstreams: HF_ENDPOINT, "
    "HF_TOKEN (optional) and OPENROUTER_BASE_URL."
)


def _positive(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
        return value

    return parse


def add_sync_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the sync options to ``parser`` (shared by ``advisor catalogue sync`` and ``python -m``)."""
    parser.add_argument("--source", choices=sorted(UPSTREAMS), default="all", help="upstream(s) to read (default: all)")
    parser.add_argument("--write", action="store_true", help="apply the changes (default: dry run)")
    parser.add_argument("--models", nargs="+", metavar="ID", help="only these model ids (owner/name)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--skip-derivatives", action="store_true", help="do not count derivatives (fewer Hub requests)")
    defaults = RetryPolicy()
    parser.add_argument(
        "--timeout",
        type=_positive(float),
        metavar="SECONDS",
        help=f"per-attempt timeout (default: {defaults.timeout_s:g})",
    )
    parser.add_argument(
        "--max-attempts",
        type=_positive(int),
        metavar="N",
        help=f"attempts per request, retries included (default: {defaults.max_attempts})",
    )
    parser.add_argument(
        "--deadline",
        type=_positive(float),
        metavar="SECONDS",
        help=f"deadline of the whole run (default: {defaults.deadline_s:g})",
    )
    parser.add_argument(
        "--metrics-file",
        type=Path,
        metavar="PATH",
        help="also write the outcome as Prometheus metrics to PATH (for the node exporter's textfile collector)",
    )
    parser.add_argument(
        "--concurrency",
        type=_positive(int),
        metavar="N",
        help=f"requests in flight at once (default: {defaults.concurrency})",
    )


def _subparsers_of(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[argparse.ArgumentParser] | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def add_sync_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``catalogue sync`` under the top-level sub-commands, reusing an existing ``catalogue`` parser.

    The ``sync`` parser sets ``handler`` (called with the parsed args, it runs the sync on the configured
    ``ADVISOR_CATALOGUE_DIR``) as a default, the way ``advisor`` dispatches its sub-commands.
    """
    catalogue = subparsers.choices.get("catalogue")
    if catalogue is None:
        catalogue = subparsers.add_parser("catalogue", help="work on the model catalogue")
    commands = _subparsers_of(catalogue)
    if commands is None:
        commands = catalogue.add_subparsers(dest="catalogue_command", metavar="COMMAND")
        commands.required = True
    sync = commands.add_parser(
        "sync", help="refresh signals from the Hugging Face Hub and OpenRouter", description=_DESCRIPTION
    )
    add_sync_arguments(sync)
    sync.set_defaults(handler=_handle)


def _configured_catalogue_dir() -> Path:
    from service.settings import get_settings

    return get_settings().catalogue_dir


def _handle(args: argparse.Namespace) -> int:
    return run_sync_command(args, _configured_catalogue_dir())


def run_sync_command(
    args: argparse.Namespace,
    catalogue_dir: Path,
    *,
    config: SyncConfig | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run a sync as parsed by :func:`add_sync_arguments`; prints the report and returns the exit status.

    ``config`` defaults to :meth:`SyncConfig.from_env`; ``--timeout`` and the other policy options override it.
    """
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    base = config or SyncConfig.from_env()
    try:
        base = base.with_policy(
            timeout_s=args.timeout,
            max_attempts=args.max_attempts,
            deadline_s=args.deadline,
            concurrency=args.concurrency,
        )
    except ValueError as exc:
        print(f"advisor catalogue sync: {exc}", file=err)
        return 2
    if args.skip_derivatives:
        base = dataclasses.replace(base, derivatives=False)
    try:
        report = asyncio.run(
            sync_catalogue(catalogue_dir, base, upstreams=UPSTREAMS[args.source], model_ids=args.models)
        )
    except UnknownModelError as exc:
        print(f"advisor catalogue sync: {exc} (ids are owner/name, as in the catalogue's models/ folder)", file=err)
        return 2
    except DataError as exc:
        print(f"advisor catalogue sync: the catalogue at {catalogue_dir} does not load: {exc}", file=err)
        return 1
    if args.write:
        try:
            report.written = write_report(report)
        except AtomicWriteError as exc:
            report.write_error = str(exc)
    if args.metrics_file is not None:
        from service.loading.sync.metrics import write_sync_metrics

        try:
            write_sync_metrics(args.metrics_file, report, dry_run=not args.write)
        except OSError as exc:
            print(f"advisor catalogue sync: cannot write {args.metrics_file}: {exc.strerror or exc}", file=err)
            return 1
    if args.json:
        json.dump(report_json(report, dry_run=not args.write), out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        out.write(render_text(report, dry_run=not args.write))
    if report.exit_status:
        print(
            f"advisor catalogue sync: {len(report.failed)} model(s) failed"
            + ("; the write failed" if report.write_error else ""),
            file=err,
        )
    return report.exit_status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m service.loading.sync`` (same options as ``advisor catalogue sync``)."""
    parser = argparse.ArgumentParser(prog="python -m service.loading.sync", description=_DESCRIPTION)
    add_sync_arguments(parser)
    args = parser.parse_args(argv)
    return run_sync_command(args, _configured_catalogue_dir())
