"""A person's path through the pages in Chromium: write a review, copy it, verify it, tamper."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from provenance.armor import armor
from provenance.bundle import Bundle
from tests.browser.conftest import PageFactory, Server
from tests.integration.api.support import sign_body

if TYPE_CHECKING:
    from playwright.sync_api import Page

REVIEW = "The desk lamp is sturdy and bright.\nFive stars."
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_CLAIM = "<b>bold</b>"
NARROW = {"width": 375, "height": 700}


def write_review(page: Page, server: Server, display_name: str = "Dana") -> str:
    """Submit a review on /demo and return the armored text read from its textarea."""
    page.goto(f"{server.base_url}/demo")
    page.get_by_label("Account id").fill("dana-8841")
    page.get_by_label("Display name").fill(display_name)
    page.get_by_label("Review").fill(REVIEW)
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
    """The codes of the failed steps on the verdict card."""
    return page.locator(".failures code").all_inner_texts()


def test_demo_review_verifies_with_the_demo_identity_and_a_changed_word_fails(
    new_page: PageFactory, server: Server
) -> None:
    page = new_page()
    armored = write_review(page, server)
    assert verify(page, server, armored) == "VERIFIED"
    author = page.locator(".facts .author")
    assert author.locator(".author-name").inner_text() == "Dana"
    assert author.get_by_text("https://reviews.example/u/dana-8841").is_visible()
    assert page.locator("#any-identity").is_visible()
    assert verify(page, server, armored.replace("sturdy", "flimsy")) == "NOT VERIFIED"
    assert failed_codes(page) == ["digest.mismatch"]


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
    assert verify(page, server, armor(REVIEW, Bundle.from_json(signed.json()["bundle"]))) == (
        "VERIFIED"
    )
    assert page.locator(".facts .author-name").inner_text() == HOSTILE_NAME
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
