"""The C2PA signing-certificate profile (C2PA spec §14.5), checked before anything is signed.

c2pa-python refuses a certificate that breaks the profile with only "certificate is invalid". This
module names what is missing or wrong instead: the extended key usage, KeyUsage digitalSignature,
the AuthorityKeyIdentifier, a CA flag on the leaf, the validity window, or a key that is not P-256.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import Criticality, ExtensionPolicy, Policy

from provenance.errors import AuthorityError, MediaError
from provenance.identity.chain import ChainProfile
from provenance.identity.names import check_identity_text, identity_of
from provenance.identity.profile import DOCUMENT_SIGNING, as_utc, describe

C2PA_CLAIM_SIGNING = x509.ObjectIdentifier("1.3.6.1.4.1.62558.2.1")
"""id-kp-c2pa-claimSigning, the C2PA's own extended key usage."""

MICROSOFT_C2PA_SIGNING = x509.ObjectIdentifier("1.3.6.1.4.1.311.76.59.1.9")
"""The Microsoft C2PA signing extended key usage, listed in the C2PA SDK's trust configuration."""

SIGNER_EKUS: dict[x509.ObjectIdentifier, str] = {
    DOCUMENT_SIGNING: "documentSigning",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "emailProtection",
    C2PA_CLAIM_SIGNING: "c2pa claimSigning",
    MICROSOFT_C2PA_SIGNING: "Microsoft C2PA signing",
}
"""The extended key usages a C2PA signing certificate may carry (the trust configuration)."""

_OTHER_EKU_NAMES = {
    ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
    ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
    ExtendedKeyUsageOID.CODE_SIGNING: "codeSigning",
    ExtendedKeyUsageOID.TIME_STAMPING: "timeStamping",
    ExtendedKeyUsageOID.OCSP_SIGNING: "OCSPSigning",
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE: "anyExtendedKeyUsage",
}


class MediaProfileError(MediaError):
    """A signing certificate breaks the C2PA certificate profile.

    Attributes:
        problems: One sentence per rule broken, each naming what is missing or wrong.
    """

    def __init__(self, certificate: str, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            f"certificate {certificate} does not meet the C2PA signing profile: "
            + "; ".join(self.problems)
        )


def trust_config() -> str:
    """The allowed EKU OIDs, one per line: c2pa's ``trust.trust_config`` setting."""
    return "".join(f"{oid.dotted_string}\n" for oid in SIGNER_EKUS)


def check_c2pa_profile(chain: Sequence[x509.Certificate], at: datetime) -> None:
    """Check a signing chain (leaf first) against the C2PA certificate profile at ``at``.

    Args:
        chain: The leaf, then its CA certificates.
        at: The signing time (timezone-aware).

    Raises:
        MediaProfileError: Naming every rule the chain breaks.
        MediaError: The chain is empty or ``at`` is naive.
    """
    if not chain:
        raise MediaError("the certificate chain is empty; give the leaf certificate first")
    moment = as_utc(at, MediaError, "signing time")
    leaf = chain[0]
    problems = [
        *_key_problems(leaf),
        *_leaf_extension_problems(leaf),
        *(_validity_problem(cert, moment, index == 0) for index, cert in enumerate(chain)),
    ]
    found = [problem for problem in problems if problem]
    if found:
        raise MediaProfileError(describe(leaf), found)


def _key_problems(leaf: x509.Certificate) -> list[str]:
    if leaf.version is not x509.Version.v3:
        return [f"the certificate is {leaf.version.name}, C2PA needs X.509 v3"]
    key = leaf.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        kind = key.curve.name if isinstance(key, ec.EllipticCurvePublicKey) else type(key).__name__
        return [f"the key is {kind}, not ECDSA P-256 (ES256 signing needs P-256)"]
    return []


def _leaf_extension_problems(leaf: x509.Certificate) -> list[str]:
    try:
        extensions = leaf.extensions
    except ValueError as exc:
        return [f"its extensions cannot be parsed: {exc}"]
    return [
        _eku_problem(_extension(extensions, x509.ExtendedKeyUsage)),
        _key_usage_problem(_extension(extensions, x509.KeyUsage)),
        _ca_flag_problem(_extension(extensions, x509.BasicConstraints)),
        ""
        if _extension(extensions, x509.AuthorityKeyIdentifier)
        else "AuthorityKeyIdentifier extension is missing",
    ]


