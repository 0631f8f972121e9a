"""The Signer: content -> statement -> DSSE envelope -> (log entry) -> bundle."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from cryptography import x509

from provenance.bundle import Bundle
from provenance.dsse import INTOTO_PAYLOAD_TYPE, sign_envelope
from provenance.errors import KeyFormatError
from provenance.keys import SigningKey, verifying_key_from_cryptography
from provenance.statement import ContentPredicate, Statement
from provenance.text import Content, content_sha256
from provenance.tlog.entry import TlogEntry, signer_binding


class LogSubmitter(Protocol):
    """Something that logs a signature and returns the bundle's log entry (local or remote)."""

    def submit(
        self, envelope_sha256: bytes, signer_sha256: bytes, certificate_der: bytes | None
    ) -> TlogEntry:
        """Append the entry durably and return its entry with an inclusion proof."""


class Signer:
    """Signs content with one key, optionally certified by an X.509 chain, optionally logged.

    Args:
        key: The private key.
        chain: The certificate chain, leaf first; empty for a pinned key.
        log: Where to log each signature, or None.

    Raises:
        KeyFormatError: The key is not the leaf certificate's key.
    """

    def __init__(
        self,
        key: SigningKey,
        chain: Sequence[x509.Certificate] = (),
        log: LogSubmitter | None = None,
    ) -> None:
        check_leaf_key(key, chain)
        self._key = key
        self._chain = tuple(chain)
        self._log = log

    def statement_for(self, content: Content, name: str, predicate: ContentPredicate) -> Statement:
        """The statement naming ``content`` by its canonical digest."""
        digest = content_sha256(content, predicate.canonicalization)
        return Statement(subject_name=name, subject_sha256=digest, predicate=predicate)

    def sign(self, content: Content, name: str, predicate: ContentPredicate) -> Bundle:
        """Sign ``content`` (bytes or an open binary stream) and return its bundle."""
        return self.sign_statement(self.statement_for(content, name, predicate))

    def sign_statement(self, statement: Statement) -> Bundle:
        """Sign a prepared statement and return its bundle."""
        keyid = self._key.public_key.key_id
        envelope = sign_envelope(statement.to_payload(), INTOTO_PAYLOAD_TYPE, self._key, keyid)
        entries: tuple[TlogEntry, ...] = ()
        if self._log is not None:
            signer_sha256, certificate_der = signer_binding(self._chain, self._key.public_key)
            entries = (self._log.submit(envelope.sha256(), signer_sha256, certificate_der),)
        return Bundle(
            envelope=envelope,
            certificates=self._chain,
            public_key_hint=None if self._chain else self._key.public_key.key_id,
            tlog_entries=entries,
        )


def check_leaf_key(key: SigningKey, chain: Sequence[x509.Certificate]) -> None:
    """Refuse a chain whose leaf certifies another key than ``key`` (for every signer).

    Raises:
        KeyFormatError: The leaf's key is not ``key``'s public key.
    """
    if chain and verifying_key_from_cryptography(chain[0].public_key()) != key.public_key:
        raise KeyFormatError(
            f"the private key (id {key.public_key.key_id}) is not the key of the leaf "
            f"certificate {chain[0].subject.rfc4514_string()}"
        )
