"""Attacker review (attack_svc): FastAPI reads a form body before it solves the dependencies, so
``/v1/verify/media`` and ``/v1/sign/media`` parsed a multipart upload (up to 32 MiB, spooled to
disk) before the key check: 400 instead of 401 for a request without a key, and the parser ran for
anonymous clients. The request gate now checks the key and its scope before the form is read (as
for the JSON routes): 401 / 403 whatever the body, and the form is never parsed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette import formparsers

from tests.adversarial.service_requests import Served, serve

UPLOAD = (
    b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
    b"Content-Type: image/jpeg\r\n\r\n" + b"\xff" * 4096 + b"\r\n--xyz--\r\n"
)
UPLOAD_TYPE = "multipart/form-data; boundary=xyz"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory)


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The multipart parsers that ran."""
    found: list[object] = []
    real = formparsers.MultiPartParser.parse

    async def counting(self: formparsers.MultiPartParser) -> object:
        found.append(self)
        return await real(self)

    monkeypatch.setattr(formparsers.MultiPartParser, "parse", counting)
    return found


@pytest.mark.parametrize("path", ["/v1/verify/media", "/v1/sign/media"])
def test_a_multipart_body_without_a_key_gets_401_whatever_its_body(
    served: Served, path: str
) -> None:
    answer = served.api.client.post(
        path, content=b"junk", headers={"Content-Type": "multipart/form-data"}
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "auth.required")


def test_a_multipart_body_with_a_revoked_key_gets_401(served: Served) -> None:
    headers = {"Authorization": f"Bearer {served.api.keys.revoked}", "Content-Type": UPLOAD_TYPE}
    answer = served.api.client.post("/v1/verify/media", content=UPLOAD, headers=headers)
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "auth.required")


def test_a_multipart_body_with_a_key_of_another_scope_gets_403(served: Served) -> None:
    headers = served.api.keys.header("verify") | {"Content-Type": "multipart/form-data"}
    answer = served.api.client.post("/v1/sign/media", content=b"junk", headers=headers)
    assert (answer.status_code, answer.json()["error"]["code"]) == (403, "auth.forbidden")


@pytest.mark.parametrize("path", ["/v1/verify/media", "/v1/sign/media"])
def test_an_anonymous_upload_is_never_parsed(
    served: Served, parsed: list[object], path: str
) -> None:
    answer = served.api.client.post(path, content=UPLOAD, headers={"Content-Type": UPLOAD_TYPE})
    assert answer.status_code == 401
    assert parsed == [], "the upload was parsed before the key was checked"


def test_an_upload_with_a_key_of_the_route_scope_is_parsed(
    served: Served, parsed: list[object]
) -> None:
    headers = served.api.keys.header("verify") | {"Content-Type": UPLOAD_TYPE}
    answer = served.api.client.post("/v1/verify/media", content=UPLOAD, headers=headers)
    assert answer.status_code != 401 and answer.status_code != 403, answer.text
    assert len(parsed) == 1
