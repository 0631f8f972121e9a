"""One verification path in the service (issue 16.5) and one default policy (issue 16.3).

The API and the web page give the same verdict for the same bundle when no policy is given; each
verification is counted once; a bundle is built once on every route.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from provenance import bundle as bundle_module
from provenance.bundle import Bundle
from provenance.identity import create_csr
from provenance.keys import KeyType, generate_key
from provenance.sign import Signer
from provenance.statement import ContentPredicate
from provenance.text import Canonicalization
from tests.integration.api.conftest import Api, open_api
from tests.integration.api.support import BASE_URL, REVIEW, SERVICE_IDENTITY, sign_body

AUTHOR = f"{BASE_URL}/u/any-identity"
UNSAFE = "UNSAFE: no identity was required; any signer certified by the trust root is accepted"
VERDICT_LABEL = re.compile(r'<h2 id="verdict-label" class="verdict-label">([^<]*)</h2>')


@pytest.fixture(scope="module")
def api_path(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """An app on SQLite with a generous rate limit."""
    url = f"sqlite:///{tmp_path_factory.mktemp('path') / 'provenance.db'}"
    yield from open_api(home, url, rate_limit_per_minute=10_000)


def _service_bundle(api: Api) -> dict[str, Any]:
    response = api.client.post("/v1/sign", json=sign_body(), headers=api.keys.header("sign"))
    assert response.status_code == 200, response.text
    bundle: dict[str, Any] = response.json()["bundle"]
    return bundle


def _unlogged_author_bundle(api: Api) -> dict[str, Any]:
    """A review an author certified by this publisher signed offline (not logged)."""
    key = generate_key(KeyType.P256)
    body = {"csr": create_csr(key, "https://ignored.example/x").decode(), "identity": AUTHOR}
    response = api.client.post("/v1/certificates", json=body, headers=api.keys.header("admin"))
    assert response.status_code == 201, response.text
    pems = response.json()["certificateChain"]
    chain = [x509.load_pem_x509_certificate(pem.encode()) for pem in pems]
    predicate = ContentPredicate("text/plain", Canonicalization.TEXT_V1, datetime.now(UTC))
    return Signer(key, chain).sign(REVIEW.encode(), "review.txt", predicate).to_json()


def _author_bundle(api: Api) -> dict[str, Any]:
    """The author's review as published: logged through ``POST /v1/log/entries`` (the served
    trust root requires the log)."""
    body = {"bundle": _unlogged_author_bundle(api)}
    response = api.client.post("/v1/log/entries", json=body, headers=api.keys.header("log"))
    assert response.status_code == 201, response.text
    bundle: dict[str, Any] = response.json()["bundle"]
    return bundle


def _stranger_bundle() -> dict[str, Any]:
    """A review signed by a key no authority of this publisher certified."""
    predicate = ContentPredicate("text/plain", Canonicalization.TEXT_V1, datetime.now(UTC))
    signer = Signer(generate_key(KeyType.P256))
    return signer.sign(REVIEW.encode(), "review.txt", predicate).to_json()


def _api_verdict(api: Api, bundle: dict[str, Any], content: str = REVIEW) -> dict[str, Any]:
    body = {"content": content, "bundle": bundle}
    response = api.client.post("/v1/verify", json=body, headers=api.keys.header("verify"))
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _page_verdict(api: Api, bundle: dict[str, Any], content: str = REVIEW) -> str:
    files = {
        "content": ("review.txt", content.encode()),
        "bundle": ("review.txt.prov.json", json.dumps(bundle).encode()),
    }
    response = api.client.post("/verify/upload", files=files, data={"identity": ""})
    assert response.status_code == 200, response.text
    page: str = response.text
    return page


@pytest.mark.parametrize(
    ("signed_by", "content", "verified", "failed"),
    [
        ("service", REVIEW, True, []),
        ("author", REVIEW, True, []),
        ("author", REVIEW.replace("lamp", "lump"), False, ["digest.mismatch"]),
        ("unlogged author", REVIEW, False, ["log.missing"]),
        ("stranger", REVIEW, False, ["key.untrusted"]),
    ],
)
def test_api_and_page_give_the_same_verdict_without_a_policy(
    api_path: Api, signed_by: str, content: str, verified: bool, failed: list[str]
) -> None:
    bundle = {
        "service": lambda: _service_bundle(api_path),
        "author": lambda: _author_bundle(api_path),
        "unlogged author": lambda: _unlogged_author_bundle(api_path),
        "stranger": _stranger_bundle,
    }[signed_by]()
    answer = _api_verdict(api_path, bundle, content)
    page = _page_verdict(api_path, bundle, content)
    codes = [f["code"] for f in answer["findings"] if not f["ok"]]
    assert (answer["verified"], codes) == (verified, failed)
    assert VERDICT_LABEL.findall(page) == ["VERIFIED" if verified else "NOT VERIFIED"]
    for code in failed:
        assert f'<code class="code">{code}</code>' in page
    assert (UNSAFE in answer["warnings"]) is True


def test_the_default_policy_is_named_and_a_given_one_is_not_replaced(api_path: Api) -> None:
    bundle = _author_bundle(api_path)
    answer = _api_verdict(api_path, bundle)
    assert answer["signer"]["identities"] == [AUTHOR]
    assert answer["warnings"] == [UNSAFE]
    body = {"content": REVIEW, "bundle": bundle, "policy": {"identity": SERVICE_IDENTITY}}
    response = api_path.client.post("/v1/verify", json=body, headers=api_path.keys.header("verify"))
    refused = response.json()
    assert [f["code"] for f in refused["findings"] if not f["ok"]] == ["policy.identity.mismatch"]
    assert refused["warnings"] == []


def _count(api: Api) -> dict[str, float]:
    metric = api.service.metrics.verifications
    return {label: metric.labels(label)._value.get() for label in ("true", "false")}


def test_every_route_counts_each_verification_once(api_path: Api) -> None:
    bundle = _service_bundle(api_path)
    before = _count(api_path)
    _api_verdict(api_path, bundle)
    _api_verdict(api_path, bundle, REVIEW + "changed\n")
    items = [{"content": REVIEW, "bundle": bundle}] * 3
    response = api_path.client.post(
        "/v1/verify/batch", json={"items": items}, headers=api_path.keys.header("verify")
    )
    assert response.status_code == 200, response.text
    _page_verdict(api_path, bundle)
    after = _count(api_path)
    assert (after["true"] - before["true"], after["false"] - before["false"]) == (5, 1)


def _counting(calls: list[object], original: Callable[..., Any]) -> Callable[..., Any]:
    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[1] if len(args) > 1 else args[0])
        return original(*args, **kwargs)

    return counted


def test_a_bundle_is_built_once_from_the_request_to_the_verdict(
    api_path: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = _service_bundle(api_path)
    built: list[object] = []
    from_json = Bundle.from_json.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(Bundle, "from_json", classmethod(_counting(built, from_json)))
    read_fast = bundle_module._read_fast  # the one-pass reader of bytes of the common shape

    def read_fast_counted(*args: Any) -> Any:
        found = read_fast(*args)
        if found is not None:
            built.append(found)
        return found

    monkeypatch.setattr(bundle_module, "_read_fast", read_fast_counted)
    assert _api_verdict(api_path, bundle)["verified"] is True
    assert len(built) == 1
    assert VERDICT_LABEL.findall(_page_verdict(api_path, bundle)) == ["VERIFIED"]
    assert len(built) == 2
    refused = _api_verdict(api_path, {"mediaType": "application/unknown"})
    assert [f["step"] for f in refused["findings"]] == ["parse"]
    assert len(built) == 3
