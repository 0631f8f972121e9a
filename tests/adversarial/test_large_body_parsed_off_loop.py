"""Attacker review (attack_svc): the body gate strictly parsed a keyed JSON route's body on the
event loop whatever its size; 1 MiB of nested empty arrays cost 1-2 s of loop time per request
(any verify key). A body over ``HTTP_LIMITS.max_inline_parse_bytes`` is now parsed in the thread
pool; a small one stays on the loop (no thread hand-off on the common path)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from provenance import loads_strict
from tests.adversarial.service_requests import Served, recording, serve
from tests.integration.api.support import REVIEW
from verifier_api import limits
from verifier_api.settings import HTTP_LIMITS

NESTED = b"[" * 30 + b"]" * 30 + b","


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory)


def _nested_body(size: int) -> bytes:
    return b'{"items":[' + NESTED * (size // len(NESTED)) + b"0]}"


@pytest.mark.parametrize("path", ["/v1/verify/batch", "/v1/verify"])
def test_a_keyed_1_mib_body_is_parsed_off_the_event_loop(
    served: Served, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    calls: list[bool] = []
    monkeypatch.setattr(f"{limits.__name__}.loads_strict", recording(calls, loads_strict))
    headers = served.api.keys.header("verify") | {"Content-Type": "application/json"}
    answer = served.api.client.post(path, content=_nested_body(1024 * 1024 - 256), headers=headers)
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "request.invalid"
    assert calls == [False], "a 1 MiB body was strictly parsed on the event loop"


def test_a_body_just_over_the_inline_limit_is_parsed_off_the_loop_and_verified(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[bool] = []
    monkeypatch.setattr(f"{limits.__name__}.loads_strict", recording(calls, loads_strict))
    padding = "x" * HTTP_LIMITS.max_inline_parse_bytes
    body = json.dumps({"content": REVIEW + padding, "bundle": served.bundle})
    headers = served.api.keys.header("verify") | {"Content-Type": "application/json"}
    answer = served.api.client.post("/v1/verify", content=body, headers=headers)
    assert (answer.status_code, answer.json()["verified"]) == (200, False), answer.text
    assert calls == [False]


def test_a_small_body_is_parsed_on_the_event_loop(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[bool] = []
    monkeypatch.setattr(f"{limits.__name__}.loads_strict", recording(calls, loads_strict))
    body = json.dumps({"content": REVIEW, "bundle": served.bundle})
    headers = served.api.keys.header("verify") | {"Content-Type": "application/json"}
    answer = served.api.client.post("/v1/verify", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["verified"] is True
    assert calls == [True]
