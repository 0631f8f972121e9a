"""C2SP signed notes (https://c2sp.org/signed-note) and checkpoints (https://c2sp.org/tlog-checkpoint).

A signed note is a UTF-8 text ending in a newline, a blank line, and one or more signature lines
``— <key name> <base64(4-byte key id || signature)>``. Keys are Ed25519 (algorithm byte ``0x01``);
the key id is the first four bytes of ``SHA-256(name || "\\n" || 0x01 || public key)``. A
checkpoint is the note text ``<origin>\\n<tree size>\\n<base64 root hash>\\n[extension lines]``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from provenance.codes import Code
from provenance.encoding import StrictDecodeError, b64decode_strict, b64encode
from provenance.errors import KeyFormatError, LogProofError, SignatureInvalidError
from provenance.keys import Ed25519SigningKey, Ed25519VerifyingKey
from provenance.tlog.limits import TLOG_LIMITS
from provenance.tlog.merkle import HASH_SIZE

ED25519_ALGORITHM = 0x01
SIGNATURE_PREFIX = "\u2014 "
KEY_ID_BYTES = 4
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")
_HEX_KEY_ID = re.compile(r"[0-9a-f]{8}")


def _invalid(message: str) -> LogProofError:
    return LogProofError(message, code=Code.LOG_CHECKPOINT_INVALID)


_NOT_WHITE_SPACE = frozenset("\x1c\x1d\x1e\x1f")  # str.isspace() says yes, Unicode says no


def is_valid_key_name(name: str) -> bool:
    """A key name is non-empty and holds no ``+`` and no Unicode White_Space (tlog-v1 §3).

    Unicode's White_Space property, as Go's ``unicode.IsSpace`` and C2SP use it, is
    ``str.isspace()`` without U+001C..U+001F.
    """
    if not name or "+" in name:
        return False
    if name.isascii():  # ASCII White_Space: tab, LF, VT, FF, CR and space
        return _ASCII_WHITE_SPACE.search(name) is None
    return not any(_is_white_space(char) for char in name)


_ASCII_WHITE_SPACE = re.compile("[\t\n\x0b\x0c\r ]")


def _is_white_space(char: str) -> bool:
    return char.isspace() and char not in _NOT_WHITE_SPACE


_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f]")
"""The control characters note text may not hold: C0 but newline, and DEL."""


def _check_text(text: str) -> None:
    """Note text: non-empty UTF-8 ending in a newline, no control characters but newline."""
    if not text.endswith("\n"):
        raise _invalid("note text must end with a newline")
    control = _CONTROL.search(text)
    if control is not None:
        raise _invalid(f"note holds the control character U+{ord(control.group()):04X}")


def key_id(name: str, public_key: Ed25519VerifyingKey) -> int:
    """The signed-note key id of an Ed25519 key: big-endian first 4 bytes of the key hash."""
    material = name.encode("utf-8") + b"\n" + bytes([ED25519_ALGORITHM]) + public_key.raw
    return int.from_bytes(hashlib.sha256(material).digest()[:KEY_ID_BYTES], "big")


def verifier_key_string(name: str, public_key: Ed25519VerifyingKey) -> str:
    """The verifier key ``<name>+<8 hex key id>+<base64(0x01 || public key)>``.

    Raises:
        KeyFormatError: ``name`` is not a valid key name.
    """
    if not is_valid_key_name(name):
        raise KeyFormatError(f"invalid note key name {name!r}: empty, whitespace or '+'")
    encoded = b64encode(bytes([ED25519_ALGORITHM]) + public_key.raw)
    return f"{name}+{key_id(name, public_key):08x}+{encoded}"


@dataclass(frozen=True)
class NoteSigner:
    """Signs notes as ``name`` with an Ed25519 key.

    Raises:
        KeyFormatError: ``name`` is not a valid key name.
    """

    name: str
    key: Ed25519SigningKey

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise KeyFormatError(f"invalid note key name {self.name!r}: empty, whitespace or '+'")

    @property
    def key_id(self) -> int:
        """The signed-note key id."""
        return key_id(self.name, self.key.public_key)

    @property
    def verifier(self) -> NoteVerifier:
        """The matching verifier."""
        return NoteVerifier(self.name, self.key.public_key)


@dataclass(frozen=True)
class NoteVerifier:
    """Verifies note signatures made by key ``name`` with an Ed25519 public key."""

    name: str
    public_key: Ed25519VerifyingKey

    @property
    def key_id(self) -> int:
        """The signed-note key id."""
        return key_id(self.name, self.public_key)

    @property
    def key_string(self) -> str:
        """The verifier key string (see :func:`verifier_key_string`)."""
        return verifier_key_string(self.name, self.public_key)

    @classmethod
    def from_key_string(cls, text: str) -> NoteVerifier:
        """Parse ``<name>+<8 hex key id>+<base64(0x01 || 32-byte key)>``.

        Raises:
            KeyFormatError: Malformed, not Ed25519, or the key id does not match the key.
        """
        parts = text.split("+", 2)
        if (
            len(parts) != 3
            or not is_valid_key_name(parts[0])
            or not _HEX_KEY_ID.fullmatch(parts[1])
        ):
            raise KeyFormatError("a verifier key is <name>+<8 lowercase hex digits>+<base64 key>")
        name, id_hex, encoded = parts
        try:
            raw = b64decode_strict(encoded)
        except StrictDecodeError as exc:
            raise KeyFormatError(f"verifier key {name}: {exc}") from exc
        if len(raw) != 33 or raw[0] != ED25519_ALGORITHM:
            raise KeyFormatError(
                f"verifier key {name}: expected 0x01 followed by a 32-byte Ed25519 key, "
                f"found {len(raw)} bytes starting with {raw[:1].hex() or 'nothing'}"
            )
        verifier = cls(name, Ed25519VerifyingKey(raw[1:]))
        if verifier.key_id != int(id_hex, 16):
            raise KeyFormatError(
                f"verifier key {name}: key id {id_hex} does not match the key "
                f"(expected {verifier.key_id:08x})"
            )
        return verifier

    def verify(self, text: str, signature: bytes) -> bool:
        """Whether ``signature`` is this key's signature over the note ``text``."""
        try:
            self.public_key.verify(signature, text.encode("utf-8"))
        except SignatureInvalidError:
            return False
        return True