def _extension(extensions: x509.Extensions, kind: type[x509.ExtensionType]) -> object | None:
    try:
        return extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _eku_problem(usage: object | None) -> str:
    allowed = ", ".join(f"{name} ({oid.dotted_string})" for oid, name in SIGNER_EKUS.items())
    if not isinstance(usage, x509.ExtendedKeyUsage):
        return f"ExtendedKeyUsage extension is missing; C2PA needs one of {allowed}"
    oids = list(usage)
    if ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in oids:
        return (
            f"ExtendedKeyUsage holds anyExtendedKeyUsage, which C2PA forbids; use one of {allowed}"
        )
    if not any(oid in SIGNER_EKUS for oid in oids):
        return f"ExtendedKeyUsage holds only {_eku_names(oids)}; C2PA needs one of {allowed}"
    return ""


def _eku_names(oids: list[x509.ObjectIdentifier]) -> str:
    names = (f"{_OTHER_EKU_NAMES.get(oid, 'unknown')} ({oid.dotted_string})" for oid in oids)
    return ", ".join(names) or "nothing"


def _key_usage_problem(usage: object | None) -> str:
    if not isinstance(usage, x509.KeyUsage):
        return "KeyUsage extension is missing; C2PA needs digitalSignature"
    if not usage.digital_signature:
        return "KeyUsage lacks digitalSignature"
    return ""


def _ca_flag_problem(constraints: object | None) -> str:
    if isinstance(constraints, x509.BasicConstraints) and constraints.ca:
        return "basicConstraints CA is true on the signing (end-entity) certificate"
    return ""


def _validity_problem(certificate: x509.Certificate, moment: datetime, is_leaf: bool) -> str:
    role = "the signing certificate" if is_leaf else f"CA certificate {describe(certificate)}"
    start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    if moment > end:
        return f"{role} expired on {end.isoformat()} (signing at {moment.isoformat()})"
    if moment < start:
        return f"{role} is not valid before {start.isoformat()} (signing at {moment.isoformat()})"
    return ""


class _MediaProfileViolationError(ValueError):
    """Raised by the media profile's extension validators; the message reaches the finding."""


def _require_signer_eku(
    _policy: Policy, certificate: x509.Certificate, usage: x509.ExtendedKeyUsage
) -> None:
    problem = _eku_problem(usage)
    if problem:
        raise _MediaProfileViolationError(f"{describe(certificate)}: {problem}")


def _allow_ca_signer_eku(
    _policy: Policy, certificate: x509.Certificate, usage: x509.ExtendedKeyUsage | None
) -> None:
    if usage is None or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in list(usage):
        return
    _require_signer_eku(_policy, certificate, usage)


def _require_digital_signature(
    _policy: Policy, certificate: x509.Certificate, usage: x509.KeyUsage
) -> None:
    if not usage.digital_signature:
        raise _MediaProfileViolationError(
            f"{describe(certificate)}: KeyUsage lacks digitalSignature"
        )


def _clean_identities(
    _policy: Policy, certificate: x509.Certificate, names: x509.SubjectAlternativeName | None
) -> None:
    for name in names or ():
        identity = identity_of(name)
        if identity is None:
            continue
        try:
            check_identity_text(identity)
        except AuthorityError as exc:
            raise _MediaProfileViolationError(f"{describe(certificate)}: {exc}") from exc


MEDIA_PROFILE = ChainProfile(
    "media",
    ExtensionPolicy.webpki_defaults_ee()
    .require_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, _require_signer_eku)
    .require_present(x509.KeyUsage, Criticality.AGNOSTIC, _require_digital_signature)
    .may_be_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, _clean_identities)
    .require_present(x509.AuthorityKeyIdentifier, Criticality.NON_CRITICAL, None),
    ExtensionPolicy.webpki_defaults_ca().may_be_present(
        x509.ExtendedKeyUsage, Criticality.AGNOSTIC, _allow_ca_signer_eku
    ),
)
"""The C2PA signer profile (§14.5) as x509.verification policies: an allowed EKU (never
anyExtendedKeyUsage), digitalSignature, AKI; URI and email SANs, when present, are clean identities
(a signer without one is reported without identities)."""
