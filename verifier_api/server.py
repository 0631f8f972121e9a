"""The HTTP protocol the service runs under: uvicorn's h11 protocol with JSON error answers.

h11 refuses a request it cannot parse (a malformed ``Content-Length``, a bad request line) before
the app sees it, and uvicorn then answers in plain text. This protocol answers with the API's
JSON error instead: 400 ``request.malformed``. Run uvicorn with
``--http verifier_api.server:JsonErrorH11Protocol`` (``prov serve`` does).
"""

from __future__ import annotations

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from provenance.encoding import dumps_text

PROTOCOL = "verifier_api.server:JsonErrorH11Protocol"
"""What to give uvicorn's ``http`` setting."""


class JsonErrorH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, answering unparsable requests with the API's JSON error."""

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
