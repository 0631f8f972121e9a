"""Clear-signed text (specs/armor-v1.md): layout, round trips, copy and paste, injection, caps."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from provenance.armor import (
    ARMOR_BEGIN,
    BUNDLE_BEGIN,
    BUNDLE_END,
    ArmorError,
    ArmorLimits,
    ArmorVerdict,
    SignedBlock,
    UnsignedSegment,
    armor_text,
    check_armored,
    contains_armor,
    find_signed_blocks,
)
from provenance.bundle import Bundle
from provenance.encoding import b64encode
from provenance.errors import DigestMismatchError
from provenance.identity.trust import TrustRoot
from provenance.keys import generate_key
from provenance.sign import Signer
from provenance.text import Canonicalization, canonicalize
from provenance.verify.policy import AllOf, Identity
from provenance.verify.verifier import Verifier
from tests.factories import (
    IDENTITY,
    NOW,
    authority_trust,
    certified_author,
    make_authority,
    pinned_trust,
    predicate,
    sign,
)

KEY = generate_key()
VERIFIER = Verifier(pinned_trust(KEY))
ANY = AllOf([])
TEXT = "The desk lamp is sturdy and bright.\nFive stars.\n"


def _armored(text: str = TEXT) -> str:
    return armor_text(text, sign(KEY, text.encode()))


def _check(document: str | bytes) -> tuple[ArmorVerdict, list[str]]:
    outcome = check_armored(VERIFIER, document, ANY, at=NOW)
    failures = [f["code"] for f in outcome.to_json()["findings"] if not f["ok"]]
    return outcome.verdict, failures


def _bundle_lines(document: str) -> list[str]:
    lines = document.splitlines()
    return lines[lines.index(BUNDLE_BEGIN) + 1 : lines.index(BUNDLE_END)]


def _code(document: str, limits: ArmorLimits | None = None) -> str:
    with pytest.raises(ArmorError) as raised:
        find_signed_blocks(document, limits or ArmorLimits())
    return raised.value.code


def test_armor_writes_the_specified_layout() -> None:
    bundle = sign(KEY, TEXT.encode())
    lines = armor_text(TEXT, bundle).split("\n")
    assert lines[:6] == [
        ARMOR_BEGIN,
        "Profile: text-v1",
        "",
        "The desk lamp is sturdy and bright.",
        "Five stars.",
        BUNDLE_BEGIN,
    ]
    assert lines[-2:] == [BUNDLE_END, ""]
    base64_lines = lines[6:-2]
    assert all(len(line) == 64 for line in base64_lines[:-1])
    assert 1 <= len(base64_lines[-1]) <= 64
    compact = json.dumps(bundle.to_json(), separators=(",", ":")).encode()
    assert "".join(base64_lines) == b64encode(compact)


def test_round_trip_with_pinned_key_verifies() -> None:
    outcome = check_armored(VERIFIER, _armored(), ANY, at=NOW)
    assert outcome.verdict is ArmorVerdict.VERIFIED and outcome.verified
    (item,) = outcome.blocks
    assert item.block.text == TEXT
    assert (item.block.start_line, item.block.end_line) == (1, item.block.end_line)
    assert [f.code for f in item.result.findings][-2:] == ["policy.ok", "armor.ok"]
    assert item.result.signer is not None and item.result.signer.identities == ("alice",)
    assert outcome.unsigned_segments == ()


def test_round_trip_with_certificate_reports_identity_and_issuer() -> None:
    authority = make_authority()
    author = certified_author(authority)
    bundle = Signer(author.key, author.chain).sign(TEXT.encode(), "review.txt", predicate())
    verifier = Verifier(authority_trust(authority))
    outcome = check_armored(verifier, armor_text(TEXT, bundle), Identity(IDENTITY), at=NOW)
    assert outcome.verified
    signer = outcome.blocks[0].result.signer
    assert signer is not None and signer.identities == (IDENTITY,)
    assert signer.issuer is not None and "Reviews Example" in signer.issuer


@pytest.mark.parametrize(
    "paste",
    [
        lambda doc: doc.replace("\n", "\r\n"),
        lambda doc: doc.replace("\n", "  \t\n"),
        lambda doc: doc + "\n",
        lambda doc: doc.replace(BUNDLE_BEGIN, "\n\n" + BUNDLE_BEGIN),
        lambda doc: "\ufeff" + doc.replace("\n", "\r"),
    ],
    ids=["crlf", "trailing-white-space", "extra-final-newline", "empty-lines-end-text", "bom-cr"],
)
def test_copy_and_paste_changes_keep_it_verified(paste: Callable[[str], str]) -> None:
    assert _check(paste(_armored())) == (ArmorVerdict.VERIFIED, [])


def test_one_changed_word_is_digest_mismatch() -> None:
    verdict, failures = _check(_armored().replace("sturdy", "flimsy"))
    assert (verdict, failures) == (ArmorVerdict.NOT_VERIFIED, ["digest.mismatch"])


def test_dash_lines_are_escaped_and_round_trip() -> None:
    text = f"-\n-- Dana\n{ARMOR_BEGIN}\n{BUNDLE_END}\n- item\nplain -\n"
    document = _armored(text)
    assert document.split("\n")[3:9] == [
        "- -",
        "- -- Dana",
        f"- {ARMOR_BEGIN}",
        f"- {BUNDLE_END}",
        "- - item",
        "plain -",
    ]
    (block,) = find_signed_blocks(document).blocks
    assert block.text == text
    assert _check(document) == (ArmorVerdict.VERIFIED, [])


def test_armor_writes_the_canonical_text() -> None:
    (block,) = find_signed_blocks(_armored("cafe\u0301  \r\nok\r\n\r\n")).blocks
    assert block.text == "caf\u00e9\nok\n"


def test_armor_refuses_a_bundle_of_other_text() -> None:
    with pytest.raises(DigestMismatchError):
        armor_text("Four stars.\n", sign(KEY, TEXT.encode()))


def test_armor_refuses_a_bundle_of_exact_bytes() -> None:
    bundle = _exact_bytes_bundle(TEXT)
    with pytest.raises(ArmorError) as raised:
        armor_text(TEXT, bundle)
    assert raised.value.code == "armor.profile"


def _exact_bytes_bundle(text: str) -> Bundle:
    profile_none = predicate(profile=Canonicalization.NONE)
    return Signer(KEY).sign(text.encode(), "review.txt", profile_none)


def _handmade(text_lines: list[str], bundle: bytes, headers: tuple[str, ...] = ()) -> str:
    encoded = b64encode(bundle)
    chunks = [encoded[i : i + 64] for i in range(0, len(encoded), 64)]
    lines = [ARMOR_BEGIN, *headers, "", *text_lines, BUNDLE_BEGIN, *chunks, BUNDLE_END]
    return "\n".join(lines) + "\n"


def test_block_whose_statement_names_none_is_armor_profile() -> None:
    document = _handmade(["Hello"], _exact_bytes_bundle("Hello\n").to_bytes())
    verdict, failures = _check(document)
    assert (verdict, failures) == (ArmorVerdict.NOT_VERIFIED, ["armor.profile"])


def test_headers_are_optional() -> None:
    document = _handmade(["Hello"], sign(KEY, b"Hello\n").to_bytes())
    assert _check(document) == (ArmorVerdict.VERIFIED, [])


def test_begin_inside_signed_text_is_armor_injection() -> None:
    inner = _armored("I love it.\n")
    outer = _armored()
    injected = outer.replace(BUNDLE_BEGIN, inner + BUNDLE_BEGIN, 1)
    assert _code(injected) == "armor.injection"
    assert _check(injected) == (ArmorVerdict.NOT_VERIFIED, ["armor.injection"])


@pytest.mark.parametrize("where", ["Profile: text-v1", BUNDLE_END])
def test_begin_among_headers_or_base64_is_armor_injection(where: str) -> None:
    document = _armored().replace(where, ARMOR_BEGIN + "\n" + where)
    assert _code(document) == "armor.injection"


def test_text_before_and_after_the_block_is_unsigned_and_never_verified() -> None:
    document = "Editor's note: five stars!\n\n" + _armored() + "\nP.S. ten stars.\n"
    outcome = check_armored(VERIFIER, document, ANY, at=NOW)
    assert outcome.verdict is ArmorVerdict.PARTLY_SIGNED and not outcome.verified
    (item,) = outcome.blocks
    assert item.result.verified and item.block.start_line == 3
    assert outcome.unsigned_segments == (
        UnsignedSegment(1, 1, "Editor's note: five stars!\n"),
        UnsignedSegment(item.block.end_line + 2, item.block.end_line + 2, "P.S. ten stars.\n"),
    )
    codes = [f["code"] for f in outcome.to_json()["findings"] if not f["ok"]]
    assert codes == ["armor.partly_signed"]


def test_white_space_outside_blocks_is_not_unsigned_text_but_zero_width_space_is() -> None:
    assert _check(" \n\t\n" + _armored() + "\n   \n") == (ArmorVerdict.VERIFIED, [])
    verdict, failures = _check(_armored() + "\u200b\n")
    assert (verdict, failures) == (ArmorVerdict.PARTLY_SIGNED, ["armor.partly_signed"])


def test_two_signed_blocks_are_each_verified_and_reported() -> None:
    other_key = generate_key()
    pinned = (("alice", KEY.public_key), ("bob", other_key.public_key))
    verifier = Verifier(TrustRoot(name="two", pinned_keys=pinned))
    second = armor_text("Too dim.\n", sign(other_key, b"Too dim.\n"))
    document = _armored() + "\n" + second
    outcome = check_armored(verifier, document, ANY, at=NOW)
    assert outcome.verified
    signers = [b.result.signer.identities for b in outcome.blocks if b.result.signer]
    assert signers == [("alice",), ("bob",)]
    document_json = outcome.to_json()
    assert document_json["signer"] is None and document_json["claims"] == {}
    assert [b["lines"][0] for b in document_json["blocks"]] == [
        1,
        outcome.blocks[0].block.end_line + 2,
    ]
    tampered = check_armored(verifier, document.replace("dim", "bright"), ANY, at=NOW)
    assert [b.result.verified for b in tampered.blocks] == [True, False]
    assert tampered.verdict is ArmorVerdict.NOT_VERIFIED


def _replace_base64(document: str, index: int, change: Callable[[str], str]) -> str:
    lines = document.split("\n")
    position = (
        lines.index(BUNDLE_BEGIN) + 1 + index if index >= 0 else lines.index(BUNDLE_END) + index
    )
    lines[position] = change(lines[position])
    return "\n".join(lines)


def _without_base64(document: str) -> str:
    lines = document.split("\n")
    return "\n".join(lines[: lines.index(BUNDLE_BEGIN) + 1] + lines[lines.index(BUNDLE_END) :])


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda d: d.replace("Profile: text-v1", "Hash: SHA256"), "armor.header"),
        (lambda d: d.replace("Profile: text-v1", "Profile: none"), "armor.header"),
        (
            lambda d: d.replace("Profile: text-v1", "Profile: text-v1\nProfile: text-v1"),
            "armor.header",
        ),
        (lambda d: d.replace("Profile: text-v1\n\n", "Profile: text-v1\n"), "armor.malformed"),
        (lambda d: d.replace("Five stars.", "-Five stars."), "armor.malformed"),
        (lambda d: d.replace(BUNDLE_END + "\n", ""), "armor.malformed"),
        (lambda d: d + BUNDLE_END + "\n", "armor.malformed"),
        (lambda d: BUNDLE_BEGIN + "\n" + d, "armor.malformed"),
        (lambda d: d.replace(BUNDLE_BEGIN + "\n", BUNDLE_BEGIN + "\n\n"), "armor.malformed"),
        (lambda d: _replace_base64(d, 0, lambda line: line + "A"), "armor.malformed"),
        (lambda d: _replace_base64(d, 0, lambda line: line[:60]), "armor.malformed"),
        (lambda d: _replace_base64(d, 1, lambda line: "*" + line[1:]), "armor.malformed"),
        (lambda d: _replace_base64(d, -1, lambda line: line[:-1]), "armor.malformed"),
        (_without_base64, "armor.malformed"),
    ],
    ids=[
        "unknown-header",
        "profile-none",
        "repeated-header",
        "no-separator",
        "unescaped-dash",
        "no-end",
        "stray-end",
        "stray-bundle-begin",
        "empty-base64-line",
        "base64-line-too-long",
        "short-line-not-last",
        "bad-base64-character",
        "bad-padding",
        "empty-bundle",
    ],
)
def test_malformed_armor_is_refused_with_its_code(mutate: Callable[[str], str], code: str) -> None:
    document = mutate(_armored())
    assert _code(document) == code
    assert _check(document) == (ArmorVerdict.NOT_VERIFIED, [code])


def test_garbage_bundle_is_a_finding_of_the_block() -> None:
    document = _handmade(["Hello"], sign(KEY, b"Hello\n").to_bytes()[1:])
    verdict, failures = _check(document)
    assert verdict is ArmorVerdict.NOT_VERIFIED
    assert failures == ["bundle.malformed"]


@pytest.mark.parametrize(
    ("limits", "document"),
    [
        (ArmorLimits(max_document_bytes=100), "x" * 101),
        (ArmorLimits(max_document_bytes=100), "\u00e9" * 51),
        (ArmorLimits(max_line_chars=10), "short\n" + "y" * 11 + "\n"),
        (ArmorLimits(max_blocks=1), None),
        (ArmorLimits(max_bundle_chars=500), None),
    ],
    ids=["document", "document-utf8-bytes", "line", "blocks", "bundle"],
)
def test_caps_are_armor_too_large(limits: ArmorLimits, document: str | None) -> None:
    assert _code(document or _armored() + _armored(), limits) == "armor.too_large"


def test_bytes_that_are_not_utf8_are_armor_malformed() -> None:
    assert _check(_armored().encode() + b"\xff\n") == (
        ArmorVerdict.NOT_VERIFIED,
        ["armor.malformed"],
    )


def test_lone_surrogate_is_armor_malformed() -> None:
    assert _code(_armored() + "\ud800\n") == "armor.malformed"


def test_document_without_block_is_armor_missing() -> None:
    assert _check("Just a review.\n") == (ArmorVerdict.NOT_VERIFIED, ["armor.missing"])
    assert not contains_armor("Just a review.\n") and contains_armor(_armored().encode())


def test_indented_begin_line_is_text() -> None:
    parsed = find_signed_blocks("  " + ARMOR_BEGIN + "\n")
    assert parsed.blocks == ()
    assert parsed.unsigned_segments == (UnsignedSegment(1, 1, "  " + ARMOR_BEGIN + "\n"),)


def test_empty_text_round_trips() -> None:
    document = _armored("")
    (block,) = find_signed_blocks(document).blocks
    assert canonicalize(block.text.encode(), Canonicalization.TEXT_V1) == b"\n"
    assert _check(document) == (ArmorVerdict.VERIFIED, [])


def test_single_block_json_keeps_the_detached_contract() -> None:
    document = check_armored(VERIFIER, _armored(), ANY, at=NOW).to_json()
    assert document["verified"] is True and document["verdict"] == "verified"
    assert document["claims"] == {"verifiedPurchase": True}
    assert document["signer"]["identities"] == ["alice"]
    assert document["blocks"][0]["lines"] == [1, document["blocks"][0]["lines"][1]]
    assert document["blocks"][0]["findings"] == document["findings"]
    assert document["unsignedText"] == []


def test_signed_block_is_a_plain_value() -> None:
    (block,) = find_signed_blocks(_armored()).blocks
    assert isinstance(block, SignedBlock)
    assert Bundle.from_bytes(block.bundle_bytes).public_key_hint == KEY.public_key.key_id


@pytest.mark.parametrize(
    "text",
    [
        "A review that quotes " + ARMOR_BEGIN + " mid-line.\n",
        "  " + ARMOR_BEGIN + "\n",
        "\ufeff\ufeff" + ARMOR_BEGIN + "\n",
        "x" + ARMOR_BEGIN + "\n",
    ],
    ids=["mid-line", "indented", "two-boms", "prefixed"],
)
def test_marker_that_is_not_a_begin_line_is_not_a_document(text: str) -> None:
    assert not contains_armor(text)
    assert not contains_armor(text.encode())


@pytest.mark.parametrize(
    "text",
    [
        ARMOR_BEGIN + "\n",
        "\ufeff" + ARMOR_BEGIN + "\r\n",
        "intro\r" + ARMOR_BEGIN + " \t\n",
        "intro\n" + ARMOR_BEGIN,
    ],
    ids=["first-line", "one-bom-crlf", "cr-trailing-space", "last-line"],
)
def test_begin_line_anywhere_makes_a_document(text: str) -> None:
    assert contains_armor(text)
    assert contains_armor(text.encode())


def test_begin_line_in_bytes_that_are_not_utf8_still_makes_a_document() -> None:
    assert contains_armor(b"\xff\n" + ARMOR_BEGIN.encode() + b"\n")


def test_bundle_cap_counts_base64_characters() -> None:
    bundle = sign(KEY, TEXT.encode())
    document = armor_text(TEXT, bundle)
    encoded_chars = sum(len(line) for line in _bundle_lines(document))
    under = ArmorLimits(max_bundle_chars=encoded_chars)
    over = ArmorLimits(max_bundle_chars=encoded_chars - 1)
    assert len(find_signed_blocks(document, under).blocks) == 1
    assert _code(document, over) == "armor.too_large"


def test_armor_lines_lose_unicode_white_space_at_their_end_as_text_v1_lines_do() -> None:
    """armor-v1 §2 trims the set text-v1 trims (Unicode White_Space), so U+00A0 and U+3000 after
    an armor line are copy-and-paste noise."""
    document = (
        _armored()
        .replace("\n-----", "\xa0\u3000\n-----")
        .replace(ARMOR_BEGIN + "\n", ARMOR_BEGIN + "\u2003\n", 1)
    )
    assert _check(document) == (ArmorVerdict.VERIFIED, [])
    assert contains_armor(ARMOR_BEGIN + "\u3000\n")


@pytest.mark.parametrize("separator", ["\x1c", "\x1d", "\x1e", "\x1f"])
def test_an_information_separator_after_an_armor_line_is_not_white_space(separator: str) -> None:
    """U+001C..U+001F are not Unicode White_Space (Python's str.rstrip() removes them): a BEGIN
    line followed by one is no BEGIN line but a stray armor line (armor-v1 §6), and the CLI does
    not take the file for a document (§10)."""
    begin = ARMOR_BEGIN + separator
    assert not contains_armor(begin + "\n")
    assert _code(begin + "\n") == "armor.malformed"
    document = _armored().replace(ARMOR_BEGIN, begin, 1)
    assert _check(document) == (ArmorVerdict.NOT_VERIFIED, ["armor.malformed"])
    ended = _armored().replace(BUNDLE_END, BUNDLE_END + separator)
    assert _check(ended) == (ArmorVerdict.NOT_VERIFIED, ["armor.malformed"])


def test_an_information_separator_outside_blocks_is_unsigned_text() -> None:
    """armor-v1 §6 counts Unicode White_Space only as empty: U+001F after the block is text that
    nobody signed."""
    verdict, failures = _check(_armored() + "\x1f\n")
    assert (verdict, failures) == (ArmorVerdict.PARTLY_SIGNED, ["armor.partly_signed"])
