"""Object keys are the document's own: orjson's key cache is never trusted with untrusted input.

orjson 3.13 caches object keys of up to 64 bytes by the 64-bit XXH3 hash of the key alone, without
comparing bytes; XXH3 of 4 to 8 bytes can be inverted, so the 8-byte key below is read as
``payload`` once ``payload`` was read before (earlier in the document, or by any earlier parse of
the process). A bundle whose envelope holds that key instead of ``payload`` verified (found by the
fifth attack, 2026-12-03). The readers now use the standard library's C scanner, whose key memo
compares keys by value.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from provenance.bundle import Bundle
from provenance.codes import Code
from provenance.encoding import loads_strict
from provenance.errors import BundleFormatError
from provenance.verify.policy import UnsafeAcceptAnyIdentity
from provenance.verify.verifier import Verifier
from tests.factories import NOW, REVIEW, authority_trust, certified_author, make_authority, sign

REPO = Path(__file__).resolve().parents[2]
COLLIDER = b"\xc8\x89\x04p\xca\xbe\x1d\x00".decode("utf-8")
"""Eight bytes whose XXH3-64 equals that of ``payload``."""
ESCAPED_COLLIDER = orjson.dumps(COLLIDER)


def test_key_colliding_with_an_earlier_key_of_the_document_is_read_as_itself() -> None:
    document = b'{"first":{"payload":"A"},"second":{' + ESCAPED_COLLIDER + b':"B"}}'
    value = loads_strict(document, max_bytes=1 << 20)
    assert value == {"first": {"payload": "A"}, "second": {COLLIDER: "B"}}


def test_key_colliding_with_a_key_of_an_earlier_parse_is_read_as_itself() -> None:
    loads_strict(b'{"payload":"primed"}', max_bytes=1 << 20)
    document = b'{"payloadType":"t",' + ESCAPED_COLLIDER + b':"aGk=","signatures":[]}'
    value = loads_strict(document, max_bytes=1 << 20)
    assert value == {"payloadType": "t", COLLIDER: "aGk=", "signatures": []}


def test_bundle_whose_payload_key_is_a_colliding_key_is_malformed() -> None:
    authority = make_authority()
    author = certified_author(authority)
    good = sign(author.key, REVIEW, author.chain).to_bytes()
    assert good.count(b'"payload":') == 1
    forged = good.replace(b'"payload":', ESCAPED_COLLIDER + b":")
    Bundle.from_bytes(good)  # the reader has seen "payload" in this process
    try:
        Bundle.from_bytes(forged)
    except BundleFormatError as exc:
        assert exc.code == Code.BUNDLE_MALFORMED
    else:
        raise AssertionError("a bundle without a payload key was read")
    result = Verifier(authority_trust(authority)).check(
        REVIEW, forged, UnsafeAcceptAnyIdentity(), at=NOW
    )
    assert [f.code for f in result.findings if not f.ok] == ["bundle.malformed"]


def test_no_reader_of_untrusted_json_uses_orjson_loads() -> None:
    readers = [*(REPO / "provenance").rglob("*.py"), *(REPO / "verifier_api").rglob("*.py")]
    using = [str(path.relative_to(REPO)) for path in readers if "orjson.loads" in path.read_text()]
    assert using == []
