"""X.509 identities: the authority (issue, CSR, CRL), trust roots, chain and revocation checks.

Names load on first use (as the log's face), so importing one module of the package, such as
``provenance.identity.profile``, costs only that module.

See ``specs/identity-v1.md`` for the certificate profiles, the trust root format and the rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from provenance._face import lazy_names

if TYPE_CHECKING:
    from provenance.identity.authority import (
        AuthorityState,
        CertificateAuthority,
        NewAuthority,
        RevocationEntry,
        create_authority,
        crl_distribution_point,
        issue_certificate,
    )
    from provenance.identity.chain import ValidatedChain, validate_chain
    from provenance.identity.crl import build_crl, revoke
    from provenance.identity.csr import create_csr, issue_from_csr
    from provenance.identity.names import check_identity_text, parse_identity
    from provenance.identity.profile import (
        DOCUMENT_SIGNING,
        certificate_twins,
        load_certificate_der,
        spki_sha256,
    )
    from provenance.identity.revocation import RevocationReport, check_revocation
    from provenance.identity.rotation import (
        ROOT_CRL_DAYS,
        check_root_key,
        crl_number,
        crl_signed_by,
        new_issuing_ca,
        revocations_of,
    )
    from provenance.identity.storage import load_authority, save_authority, save_state
    from provenance.identity.trust import MEDIA_TYPE, TrustRoot, export_trust_root

_FACE = {
    "AuthorityState": "provenance.identity.authority",
    "CertificateAuthority": "provenance.identity.authority",
    "NewAuthority": "provenance.identity.authority",
    "RevocationEntry": "provenance.identity.authority",
    "create_authority": "provenance.identity.authority",
    "crl_distribution_point": "provenance.identity.authority",
    "issue_certificate": "provenance.identity.authority",
    "ValidatedChain": "provenance.identity.chain",
    "validate_chain": "provenance.identity.chain",
    "build_crl": "provenance.identity.crl",
    "revoke": "provenance.identity.crl",
    "create_csr": "provenance.identity.csr",
    "issue_from_csr": "provenance.identity.csr",
    "check_identity_text": "provenance.identity.names",
    "parse_identity": "provenance.identity.names",
    "DOCUMENT_SIGNING": "provenance.identity.profile",
    "spki_sha256": "provenance.identity.profile",
    "certificate_twins": "provenance.identity.profile",
    "load_certificate_der": "provenance.identity.profile",
    "RevocationReport": "provenance.identity.revocation",
    "check_revocation": "provenance.identity.revocation",
    "ROOT_CRL_DAYS": "provenance.identity.rotation",
    "check_root_key": "provenance.identity.rotation",
    "crl_number": "provenance.identity.rotation",
    "crl_signed_by": "provenance.identity.rotation",
    "new_issuing_ca": "provenance.identity.rotation",
    "revocations_of": "provenance.identity.rotation",
    "load_authority": "provenance.identity.storage",
    "save_authority": "provenance.identity.storage",
    "save_state": "provenance.identity.storage",
    "MEDIA_TYPE": "provenance.identity.trust",
    "TrustRoot": "provenance.identity.trust",
    "export_trust_root": "provenance.identity.trust",
}

__all__ = [
    "DOCUMENT_SIGNING",
    "MEDIA_TYPE",
    "ROOT_CRL_DAYS",
    "AuthorityState",
    "CertificateAuthority",
    "NewAuthority",
    "RevocationEntry",
    "RevocationReport",
    "TrustRoot",
    "ValidatedChain",
    "build_crl",
    "certificate_twins",
    "check_identity_text",
    "check_revocation",
    "check_root_key",
    "create_authority",
    "create_csr",
    "crl_distribution_point",
    "crl_number",
    "crl_signed_by",
    "export_trust_root",
    "issue_certificate",
    "issue_from_csr",
    "load_authority",
    "load_certificate_der",
    "new_issuing_ca",
    "parse_identity",
    "revocations_of",
    "revoke",
    "save_authority",
    "save_state",
    "spki_sha256",
    "validate_chain",
]


__getattr__ = lazy_names(__name__, _FACE)
