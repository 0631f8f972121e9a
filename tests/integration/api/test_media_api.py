"""``POST /v1/sign/media`` and ``POST /v1/verify/media``: multipart uploads, caps and codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from provenance.media import sign_media
from tests.adversarial.media_jumbf import (
    attacker_png,
    impostor,
    second_store_forgery,
    store_leaf,
)
from tests.integration.api.conftest import Api, open_api
from tests.media_samples import JPEG, tiny_png

CLAIMS = json.dumps({"aiGenerated": False})


def _sign(api: Api, data: bytes, mime: str = "image/png", **form: str) -> bytes:
    response = api.client.post(
        "/v1/sign/media",
        files={"file": ("photo.png", data, mime)},
        data={"accountId": "8841", "claims": CLAIMS, **form},
        headers=api.keys.header("sign"),
    )
    assert response.status_code == 200, response.text
    content: bytes = response.content
    return content


def _verify(api: Api, data: bytes, mime: str = "image/png", **extra: object) -> dict[str, object]:
    files = {"file": ("photo.png", data, mime)}
    sidecar = extra.pop("sidecar", None)
    if isinstance(sidecar, bytes):
        files["sidecar"] = ("photo.c2pa", sidecar, "application/c2pa")
    response = api.client.post(
        "/v1/verify/media", files=files, data=extra, headers=api.keys.header("verify")
    )
    assert response.status_code == 200, response.text
    document: dict[str, object] = response.json()
    return document


def _failed(document: dict[str, object]) -> list[str]:
    findings = document["findings"]
    assert isinstance(findings, list)
    return [f["code"] for f in findings if not f["ok"]]


def test_signed_photo_verifies_with_the_service_identity_and_attested_author(api: Api) -> None:
    signed = _sign(api, tiny_png())
    document = _verify(api, signed)
    assert document["verified"] is True, _failed(document)
    signer = document["signer"]
    assert isinstance(signer, dict)
    assert signer["identities"] == [api.service.publisher.service_identity]
    assert document["claims"] == {"aiGenerated": False}
    statement = document["statement"]
    assert isinstance(statement, dict)
    assert statement["author"] == {"id": f"{api.service.publisher.settings.base_url}/u/8841"}


def test_flipped_byte_fails_with_the_c2pa_hash_code(api: Api) -> None:
    signed = bytearray(_sign(api, tiny_png()))
    signed[-20] ^= 0x01
    assert _failed(_verify(api, bytes(signed))) == ["c2pa.assertion.dataHash.mismatch"]


def test_sidecar_leaves_the_photo_untouched_and_verifies_with_it(api: Api) -> None:
    photo = tiny_png()
    response = api.client.post(
        "/v1/sign/media",
        files={"file": ("photo.png", photo, "image/png")},
        data={"accountId": "8841", "sidecar": "true"},
        headers=api.keys.header("sign"),
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/c2pa"
    assert _verify(api, photo, sidecar=response.content)["verified"] is True


def test_service_sidecar_spliced_after_an_attacker_manifest_is_malformed(api: Api) -> None:
    """The service's own claim and signature in a second top-level box of a sidecar, after the
    attacker's manifest (relabelled) that c2pa reads: never the service's identity."""
    now = datetime.now(UTC)
    victim_store = _sign(api, tiny_png(), sidecar="true")
    evil = impostor(store_leaf(victim_store).serial_number, now)
    asset = attacker_png()
    attacker_store = sign_media(
        asset, "image/png", key=evil.key, chain=evil.chain, at=now, sidecar=True
    )
    forged = second_store_forgery(attacker_store, victim_store)
    document = _verify(api, asset, sidecar=forged)
    assert document["verified"] is False
    assert document["signer"] is None
    assert _failed(document) == ["media.malformed"]


def test_photo_without_manifest_is_reported_unsigned(api: Api) -> None:
    assert _failed(_verify(api, JPEG, "image/jpeg")) == ["media.unsigned"]


def test_wrong_identity_policy_is_a_mismatch(api: Api) -> None:
    signed = _sign(api, tiny_png())
    policy = json.dumps({"identity": "https://reviews.example/u/1"})
    assert _failed(_verify(api, signed, policy=policy)) == ["policy.identity.mismatch"]


def test_malformed_policy_is_a_422(api: Api) -> None:
    response = api.client.post(
        "/v1/verify/media",
        files={"file": ("photo.png", tiny_png(), "image/png")},
        data={"policy": "{not json"},
        headers=api.keys.header("verify"),
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "request.invalid"


def test_text_cannot_be_signed_as_media(api: Api) -> None:
    response = api.client.post(
        "/v1/sign/media",
        files={"file": ("review.txt", b"hello", "text/plain")},
        data={"accountId": "8841"},
        headers=api.keys.header("sign"),
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "media.refused"


@pytest.mark.parametrize(
    ("path", "allowed"), [("/v1/sign/media", "sign"), ("/v1/verify/media", "verify")]
)
def test_media_routes_need_the_right_key(api: Api, path: str, allowed: str) -> None:
    files = {"file": ("photo.png", tiny_png(), "image/png")}
    data = {"accountId": "8841"}
    assert api.client.post(path, files=files, data=data).status_code == 401
    if allowed == "sign":
        response = api.client.post(path, files=files, data=data, headers=api.keys.header("verify"))
        assert response.status_code == 403


@pytest.fixture(scope="module")
def tight(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    url = f"sqlite:///{tmp_path_factory.mktemp('tight') / 'provenance.db'}"
    yield from open_api(home, url, max_media_bytes=4096)


def test_oversized_upload_is_refused_with_413(tight: Api) -> None:
    response = tight.client.post(
        "/v1/verify/media",
        files={"file": ("big.png", b"\x00" * 10_000, "image/png")},
        headers=tight.keys.header("verify"),
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request.too_large"


def test_upload_within_the_media_cap_is_accepted(tight: Api) -> None:
    response = tight.client.post(
        "/v1/verify/media",
        files={"file": ("photo.png", tiny_png(), "image/png")},
        headers=tight.keys.header("verify"),
    )
    assert response.status_code == 200
