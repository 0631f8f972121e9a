"""Every accepted connection has TCP_NODELAY, also on a listening socket with ``proto`` 0.

asyncio sets TCP_NODELAY only when the listening socket's ``proto`` is ``IPPROTO_TCP``; with Nagle
on, a response written as head then body waits for the client's delayed ACK (~40 ms a request).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from verifier_api.server import set_nodelay


async def _nodelay_of_accepted(set_it: bool) -> int:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0)  # proto 0, as a handed-on fd
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            if set_it:
                set_nodelay(transport)
            sock = transport.get_extra_info("socket")
            seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
    _, writer = await asyncio.open_connection(*listener.getsockname())
    value = await asyncio.wait_for(seen, 10)
    writer.close()
    server.close()
    await server.wait_closed()
    return value


def test_accepted_connection_of_a_proto_zero_listener_lacks_nodelay_without_the_fix() -> None:
    assert _run_in_own_thread(_nodelay_of_accepted(set_it=False)) == 0


def test_service_protocol_sets_nodelay_on_accepted_connections() -> None:
    assert _run_in_own_thread(_nodelay_of_accepted(set_it=True)) != 0


def _run_in_own_thread(coroutine: Coroutine[Any, Any, int]) -> int:
    """``asyncio.run`` in a fresh thread: another test in this worker (Playwright's sync API) may
    have left an event loop running in the main thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
