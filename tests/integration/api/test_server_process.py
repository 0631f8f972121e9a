"""The service as a real server process (uvicorn on a loopback port), and its settings."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from tests.integration.api.support import (
    PASSPHRASE,
    REVIEW,
    TAMPERED,
    server_process,
    sign_body,
    verify_offline,
)
from verifier_api import crud
from verifier_api.app import create_app
from verifier_api.db import make_engine
from verifier_api.migrations import upgrade_database
from verifier_api.scopes import Scope
from verifier_api.service import utc_now
from verifier_api.settings import Settings, SettingsError


def test_server_process_signs_and_verifies_over_http(home: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    engine = make_engine(url)
    upgrade_database(engine)
    _, key = crud.create_api_key(engine, "server", Scope.SIGN, now=utc_now())
    engine.dispose()
    auth = {"Authorization": f"Bearer {key}"}
    with server_process(home, url) as base:
        signed = httpx.post(f"{base}/v1/sign", json=sign_body(), headers=auth, timeout=10)
        assert signed.status_code == 200, signed.text
        bundle = signed.json()["bundle"]
        trust = httpx.get(f"{base}/.well-known/provenance/trust-root.json").content
        assert verify_offline(trust, REVIEW, bundle).verified
        tampered = httpx.post(
            f"{base}/v1/verify", json={"content": TAMPERED, "bundle": bundle}, headers=auth
        ).json()
        assert [f["code"] for f in tampered["findings"] if not f["ok"]] == ["digest.mismatch"]
        assert httpx.get(f"{base}/docs").status_code == 200


def _raw_request(base: str, head: bytes) -> tuple[int, bytes, bytes]:
    """Send ``head`` (a request with its headers) over a socket; the status, headers and body."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head + b'{"content": "x", "bundle": {}}')
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    headers, _, body = answer.partition(b"\r\n\r\n")
    return int(headers.split(b" ", 2)[1]), headers.lower(), body


def test_malformed_content_length_over_http_gets_the_json_error(home: Path, tmp_path: Path) -> None:
    answers = {}
    with server_process(home, f"sqlite:///{tmp_path / 'server.db'}") as base:
        for length in (b"abc", b"-1", b"1, 2", b"0x10"):
            answers[length] = _raw_request(
                base,
                b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: " + length + b"\r\n\r\n",
            )
    for length, (status, headers, body) in answers.items():
        assert status == 400, length
        assert b"content-type: application/json" in headers, length
        assert json.loads(body)["error"]["code"] == "request.malformed", length


@pytest.mark.parametrize("secret", ["", "changeme", "CHANGETHIS", "short"])
def test_settings_refuse_placeholder_passphrases(home: Path, secret: str) -> None:
    with pytest.raises(ValidationError):
        Settings(home=home, passphrase=secret)  # type: ignore[arg-type]


def test_app_refuses_to_start_with_a_wrong_passphrase(home: Path, tmp_path: Path) -> None:
    settings = Settings(
        home=home,
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
        passphrase="a wrong but long passphrase",  # type: ignore[arg-type]
    )
    with pytest.raises(SettingsError, match="cannot load the publisher home"):
        create_app(settings)


def test_app_refuses_to_start_without_a_passphrase(home: Path, tmp_path: Path) -> None:
    settings = Settings(home=home, database_url=f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(SettingsError, match="PROVENANCE_PASSPHRASE"):
        create_app(settings)


def test_passphrase_file_is_read(home: Path, tmp_path: Path) -> None:
    secret_file = tmp_path / "passphrase"
    secret_file.write_text(PASSPHRASE + "\n")
    settings = Settings(home=home, passphrase_file=secret_file)
    assert settings.passphrase_bytes() == PASSPHRASE.encode()


def test_migrations_create_exactly_the_tables_of_the_models(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata  # noqa: PLC0415
    from alembic.migration import MigrationContext  # noqa: PLC0415

    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade_database(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    engine.dispose()
    assert differences == []
