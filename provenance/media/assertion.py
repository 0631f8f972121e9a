"""The project's own C2PA assertion: the attested author and claims (specs/media-v1.md §2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provenance import __version__
from provenance.errors import AuthorityError, MediaError, ProvenanceError
from provenance.identity.names import check_identity_text
from provenance.statement import ClaimValue, validate_claims

CONTENT_ASSERTION = "dev.provenance-toolkit.content"
"""The label of the assertion that carries ``{"author": ..., "claims": {...}}``."""

CLAIM_GENERATOR = "provenance-toolkit"
_FIELDS = {"author", "claims"}


class ContentAssertionError(MediaError):
    """The content assertion is malformed (unknown fields, bad author or claims)."""


def manifest_definition(
    author: str | None, claims: Mapping[str, ClaimValue], title: str | None
) -> dict[str, Any]:
    """The c2pa manifest definition carrying the content assertion.

    Raises:
        MediaError: The author is not a clean identity text or a claim is malformed.
    """
    data: dict[str, Any] = {"claims": _checked_claims(claims)}
    if author is not None:
        try:
            check_identity_text(author)
        except AuthorityError as exc:
            raise MediaError(f"author: {exc}") from exc
        data["author"] = author
    definition: dict[str, Any] = {
        "claim_generator_info": [{"name": CLAIM_GENERATOR, "version": __version__}],
        "assertions": [{"label": CONTENT_ASSERTION, "data": data}],
    }
    if title is not None:
        definition["title"] = title
    return definition


def read_content_assertion(
    manifest: Mapping[str, Any],
) -> tuple[str | None, dict[str, ClaimValue]] | None:
    """The author and claims of the manifest's content assertion, or None when it has none.

    Args:
        manifest: One manifest of c2pa's reader JSON (with its ``assertions`` list).

    Raises:
        ContentAssertionError: Found more than once, or malformed.
    """
    assertions = manifest.get("assertions") or []
    found = [a for a in assertions if isinstance(a, dict) and a.get("label") == CONTENT_ASSERTION]
    if not found:
        return None
    if len(found) > 1:
        raise ContentAssertionError(f"{CONTENT_ASSERTION} appears {len(found)} times")
    data = found[0].get("data")
    if not isinstance(data, dict) or not set(data) <= _FIELDS:
        raise ContentAssertionError(
            f"{CONTENT_ASSERTION} must be an object with fields {sorted(_FIELDS)}"
        )
    author = data.get("author")
    if author is not None and not isinstance(author, str):
        raise ContentAssertionError(f"{CONTENT_ASSERTION}.author must be a string")
    claims = data.get("claims", {})
    if not isinstance(claims, dict):
        raise ContentAssertionError(f"{CONTENT_ASSERTION}.claims must be an object")
    return author, _checked_claims(claims, ContentAssertionError)


def _checked_claims(
    claims: Mapping[str, Any], error: type[MediaError] = MediaError
) -> dict[str, ClaimValue]:
    try:
        return validate_claims(claims)
    except ProvenanceError as exc:
        raise error(str(exc)) from exc
