"""The web pages rendered server side (no browser): verdicts, escaping, headers, the demo gate."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from pydantic import SecretStr

from provenance.armor import armor_text
from provenance.bundle import Bundle
from tests.integration.api.support import (
    BASE_URL,
    NAME,
    PASSPHRASE,
    REVIEW,
    SERVICE_IDENTITY,
    sign_body,
)
from verifier_api import crud
from verifier_api.app import create_app
from verifier_api.scopes import Scope
from verifier_api.service import Service, utc_now
from verifier_api.settings import Settings

HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_CLAIM = "<b>bold</b>"
VERDICT_LABEL = re.compile(r'<h2 id="verdict-label" class="verdict-label">([^<]*)</h2>')
VERDICT_REASON = re.compile(r'<p class="reason value" id="verdict-reason">([^<]*)</p>')
NOTICE = 'class="notice value"'
ARMORED_TEXTAREA = re.compile(r'<textarea id="armored"[^>]*>(.*?)</textarea>', re.DOTALL)


@dataclass(frozen=True)
class Site:
    """A client of an app with the demo on, and a key with scope ``sign``."""

    client: TestClient
    sign_key: str

    def sign_armored(self, content: str = REVIEW, **body: Any) -> str:
        """Sign ``content`` through ``/v1/sign`` and clear-sign it."""
        headers = {"Authorization": f"Bearer {self.sign_key}"}
        answer = self.client.post("/v1/sign", json=sign_body(content, **body), headers=headers)
        assert answer.status_code == 200, answer.text
        return armor_text(content, Bundle.from_json(answer.json()["bundle"]))

    def verify(self, document: str, identity: str = "") -> str:
        """The verification page's HTML for ``document``."""
        answer = self.client.post("/verify", data={"document": document, "identity": identity})
        assert answer.status_code == 200, answer.text
        page: str = answer.text
        return page


