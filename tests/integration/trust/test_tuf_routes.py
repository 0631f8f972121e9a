"""The TUF routes: only repository names are served, and an expired timestamp is re-signed."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from tuf.api.metadata import Metadata, Timestamp

from tests.integration.trust.support import TUF, Publisher
from verifier_api.routes import tuf as tuf_routes
from verifier_api.service import utc_now


@pytest.mark.parametrize(
    "name", ["online.key", "settings.json", "0.root.json", "root.json", "%2e%2e"]
)
def test_names_outside_the_repository_are_404(alpha: Publisher, name: str) -> None:
    response = httpx.get(f"{alpha.url}{TUF}/metadata/{name}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "tuf.not_found"
    assert httpx.get(f"{alpha.url}{TUF}/targets/{name}").status_code == 404


def test_an_expired_timestamp_is_re_signed_before_it_is_served(
    alpha: Publisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = Metadata[Timestamp].from_bytes(
        httpx.get(f"{alpha.url}{TUF}/metadata/timestamp.json").content
    )
    later = utc_now() + timedelta(days=2)
    assert first.signed.expires < later
    monkeypatch.setattr(tuf_routes, "utc_now", lambda: later)
    response = httpx.get(f"{alpha.url}{TUF}/metadata/timestamp.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    renewed = Metadata[Timestamp].from_bytes(response.content)
    assert renewed.signed.version == first.signed.version + 1
    assert renewed.signed.expires > later
