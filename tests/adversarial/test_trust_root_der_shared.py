"""The caches keyed by a trust root's DER keep one copy of a CRL, however often the trust root is
parsed. They kept the CRL bytes of the TrustRoot object of each call that made an entry, and a
trust store parses the trust root on every call (`_stored_root` -> `TrustRoot.from_json`): each new
chain kept its own copy of the whole CRL, up to the plan cache's 1,024 entries times a CRL of up to
about 1 MB (found by the cache attack, 2026-12-03).
"""

from __future__ import annotations

import gc
import tracemalloc
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from provenance.identity.chain import validate_chain
from provenance.identity.revocation import _PLANS, check_revocation
from provenance.identity.trust import TrustRoot
from tests.unit.identity.factory import NOW, HandMadeChain, hand_made_chain

REVOKED_ENTRIES = 4000
CHAINS = 40


def _big_crl(chain: HandMadeChain) -> x509.CertificateRevocationList:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(chain.issuing.subject)
        .last_update(NOW - timedelta(days=1))
        .next_update(NOW + timedelta(days=30))
        .add_extension(x509.CRLNumber(1), critical=False)
    )
    for serial in range(1, REVOKED_ENTRIES + 1):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(NOW - timedelta(days=2))
            .build()
        )
    return builder.sign(chain.issuing_key, hashes.SHA256())


def test_plan_cache_does_not_keep_a_crl_copy_per_chain() -> None:
    _PLANS.clear()
    chain = hand_made_chain()
    crl = _big_crl(chain)
    document = TrustRoot(
        name="t", roots=(chain.root,), intermediates=(chain.issuing,), crls=(crl,)
    ).to_json()
    crl_size = len(crl.public_bytes(Encoding.DER))
    leaves = [chain.leaf() for _ in range(CHAINS)]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for leaf in leaves:
        trust = TrustRoot.from_json(document)  # as TrustStore.verify does on every call
        validated = validate_chain([leaf], trust, NOW)
        check_revocation(validated, trust, signing_time=NOW, now=NOW)
        del trust, validated
    gc.collect()
    retained = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    # The same CRL bytes every time: one kept copy, plus each chain's own small cache entries
    # (its certificates and plan, about 15 KB here); a copy of the CRL per chain is CHAINS copies.
    bound = crl_size + CHAINS * (crl_size // 4)
    assert retained < bound, f"retained {retained} bytes for a {crl_size}-byte CRL"