def sign_note(text: str, signer: NoteSigner) -> str:
    """Sign ``text`` and return the note: text, blank line, one signature line.

    Raises:
        LogProofError: (code ``log.checkpoint.invalid``) ``text`` is not valid note text.
    """
    _check_text(text)
    signature = signer.key.sign(text.encode("utf-8"))
    blob = b64encode(signer.key_id.to_bytes(KEY_ID_BYTES, "big") + signature)
    return f"{text}\n{SIGNATURE_PREFIX}{signer.name} {blob}\n"


_SignatureLine = tuple[str, int, bytes]
"""A signature line: the key name, the key id and the signature."""


def _split_note(note: str) -> tuple[str, bytes, list[_SignatureLine]]:
    """The note's text, that text's UTF-8 (what the signatures sign) and its signature lines.

    Raises:
        LogProofError: ``log.checkpoint.invalid`` for a malformed note.
    """
    data = note.encode("utf-8")
    if len(data) > TLOG_LIMITS.max_note_bytes:
        raise _invalid(f"note exceeds {TLOG_LIMITS.max_note_bytes} bytes")
    _check_text(note)
    split = note.rfind("\n\n")
    if split < 0:
        raise _invalid("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    lines = block.split("\n")[:-1]
    if not lines:
        raise _invalid("note has no signature lines")
    if len(lines) > TLOG_LIMITS.max_note_signatures:
        raise _invalid(
            f"note has {len(lines)} signature lines, more than {TLOG_LIMITS.max_note_signatures}"
        )
    # UTF-8 encodes "\n" as one byte found nowhere else: the last blank line is at the same place
    signed = data[: data.rfind(b"\n\n") + 1]
    return text, signed, [_parse_signature_line(line) for line in lines]


def _parse_signature_line(line: str) -> _SignatureLine:
    if not line.startswith(SIGNATURE_PREFIX):
        raise _invalid(f"signature line does not start with an em dash and a space: {line[:40]!r}")
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    try:
        blob = b64decode_strict(encoded)
    except StrictDecodeError as exc:
        raise _invalid(f"signature by {name!r} is not base64: {exc}") from exc
    if not is_valid_key_name(name) or len(blob) <= KEY_ID_BYTES:
        raise _invalid(f"malformed signature line for key {name!r}")
    return name, int.from_bytes(blob[:KEY_ID_BYTES], "big"), blob[KEY_ID_BYTES:]


@lru_cache(maxsize=64)
def _index_verifiers(verifiers: tuple[NoteVerifier, ...]) -> dict[tuple[str, int], NoteVerifier]:
    """The verifiers by (name, key id), made once per tuple of verifiers (read only: shared).

    Raises:
        LogProofError: ``log.checkpoint.invalid`` when two different keys share a name and id.
    """
    known: dict[tuple[str, int], NoteVerifier] = {}
    for verifier in verifiers:
        slot = (verifier.name, verifier.key_id)
        if slot in known and known[slot] != verifier:
            raise _invalid(f"two different verifier keys share {verifier.name}+{slot[1]:08x}")
        known[slot] = verifier
    return known


def open_note(note: str, verifiers: Sequence[NoteVerifier]) -> tuple[str, list[NoteVerifier]]:
    """Parse ``note`` and check its signatures by the ``verifiers``; signatures by others are ignored.

    Returns:
        The note text and the verifiers whose signatures verified.

    Raises:
        LogProofError: ``log.checkpoint.invalid`` for a malformed note or a bad signature by a known
            key; ``log.checkpoint.unsigned`` when no known key signed it.
    """
    text, signed, lines = _split_note(note)
    known = _index_verifiers(tuple(verifiers))
    verified: dict[tuple[str, int], NoteVerifier] = {}
    for name, key_id, signature in lines:
        slot = (name, key_id)
        verifier = known.get(slot)
        if verifier is None or slot in verified:
            continue
        try:
            verifier.public_key.verify(signature, signed)
        except SignatureInvalidError:
            raise _invalid(f"signature by {name}+{key_id:08x} does not verify") from None
        verified[slot] = verifier
    if not verified:
        names = ", ".join(sorted({f"{name}+{key_id:08x}" for name, key_id, _ in lines}))
        expected = ", ".join(sorted(f"{v.name}+{v.key_id:08x}" for v in verifiers)) or "none"
        raise LogProofError(
            f"note is not signed by a trusted key: expected one of [{expected}], found [{names}]",
            code=Code.LOG_CHECKPOINT_UNSIGNED,
        )
    return text, list(verified.values())


@dataclass(frozen=True)
class Checkpoint:
    """A C2SP tlog-checkpoint: the log's origin, its size and root hash, and extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise _invalid("checkpoint origin must be a non-empty single line")
        if not 0 <= self.size <= TLOG_LIMITS.max_tree_size:
            raise _invalid(f"checkpoint size {self.size} is outside 0..2**64-1")
        if len(self.root_hash) != HASH_SIZE:
            raise _invalid(f"expected a {HASH_SIZE}-byte root hash, found {len(self.root_hash)}")
        if any(not line or "\n" in line for line in self.extensions):
            raise _invalid("checkpoint extension lines must be non-empty single lines")

    def to_text(self) -> str:
        """The note text: origin, decimal size, base64 root hash, extension lines, each with LF."""
        lines = [self.origin, str(self.size), b64encode(self.root_hash), *self.extensions]
        return "".join(f"{line}\n" for line in lines)

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        """Parse checkpoint note text strictly (canonical decimal size and base64 hash).

        Raises:
            LogProofError: (code ``log.checkpoint.invalid``) Malformed checkpoint text.
        """
        _check_text(text)
        return cls._from_note_text(text)

    @classmethod
    def _from_note_text(cls, text: str) -> Checkpoint:
        """:meth:`from_text` of text already checked as note text (:func:`_check_text`)."""
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise _invalid(f"a checkpoint has at least 3 lines, found {len(lines)}")
        origin, size_text, root_text, *extensions = lines
        if not _DECIMAL.fullmatch(size_text):
            raise _invalid(f"checkpoint size {size_text[:30]!r} is not a canonical decimal")
        try:
            root_hash = b64decode_strict(root_text)
        except StrictDecodeError as exc:
            raise _invalid(f"checkpoint root hash: {exc}") from exc
        return cls(origin, int(size_text), root_hash, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> str:
    """The checkpoint as a note signed by ``signer``."""
    return sign_note(checkpoint.to_text(), signer)


def open_checkpoint(note: str, verifiers: Sequence[NoteVerifier], *, origin: str) -> Checkpoint:
    """Verify a signed checkpoint for the log ``origin`` and return it.

    At least one signature by one of ``verifiers`` must verify; signatures by unknown keys are
    ignored; a bad signature by a known key fails.

    Raises:
        LogProofError: ``log.checkpoint.invalid`` (malformed, bad signature, other origin) or
            ``log.checkpoint.unsigned`` (no signature by a given verifier).
    """
    return _open_checkpoint(note, tuple(verifiers), origin)


@lru_cache(maxsize=1024)
def _open_checkpoint(note: str, verifiers: tuple[NoteVerifier, ...], origin: str) -> Checkpoint:
    """:func:`open_checkpoint`, cached per (note, keys, origin): only successes are kept."""
    text, _ = open_note(note, verifiers)
    checkpoint = Checkpoint._from_note_text(text)  # the text of a note open_note accepted
    if checkpoint.origin != origin:
        raise _invalid(f"expected a checkpoint of log {origin!r}, found {checkpoint.origin!r}")
    return checkpoint
