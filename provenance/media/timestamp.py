"""Which C2PA time stamps may set the time media certificates are checked at (specs/media-v1.md).

c2pa reports ``timeStamp.trusted`` for an RFC 3161 token whose signer chains to a trust anchor, and
its EKU check lets certificates with id-kp-emailProtection pass as time-stamp signers (c2pa 0.91.3
trusts a token signed with an author's own certificate; see the adversarial test). Author
certificates carry emailProtection (identity-v1.md), so an author could stamp its own signature
with any time, for example one before its key was reported compromised. The toolkit therefore
uses a time stamp only when every end-entity certificate in its tokens has exactly the
timeStamping EKU (RFC 3161 §2.3); otherwise the certificates are checked at the verification time.

The tokens are read with a small DER walker: ContentInfo (or a TimeStampResp around one), then
SignedData's ``certificates [0] IMPLICIT``. Anything unexpected means "not usable", never an error.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from provenance.media.store import MEDIA_LIMITS

TOKEN_LABELS = ("sigTst", "sigTst2")
_SEQUENCE, _OID, _CONTEXT_0 = 0x30, 0x06, 0xA0


class _DerError(ValueError):
    """The token is not the DER structure expected."""


def usable_time_stamp(unprotected: Mapping[Any, Any]) -> bool:
    """Whether the COSE unprotected header's time-stamp tokens were all made by real TSAs.

    Args:
        unprotected: The claim signature's unprotected header (label to value).

    Returns:
        True when there is at least one token, every token under ``sigTst`` and ``sigTst2`` is a
        CBOR byte string, and every end-entity certificate of every token carries exactly the
        id-kp-timeStamping extended key usage.
    """
    tokens = _tokens(unprotected)
    if not tokens or len(tokens) > MEDIA_LIMITS.max_timestamp_tokens:
        return False
    try:
        certificates = [cert for token in tokens for cert in token_certificates(token)]
        end_entities = [cert for cert in certificates if not _is_ca(cert)]
        return bool(end_entities) and all(_time_stamping_only(cert) for cert in end_entities)
    except (
        ValueError,
        x509.DuplicateExtension,
        x509.InvalidVersion,
        x509.UnsupportedGeneralNameType,
    ):
        return False  # a certificate cryptography cannot read makes the stamp unusable


def token_certificates(token: bytes) -> list[x509.Certificate]:
    """The certificates a TimeStampToken (or a TimeStampResp holding one) carries.

    Raises:
        ValueError: The bytes are not such a structure, or a certificate is not DER X.509.
    """
    top = list(_children(_only(token, _SEQUENCE)))
    if top and top[0][0] == _SEQUENCE:  # TimeStampResp: status, then the token
        if len(top) < 2:
            raise _DerError("a TimeStampResp without a token")
        top = list(_children(_only(top[1][2], _SEQUENCE)))
    if len(top) != 2 or top[0][0] != _OID or top[1][0] != _CONTEXT_0:
        raise _DerError("not a ContentInfo")
    signed_data = list(_children(_only(top[1][1], _SEQUENCE)))
    found = [content for tag, content, _ in signed_data if tag == _CONTEXT_0]
    if len(found) != 1:
        raise _DerError("SignedData carries no certificates")
    return [x509.load_der_x509_certificate(raw) for _, _, raw in _children(found[0])]


def _tokens(unprotected: Mapping[Any, Any]) -> list[bytes] | None:
    """Every token under ``sigTst`` and ``sigTst2``; None when either is present but is not
    ``{"tstTokens": [{"val": <byte string>}, ...]}``. c2pa also reads a token given as an array of
    integers or a tagged byte string (serde_bytes), so any such encoding makes the stamp unusable
    rather than a token the rule would not see."""
    tokens: list[bytes] = []
    for label in TOKEN_LABELS:
        if label not in unprotected:
            continue
        value = unprotected[label]
        items = value.get("tstTokens") if isinstance(value, dict) else None
        if not isinstance(items, list) or not all(_byte_token(item) for item in items):
            return None
        tokens += [item["val"] for item in items]
    return tokens


def _byte_token(item: Any) -> bool:
    return isinstance(item, dict) and type(item.get("val")) is bytes


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return bool(certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except (x509.ExtensionNotFound, ValueError):
        return False


def _time_stamping_only(certificate: x509.Certificate) -> bool:
    try:
        usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except (x509.ExtensionNotFound, ValueError):
        return False
    return list(usage) == [ExtendedKeyUsageOID.TIME_STAMPING]


def _only(data: bytes, tag: int) -> bytes:
    items = list(_children(data))
    if len(items) != 1 or items[0][0] != tag:
        raise _DerError(f"expected one DER element with tag {tag:#x}")
    return items[0][1]


def _children(data: bytes) -> Iterator[tuple[int, bytes, bytes]]:
    """(tag, content, raw element) of each DER element in ``data``."""
    offset = 0
    while offset < len(data):
        start = offset
        if offset + 2 > len(data):
            raise _DerError("truncated DER header")
        tag, length = data[offset], data[offset + 1]
        offset += 2
        if length & 0x80:
            count = length & 0x7F
            if not 0 < count <= 4 or offset + count > len(data):
                raise _DerError("bad DER length")
            length = int.from_bytes(data[offset : offset + count])
            offset += count
        if offset + length > len(data):
            raise _DerError("DER element runs past its container")
        yield tag, data[offset : offset + length], data[start : offset + length]
        offset += length
