"""The time-stamp rule (specs/media-v1.md §3, Time) sees every token c2pa could use.

c2pa reads ``tstTokens[].val`` with serde_bytes, which also accepts an array of integers or a
tagged byte string, and uses the first of ``sigTst2``/``sigTst``; the toolkit's EKU rule read only
byte strings, so an author-made token hidden as an integer array set c2pa's trusted time while the
rule inspected a decoy. And ``timeStamp.trusted`` counts only when it names the claim signature.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import cbor2
import pytest

from provenance.identity import create_authority, export_trust_root
from provenance.media.findings import has_trusted_timestamp
from provenance.media.timestamp import usable_time_stamp
from tests.adversarial.media_certificates import time_stamp_authority
from tests.adversarial.media_forgery import (
    Signature,
    replace_in_asset,
    rewrite,
    self_made_time_stamp,
)
from tests.factories import certified_author
from tests.media_samples import tiny_png

pytest.importorskip("c2pa")

from provenance.media import sign_media
from provenance.media.engine import read_with_c2pa

PNG = "image/png"
NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def tsa_token() -> bytes:
    """A token of a timeStamping-only certificate (the rule reads certificates, not signatures)."""
    tsa = time_stamp_authority(NOW)
    stamp = self_made_time_stamp(tsa.key, tsa.chain, b"p", b"s", NOW)
    token: bytes = stamp["sigTst2"]["tstTokens"][0]["val"]
    return token


def test_a_token_c2pa_reads_as_an_integer_array_makes_the_stamp_unusable() -> None:
    authority = create_authority("Reviews Example", now=NOW - timedelta(days=30)).authority
    author = certified_author(authority, "https://reviews.example/u/1", issued=NOW - timedelta(2))
    decoy_tsa = time_stamp_authority(NOW)
    trust = export_trust_root(authority, crl=None)
    store = sign_media(tiny_png(), PNG, key=author.key, chain=author.chain, at=NOW, sidecar=True)
    signature = Signature.of_store(store)
    backdated = NOW - timedelta(hours=3)
    headers: dict[str, Any] = {}

    def stamp(protected: bytes, sig: bytes) -> dict[str, Any]:
        own = self_made_time_stamp(author.key, author.chain, protected, sig, backdated)
        decoy = self_made_time_stamp(decoy_tsa.key, decoy_tsa.chain, protected, sig, backdated)
        headers.update(
            {
                "sigTst2": {"tstTokens": [{"val": list(own["sigTst2"]["tstTokens"][0]["val"])}]},
                "sigTst": {"tstTokens": decoy["sigTst2"]["tstTokens"]},
            }
        )
        return headers

    forged = replace_in_asset(store, signature.cose, rewrite(signature, author.key, stamp=stamp))
    reading = read_with_c2pa(
        io.BytesIO(tiny_png()), PNG, anchors=trust.roots, sidecar=forged, signer_trust=False
    )
    successes = [item["code"] for item in reading.results["activeManifest"]["success"]]
    assert "timeStamp.trusted" in successes  # c2pa used the author-made token
    assert datetime.fromisoformat(reading.active_manifest["signature_info"]["time"]) == backdated
    assert usable_time_stamp({"sigTst": headers["sigTst"]})  # the decoy alone would pass
    assert not usable_time_stamp(headers)


@pytest.mark.parametrize(
    "encode",
    [
        list,
        lambda token: cbor2.CBORTag(24, token),
        bytearray,
        lambda token: None,
    ],
    ids=["integer array", "tagged byte string", "bytearray", "nil"],
)
def test_a_token_other_than_a_byte_string_makes_the_stamp_unusable(
    tsa_token: bytes, encode: Any
) -> None:
    good = {"tstTokens": [{"val": tsa_token}]}
    assert usable_time_stamp({"sigTst2": good})
    other = {"tstTokens": [{"val": tsa_token}, {"val": encode(tsa_token)}]}
    assert not usable_time_stamp({"sigTst2": other})
    assert not usable_time_stamp({"sigTst2": good, "sigTst": other})


@pytest.mark.parametrize(
    "value",
    [[], "token", {"tstTokens": "x"}, {"tstTokens": ["x"]}, {"other": []}],
    ids=["array", "text", "tokens not an array", "token not a map", "no tstTokens"],
)
def test_a_time_stamp_header_of_another_shape_makes_the_stamp_unusable(
    tsa_token: bytes, value: Any
) -> None:
    good = {"tstTokens": [{"val": tsa_token}]}
    assert not usable_time_stamp({"sigTst2": good, "sigTst": value})


def test_a_trusted_time_stamp_counts_only_for_the_active_claim_signature() -> None:
    label = "urn:c2pa:1111"
    signature = f"self#jumbf=/c2pa/{label}/c2pa.signature"

    def results(url: str) -> dict[str, Any]:
        return {"activeManifest": {"success": [{"code": "timeStamp.trusted", "url": url}]}}

    assert has_trusted_timestamp(results(signature), label)
    for other in (
        "self#jumbf=/c2pa/urn:c2pa:2222/c2pa.signature",
        f"self#jumbf=/c2pa/{label}/c2pa.assertions/c2pa.hash.data",
        "",
    ):
        assert not has_trusted_timestamp(results(other), label)
    assert not has_trusted_timestamp({"activeManifest": {"success": [{"code": "x"}]}}, label)
