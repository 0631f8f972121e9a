"""A person's path through the pages in Chromium: write a review, copy it, verify it, tamper."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx
from cryptography import x509

from provenance.armor import armor_text
from provenance.bundle import Bundle
from provenance.identity.csr import create_csr
from provenance.keys import KeyType, generate_key
from provenance.present import long_date
from provenance.sign import Signer
from provenance.statement import Author, ContentPredicate
from provenance.text import Canonicalization
from tests.browser.conftest import PageFactory, Server
from tests.integration.api.support import sign_body

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

REVIEW = "The desk lamp is sturdy and bright.\nFive stars."
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_CLAIM = "<b>bold</b>"
NARROW = {"width": 375, "height": 700}
PHONE = {"width": 390, "height": 844}
SERVICE_IDENTITY = "https://reviews.example/signing-service"
REVOKED_AUTHOR = "https://reviews.example/u/revoked-author"
PLACEHOLDER_FIT = """(field) => {
  const style = getComputedStyle(field);
  const context = document.createElement("canvas").getContext("2d");
  context.font = `${style.fontSize} ${style.fontFamily}`;
  const room = field.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return [room, context.measureText(field.placeholder).width];
}"""


def write_review(page: Page, server: Server, display_name: str = "Dana") -> str:
    """Submit a review on /demo and return the armored text read from its textarea."""
    page.goto(f"{server.base_url}/demo")
    page.get_by_label("Account id").fill("dana-8841")
    page.get_by_label("Display name").fill(display_name)
    page.get_by_label("Review", exact=True).fill(REVIEW)
    page.get_by_label("Verified purchase").check()
    page.get_by_role("button", name="Sign and publish").click()
    return page.locator("#armored").input_value()


def verify(page: Page, server: Server, document: str) -> str:
    """Paste ``document`` on / and return the verdict label shown."""
    page.goto(f"{server.base_url}/")
    page.get_by_label("Signed text").fill(document)
    page.get_by_role("button", name="Verify", exact=True).click()
    return page.locator("#verdict-label").inner_text()


def failed_codes(page: Page) -> list[str]:
    """The codes of the failed steps on the verdict card (under Technical details)."""
    return [text.strip() for text in page.locator(".step-failed code").all_text_contents()]


def reason(page: Page) -> str:
    """The plain sentence under the verdict label."""
    return page.locator("#verdict-reason").inner_text()


def author_bundle(server: Server, identity: str, text: str, *, revoke: bool) -> Bundle:
    """A bundle for ``text`` signed with a certificate the publisher issued for ``identity`` and
    logged through ``POST /v1/log/entries`` (the served trust root requires the log), as an
    author's own tool would make it; when ``revoke``, the certificate is then revoked for a key
    compromised since its issuance (the invalidity date reaches back before the logged signature,
    which the revocation date alone would not)."""
    key = generate_key(KeyType.P256)
    admin = {"Authorization": f"Bearer {server.admin_key}"}
    csr = create_csr(key, identity).decode("ascii")
    issued = httpx.post(
        f"{server.base_url}/v1/certificates",
        json={"csr": csr, "identity": identity},
        headers=admin,
        timeout=10,
    )
    assert issued.status_code == 201, issued.text
    pem_chain = issued.json()["certificateChain"]
    chain = [x509.load_pem_x509_certificate(c.encode()) for c in pem_chain]
    predicate = ContentPredicate(
        "text/plain", Canonicalization.TEXT_V1, datetime.now(UTC), author=Author(identity, "Rex")
    )
    signed = Signer(key, chain).sign(text.encode(), "review.txt", predicate)
    logged = httpx.post(
        f"{server.base_url}/v1/log/entries",
        json={"bundle": signed.to_json()},
        headers={"Authorization": f"Bearer {server.log_key}"},
        timeout=30,
    )
    assert logged.status_code == 201, logged.text
    bundle = Bundle.from_json(logged.json()["bundle"])
    if revoke:
        revoked = httpx.post(
            f"{server.base_url}/v1/revocations",
            json={
                "certificate": pem_chain[0],
                "reason": "keyCompromise",
                "invalidityDate": chain[0].not_valid_before_utc.isoformat(),
            },
            headers=admin,
            timeout=10,
        )
        assert revoked.status_code == 201, revoked.text
    return bundle


def revoked_author_review(server: Server) -> str:
    """A review signed with a certificate the publisher issued and then revoked, clear-signed."""
    text = REVIEW + "\n"
    return armor_text(text, author_bundle(server, REVOKED_AUTHOR, text, revoke=True))


def publish_directly(server: Server, review_id: str, text: str, bundle: Bundle) -> None:
    """Put a review into the demo site's store as a platform would (no check on the way in)."""
    directory = server.home / "demo-reviews"
    directory.mkdir(exist_ok=True)
    document = {"displayName": "Rex", "text": text, "bundle": bundle.to_json()}
    (directory / f"{review_id}.json").write_text(json.dumps(document))


