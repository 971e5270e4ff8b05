"""Schemathesis against the app's own OpenAPI document: every operation, valid (positive) and
invalid (negative) inputs, authenticated as a county admin, with the current ETag supplied as
If-Match on updates of existing objects. No input may cause a server error.

``RURAL_SCHEMATHESIS_EXAMPLES`` sets the examples per operation and mode (default 4; more for
a deep run).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from api.app import create_app
from tests.apiworld import World

EXAMPLES = int(os.environ.get("RURAL_SCHEMATHESIS_EXAMPLES", "4"))

pytestmark = pytest.mark.slow


def _if_match(case: Any, client: TestClient, auth: dict[str, str]) -> None:
    """Give updates of an existing object the ETag of its current version."""
    if case.method.upper() not in ("PATCH", "POST"):
        return
    params = case.path_parameters or {}
    if not ({"object_id", "user_id"} & set(params)):
        return
    current = client.get(case.formatted_path.removesuffix("/status"), headers=auth)
    if current.status_code == 200 and "etag" in current.headers:
        case.headers = {**(case.headers or {}), "If-Match": current.headers["etag"]}


def _send(client: TestClient, case: Any, auth: dict[str, str]) -> Any:
    """The case's request through one long-lived client (schemathesis' own ASGI call starts
    and stops the app for every request)."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=auth)
    if kwargs.pop("cookies", None):
        pass  # no operation takes cookies
    data = kwargs.pop("data", None)
    if isinstance(data, bytes | str):
        kwargs["content"] = data
    elif data is not None:
        kwargs["data"] = data
    return client.request(**kwargs)


@dataclass
class Tally:
    calls: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


def _exercise(
    operation: Any, mode: GenerationMode, client: TestClient, auth: dict[str, str], tally: Tally
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Any) -> None:
        _if_match(case, client, auth)
        label = operation.label
        try:
            response = _send(client, case, auth)
        except Exception as exc:  # an exception escaping the app is a server error
            tally.failures.append(f"{label}: {type(exc).__name__}: {exc}")
            return
        tally.calls[label] += 1
        tally.statuses[response.status_code] += 1
        if response.status_code >= 500:
            tally.failures.append(
                f"{label} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
            )

    run()


def test_no_input_causes_a_server_error(world: World) -> None:
    app = create_app(world.settings)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    auth = world.bearer("admin_a")
    tally = Tally()
    operations = [result.ok() for result in schema.get_all_operations()]
    with TestClient(app, raise_server_exceptions=False) as client:
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _exercise(operation, mode, client, auth, tally)
    statuses = dict(sorted(tally.statuses.items()))
    summary = (
        f"{len(operations)} operations, {sum(tally.calls.values())} calls, "
        f"statuses {statuses}, server errors {len(tally.failures)}"
    )
    print(f"\nschemathesis: {summary}")
    assert not tally.failures, "\n".join(tally.failures[:20])
    assert len(tally.calls) == len(operations)
    assert tally.statuses[200] + tally.statuses[201] > 0
