"""The HTTP protocol the service runs under: uvicorn's h11 protocol with JSON error answers.

h11 refuses a request it cannot parse (a malformed ``Content-Length``, a bad request line) before
the app sees it, and uvicorn then answers in plain text. This protocol answers with the API's
JSON error instead: 400 ``request.malformed``. Run uvicorn with
``--http verifier_api.server:JsonErrorH11Protocol`` (``prov serve`` does).

It also sets ``TCP_NODELAY`` on every accepted TCP connection itself. asyncio sets it only when the
listening socket's ``proto`` is ``IPPROTO_TCP``; a socket handed to worker processes may carry
``proto`` 0, and then a response written in two parts (head, body) meets Nagle's algorithm and the
client's delayed ACK: ~40 ms per request (the ``--workers 2`` penalty of bench/RESULTS.md).
"""

from __future__ import annotations

import asyncio
import socket

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from provenance import dumps_text

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
