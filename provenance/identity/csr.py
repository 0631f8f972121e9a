"""Certificate signing requests: an author proves possession of a key, the authority names them.

The authority takes only the public key from a CSR. Whatever subject, SANs or extensions the CSR
asks for are ignored: the certificate carries the identity the authority asserts.
"""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from provenance.errors import AuthorityError
from provenance.identity.authority import CertificateAuthority, issue_certificate
from provenance.identity.names import parse_identity
from provenance.identity.profile import DEFAULT_LEAF_DAYS, IDENTITY_LIMITS
from provenance.keys import KeyType, SigningKey, verifying_key_from_cryptography


def create_csr(key: SigningKey, identity: str) -> bytes:
    """A PEM CSR for ``key`` naming ``identity`` in its subject CN and SAN.

    Raises:
        AuthorityError: The identity is refused by :func:`parse_identity`.
    """
    general_name = parse_identity(identity)
    names = []
    if len(identity) <= IDENTITY_LIMITS.max_common_name_chars:
        names.append(x509.NameAttribute(x509.NameOID.COMMON_NAME, identity))
    algorithm = hashes.SHA256() if key.key_type is KeyType.P256 else None
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name(names))
        .add_extension(x509.SubjectAlternativeName([general_name]), critical=False)
        .sign(key.to_cryptography(), algorithm)
    )
    return request.public_bytes(serialization.Encoding.PEM)


def issue_from_csr(
    ca: CertificateAuthority,
    csr_pem: bytes,
    identity: str,
    *,
    now: datetime,
    days: int = DEFAULT_LEAF_DAYS,
) -> list[x509.Certificate]:
    """Certify the key of a CSR for the identity the authority asserts.

    Args:
        ca: The issuing authority.
        csr_pem: A PEM PKCS#10 request; only its key (and its self-signature) is used.
        identity: The identity the authority has verified (not the one the CSR asks for).
        now: The issuance time.
        days: Validity in days, cut to the issuing CA's notAfter.

    Returns:
        The chain leaf first: ``[leaf, issuing CA]``.

    Raises:
        AuthorityError: The CSR is unreadable, too large, badly self-signed or not for a P-256
            key, or issuance fails (see :func:`issue_certificate`).
    """
    request = _load_csr(csr_pem)
    public_key = request.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
        public_key.curve, ec.SECP256R1
    ):
        raise AuthorityError(
            f"only ECDSA P-256 keys can be certified; the CSR carries {_key_description(public_key)}"
        )
    if not request.is_signature_valid:
        raise AuthorityError("the CSR's signature does not verify with its own key")
    return issue_certificate(
        ca, verifying_key_from_cryptography(public_key), identity, now=now, days=days
    )


def _load_csr(csr_pem: bytes) -> x509.CertificateSigningRequest:
    if len(csr_pem) > IDENTITY_LIMITS.max_csr_bytes:
        raise AuthorityError(
            f"CSR of {len(csr_pem)} bytes exceeds the cap of {IDENTITY_LIMITS.max_csr_bytes}"
        )
    try:
        return x509.load_pem_x509_csr(csr_pem)
    except ValueError as exc:
        raise AuthorityError(f"not a PEM certificate signing request: {exc}") from exc


def _key_description(public_key: object) -> str:
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return f"key type EC on curve {public_key.curve.name}"
    return f"key type {type(public_key).__name__.removesuffix('PublicKey')}"