def test_demo_review_verifies_with_the_demo_identity_and_a_changed_word_fails(
    new_page: PageFactory, server: Server
) -> None:
    page = new_page()
    armored = write_review(page, server)
    assert verify(page, server, armored) == "VERIFIED"
    assert reason(page) == (
        f"Signed by {SERVICE_IDENTITY}, vouched for by Reviews Example Issuing CA."
    )
    assert page.locator(".fact-author-name").inner_text() == "Dana"
    assert page.locator(".fact-author-id").inner_text() == "https://reviews.example/u/dana-8841"
    assert page.locator(".notice").count() == 1
    assert page.get_by_text("UNSAFE").count() == 0
    assert verify(page, server, armored.replace("sturdy", "flimsy")) == "NOT VERIFIED"
    assert reason(page) == "This text was changed after it was signed."
    assert failed_codes(page) == ["digest.mismatch"]
    assert page.locator(".notice").count() == 0


def test_changed_review_on_a_phone_shows_the_sentence_then_the_text_then_the_claims(
    new_page: PageFactory, server: Server
) -> None:
    page = new_page(viewport=PHONE)
    armored = write_review(page, server)
    verify(page, server, armored.replace("sturdy", "flimsy"))
    sentence = page.locator("#verdict-reason")
    changed = page.locator("pre.content", has_text="flimsy")
    heading = page.get_by_text("What the signature says about the original text, not this one")
    assert sentence.inner_text() == "This text was changed after it was signed."
    tops = [top(sentence), top(changed), top(heading)]
    assert tops == sorted(tops)
    assert top(changed) < PHONE["height"], "the changed text starts on the first screen"
    assert page.get_by_text("digest.mismatch").first.is_hidden(), "codes stay under details"
    page.get_by_text("Technical details").first.click()
    assert page.get_by_text("digest.mismatch").first.is_visible()


def test_wrong_identity_and_revoked_certificate_are_said_plainly(
    new_page: PageFactory, server: Server
) -> None:
    page = new_page()
    armored = write_review(page, server)
    page.goto(f"{server.base_url}/")
    page.get_by_label("Signed text").fill(armored)
    page.get_by_label("Required signer").first.fill("https://reviews.example/u/someone-else")
    page.get_by_role("button", name="Verify", exact=True).click()
    assert page.locator("#verdict-label").inner_text() == "NOT VERIFIED"
    assert reason(page) == f"Signed by {SERVICE_IDENTITY}, not by the signer you asked for."
    assert failed_codes(page) == ["policy.identity.mismatch"]
    assert verify(page, server, revoked_author_review(server)) == "NOT VERIFIED"
    today = long_date(datetime.now(UTC))
    assert reason(page) == f"The signer's certificate was revoked on {today}."
    assert failed_codes(page) == ["certificate.revoked"]


def test_identity_placeholder_is_the_publishers_identity_and_fits_a_phone(
    new_page: PageFactory, server: Server
) -> None:
    page = new_page(viewport=PHONE)
    page.goto(f"{server.base_url}/")
    field = page.locator("#identity")
    assert field.get_attribute("placeholder") == SERVICE_IDENTITY
    room, needed = field.evaluate(PLACEHOLDER_FIT)
    assert needed <= room, (needed, room)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]


def top(locator: Locator) -> float:
    """The top of the element on the page."""
    found = locator.first.bounding_box()
    assert found is not None
    return found["y"]


def test_html_in_names_and_claims_is_shown_as_text(new_page: PageFactory, server: Server) -> None:
    page = new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    write_review(page, server, display_name=HOSTILE_NAME)
    assert page.locator("#review .author-name").inner_text() == HOSTILE_NAME
    body = sign_body(REVIEW, author={"accountId": "mallory", "displayName": HOSTILE_NAME})
    body["claims"] = {"note": HOSTILE_CLAIM}
    headers = {"Authorization": f"Bearer {server.sign_key}"}
    signed = httpx.post(f"{server.base_url}/v1/sign", json=body, headers=headers, timeout=10)
    assert signed.status_code == 200, signed.text
    assert verify(page, server, armor_text(REVIEW, Bundle.from_json(signed.json()["bundle"]))) == (
        "VERIFIED"
    )
    assert page.locator(".fact-author-name").inner_text() == HOSTILE_NAME
    assert page.get_by_text(f'"{HOSTILE_CLAIM}"').is_visible()
    assert page.locator("main img").count() == 0
    assert page.locator("main b").count() == 0
    assert dialogs == []


