"""X.509 identities: the authority (issue, CSR, CRL), trust roots, chain and revocation checks.

See ``specs/identity-v1.md`` for the certificate profiles, the trust root format and the rules.
"""

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
from provenance.identity.profile import DOCUMENT_SIGNING, spki_sha256
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
    "new_issuing_ca",
    "parse_identity",
    "revocations_of",
    "revoke",
    "save_authority",
    "save_state",
    "spki_sha256",
    "validate_chain",
]
