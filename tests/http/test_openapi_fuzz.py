"""The API against its own OpenAPI document: schemathesis generates requests from the document and checks that
no response is a server error, every response matches the documented status codes, media types and schemas,
and no request that conforms to the document is refused (positive data accepted).

Requests that break the document (negative data) must be refused with a 4xx. Seeded and bounded: the same
cases run every time (``derandomize``), at most POSITIVE_EXAMPLES + NEGATIVE_EXAMPLES per operation.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from litestar import Litestar
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from service.http.app import create_app
from tests.conftest import TODAY

POSITIVE_EXAMPLES = 50
NEGATIVE_EXAMPLES = 20
MINIMUM_CASES = 500
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    positive_data_acceptance,
]


@pytest.fixture(scope="module")
def app() -> Litestar:
    return create_app(clock=lambda: TODAY)


def _operations(schema: Any) -> list[Any]:
    operations = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/schema"):  # the OpenAPI document's own routes are Litestar's
            operations.append(operation)
    return operations


def _has_inputs(operation: Any) -> bool:
    return bool(len(operation.query) or len(operation.path_parameters) or len(operation.body))


def _run(operation: Any, mode: GenerationMode, examples: int, checks: list[Any]) -> int:
    """Run ``examples`` seeded cases of ``operation`` in ``mode``; the number of cases run."""
    cases = 0

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        nonlocal cases
        cases += 1
        case.call_and_validate(checks=checks)

    run()
    return cases


def test_every_operation_keeps_its_documented_contract_on_generated_requests(app: Litestar) -> None:
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    operations = _operations(schema)
    assert len(operations) >= 14, [op.label for op in operations]
    cases = 0
    for operation in operations:
        cases += _run(operation, GenerationMode.POSITIVE, POSITIVE_EXAMPLES, CHECKS)
        if _has_inputs(operation):  # an operation without inputs has no invalid request to generate
            cases += _run(operation, GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES, [*CHECKS, negative_data_rejection])
    assert cases >= MINIMUM_CASES
