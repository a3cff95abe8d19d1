"""The OpenAPI document of the real server, fuzzed with schemathesis: no request it generates may
get a server error (5xx). Bounded and seeded (derandomized), with the fast labeler behind the port
since the model adds nothing to the HTTP layer; well under a minute."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.robustness.server_support import Server

pytestmark = [pytest.mark.integration]


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("fuzz")
    server = Server(directory / "data", directory / "server.log").start()
    yield server
    server.stop()
    assert "Traceback" not in server.log(), server.log()[-4000:]


def test_GIVEN_any_request_the_schema_allows_WHEN_sent_to_the_real_server_THEN_no_server_error(fuzzed_server):
    """Every operation in /openapi.json, 12 seeded valid and 12 invalid examples each (schemathesis' pytest plugin does
    not run under pytest 9 yet, so Hypothesis drives each operation's strategy directly)."""
    from hypothesis import given
    from hypothesis.errors import Unsatisfiable

    schema = schemathesis.openapi.from_url(f"{fuzzed_server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    failures: dict[str, str] = {}
    for operation, mode in [(o, m) for o in operations for m in schemathesis.GenerationMode]:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=12, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case):
            case.call_and_validate(base_url=fuzzed_server.url, checks=[not_a_server_error], timeout=30)

        try:
            fuzz()
        except Unsatisfiable:
            assert mode is schemathesis.GenerationMode.NEGATIVE  # nothing in the operation can be made invalid
        except Exception as exc:  # noqa: BLE001 - collected, reported together below
            failures[f"{operation.label} ({mode.value})"] = f"{type(exc).__name__}: {exc}"[:2000]
    assert len(operations) >= 10 and "PUT /v1/{bucket}/{object}" in [o.label for o in operations]
    assert failures == {}, "\n\n".join(f"{label}: {text}" for label, text in failures.items())
