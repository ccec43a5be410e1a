"""A typed client for the open-model advisor's HTTP API, sync and async, over httpx.

>>> from advisor_client import AdvisorClient, Requirements
>>> with AdvisorClient() as client:  # doctest: +SKIP
...     answer = client.create_recommendation(Requirements(use_cases=["coding"]))

Requests and answers are the service's own pydantic models (:mod:`advisor_client.models`); errors are in
:mod:`advisor_client._errors` (tree in its docstring) and re-exported here. ``advisor mcp`` serves the same
API to LLM agents over the Model Context Protocol (:mod:`advisor_client.mcp`, extra ``mcp``).
"""

from advisor_client._client import DEFAULT_URL, AdvisorClient, AsyncAdvisorClient
from advisor_client._errors import (
    AdvisorError,
    APIError,
    AuthenticationError,
    BadRequestError,
    FieldProblem,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServiceUnavailableError,
    TransportError,
)
from advisor_client.models import CompareRequest, Requirements

__version__ = "0.1.0"
__all__ = [
    "DEFAULT_URL",
    "APIError",
    "AdvisorClient",
    "AdvisorError",
    "AsyncAdvisorClient",
    "AuthenticationError",
    "BadRequestError",
    "CompareRequest",
    "FieldProblem",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "Requirements",
    "ServiceUnavailableError",
    "TransportError",
    "__version__",
]
