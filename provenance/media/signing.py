"""Sign media with a C2PA manifest carrying the attested author and claims."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import BinaryIO

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from provenance.errors import MediaError
from provenance.identity.trust import TrustRoot
from provenance.keys import KeyType, SigningKey
from provenance.media.assertion import manifest_definition
from provenance.media.engine import check_mime_type, sign_with_c2pa
from provenance.media.profile import check_c2pa_profile
from provenance.statement import ClaimValue


def sign_media(
    source: BinaryIO | bytes,
    mime_type: str,
    *,
    key: SigningKey,
    chain: Sequence[x509.Certificate],
    at: datetime,
    author: str | None = None,
    claims: Mapping[str, ClaimValue] | None = None,
    title: str | None = None,
    sidecar: bool = False,
    thumbnail: bool = False,
    trust: TrustRoot | None = None,
) -> bytes:
    """Sign an asset with ES256 through a callback: the key never leaves this process's keys.py.

    Args:
        source: The asset's bytes or a seekable binary stream.
        mime_type: A MIME type (or extension) c2pa supports, e.g. ``image/jpeg``.
        key: The P-256 key the leaf certificate certifies.
        chain: The certificate chain, leaf first (root optional).
        at: The signing time the chain is checked at (c2pa itself checks at the machine clock).
        author: The author's identity as the signer attests it (an account URI or email).
        claims: Attested claims (names and values as in the content predicate).
        title: The manifest's ``dc:title`` (e.g. the file name).
        sidecar: Return a ``.c2pa`` manifest store and leave the asset untouched.
        thumbnail: Embed a thumbnail (about 30 times the time and size).
        trust: A trust root whose roots let c2pa's post-signing check see the chain as trusted.

    Returns:
        The signed asset, or the sidecar manifest store when ``sidecar`` is true.

    Raises:
        MediaProfileError: The chain breaks the C2PA certificate profile (each problem named).
        MediaUnsupportedError: c2pa cannot handle ``mime_type``.
        MediaError: The key is not P-256 or does not match the leaf, bad author or claims, or
            c2pa refused to sign.
    """
    check_mime_type(mime_type)
    check_c2pa_profile(chain, at)
    _check_key_matches(key, chain[0])
    definition = manifest_definition(author, claims or {}, title)
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    return sign_with_c2pa(
        stream,
        mime_type,
        sign=key.sign_p1363,
        chain=chain,
        definition=definition,
        anchors=trust.roots if trust else (),
        sidecar=sidecar,
        thumbnail=thumbnail,
    )


def _check_key_matches(key: SigningKey, leaf: x509.Certificate) -> None:
    if key.key_type is not KeyType.P256:
        raise MediaError(f"C2PA signing needs a P-256 key (ES256), found {key.key_type.value}")
    leaf_spki = leaf.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    if leaf_spki != key.public_key.spki_der:
        raise MediaError(
            f"the signing key {key.public_key.key_id} is not the key the leaf certificate "
            f"certifies ({leaf.subject.rfc4514_string()})"
        )
