"""The demo review site's published reviews: one JSON file per review in ``<home>/demo-reviews/``.

The file holds what a review platform stores: the text it shows, the display name, and the bundle
it received from ``/v1/sign``. Nothing in it is trusted: the list's badges come from verifying the
text against the bundle on every view, so a review edited after signing shows NOT VERIFIED.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from provenance import Bundle
from verifier_api.settings import HTTP_LIMITS

DEMO_REVIEWS_DIR = "demo-reviews"
REVIEW_ID = re.compile(r"[0-9]{1,20}")
_SUFFIX = ".json"


@dataclass(frozen=True)
class StoredReview:
    """A published review as the platform keeps it (untrusted until verified).

    Attributes:
        review_id: Its log index, zero-padded (newest sorts last).
        display_name: The name the platform shows.
        text: The text the platform shows.
        bundle: The bundle ``/v1/sign`` returned, as JSON bytes.
    """

    review_id: str
    display_name: str
    text: str
    bundle: bytes


def reviews_dir(home: Path) -> Path:
    """The directory of the demo's reviews in ``home``."""
    return home / DEMO_REVIEWS_DIR


def save_review(home: Path, display_name: str, text: str, bundle: Bundle) -> str | None:
    """Store a newly signed review under its log index; its id, or ``None`` when the home's
    directory cannot be written (the review is signed and logged all the same)."""
    review_id = f"{bundle.tlog_entries[0].log_index:020d}"
    directory = reviews_dir(home)
    document = {"displayName": display_name, "text": text, "bundle": bundle.to_json()}
    try:
        directory.mkdir(exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".review.")
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(document, handle, ensure_ascii=False)
        os.replace(temporary, directory / f"{review_id}{_SUFFIX}")
    except OSError:
        return None
    return review_id


def newest_reviews(home: Path, limit: int = HTTP_LIMITS.max_listed_reviews) -> list[StoredReview]:
    """The ``limit`` newest readable reviews, newest first."""
    try:
        paths = list(reviews_dir(home).iterdir())
    except OSError:
        return []
    names = sorted(
        (p.stem for p in paths if p.suffix == _SUFFIX and REVIEW_ID.fullmatch(p.stem)),
        reverse=True,
    )
    found = (load_review(home, name) for name in names[:limit])
    return [review for review in found if review is not None]


def load_review(home: Path, review_id: str) -> StoredReview | None:
    """The review ``review_id``, or ``None`` when the id is invalid or the file unreadable."""
    if not REVIEW_ID.fullmatch(review_id):
        return None
    path = reviews_dir(home) / f"{review_id}{_SUFFIX}"
    try:
        with path.open("rb") as handle:
            document = json.loads(handle.read(HTTP_LIMITS.max_review_file_bytes + 1))
        name, text, bundle = document["displayName"], document["text"], document["bundle"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not (isinstance(name, str) and isinstance(text, str) and isinstance(bundle, dict)):
        return None
    return StoredReview(review_id, name, text, json.dumps(bundle).encode("utf-8"))
