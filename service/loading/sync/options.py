"""What a sync run is configured with: upstream addresses and the retry policy.

Kept apart from the HTTP client (``service.loading.sync.http``) so that registering the ``catalogue sync``
command, which shows these defaults, does not import httpx and tenacity into every ``advisor`` process
(the server among them): they are imported when a sync runs.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_HF_ENDPOINT", "DEFAULT_OPENROUTER_BASE_URL", "RetryPolicy"]

DEFAULT_HF_ENDPOINT = "https://huggingface.co"
DEFAULT_OPENROUTER_BASE_URL = "https://openrouter.ai"


@dataclass(frozen=True)
class RetryPolicy:
    """How patient a sync run is with its upstreams."""

    max_attempts: int = 4
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0
    timeout_s: float = 15.0
    deadline_s: float = 300.0
    concurrency: int = 8

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        for name in ("backoff_base_s", "backoff_max_s", "timeout_s", "deadline_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
