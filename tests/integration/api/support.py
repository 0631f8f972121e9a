"""Helpers of the service tests: publisher homes, PostgreSQL databases, server processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from provenance.bundle import Bundle
from provenance.identity.trust import TrustRoot
from provenance.verify.policy import Identity
from provenance.verify.result import VerificationResult
from provenance.verify.verifier import Verifier
from verifier_api.publisher import home_settings, init_home
from verifier_api.server import PROTOCOL

PASSPHRASE = "correct horse battery staple"
POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NAME = "Reviews Example"
BASE_URL = "https://reviews.example"
SERVICE_IDENTITY = f"{BASE_URL}/signing-service"
REVIEW = "The desk lamp is sturdy and bright.\nFive stars.\n"
TAMPERED = REVIEW.replace("Five", "Four")


def make_home(directory: Path) -> Path:
    """A fresh publisher home for ``Reviews Example``."""
    settings = home_settings(NAME, None, BASE_URL)
    init_home(directory, settings, PASSPHRASE.encode(), now=datetime.now(UTC))
    return directory


def sign_body(content: str = REVIEW, account: str = "8841", **extra: Any) -> dict[str, Any]:
    """A valid ``/v1/sign`` body."""
    return {
        "content": content,
        "contentType": "text/plain",
        "author": {"accountId": account, "displayName": "Dana"},
        "claims": {"verifiedPurchase": True},
        **extra,
    }


def verify_offline(trust_json: bytes, content: str, bundle: dict[str, Any]) -> VerificationResult:
    """Verify with the library alone, as a platform would after fetching the trust root."""
    trust = TrustRoot.from_json(trust_json)
    parsed = Bundle.from_json(bundle)
    return Verifier(trust).check(
        content.encode(), parsed, Identity(SERVICE_IDENTITY), at=datetime.now(UTC)
    )


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database (dropped afterwards); skips without a server unless CI."""
    name = f"provenance_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        reason = f"PostgreSQL at 127.0.0.1:5432 does not answer: {exc.orig}"
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI is set, so this is a failure)")
        pytest.skip(reason)
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def service_environment(home: Path, database_url: str | None = None) -> dict[str, str]:
    """The environment of a server process for ``home``."""
    env = {**os.environ, "PROVENANCE_HOME": str(home), "PROVENANCE_PASSPHRASE": PASSPHRASE}
    if database_url:
        env["PROVENANCE_DATABASE_URL"] = database_url
    return env


@contextmanager
def server_process(home: Path, database_url: str | None = None) -> Iterator[str]:
    """Run the service under uvicorn on a free loopback port; yield its base URL."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "verifier_api.app:app_from_environment", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
        "--http", PROTOCOL,
    ]  # fmt: skip
    log_path = home / f"server-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=service_environment(home, database_url), stdout=log, stderr=log
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(process, base, log_path)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=15)


def _wait_ready(process: subprocess.Popen[bytes], base: str, log_path: Path) -> None:
    deadline = time.monotonic() + 120  # a wait for start-up, not a timing assertion
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited: {log_path.read_text()}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the server did not become ready: {log_path.read_text()}")
