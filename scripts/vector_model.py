"""Model vectors (``specs/model-v1.md`` §11): an OMS signature, the model's file tree described
inline, a trust root, and the expected outcome with its ``model.*`` codes.

The signed model is serialized from a temporary directory (its name replaced by ``model``), signed
with a labelled P-256 key (RFC 6979), so a run reproduces the bytes.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from provenance.encoding import b64encode
from provenance.identity.trust import TrustRoot
from provenance.model import ModelSigner, Serialization, serialize_model
from scripts.make_vectors import VERIFY_AT, label_key

MODEL_OUT = Path(__file__).resolve().parents[1] / "specs" / "vectors" / "model-v1"
Tree = dict[str, dict[str, str]]
"""Relative POSIX path → ``{"content": base64}`` (a regular file) or ``{"symlink": target}``."""

FILES = {
    "config.json": b'{"layers": 2, "width": 8}\n',
    "weights/layer-0.bin": bytes(range(64)),
    "weights/layer-1.bin": bytes(range(64, 160)),
    "README.md": b"A tiny model for test vectors.\n",
}


def _tree(files: dict[str, bytes]) -> Tree:
    return {path: {"content": b64encode(files[path])} for path in sorted(files)}


def _signature(
    serialization: Serialization, files: dict[str, bytes] = FILES
) -> tuple[str, TrustRoot]:
    key = label_key("model-author", "p256")
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        for path, data in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(data)
        manifest = replace(serialize_model(root, serialization, workers=1), model_name="model")
    bundle = ModelSigner(key).sign(manifest)
    trust = TrustRoot(name="model test key", pinned_keys=(("model-author", key.public_key),))
    return bundle.to_bytes().decode(), trust


def model_cases() -> list[dict[str, Any]]:
    """The model vectors, each a JSON object of ``specs/model-v1.md`` §11."""
    signature, trust = _signature(Serialization())
    sharded, _ = _signature(Serialization(method="shards", shard_size=40))
    good = _tree(FILES)
    changed = _tree(FILES | {"weights/layer-1.bin": FILES["weights/layer-1.bin"][:-1] + b"\x00"})
    missing = {p: e for p, e in good.items() if p != "weights/layer-1.bin"}
    extra = _tree(FILES | {"weights/layer-2.bin": b"unsigned"})
    linked = good | {"weights/latest.bin": {"symlink": "layer-1.bin"}}
    crowded = good | {f"cache/{n:03}.tmp": {"content": ""} for n in range(201)}
    grown = _tree(FILES | {"weights/layer-0.bin": FILES["weights/layer-0.bin"] + b"\x00"})
    many = ["model.file.extra"] * 200 + ["model.file.more"]
    with_empty = FILES | {"weights/EMPTY": b""}
    sharded_empty, _ = _signature(Serialization(method="shards", shard_size=40), with_empty)
    empty_added = good | {"weights/EMPTY": {"content": ""}}
    empty_filled = _tree(with_empty | {"weights/EMPTY": b"\x00"})
    cases = [
        ("01-verified", "the signed tree (files method)", signature, good, []),
        (
            "02-shards-verified",
            "the signed tree (shards method, 40-byte shards)",
            sharded,
            good,
            [],
        ),
        (
            "03-file-changed",
            "the last byte of a weights file changed",
            signature,
            changed,
            ["model.file.changed"],
        ),
        (
            "04-file-missing",
            "a signed weights file absent",
            signature,
            missing,
            ["model.file.missing"],
        ),
        ("05-file-extra", "an unsigned file added", signature, extra, ["model.file.extra"]),
        (
            "06-symbolic-link",
            "a symbolic link added (to a signed file): never followed, never serialized",
            signature,
            linked,
            ["model.path.unsupported"],
        ),
        (
            "07-shard-ranges-changed",
            "shards method: a file grew by one byte, so its last shard's range differs",
            sharded,
            grown,
            ["model.file.changed"],
        ),
        (
            "08-more-findings",
            "201 unsigned (empty) files: 200 findings, then one model.file.more",
            signature,
            crowded,
            many,
        ),
        (
            "09-shards-empty-file-extra",
            "shards method: an unsigned empty file added (an empty file is the one shard path:0:0)",
            sharded,
            empty_added,
            ["model.file.extra"],
        ),
        (
            "10-shards-empty-file-verified",
            "shards method: a signed empty file, present and empty",
            sharded_empty,
            empty_added,
            [],
        ),
        (
            "11-shards-empty-file-missing",
            "shards method: a signed empty file removed",
            sharded_empty,
            good,
            ["model.file.missing"],
        ),
        (
            "12-shards-empty-file-filled",
            "shards method: a signed empty file that gained a byte",
            sharded_empty,
            empty_filled,
            ["model.file.changed"],
        ),
    ]
    return [
        {
            "name": name,
            "description": description,
            "signature": sig,
            "model": tree,
            "trustRoot": json.loads(trust.to_json()),
            "policy": {},
            "verificationTime": VERIFY_AT.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "expected": {"verified": not codes, "failureCodes": codes},
        }
        for name, description, sig, tree, codes in cases
    ]


def write_model_vectors() -> int:
    """Write ``specs/vectors/model-v1``; returns the number of cases."""
    MODEL_OUT.mkdir(parents=True, exist_ok=True)
    for old in MODEL_OUT.glob("*.json"):
        old.unlink()
    cases = model_cases()
    for case in cases:
        name = case.pop("name")
        (MODEL_OUT / f"{name}.json").write_text(json.dumps(case, indent=2) + "\n")
    return len(cases)
