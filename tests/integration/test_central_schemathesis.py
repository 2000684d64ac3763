"""Property-based requests generated from central's own OpenAPI document, each answer held
to every check schemathesis has (conformance included): never a 5xx, only documented
statuses, bodies and content types, schema-violating requests refused and valid ones
accepted or refused as documented.

Bounded: 100 examples per operation, positive and negative data, with valid tokens so that
the requests get past authentication into the business code.
"""

from __future__ import annotations

from collections import Counter

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

from tests.integration.central_support import Api

pytest_plugins = ["tests.integration.central_support"]

EXAMPLES = 100
load_all_checks()
# Every check schemathesis has: server errors, status codes, content types, headers and
# response schemas as documented (conformance), positive and negative data, missing
# headers, unsupported methods, ignored authentication…
ALL_CHECKS = list(CHECKS.get_all())
# A schema-valid request may still be refused by what the API documents for it: a business
# rule (422), a referencia already paid (409), a locked affiliate (423), a kiosk over its
# login limit (429), something that does not exist (404).
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "401", "403", "404", "409", "422", "423", "429"]
            }
        }
    }
)


def test_every_generated_request_passes_every_schemathesis_check(api: Api) -> None:
    schema = schemathesis.openapi.from_url(api.server.base_url + "/openapi.json", config=CONFIG)
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
    print(f"schemathesis: {len(failures)} fallas")
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
        headers = {"Authorization": f"Bearer {token}"}
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=ALL_CHECKS, headers=headers)
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - each failure is listed
            failures.append(
                f"{operation.method.upper()} {operation.path} → {response.status_code}: "
                f"{str(exc)[:1500]}"
            )

    check()
