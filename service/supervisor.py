"""Several worker processes under one supervisor (``advisor serve --workers N``): how a worker reaches it.

A worker's data reload (``POST /v1/admin/reload``) swaps the data of that worker only; the others would go on
answering from the data they loaded. The supervisor (uvicorn's) replaces every worker, one at a time, when it
receives SIGHUP: each new worker is in service, having loaded the data afresh, before the old one is stopped (and the
old one finishes the requests it holds). ``advisor serve`` names the supervisor's process in the environment its
workers inherit.
"""

from __future__ import annotations

import os
import signal

__all__ = ["SUPERVISOR_ENV", "announce_supervisor", "restart_workers"]

#: The environment variable naming the supervisor's process id (set by ``advisor serve`` for several workers).
SUPERVISOR_ENV = "ADVISOR_SUPERVISOR_PID"


def announce_supervisor() -> None:
    """Name this process as the supervisor of the workers it is about to start."""
    os.environ[SUPERVISOR_ENV] = str(os.getpid())


def restart_workers() -> bool:
    """Ask the supervisor to replace every worker (True), or False when this process is not one of several
    workers: no supervisor named, or the one named is not this process's parent."""
    named = os.environ.get(SUPERVISOR_ENV, "")
    if not named.isdigit() or int(named) != os.getppid() or not hasattr(signal, "SIGHUP"):
        return False
    os.kill(int(named), signal.SIGHUP)
    return True
