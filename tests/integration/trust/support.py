"""Publishers served on loopback (uvicorn in a thread on a free port), as a platform meets them.

The served app sits behind a swappable ASGI wrapper, so that "restarting the service" after a
rotation (which loads the rotated keys from the home) keeps the same URL.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr
from starlette.types import Receive, Scope, Send
from typer.testing import CliRunner

from cli.main import app as prov_app
from tests.integration.api.support import PASSPHRASE, free_port, sign_body
from verifier_api import crud
from verifier_api.app import create_app
from verifier_api.publisher import home_settings, init_home
from verifier_api.scopes import Scope as KeyScope
from verifier_api.service import Service
from verifier_api.settings import Settings

TUF = "/.well-known/provenance/tuf"


class Swappable:
    """An ASGI app that forwards to whichever app is current."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


@dataclass
class Publisher:
    """A publisher home served on a loopback port."""

    name: str
    home: Path
    url: str
    swap: Swappable
    app: FastAPI
    sign_key: str
    signed: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def service(self) -> Service:
        """The current app's service."""
        service: Service = self.app.state.service
        return service

    @property
    def root_json(self) -> Path:
        """The version 1 root metadata, as handed out of band."""
        return self.home / "tuf" / "metadata" / "1.root.json"

    @property
    def identity(self) -> str:
        """The signing service's identity."""
        return self.service.publisher.service_identity

    def restart(self) -> None:
        """Load the home anew (after a rotation) behind the same URL."""
        old = self.app
        self.app = self.swap.app = _app(self.home)
        old.state.service.close()

    def sign(self, text: str) -> dict[str, Any]:
        """Sign a review through ``/v1/sign``; remember it."""
        response = httpx.post(
            f"{self.url}/v1/sign",
            json=sign_body(content=text),
            headers={"Authorization": f"Bearer {self.sign_key}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        bundle: dict[str, Any] = response.json()["bundle"]
        self.signed.append((text, bundle))
        return bundle


def _app(home: Path) -> FastAPI:
    return create_app(Settings(home=home, passphrase=SecretStr(PASSPHRASE)))


@contextmanager
def served_publisher(
    directory: Path, name: str, *, loopback_crl_url: bool = False
) -> Iterator[Publisher]:
    """A new publisher home named ``name``, served on a free loopback port.

    With ``loopback_crl_url``, certificates name this server's ``/v1/crl`` (plain http on
    loopback) as their CRL distribution point, so that an X.509 validator can fetch it.
    """
    slug = name.lower().replace(" ", "-")
    home = directory / slug
    port = free_port()
    crl_url = f"http://127.0.0.1:{port}/v1/crl" if loopback_crl_url else None
    settings = home_settings(name, None, f"https://{slug}.example", crl_url)
    init_home(home, settings, PASSPHRASE.encode(), now=datetime.now(UTC))
    swap = Swappable(_app(home))
    service: Service = swap.app.state.service
    _, sign_key = crud.create_api_key(service.engine, "t", KeyScope.SIGN, now=datetime.now(UTC))
    config = uvicorn.Config(swap, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    publisher = Publisher(name, home, f"http://127.0.0.1:{port}", swap, swap.app, sign_key)
    try:
        yield publisher
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        publisher.service.close()


def prov(*args: str | Path) -> tuple[int, str, str]:
    """Run `prov` in-process; returns exit code, stdout, stderr."""
    env = {"PROVENANCE_PASSPHRASE": PASSPHRASE}
    result = CliRunner().invoke(prov_app, [str(a) for a in args], env=env)
    return result.exit_code, result.stdout, result.stderr


def write_review(directory: Path, stem: str, text: str, bundle: dict[str, Any]) -> Path:
    """The review and its detached bundle (``<file>.prov.json``) as files."""
    path = directory / f"{stem}.txt"
    path.write_text(text)
    (directory / f"{stem}.txt.prov.json").write_text(json.dumps(bundle))
    return path
