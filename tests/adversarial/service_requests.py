"""Helpers of the service request-path tests (attacker review attack_svc): an app as served with
a signed bundle, where a call ran (event loop or thread pool), and a hand-made ASGI call."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.api.conftest import Api, open_api
from tests.integration.api.support import make_home, sign_body


@dataclass(frozen=True)
class Served:
    """An app as served (fast path on) and one bundle it signed."""

    api: Api
    bundle: dict[str, Any]


def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """An app on SQLite with a bundle it signed, while the caller uses it."""
    home = make_home(tmp_path_factory.mktemp("publisher") / "home")
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'provenance.db'}"
    for api in open_api(home, url, rate_limit_per_minute=100_000):
        signed = api.client.post("/v1/sign", json=sign_body(), headers=api.keys.header("sign"))
        assert signed.status_code == 200, signed.text
        yield Served(api, signed.json()["bundle"])


def on_loop() -> bool:
    """Whether the caller runs on an event loop's thread (not in the thread pool)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def recording(calls: list[bool], real: Callable[..., Any]) -> Callable[..., Any]:
    """``real``, appending to ``calls`` whether each call ran on the event loop."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls.append(on_loop())
        return real(*args, **kwargs)

    return wrapper


def raw_call(
    api: Api, *, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b""
) -> tuple[int, bytes]:
    """Call the ASGI app with a hand-made scope (headers an HTTP client library would refuse)."""
    messages: list[MutableMapping[str, Any]] = []
    pending: list[MutableMapping[str, Any]] = [
        {"type": "http.request", "body": body, "more_body": False}
    ]

    async def receive() -> MutableMapping[str, Any]:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
        "state": {},
    }

    async def run() -> None:
        await api.app(scope, receive, send)

    api.client.portal.call(run)  # type: ignore[union-attr]
    start = next(m for m in messages if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return start["status"], content
