"""Property-based run over the OpenAPI document against the running gateway: no 5xx, ever."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from services.gateway.openapi import OPENAPI_PATH
from tests.support.services import TEST_API_KEY, Stack

pytestmark = pytest.mark.e2e

schema = schemathesis.openapi.from_path(str(OPENAPI_PATH))


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_gateway_never_answers_5xx(case: schemathesis.Case, stack: Stack) -> None:
    # A live stream that opened never ends: schemathesis reads it until a second of silence.
    streaming = case.operation.path.endswith("/progress/stream")
    case.call_and_validate(
        base_url=stack.gateway_url,
        headers={"Authorization": f"Bearer {TEST_API_KEY}"},
        checks=[not_a_server_error],
        **({"timeout": 1.0} if streaming else {}),
    )
