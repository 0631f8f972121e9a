"""C2PA media provenance: sign with the attested identity, verify against an explicit trust root.

c2pa-python does the C2PA work; only :mod:`provenance.media.engine` imports it. See
``specs/media-v1.md`` for the assertion, the steps and the status codes.
"""

from provenance.media.assertion import (
    CONTENT_ASSERTION,
    ContentAssertionError,
    manifest_definition,
    read_content_assertion,
)
from provenance.media.engine import (
    MediaReadError,
    MediaUnsupportedError,
    check_mime_type,
    supported_mime_types,
)
from provenance.media.findings import C2PA_PREFIX, STEPS
from provenance.media.profile import (
    C2PA_CLAIM_SIGNING,
    SIGNER_EKUS,
    MediaProfileError,
    check_c2pa_profile,
    trust_config,
)
from provenance.media.signing import sign_media
from provenance.media.store import ManifestStoreError, signer_chain
from provenance.media.verification import inspect_media, verify_media

__all__ = [
    "C2PA_CLAIM_SIGNING",
    "C2PA_PREFIX",
    "CONTENT_ASSERTION",
    "SIGNER_EKUS",
    "STEPS",
    "ContentAssertionError",
    "ManifestStoreError",
    "MediaProfileError",
    "MediaReadError",
    "MediaUnsupportedError",
    "check_c2pa_profile",
    "check_mime_type",
    "inspect_media",
    "manifest_definition",
    "read_content_assertion",
    "sign_media",
    "signer_chain",
    "supported_mime_types",
    "trust_config",
    "verify_media",
]
