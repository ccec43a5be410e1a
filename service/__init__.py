"""Open-model selection advisor: ranks open-weight LLMs against requirements, with sourced reasons."""

import os as _os

# One BLAS thread: the engine multiplies small matrices per request, and OpenBLAS's extra threads spin after
# each product, costing 2-3x the CPU of one thread and competing with the server's request threads. It is read
# when NumPy first loads OpenBLAS, so it is set here, before any module of the service imports NumPy; a value
# in the environment is kept.
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
__all__ = ["__version__"]
