"""A bounded, derandomized schemathesis run over the OpenAPI document: no request gets a 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Ok

from tests.integration.api.conftest import Api, open_api

MAX_EXAMPLES = 12


@pytest.fixture(scope="module")
def fuzzed(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """An app with a rate limit high enough for the run."""
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'provenance.db'}"
    yield from open_api(home, url, rate_limit_per_minute=100_000)


def _operations(api: Api) -> list[st.SearchStrategy[Any]]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results)
    return [result.ok().as_strategy() for result in results if isinstance(result, Ok)]


@pytest.mark.parametrize("scope", ["admin", "sign"])
def test_no_generated_request_gets_a_server_error(fuzzed: Api, scope: str) -> None:
    headers = fuzzed.keys.header(scope)
    failures: list[str] = []

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        for strategy in strategies:
            case = data.draw(strategy)
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.text[:300]}")

    strategies = _operations(fuzzed)
    run()
    assert failures == []
