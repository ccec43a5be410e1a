"""Open-model selection advisor: ranks open-weight LLMs against requirements, with sourced reasons."""

import os as _os
import sys as _sys

# One BLAS thread: the engine multiplies small matrices per request, and OpenBLAS's extra threads spin after
# each product, costing 2-3x the CPU of one thread and competing with the server's request threads. It is read
# when NumPy first loads OpenBLAS, so it is set here, before any module of the service imports NumPy; a value
# in the environment is kept.
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# structlog imports rich (and pygments), when installed, for the tracebacks of its console renderer; Litestar
# installs rich for its command line. The service's logs render tracebacks as JSON (or as structlog's plain text
# in the console format), so structlog is imported here, first, with rich hidden from it: every server process
# is 5 MB smaller. Only structlog's view is changed: rich itself stays importable.
if "structlog" not in _sys.modules and "rich" not in _sys.modules:
    _sys.modules["rich"] = None  # type: ignore[assignment]
    try:
        import structlog as _structlog  # noqa: F401
    finally:
        del _sys.modules["rich"]

__version__ = "0.1.0"
__all__ = ["__version__"]
