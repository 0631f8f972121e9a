"""C2SP signed notes and checkpoints."""

from __future__ import annotations

import base64

import pytest

from provenance.errors import KeyFormatError, LogProofError
from provenance.keys import Ed25519SigningKey
from provenance.tlog.note import (
    Checkpoint,
    NoteSigner,
    NoteVerifier,
    open_checkpoint,
    open_note,
    sign_checkpoint,
    sign_note,
    verifier_key_string,
)

# Known answer from the documentation of golang.org/x/mod/sumdb/note (the reference implementation).
GO_SEED = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")[1:]
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT
    + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNX"
    "gKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
# The example in https://c2sp.org/signed-note ("Verifier keys").
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXpp"
    "zi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
ORIGIN = "example.org/log"
ROOT = bytes(range(32))


def _signer(name: str = ORIGIN, seed: int = 7) -> NoteSigner:
    return NoteSigner(name, Ed25519SigningKey(bytes([seed]) * 32))


def test_signing_reproduces_the_go_sumdb_note_known_answer() -> None:
    signer = NoteSigner("PeterNeumann", Ed25519SigningKey(GO_SEED))
    assert signer.key_id == 0xC74F20A3
    assert verifier_key_string(signer.name, signer.key.public_key) == GO_VKEY
    assert sign_note(GO_TEXT, signer) == GO_NOTE


def test_open_note_verifies_the_go_and_spec_examples() -> None:
    assert open_note(GO_NOTE, [NoteVerifier.from_key_string(GO_VKEY)])[0] == GO_TEXT
    text, verified = open_note(SPEC_NOTE, [NoteVerifier.from_key_string(SPEC_VKEY)])
    assert text == "This is an example message.\n"
    assert [v.name for v in verified] == ["example.com/foo"]


@pytest.mark.parametrize(
    "key",
    [
        "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "example.com/foo+530d903a+AmkyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2",
        "example.com/foo+530d903a",
        "+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "example com+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
    ],
)
def test_verifier_key_parsing_rejects_malformed_keys(key: str) -> None:
    with pytest.raises(KeyFormatError):
        NoteVerifier.from_key_string(key)


def test_note_signer_rejects_names_with_plus_or_space() -> None:
    with pytest.raises(KeyFormatError):
        _signer("a+b")
    with pytest.raises(KeyFormatError):
        _signer("a b")


def test_signatures_by_unknown_keys_are_ignored() -> None:
    known, other = _signer(), _signer("other.example/log", seed=9)
    note = sign_note("hello\n", known)
    note += sign_note("hello\n", other).split("\n\n", 1)[1]
    text, verified = open_note(note, [known.verifier])
    assert text == "hello\n"
    assert verified == [known.verifier]


def test_a_bad_signature_by_a_known_key_is_invalid() -> None:
    signer = _signer()
    forged = sign_note("hello\n", signer).replace("hello", "hullo")
    with pytest.raises(LogProofError, match="does not verify") as caught:
        open_note(forged, [signer.verifier])
    assert caught.value.code == "log.checkpoint.invalid"


def test_a_note_with_non_ascii_text_verifies_over_its_utf8_bytes() -> None:
    # The signed bytes are cut from the note's UTF-8 at the last blank line: characters of
    # several bytes before it must not shift the cut.
    signer = _signer()
    text = "caf\u00e9 \u2014 \U0001f600\nline two \u00fc\n"
    note = sign_note(text, signer)
    assert open_note(note, [signer.verifier]) == (text, [signer.verifier])
    with pytest.raises(LogProofError, match="does not verify") as caught:
        open_note(note.replace("\u00fc", "\u00f6"), [signer.verifier])
    assert caught.value.code == "log.checkpoint.invalid"


def test_a_note_signed_only_by_unknown_keys_is_unsigned() -> None:
    note = sign_note("hello\n", _signer("other.example/log", seed=9))
    with pytest.raises(LogProofError, match="not signed by a trusted key") as caught:
        open_note(note, [_signer().verifier])
    assert caught.value.code == "log.checkpoint.unsigned"


@pytest.mark.parametrize(
    "note",
    [
        "hello\n",
        "hello\n\n",
        "hello\n\n- name AAAAAAAA\n",
        "hello\n\n\u2014 name AAAA\n",
        "hello\n\n\u2014 name not-base64!\n",
        "hel\tlo\n\n\u2014 name AAAAAAAA\n",
        "hello\n\n\u2014 name AAAAAAAA",
        "hello\n\n" + "\u2014 name AAAAAAAA\n" * 101,
        "x" * (64 * 1024) + "\n\n\u2014 name AAAAAAAA\n",
    ],
)
def test_malformed_notes_are_invalid(note: str) -> None:
    with pytest.raises(LogProofError) as caught:
        open_note(note, [_signer().verifier])
    assert caught.value.code == "log.checkpoint.invalid"


def test_checkpoint_text_has_the_exact_c2sp_format() -> None:
    checkpoint = Checkpoint(ORIGIN, 12, ROOT, ("ext one",))
    assert checkpoint.to_text() == (
        "example.org/log\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\next one\n"
    )
    assert Checkpoint.from_text(checkpoint.to_text()) == checkpoint


@pytest.mark.parametrize(
    "text",
    [
        "example.org/log\n012\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "example.org/log\n+12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "example.org/log\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
        "example.org/log\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n",
        "example.org/log\n12\n",
        "example.org/log\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n",
        "example.org/log\n18446744073709551616\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
    ],
)
def test_checkpoint_parsing_is_strict(text: str) -> None:
    with pytest.raises(LogProofError) as caught:
        Checkpoint.from_text(text)
    assert caught.value.code == "log.checkpoint.invalid"


def test_open_checkpoint_returns_the_signed_checkpoint() -> None:
    signer = _signer()
    note = sign_checkpoint(Checkpoint(ORIGIN, 3, ROOT), signer)
    assert open_checkpoint(note, [signer.verifier], origin=ORIGIN) == Checkpoint(ORIGIN, 3, ROOT)


def test_open_checkpoint_rejects_another_origin() -> None:
    signer = _signer()
    note = sign_checkpoint(Checkpoint("other.example/log", 3, ROOT), signer)
    with pytest.raises(LogProofError, match=r"expected a checkpoint of log 'example\.org/log'"):
        open_checkpoint(note, [signer.verifier], origin=ORIGIN)


def test_key_names_follow_unicode_white_space_not_str_isspace() -> None:
    key = Ed25519SigningKey(bytes(32))
    assert NoteSigner("log\x1cexample", key).name == "log\x1cexample"
    for name in ("log\u00a0example", "log\u3000example", "log\x85example"):
        with pytest.raises(KeyFormatError):
            NoteSigner(name, key)


def test_verifier_key_splits_at_the_first_two_plus_signs() -> None:
    for seed in range(64):
        signer = NoteSigner("log.example", Ed25519SigningKey(bytes([seed]) * 32))
        key_string = signer.verifier.key_string
        if "+" in key_string.split("+", 2)[2]:
            assert NoteVerifier.from_key_string(key_string) == signer.verifier
            return
    raise AssertionError("no key among the seeds has a '+' in its base64")
