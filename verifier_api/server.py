"""The HTTP protocol the service runs under: uvicorn's h11 protocol with JSON error answers.

h11 refuses a request it cannot parse (a malformed ``Content-Length``, a bad request line) before
the app sees it, and uvicorn then answers in plain text. This protocol answers with the API's
JSON error instead: 400 ``request.malformed``. Run uvicorn with
``--http verifier_api.server:JsonErrorH11Protocol`` (``prov serve`` does).

It also sets ``TCP_NODELAY`` on every accepted TCP connection itself. asyncio sets it only when the
listening socket's ``proto`` is ``IPPROTO_TCP``; a socket handed to worker processes may carry
``proto`` 0, and then a response written in two parts (head, body) meets Nagle's algorithm and the
client's delayed ACK: ~40 ms per request (the ``--workers 2`` penalty of bench/RESULTS.md).

With several workers on Linux, each worker listens on a socket of its own in one ``SO_REUSEPORT``
group (``reuse_port_socket``), so the kernel spreads new connections over the workers. On one shared
listening socket the first worker to wake accepts every pending connection (asyncio accepts up to the
backlog per wake-up): a client that opens its connection pool at once, as a platform or a load
generator does, found all 32 of its keep-alive connections on one worker in two of four tries, and the
other worker idle.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from provenance import dumps_text

REUSE_PORT = sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")
"""Whether workers can each listen in a ``SO_REUSEPORT`` group the kernel balances (Linux does;
other systems' ``SO_REUSEPORT`` does not balance, and workers share one socket there)."""

PROTOCOL = "verifier_api.server:JsonErrorH11Protocol"
"""What to give uvicorn's ``http`` setting."""


class JsonErrorH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, answering unparsable requests with the API's JSON error."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Set ``TCP_NODELAY`` on a TCP connection, then proceed as uvicorn does."""
        set_nodelay(transport)
        super().connection_made(transport)

    def send_400_response(self, msg: str) -> None:
        """Answer 400 ``request.malformed`` as JSON and close the connection."""
        error = {"code": "request.malformed", "message": f"the HTTP request is malformed: {msg}"}
        body = dumps_text({"error": error}, compact=True).encode("utf-8")
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode("ascii")),
            (b"connection", b"close"),
        ]
        for event in (
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    """Turn off Nagle's algorithm on the transport's socket when it is TCP (not a Unix socket)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class ReusePortSocket(socket.socket):
    """A bound (not listening) ``SO_REUSEPORT`` socket that a worker process unpickles as a new
    socket of its own bound to the same address, instead of a duplicate of this one.

    uvicorn hands its workers the parent's sockets by pickling them; this socket stays in the parent
    to hold the port, and each worker listens on its own socket in the group.
    """

    def __reduce__(self) -> tuple[Any, tuple[int, str, int]]:
        """Rebuild as a fresh socket bound to this one's address (in the worker process)."""
        host, port = self.getsockname()[:2]
        return (reuse_port_socket, (self.family, host, port))


def reuse_port_socket(family: int, host: str, port: int) -> socket.socket:
    """A TCP socket with ``SO_REUSEADDR`` and ``SO_REUSEPORT``, bound to ``(host, port)``.

    Raises:
        OSError: the address cannot be bound (in use without ``SO_REUSEPORT``, not local).
    """
    sock = ReusePortSocket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock
