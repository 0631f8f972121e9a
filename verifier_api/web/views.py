"""What the pages show: the library's plain-words presenter, checked against this publisher.

The words (headline, plain reason, facts, notes, steps) come from :mod:`provenance.present`, the
presenter the CLI uses too; every string from a bundle, a document or a form is made printable
there and HTML-escaped by the templates. Nothing here reads the content to decide what to show.
"""

from __future__ import annotations

from dataclasses import dataclass

from provenance import ArmoredVerification, VerificationResult
from provenance.present import (
    DocumentPresentation,
    Presentation,
    present_armored,
    present_content,
)


@dataclass(frozen=True)
class ReviewCard:
    """A published review in the demo's list, with the verdict computed from its bundle.

    Attributes:
        review_id: Its id in the store (the link to the full verdict).
        number: Its log index.
        display_name: The name the platform shows (printable; attested only if verified).
        text: The text the platform shows (printable line by line).
        presentation: The verification of the text against its bundle.
    """

    review_id: str
    number: int
    display_name: str
    text: str
    presentation: Presentation


def armored_outcome(checked: ArmoredVerification, publisher: str) -> DocumentPresentation:
    """The verdict card of a pasted (armored) document, against ``publisher``'s trust root."""
    return present_armored(checked, trust=publisher)


def content_outcome(
    content: bytes, result: VerificationResult, publisher: str
) -> DocumentPresentation:
    """The verdict card of uploaded content checked against its bundle."""
    return present_content(content, result, trust=publisher)
