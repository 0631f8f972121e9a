"""The error tree of the library.

Every error the library raises derives from :class:`ProvenanceError`. Verification failures carry a
stable status ``code`` (see ``specs/verification.md``) that the CLI, the service and the web page
report unchanged. This module is a leaf: it imports nothing of the project.
"""

from __future__ import annotations

from provenance.codes import Code


class ProvenanceError(Exception):
    """Base of every error raised by the provenance library."""


class KeyFormatError(ProvenanceError):
    """A key could not be read, written or used (bad PEM, wrong passphrase, unsupported type)."""


class PassphraseRequiredError(KeyFormatError):
    """The private key is encrypted and no passphrase was given."""


class CanonicalizationError(ProvenanceError):
    """Content cannot be canonicalized under the requested profile (e.g. text that is not UTF-8)."""


class AuthorityError(ProvenanceError):
    """A certificate authority operation was refused (bad CSR, unusable CA material, bad identity)."""


class TrustRootError(ProvenanceError):
    """A trust root file is malformed or unusable."""


class LogError(ProvenanceError):
    """A transparency log operation failed (storage, sequencing, malformed log data)."""


class LogSourceError(ProvenanceError):
    """A log's source (a tiles directory or URL) could not be read; a ``tlog.Fetch`` raises it."""


class MediaError(ProvenanceError):
    """A media (C2PA) operation failed."""


class VerificationError(ProvenanceError):
    """Verification failed; ``code`` is the stable status code of the failed step.

    Args:
        message: What was expected and what was found.
        code: The status code; defaults to the subclass's ``default_code``.
    """

    default_code: Code

    def __init__(self, message: str, *, code: Code | None = None) -> None:
        super().__init__(message)
        self.code: str = str(code or self.default_code)
        self.message = message


class BundleFormatError(VerificationError):
    """The bundle (or a part of it) is malformed, too large or of an unsupported type or version."""

    default_code = Code.BUNDLE_MALFORMED


class DigestMismatchError(VerificationError):
    """The content's digest is not the digest the signed statement names."""

    default_code = Code.DIGEST_MISMATCH


class SignatureInvalidError(VerificationError):
    """A signature does not verify."""

    default_code = Code.SIGNATURE_INVALID


class KeyUntrustedError(VerificationError):
    """The signing key is not one the trust root pins."""

    default_code = Code.KEY_UNTRUSTED


class CertificateError(VerificationError):
    """The signing certificate or its chain is not acceptable (untrusted, expired, revoked, ...)."""

    default_code = Code.CERTIFICATE_UNTRUSTED


class LogProofError(VerificationError):
    """A transparency log entry, proof or checkpoint does not verify."""

    default_code = Code.LOG_PROOF_INVALID


class PolicyError(VerificationError):
    """The verified facts do not satisfy the caller's policy."""

    default_code = Code.POLICY_MALFORMED
