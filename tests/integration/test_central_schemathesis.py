"""Property-based requests generated from central's own OpenAPI document: never a 5xx.

Bounded: a few dozen examples per operation, positive and negative data, with valid tokens
so that the requests get past authentication into the business code.
"""

from __future__ import annotations

from collections import Counter

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.integration.central_support import Api

pytest_plugins = ["tests.integration.central_support"]

EXAMPLES = 25


def test_no_generated_request_makes_central_fail_with_a_5xx(api: Api) -> None:
    schema = schemathesis.openapi.from_url(api.server.base_url + "/openapi.json")
    session = api.login()
    tokens = {
        "caja": api.token("F001", "caja"),
        "kiosko": api.token("F001", "kiosko"),
        "sesion": session,
    }
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 10
    for operation in operations:
        path = operation.path
        if path.startswith("/v1/kiosk/sessions") and operation.method.upper() == "POST":
            token = tokens["kiosko"]
        elif path.startswith("/v1/kiosk/"):
            token = tokens["sesion"]
        else:
            token = tokens["caja"]
        _fuzz(operation, api.server.base_url, token, failures, statuses)
    print(f"schemathesis: {sum(statuses.values())} solicitudes, códigos {dict(statuses)}")
    assert failures == []
    # The tokens were good: most requests reached the business code, not just auth.
    assert statuses[200] + statuses[201] > 0 and statuses[422] > 0


def _fuzz(
    operation: schemathesis.APIOperation,
    base_url: str,
    token: str,
    failures: list[str],
    statuses: Counter[int],
) -> None:

    if operation.method.upper() == "DELETE":
        return  # logging out would end the session the other operations use
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case: schemathesis.Case) -> None:
        response = case.call(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        statuses[response.status_code] += 1
        if response.status_code >= 500:
            failures.append(
                f"{operation.method.upper()} {operation.path} → {response.status_code}: "
                f"{response.text[:200]}"
            )

    check()
