"""Attacker finding A2 (session 3): `prov log submit` followed a redirect and sent the API key
(``Authorization: Bearer``) to wherever it pointed, any host and scheme (urllib keeps the header
on redirect; the https-or-loopback check on --url ran once, before the request). A redirect is
now refused, naming where it pointed, and nothing is sent there. The test failed before."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from provenance.sign import Signer
from provenance.statement import ContentPredicate
from provenance.text import Canonicalization
from tests.factories import certified_author, make_authority

SECRET = "prov_abc123_" + "S" * 43


SEEN: list[str] = []


class _Sink(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        SEEN.append(f"{self.command} {self.headers.get('Authorization')}")
        self.send_response(404)
        self.end_headers()

    def do_POST(self) -> None:
        self.do_GET()

    def log_message(self, *args: object) -> None:
        return


def _serving(handler: type[http.server.BaseHTTPRequestHandler]) -> http.server.HTTPServer:
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def redirecting() -> Iterator[tuple[str, list[str]]]:
    """A service URL that answers 302 to another loopback server, and what that server saw."""
    sink = _serving(_Sink)
    SEEN.clear()

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{sink.server_port}/steal")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    redirect = _serving(Redirect)
    try:
        yield f"http://127.0.0.1:{redirect.server_port}", SEEN
    finally:
        for server in (sink, redirect):
            server.shutdown()
            server.server_close()


def test_a_redirect_is_refused_and_the_api_key_goes_nowhere_else(
    redirecting: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, seen = redirecting
    now = datetime.now(UTC)
    ca = make_authority("Reviews Example", created=now - timedelta(days=1))
    author = certified_author(ca, "https://reviews.example/u/a", issued=now - timedelta(hours=1))
    predicate = ContentPredicate("text/plain", Canonicalization.TEXT_V1, now)
    bundle = Signer(author.key, author.chain).sign(b"x\n", "r.txt", predicate)
    (tmp_path / "b.json").write_bytes(bundle.to_bytes())
    (tmp_path / "key").write_text(SECRET + "\n")
    args = ["log", "submit", str(tmp_path / "b.json"), "--url", url]
    result = CliRunner().invoke(app, [*args, "--api-key-file", str(tmp_path / "key")])
    assert result.exit_code == 3, result.output
    assert seen == []
    assert "redirect" in result.output
    assert SECRET not in result.output
