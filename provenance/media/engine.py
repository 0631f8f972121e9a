"""Signing and reading C2PA manifests through c2pa-python: the only module that imports c2pa.

c2pa is configured explicitly for every call: trust anchors from the caller's trust root only, the
allowed EKUs of :mod:`provenance.media.profile` as the trust configuration, time-stamp trust
verification on, remote manifest fetching off, thumbnails off unless asked for. Its trust
verification of the claim signer (``verify_trust``) is on unless a reader asks for it off
(:func:`read_with_c2pa`); c2pa 0.91.3 decides time-stamp trust under its own setting
(``verify_timestamp_trust``) against the same anchors either way.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, BinaryIO

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from provenance.codes import Code
from provenance.errors import MediaError, VerificationError
from provenance.media.profile import trust_config
from provenance.media.store import ManifestStoreError, check_sidecar


class MediaUnsupportedError(MediaError):
    """c2pa-python does not support this MIME type."""


class MediaReadError(VerificationError):
    """The asset has no manifest, an unsupported type, or a manifest c2pa cannot read."""

    default_code = Code.MEDIA_MALFORMED


@dataclass(frozen=True)
class Reading:
    """What c2pa read from an asset: not yet judged.

    Attributes:
        state: c2pa's validation state: ``Invalid``, ``Valid`` or ``Trusted``.
        report: c2pa's reader JSON (``active_manifest``, ``manifests``, ...).
        results: c2pa's ``validation_results`` (``activeManifest``, ``ingredientDeltas``).
        store: The JUMBF manifest store bytes, as c2pa serializes the store it validated.
    """

    state: str
    report: dict[str, Any]
    results: dict[str, Any]
    store: bytes

    @property
    def active_label(self) -> str:
        """The label of the active manifest."""
        return str(self.report.get("active_manifest", ""))

    @property
    def active_manifest(self) -> dict[str, Any]:
        """The active manifest of the reader JSON (empty when absent)."""
        manifest = (self.report.get("manifests") or {}).get(self.active_label)
        return manifest if isinstance(manifest, dict) else {}


@cache
def supported_mime_types() -> frozenset[str]:
    """The MIME types (and file extensions) c2pa-python can read and sign."""
    readable = set(c2pa.Reader.get_supported_mime_types())
    return frozenset(readable & set(c2pa.Builder.get_supported_mime_types()))


def check_mime_type(mime_type: str) -> None:
    """Refuse a MIME type c2pa-python cannot handle.

    Raises:
        MediaUnsupportedError: Naming the type; text types are never supported.
    """
    if mime_type not in supported_mime_types():
        raise MediaUnsupportedError(
            f"c2pa cannot handle MIME type {mime_type!r} (images, video, audio, PDF and other "
            "documents only; sign text with a bundle instead)"
        )


def sign_with_c2pa(
    source: BinaryIO,
    mime_type: str,
    *,
    sign: Any,
    chain: Sequence[x509.Certificate],
    definition: dict[str, Any],
    anchors: Sequence[x509.Certificate],
    sidecar: bool,
    thumbnail: bool,
) -> bytes:
    """Sign with an ES256 callback signer; return the signed asset or the sidecar manifest.

    Raises:
        MediaError: c2pa refused to sign (its message is kept).
    """
    chain_pem = _pem(chain).decode("ascii")
    context = _context(tuple(anchors), thumbnail, True)
    output = io.BytesIO()
    try:
        with (
            c2pa.Signer.from_callback(sign, c2pa.C2paSigningAlg.ES256, chain_pem, None) as signer,
            c2pa.Builder.from_json(definition, context=context) as builder,
        ):
            builder.set_intent(c2pa.C2paBuilderIntent.EDIT)
            if sidecar:
                builder.set_no_embed()
            manifest = builder.sign(signer, mime_type, source, output)
    except c2pa.C2paError as exc:
        raise MediaError(f"c2pa refused to sign: {exc}") from exc
    return bytes(manifest) if sidecar else output.getvalue()


def read_with_c2pa(
    source: BinaryIO,
    mime_type: str,
    *,
    anchors: Sequence[x509.Certificate],
    sidecar: bytes | None,
    signer_trust: bool = True,
) -> Reading:
    """Read and validate the manifest store of an asset (or of its sidecar).

    Args:
        source: The asset (a seekable binary stream).
        mime_type: Its MIME type (or extension).
        anchors: c2pa's trust anchors, for the claim signer and for time-stamp authorities.
        sidecar: A ``.c2pa`` manifest store to read instead of an embedded one: exactly one
            top-level superbox labelled ``c2pa`` (c2pa reads only the first box).
        signer_trust: Whether c2pa also verifies the claim signer's chain to ``anchors``
            (``signingCredential.trusted``/``untrusted``, state ``Trusted``). Off, c2pa still
            checks the signature, bindings, the signer's certificate profile and time-stamp
            trust, and a good manifest reads ``Valid``.

    Raises:
        MediaReadError: ``media.unsupported``, ``media.unsigned`` or ``media.malformed`` (also a
            sidecar with bytes after its first box, or whose first box is not labelled ``c2pa``).
    """
    try:
        check_mime_type(mime_type)
    except MediaUnsupportedError as exc:
        raise MediaReadError(str(exc), code=Code.MEDIA_UNSUPPORTED) from exc
    if sidecar is not None:
        _check_sidecar(sidecar)
    try:
        with c2pa.Reader(
            mime_type, source, sidecar, _context(tuple(anchors), False, signer_trust)
        ) as reader:
            report = json.loads(reader.json())
            return Reading(
                state=str(report.get("validation_state")),
                report=report,
                results=report.get("validation_results") or {},
                store=_store(reader, report),
            )
    except c2pa.C2paError.ManifestNotFound as exc:
        raise MediaReadError(
            "the asset carries no C2PA manifest", code=Code.MEDIA_UNSIGNED
        ) from exc
    except c2pa.C2paError.NotSupported as exc:
        raise MediaReadError(f"c2pa: {exc}", code=Code.MEDIA_UNSUPPORTED) from exc
    except (c2pa.C2paError, ValueError) as exc:
        raise MediaReadError(f"c2pa cannot read the manifest: {exc}") from exc


def _check_sidecar(sidecar: bytes) -> None:
    """Refuse a sidecar with more than the one ``c2pa`` store c2pa reads (``media.malformed``)."""
    try:
        check_sidecar(sidecar)
    except ManifestStoreError as exc:
        raise MediaReadError(exc.message) from exc


def _store(reader: c2pa.Reader, report: dict[str, Any]) -> bytes:
    """The JUMBF manifest store c2pa read and validated, from c2pa itself for an embedded store and
    for a sidecar alike: never bytes of the caller's that c2pa may have skipped."""
    store = io.BytesIO()
    reader.resource_to_stream(f"self#jumbf=/c2pa/{report.get('active_manifest', '')}", store)
    return store.getvalue()


@lru_cache(maxsize=16)
def _context(
    anchors: tuple[x509.Certificate, ...], thumbnail: bool, signer_trust: bool
) -> c2pa.Context:
    """c2pa's context for these anchors, built once: a Context without a signer is reusable."""
    trust: dict[str, str] = {"trust_config": trust_config()}
    if anchors:
        trust["trust_anchors"] = _pem(anchors).decode("ascii")
    settings = {
        "trust": trust,
        "verify": {
            "verify_trust": signer_trust,
            "verify_timestamp_trust": True,
            "remote_manifest_fetch": False,
        },
        "builder": {"thumbnail": {"enabled": thumbnail}},
    }
    return c2pa.Context(c2pa.Settings.from_dict(settings))


def _pem(certificates: Sequence[x509.Certificate]) -> bytes:
    return b"".join(certificate.public_bytes(Encoding.PEM) for certificate in certificates)