def test_verify_form_works_without_javascript(new_page: PageFactory, server: Server) -> None:
    page = new_page(java_script_enabled=False)
    armored = write_review(page, server)
    assert page.locator("#copy-button").is_hidden()
    assert verify(page, server, armored) == "VERIFIED"
    assert verify(page, server, "Unsigned intro.\n" + armored) == "PARTLY SIGNED"
    assert page.get_by_text("UNSIGNED, line 1: no signature covers this text").is_visible()


def test_narrow_screen_has_no_horizontal_scroll(new_page: PageFactory, server: Server) -> None:
    page = new_page(viewport=NARROW)
    armored = write_review(page, server)
    widths = [page.evaluate("document.scrollingElement.scrollWidth")]
    verify(page, server, "Unsigned intro.\n" + armored)
    widths.append(page.evaluate("document.scrollingElement.scrollWidth"))
    page.goto(f"{server.base_url}/demo")
    widths.append(page.evaluate("document.scrollingElement.scrollWidth"))
    assert max(widths) <= NARROW["width"], widths


def test_api_docs_render_their_operations_from_local_assets_only(
    new_page: PageFactory, server: Server
) -> None:
    page = new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{server.base_url}/docs")
    operations = page.locator(".opblock-summary-path")
    operations.first.wait_for()
    paths = {text.strip() for text in operations.all_inner_texts()}
    assert {"/v1/verify", "/v1/sign"} <= {p.replace("\u200b", "") for p in paths}
    assert requested and all(url.startswith(server.base_url) for url in requested), requested


def card_of(page: Page, text: str) -> Locator:
    """The review card on /demo whose text contains ``text``."""
    return page.locator("article.review", has=page.locator("pre.content", has_text=text))


def test_demo_lists_reviews_with_plain_badges_for_verified_changed_revoked_and_wrong_signer(
    new_page: PageFactory, server: Server
) -> None:
    page = new_page(viewport=PHONE)
    write_review(page, server)
    changed_id = page.locator("#full-verdict").get_attribute("href")
    assert changed_id is not None
    changed_file = server.home / "demo-reviews" / f"{changed_id.rsplit('/', 1)[1]}.json"
    stored = json.loads(changed_file.read_text())
    stored["text"] = stored["text"].replace("sturdy", "wobbly")
    changed_file.write_text(json.dumps(stored))
    write_review(page, server)
    revoked_text = "Revoked author's review.\n"
    publish_directly(
        server,
        "90000000000000000001",
        revoked_text,
        author_bundle(server, REVOKED_AUTHOR, revoked_text, revoke=True),
    )
    other_text = "Someone else's review.\n"
    other = "https://reviews.example/u/someone-else"
    publish_directly(
        server,
        "90000000000000000002",
        other_text,
        author_bundle(server, other, other_text, revoke=False),
    )
    page.goto(f"{server.base_url}/demo")
    cards = page.locator("article.review")
    assert cards.first.locator("pre.content").inner_text() == other_text.strip()
    verified = card_of(page, "sturdy").first
    assert verified.locator(".badge-verified").inner_text() == "VERIFIED"
    assert verified.locator(".review-verdict").inner_text() == (
        "Written by Dana, as attested by Reviews Example."
    )
    expected = {
        "wobbly": "This text was changed after it was signed.",
        "Revoked author": f"The signer's certificate was revoked on {long_date(datetime.now(UTC))}.",
        "Someone else": f"Signed by {other}, not by the signer you asked for.",
    }
    for text, sentence in expected.items():
        card = card_of(page, text)
        assert card.locator(".badge-not-verified").inner_text() == "NOT VERIFIED", text
        assert card.locator(".review-verdict").inner_text() == sentence
        assert card.locator(".badge-verified").count() == 0
    card_of(page, "wobbly").get_by_role("link").click()
    assert page.locator("#verdict-label").inner_text() == "NOT VERIFIED"
    assert reason(page) == "This text was changed after it was signed."
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
