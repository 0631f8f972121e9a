"""Attacker review (attack_svc): ``Content-Length: ²`` passed ``str.isdigit()`` and crashed
``int()`` in the body gate (500 and a traceback). Only ASCII digits make a length: else 400
``request.malformed``, as for any malformed Content-Length."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.adversarial.service_requests import Served, raw_call, serve


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory)


@pytest.mark.parametrize("value", [b"\xb2", b"1\xb3", b"\xb9", "\u0663".encode()])
def test_a_content_length_of_non_ascii_digits_is_malformed(served: Served, value: bytes) -> None:
    headers = [
        (b"authorization", f"Bearer {served.api.keys.verify}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", value),
    ]
    status, content = raw_call(
        served.api, method="POST", path="/v1/verify", headers=headers, body=b"{}"
    )
    assert (status, json.loads(content)["error"]["code"]) == (400, "request.malformed")


def test_a_content_length_of_ascii_digits_is_read(served: Served) -> None:
    headers = [
        (b"authorization", f"Bearer {served.api.keys.verify}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", b"2"),
    ]
    status, _ = raw_call(served.api, method="POST", path="/v1/verify", headers=headers, body=b"{}")
    assert status == 422
