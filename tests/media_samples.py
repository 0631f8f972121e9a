"""Tiny valid media files made in memory (no fixtures, no network)."""

from __future__ import annotations

import io
import struct
import wave
import zlib

# A 1x1 baseline JPEG (134 bytes).
JPEG = bytes.fromhex(
    "FFD8FFE000104A46494600010101004800480000FFDB004300030202020202030202020303030304060404"
    "040404080606050609080A0A090809090A0C0F0C0A0B0E0B09090D110D0E0F101011100A0C12131210130F"
    "101010FFC9000B080001000101011100FFCC000600101005FFDA0008010100003F00D2CF20FFD9"
)


def tiny_png() -> bytes:
    """A 1x1 grayscale PNG."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x80")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def tiny_wav() -> bytes:
    """80 frames of silence as 8 kHz mono WAV."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\x00\x00" * 80)
    return buffer.getvalue()