def open_site(home: Path, database: Path, *, demo: bool) -> Iterator[Site]:
    """Run an app on ``home`` with the demo on or off."""
    settings = Settings(
        home=home, database_url=f"sqlite:///{database}", passphrase=SecretStr(PASSPHRASE)
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROVENANCE_DEMO", "1" if demo else "0")
        app = create_app(settings)
    with TestClient(app) as client:
        service: Service = app.state.service
        _, key = crud.create_api_key(service.engine, "web", Scope.SIGN, now=utc_now())
        yield Site(client, key)


@pytest.fixture(scope="module")
def site(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The pages with the demo on."""
    yield from open_site(home, tmp_path_factory.mktemp("web") / "p.db", demo=True)


def verdict_of(page: str) -> list[str]:
    """Every verdict label on ``page``."""
    return VERDICT_LABEL.findall(page)


def reason_of(page: str) -> str:
    """The plain sentence under the verdict label."""
    match = VERDICT_REASON.search(page)
    assert match is not None, page
    return html.unescape(match.group(1))


def demo_review(site: Site, **fields: str) -> str:
    """Submit the demo form and return the armored text shown."""
    form = {"account_id": "dana-8841", "display_name": "Dana", "text": REVIEW, **fields}
    answer = site.client.post("/demo", data=form)
    assert answer.status_code == 200, answer.text
    match = ARMORED_TEXTAREA.search(answer.text)
    assert match is not None
    return html.unescape(match.group(1))


def test_pages_send_strict_security_headers(site: Site) -> None:
    for path in ("/", "/demo", "/static/site.css"):
        headers = site.client.get(path).headers
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"


def test_pages_load_only_local_assets_and_label_every_field(site: Site) -> None:
    for path in ("/", "/demo"):
        page = site.client.get(path).text
        assert '<meta name="viewport"' in page
        for reference in re.findall(r'(?:src|href)="([^"]*)"', page):
            assert reference.startswith("/"), reference
        field_ids = re.findall(r'<(?:input|textarea)[^>]*\bid="([^"]+)"', page)
        labels = set(re.findall(r'<label for="([^"]+)"', page))
        assert field_ids
        assert set(field_ids) <= labels


def test_static_files_are_served_with_their_type_and_others_are_not_found(site: Site) -> None:
    css = site.client.get("/static/site.css")
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert site.client.get("/static/copy.js").headers["content-type"].startswith("text/javascript")
    assert site.client.get("/static/..%2Fpages.py").status_code == 404
    assert site.client.get("/static/routes.py").status_code == 404


def test_demo_review_armor_verifies_on_the_page_with_the_demo_identity(site: Site) -> None:
    page = site.verify(demo_review(site, verified_purchase="yes"))
    assert verdict_of(page) == ["VERIFIED"]
    assert f"{BASE_URL}/u/dana-8841" in page
    assert SERVICE_IDENTITY in page
    assert "verifiedPurchase" in page
    assert reason_of(page) == f"Signed by {SERVICE_IDENTITY}, vouched for by {NAME} Issuing CA."
    assert "digest.ok" in page


def test_no_identity_gives_one_note_and_no_unsafe_line(site: Site) -> None:
    page = site.verify(demo_review(site))
    assert page.count(NOTICE) == 1
    assert f"anyone vouched for by {NAME} is accepted" in page
    assert "UNSAFE" not in page


def test_no_note_where_identity_does_not_matter(site: Site) -> None:
    for page in (
        site.verify("just some text"),
        site.verify(demo_review(site).replace("sturdy", "flimsy")),
        site.verify(demo_review(site), identity=SERVICE_IDENTITY),
    ):
        assert NOTICE not in page
        assert "UNSAFE" not in page


def test_identity_placeholder_names_this_publishers_signing_identity(site: Site) -> None:
    page = site.client.get("/").text
    assert f'placeholder="{SERVICE_IDENTITY}"' in page
    assert "reviews.example/signing-service" not in page.replace(BASE_URL, "")


def test_required_identity_is_enforced(site: Site) -> None:
    armored = demo_review(site)
    page = site.verify(armored, identity=SERVICE_IDENTITY)
    assert verdict_of(page) == ["VERIFIED"]
    assert NOTICE not in page
    other = site.verify(armored, identity=f"{BASE_URL}/someone-else")
    assert verdict_of(other) == ["NOT VERIFIED"]
    assert reason_of(other) == f"Signed by {SERVICE_IDENTITY}, not by the signer you asked for."
    assert "policy.identity.mismatch" in other


def test_changed_word_fails_with_digest_mismatch(site: Site) -> None:
    armored = demo_review(site)
    page = site.verify(armored.replace("sturdy", "flimsy"))
    assert verdict_of(page) == ["NOT VERIFIED"]
    assert reason_of(page) == "This text was changed after it was signed."
    assert '<code class="code">digest.mismatch</code>' in page


def test_changed_text_comes_before_the_claims_which_describe_the_original(site: Site) -> None:
    page = site.verify(demo_review(site, verified_purchase="yes").replace("sturdy", "flimsy"))
    reason = page.index('id="verdict-reason"')
    changed = page.index("flimsy")
    heading = page.index("What the signature says about the original text, not this one")
    claims = page.index("verifiedPurchase")
    details = page.index("<summary>Technical details</summary>")
    assert reason < changed < heading < claims < details
    assert details < page.index("digest.mismatch")


def test_partly_signed_text_is_never_shown_as_verified(site: Site) -> None:
    page = site.verify("Best lamp ever, says the shop.\n" + demo_review(site))
    assert verdict_of(page) == ["PARTLY SIGNED"]
    assert reason_of(page) == (
        "Part of this text (line 1) is not covered by any signature: do not trust it."
    )
    assert "UNSIGNED, line 1: no signature covers this text" in page
    assert "armor.partly_signed" in page


def test_text_without_armor_is_not_verified(site: Site) -> None:
    page = site.verify("just some text")
    assert verdict_of(page) == ["NOT VERIFIED"]
    assert reason_of(page) == "Nothing here is signed: there is no signed block in this text."
    assert "armor.missing" in page


def test_names_claims_and_identities_from_bundles_are_escaped(site: Site) -> None:
    armored = site.sign_armored(
        author={"accountId": "mallory", "displayName": HOSTILE_NAME},
        claims={"note": HOSTILE_CLAIM},
    )
    page = site.verify(armored, identity="<script>alert(1)</script>")
    assert "<img" not in page
    assert "<b>" not in page
    assert "<script>alert" not in page
    assert escape(HOSTILE_NAME) in page
    assert escape(json.dumps(HOSTILE_CLAIM)) in page
    assert "policy.identity.mismatch" in page


def test_signed_content_cannot_fake_the_verdict(site: Site) -> None:
    fake_verdict = '<h2 id="verdict-label" class="verdict-label">VERIFIED</h2>'
    armored = site.sign_armored(f"{fake_verdict}\nTrust me.\n")
    page = site.verify(armored.replace("Trust", "Believe"))
    assert verdict_of(page) == ["NOT VERIFIED"]
    assert escape(fake_verdict) in page


def test_control_and_bidi_characters_are_shown_as_escapes(site: Site) -> None:
    armored = site.sign_armored(author={"accountId": "eve", "displayName": "Eve\u202etxt.exe"})
    page = site.verify(armored)
    assert "Eve\\u202etxt.exe" in page
    assert "\u202e" not in page


def test_upload_form_verifies_content_against_its_bundle(site: Site) -> None:
    headers = {"Authorization": f"Bearer {site.sign_key}"}
    bundle = site.client.post("/v1/sign", json=sign_body(), headers=headers).json()["bundle"]
    bundle_file = ("review.prov.json", json.dumps(bundle).encode(), "application/json")
    for content, expected in ((REVIEW, "VERIFIED"), (REVIEW + "PS.", "NOT VERIFIED")):
        files = {"content": ("review.txt", content.encode(), "text/plain"), "bundle": bundle_file}
        page = site.client.post("/verify/upload", files=files, data={"identity": ""}).text
        assert verdict_of(page) == [expected]
    assert "digest.mismatch" in page


def test_demo_form_refuses_a_bad_account_and_keeps_input_escaped(site: Site) -> None:
    form = {"account_id": "bad id!", "display_name": HOSTILE_NAME, "text": "x"}
    answer = site.client.post("/demo", data=form)
    assert answer.status_code == 422
    assert "Account id: 1 to 64 letters" in answer.text
    assert "<img" not in answer.text
    assert escape(HOSTILE_NAME) in answer.text


def test_demo_shows_the_review_escaped_with_badges(site: Site) -> None:
    form = {
        "account_id": "dana-8841",
        "display_name": HOSTILE_NAME,
        "text": REVIEW,
        "verified_purchase": "yes",
    }
    page = site.client.post("/demo", data=form).text
    assert "<img" not in page
    assert escape(HOSTILE_NAME) in page
    assert f"Signed by {NAME}" in page
    assert "Verified purchase</span>" in page


def test_demo_is_off_unless_enabled(home: Path, tmp_path: Path) -> None:
    for site in open_site(home, tmp_path / "off.db", demo=False):
        assert site.client.get("/demo").status_code == 404
        refused = site.client.post("/demo", data={"account_id": "a", "display_name": "b"})
        assert refused.status_code == 404
        assert 'href="/demo"' not in site.client.get("/").text


def demo_post(site: Site, text: str, name: str = "Dana") -> str:
    """Publish a review on /demo; returns its id in the demo's store."""
    form = {
        "account_id": "dana-8841",
        "display_name": name,
        "text": text,
        "verified_purchase": "yes",
    }
    answer = site.client.post("/demo", data=form)
    assert answer.status_code == 200, answer.text
    match = re.search(r'href="/demo/reviews/([0-9]+)" id="full-verdict"', answer.text)
    assert match is not None
    return match.group(1)


def review_card(page: str, review_id: str) -> str:
    """The HTML of one review's card in the /demo list."""
    match = re.search(
        rf'<article class="review [^"]*" id="review-{int(review_id)}">(.*?)</article>', page, re.S
    )
    assert match is not None, review_id
    return match.group(1)


def test_demo_lists_published_reviews_newest_first_with_verified_badges(site: Site) -> None:
    older = demo_post(site, "Older review: the lamp is fine.\n", name="Olga")
    newer = demo_post(site, "Newer review: the lamp is great.\n", name="Nina")
    page = site.client.get("/demo").text
    assert page.index(f'id="review-{int(newer)}"') < page.index(f'id="review-{int(older)}"')
    card = review_card(page, newer)
    assert '<span class="badge badge-verified">VERIFIED</span>' in card
    assert "Written by Nina, as attested by Reviews Example." in card
    assert "verifiedPurchase: true" in card
    assert f'href="/demo/reviews/{newer}"' in card
    assert verdict_of(site.client.get(f"/demo/reviews/{newer}").text) == ["VERIFIED"]


def test_review_changed_after_signing_shows_not_verified_in_the_list(
    site: Site, home: Path
) -> None:
    review_id = demo_post(site, "Five stars, would buy again.\n")
    stored = home / "demo-reviews" / f"{review_id}.json"
    document = json.loads(stored.read_text())
    document["text"] = document["text"].replace("Five", "One")
    stored.write_text(json.dumps(document))
    card = review_card(site.client.get("/demo").text, review_id)
    assert '<span class="badge badge-not-verified">NOT VERIFIED</span>' in card
    assert "This text was changed after it was signed." in card
    assert "badge-verified" not in card and "Written by" not in card
    full = site.client.get(f"/demo/reviews/{review_id}").text
    assert verdict_of(full) == ["NOT VERIFIED"]
    assert reason_of(full) == "This text was changed after it was signed."


def test_unknown_or_malformed_review_ids_are_not_found(site: Site) -> None:
    for review_id in ("99999999999999999999", "..%2Fsettings", "abc"):
        assert site.client.get(f"/demo/reviews/{review_id}").status_code == 404


def test_forms_state_their_limits_up_front(site: Site) -> None:
    assert "Up to 1 MiB of text." in site.client.get("/").text
    assert "Up to 1 MiB for the file and its bundle together" in site.client.get("/").text
    assert "Display name: up to 1024 characters" in site.client.get("/demo").text


def test_too_large_form_posts_get_an_html_page_stating_the_limit(site: Site) -> None:
    big = b"x" * (2 * 1024 * 1024)
    answers = [
        site.client.post("/verify", data={"document": big.decode()}),
        site.client.post("/verify/upload", files={"content": ("a", big), "bundle": ("b", b"{}")}),
        site.client.post(
            "/demo", data={"account_id": "a", "display_name": "b", "text": big.decode()}
        ),
    ]
    for answer in answers:
        assert answer.status_code == 413
        assert answer.headers["content-type"].startswith("text/html")
        assert "larger than 1 MiB, the most this page accepts" in answer.text
        assert '"error"' not in answer.text
    api = site.client.post("/v1/verify", content=big, headers={"Content-Type": "application/json"})
    assert api.status_code == 413 and api.json()["error"]["code"] == "request.too_large"


def test_demo_signs_and_says_so_when_its_review_directory_cannot_be_written(
    home: Path, tmp_path: Path
) -> None:
    blocked = home / "demo-reviews"
    moved = tmp_path / "moved-reviews"
    if blocked.exists():
        blocked.rename(moved)
    blocked.write_text("not a directory")
    try:
        for site in open_site(home, tmp_path / "blocked.db", demo=True):
            form = {"account_id": "dana-8841", "display_name": "Dana", "text": REVIEW}
            answer = site.client.post("/demo", data=form)
            assert answer.status_code == 200
            assert 'id="not-listed"' in answer.text and 'id="armored"' in answer.text
            listing = site.client.get("/demo")
            assert listing.status_code == 200 and 'id="no-reviews"' in listing.text
    finally:
        blocked.unlink()
        if moved.exists():
            moved.rename(blocked)
