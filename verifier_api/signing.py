"""Signing at submission: the publisher attests the author and signs with its service key."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from provenance import (
    Author,
    Bundle,
    Canonicalization,
    ClaimValue,
    ContentPredicate,
    Signer,
    Statement,
    validate_claims,
)
from verifier_api.publisher import Publisher
from verifier_api.sequencer import LogSequencer

ACCOUNT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
SUBJECT_NAME = "content"


@dataclass(frozen=True)
class Submission:
    """What a review site submits for signing.

    Attributes:
        content: The content's bytes.
        content_type: Its media type (``text/*`` is signed under the text-v1 profile).
        account_id: The author's account id at the publisher (``[A-Za-z0-9_-]{1,64}``).
        display_name: The author's display name.
        claims: The claims the publisher attests (``verifiedPurchase``, ...).
    """

    content: bytes
    content_type: str
    account_id: str
    display_name: str
    claims: Mapping[str, ClaimValue]


@dataclass(frozen=True)
class SignedSubmission:
    """A logged bundle and what a client needs to refer to it."""

    bundle: Bundle
    content_sha256: str
    canonicalization: Canonicalization
    author_id: str

    @property
    def log_index(self) -> int:
        """The bundle's log index."""
        return self.bundle.tlog_entries[0].log_index


def canonicalization_for(content_type: str) -> Canonicalization:
    """text-v1 for ``text/*`` content, exact bytes otherwise."""
    return Canonicalization.TEXT_V1 if content_type.startswith("text/") else Canonicalization.NONE


def author_id(publisher: Publisher, account_id: str) -> str:
    """The author identity the publisher attests: ``<base-url>/u/<accountId>``."""
    return f"{publisher.settings.base_url}/u/{account_id}"


def _statement(publisher: Publisher, submission: Submission, now: datetime) -> Statement:
    """The statement the publisher attests for ``submission``.

    Raises:
        CanonicalizationError: ``text/*`` content that is not UTF-8.
        BundleFormatError: A claim the statement format refuses.
    """
    predicate = ContentPredicate(
        content_type=submission.content_type,
        canonicalization=canonicalization_for(submission.content_type),
        created=now.replace(microsecond=0),
        author=Author(author_id(publisher, submission.account_id), submission.display_name),
        publisher=publisher.settings.name,
        claims=validate_claims(submission.claims),
    )
    return publisher.service_signer.statement_for(submission.content, SUBJECT_NAME, predicate)


def _signed(
    publisher: Publisher, submission: Submission, statement: Statement, bundle: Bundle
) -> SignedSubmission:
    return SignedSubmission(
        bundle,
        statement.subject_sha256,
        canonicalization_for(submission.content_type),
        author_id(publisher, submission.account_id),
    )


def sign_submission(
    publisher: Publisher, sequencer: LogSequencer, submission: Submission, *, now: datetime
) -> SignedSubmission:
    """Sign and log a submission with the publisher's signing-service key.

    Raises:
        CanonicalizationError: ``text/*`` content that is not UTF-8.
        BundleFormatError: A claim the statement format refuses.
        LogError: The log did not commit the entry.
    """
    statement = _statement(publisher, submission, now)
    signer = Signer(publisher.service_key, publisher.service_chain, sequencer)
    return _signed(publisher, submission, statement, signer.sign_statement(statement))


async def sign_and_log(
    publisher: Publisher, sequencer: LogSequencer, submission: Submission, *, now: datetime
) -> SignedSubmission:
    """As :func:`sign_submission`, awaiting the log's commit on the event loop (``/v1/sign``):
    the bundle is returned only after the batch holding its entry is committed.

    Raises:
        CanonicalizationError: ``text/*`` content that is not UTF-8.
        BundleFormatError: A claim the statement format refuses.
        LogError: The log did not commit the entry.
    """
    statement = _statement(publisher, submission, now)
    unlogged = publisher.service_signer.sign_statement(statement)
    signer_sha256, certificate_der = publisher.service_binding
    entry = await sequencer.log(unlogged.envelope.sha256(), signer_sha256, certificate_der)
    return _signed(publisher, submission, statement, replace(unlogged, tlog_entries=(entry,)))
