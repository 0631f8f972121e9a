"""Provenance Toolkit: sign content with attested identities and verify it offline.

The public face of the library. Verify a review::

    from provenance import AllOf, Identity, TrustRoot, Verifier

    trust = TrustRoot.from_json(open("trust-root.json", "rb").read())
    result = Verifier(trust).check(review_bytes, bundle_bytes, AllOf([Identity(who)]), at=now)
    print(result.verified, [f.code for f in result.failures])

Names load on first use (PEP 562), so ``import provenance`` stays cheap. The faces are this module
and the subpackages and modules with an ``__all__`` listed in ``tests/test_import_rules.py``
(``provenance.verify``, ``provenance.identity``, ``provenance.tlog``, ``provenance.media``,
``provenance.model``, ``provenance.present``, ``provenance.trust_store``,
``provenance.trust_repository``); everything else is internal. The CLI and the service import only
from the faces (the test enforces it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from provenance._face import lazy_names

__version__ = "0.1.0"

if TYPE_CHECKING:
    from provenance.armor import (
        DEFAULT_ARMOR_LIMITS,
        ArmoredVerification,
        ArmorError,
        ArmorLimits,
        ArmorVerdict,
        armor_text,
        check_armored,
        contains_armor,
        find_signed_blocks,
    )
    from provenance.bundle import Bundle, BundleLimits, DecodedBundle
    from provenance.codes import Code
    from provenance.display import printable
    from provenance.encoding import (
        JSON_LIMITS,
        JsonLimits,
        StrictDecodeError,
        b64decode_strict,
        b64encode,
        dumps_text,
        has_lone_surrogate,
        loads_strict,
    )
    from provenance.errors import (
        AuthorityError,
        BundleFormatError,
        CanonicalizationError,
        KeyFormatError,
        LogError,
        LogProofError,
        LogSourceError,
        MediaError,
        PassphraseRequiredError,
        PolicyError,
        ProvenanceError,
        VerificationError,
    )
    from provenance.identity.trust import TrustRoot
    from provenance.keys import (
        Ed25519SigningKey,
        KeyType,
        SigningKey,
        VerifyingKey,
        generate_key,
        load_private_key,
        load_public_key,
        verifying_key_from_cryptography,
        write_private_key,
        write_public_key,
    )
    from provenance.sign import Signer
    from provenance.statement import (
        CONTENT_TYPE,
        STATEMENT_LIMITS,
        Author,
        ClaimValue,
        ContentPredicate,
        Statement,
        StatementLimits,
        format_time,
        validate_claims,
    )
    from provenance.text import Canonicalization, canonicalize
    from provenance.trust_store import TrustStore
    from provenance.verify.policy import (
        AllOf,
        AnyOf,
        Identity,
        IdentityPattern,
        Issuer,
        MaxAge,
        Policy,
        RequireClaim,
        RequireFreshCrl,
        UnsafeAcceptAnyIdentity,
        policy_from_json,
    )
    from provenance.verify.result import (
        Finding,
        SignerIdentity,
        SignerKind,
        TimeSource,
        VerificationResult,
    )
    from provenance.verify.verifier import Verifier

_FACE = {
    "ArmorError": "provenance.armor",
    "ArmorLimits": "provenance.armor",
    "ArmorVerdict": "provenance.armor",
    "ArmoredVerification": "provenance.armor",
    "DEFAULT_ARMOR_LIMITS": "provenance.armor",
    "armor_text": "provenance.armor",
    "check_armored": "provenance.armor",
    "contains_armor": "provenance.armor",
    "find_signed_blocks": "provenance.armor",
    "Bundle": "provenance.bundle",
    "BundleLimits": "provenance.bundle",
    "DecodedBundle": "provenance.bundle",
    "Code": "provenance.codes",
    "printable": "provenance.display",
    "JSON_LIMITS": "provenance.encoding",
    "JsonLimits": "provenance.encoding",
    "StrictDecodeError": "provenance.encoding",
    "b64decode_strict": "provenance.encoding",
    "b64encode": "provenance.encoding",
    "dumps_text": "provenance.encoding",
    "has_lone_surrogate": "provenance.encoding",
    "loads_strict": "provenance.encoding",
    "AuthorityError": "provenance.errors",
    "BundleFormatError": "provenance.errors",
    "CanonicalizationError": "provenance.errors",
    "KeyFormatError": "provenance.errors",
    "LogError": "provenance.errors",
    "LogProofError": "provenance.errors",
    "LogSourceError": "provenance.errors",
    "MediaError": "provenance.errors",
    "PassphraseRequiredError": "provenance.errors",
    "PolicyError": "provenance.errors",
    "ProvenanceError": "provenance.errors",
    "VerificationError": "provenance.errors",
    "TrustRoot": "provenance.identity.trust",
    "Ed25519SigningKey": "provenance.keys",
    "KeyType": "provenance.keys",
    "SigningKey": "provenance.keys",
    "VerifyingKey": "provenance.keys",
    "generate_key": "provenance.keys",
    "load_private_key": "provenance.keys",
    "load_public_key": "provenance.keys",
    "verifying_key_from_cryptography": "provenance.keys",
    "write_private_key": "provenance.keys",
    "write_public_key": "provenance.keys",
    "Signer": "provenance.sign",
    "Author": "provenance.statement",
    "CONTENT_TYPE": "provenance.statement",
    "ClaimValue": "provenance.statement",
    "ContentPredicate": "provenance.statement",
    "STATEMENT_LIMITS": "provenance.statement",
    "Statement": "provenance.statement",
    "StatementLimits": "provenance.statement",
    "format_time": "provenance.statement",
    "validate_claims": "provenance.statement",
    "Canonicalization": "provenance.text",
    "canonicalize": "provenance.text",
    "TrustStore": "provenance.trust_store",
    "AllOf": "provenance.verify.policy",
    "AnyOf": "provenance.verify.policy",
    "Identity": "provenance.verify.policy",
    "IdentityPattern": "provenance.verify.policy",
    "Issuer": "provenance.verify.policy",
    "MaxAge": "provenance.verify.policy",
    "Policy": "provenance.verify.policy",
    "RequireClaim": "provenance.verify.policy",
    "RequireFreshCrl": "provenance.verify.policy",
    "UnsafeAcceptAnyIdentity": "provenance.verify.policy",
    "policy_from_json": "provenance.verify.policy",
    "Finding": "provenance.verify.result",
    "SignerIdentity": "provenance.verify.result",
    "SignerKind": "provenance.verify.result",
    "TimeSource": "provenance.verify.result",
    "VerificationResult": "provenance.verify.result",
    "Verifier": "provenance.verify.verifier",
}

__all__ = [
    "CONTENT_TYPE",
    "DEFAULT_ARMOR_LIMITS",
    "JSON_LIMITS",
    "STATEMENT_LIMITS",
    "AllOf",
    "AnyOf",
    "ArmorError",
    "ArmorLimits",
    "ArmorVerdict",
    "ArmoredVerification",
    "Author",
    "AuthorityError",
    "Bundle",
    "BundleFormatError",
    "BundleLimits",
    "Canonicalization",
    "CanonicalizationError",
    "ClaimValue",
    "Code",
    "ContentPredicate",
    "DecodedBundle",
    "Ed25519SigningKey",
    "Finding",
    "Identity",
    "IdentityPattern",
    "Issuer",
    "JsonLimits",
    "KeyFormatError",
    "KeyType",
    "LogError",
    "LogProofError",
    "LogSourceError",
    "MaxAge",
    "MediaError",
    "PassphraseRequiredError",
    "Policy",
    "PolicyError",
    "ProvenanceError",
    "RequireClaim",
    "RequireFreshCrl",
    "Signer",
    "SignerIdentity",
    "SignerKind",
    "SigningKey",
    "Statement",
    "StatementLimits",
    "StrictDecodeError",
    "TimeSource",
    "TrustRoot",
    "TrustStore",
    "UnsafeAcceptAnyIdentity",
    "VerificationError",
    "VerificationResult",
    "Verifier",
    "VerifyingKey",
    "__version__",
    "armor_text",
    "b64decode_strict",
    "b64encode",
    "canonicalize",
    "check_armored",
    "contains_armor",
    "dumps_text",
    "find_signed_blocks",
    "format_time",
    "generate_key",
    "has_lone_surrogate",
    "load_private_key",
    "load_public_key",
    "loads_strict",
    "policy_from_json",
    "printable",
    "validate_claims",
    "verifying_key_from_cryptography",
    "write_private_key",
    "write_public_key",
]


__getattr__ = lazy_names(__name__, _FACE)
