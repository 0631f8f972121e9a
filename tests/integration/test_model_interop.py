"""`prov model` against the OMS reference implementation (model-signing) in both directions, with
the key and the certificate method; tampering is caught and named on both sides."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from model_signing import hashing, signing, verifying
from typer.testing import CliRunner

from cli.main import app
from tests.factories import authority_trust
from tests.model_support import KEY, LIVE_AUTHORITY, MODEL_IDENTITY, make_model, pem_files


def _prov(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def _reference(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "model_signing", *(str(a) for a in args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture
def setup(tmp_path: Path) -> dict[str, Path]:
    paths = pem_files(tmp_path)
    paths["model"] = make_model(tmp_path / "model")
    paths["pinned_key"] = tmp_path / "pinned.key"
    paths["pinned_key"].write_bytes(KEY.to_pem())
    paths["pub"] = tmp_path / "pinned.pub"
    paths["pub"].write_bytes(KEY.public_key.to_pem())
    paths["trust"] = tmp_path / "trust.json"
    paths["trust"].write_bytes(authority_trust(LIVE_AUTHORITY).to_json())
    return paths


def _reference_sign(paths: dict[str, Path], method: str) -> None:
    signature = paths["model"] / "model.sig"
    if method == "key":
        args: list[str | Path] = ["--private_key", paths["pinned_key"]]
    else:
        args = [
            "--private_key",
            paths["key"],
            "--signing_certificate",
            paths["leaf"],
            "--certificate_chain",
            paths["intermediates"],
        ]
    done = _reference("sign", method, paths["model"], "--signature", signature, *args)
    assert done.returncode == 0, done.stderr


def _reference_verify(paths: dict[str, Path], method: str) -> subprocess.CompletedProcess[str]:
    signature = paths["model"] / "model.sig"
    if method == "key":
        args: list[str | Path] = ["--public_key", paths["pub"]]
    else:
        args = ["--certificate_chain", paths["root"]]
    return _reference("verify", method, paths["model"], "--signature", signature, *args)


def _prov_sign(paths: dict[str, Path], method: str) -> None:
    if method == "key":
        code, _, err = _prov("model", "sign", paths["model"], "--key", paths["pinned_key"])
    else:
        code, _, err = _prov(
            "model", "sign", paths["model"], "--key", paths["key"], "--cert", paths["chain"]
        )
    assert code == 0, err


def _prov_verify(paths: dict[str, Path], method: str) -> tuple[int, dict[str, Any]]:
    if method == "key":
        trust: list[str | Path] = ["--key", paths["pub"]]
    else:
        trust = ["--trust", paths["trust"], "--identity", MODEL_IDENTITY]
    code, out, err = _prov("model", "verify", paths["model"], *trust, "--json")
    assert code in (0, 1), err
    return code, json.loads(out)


@pytest.mark.parametrize("method", ["key", "certificate"])
def test_reference_signature_verifies_with_prov(setup: dict[str, Path], method: str) -> None:
    _reference_sign(setup, method)
    code, document = _prov_verify(setup, method)
    assert code == 0, document["findings"]
    assert document["model"]["name"] == "model"
    signer = document["signer"]
    if method == "certificate":
        assert signer["identities"] == [MODEL_IDENTITY]
        assert signer["issuer"] == "CN=Models Live Issuing CA,O=Models Live"
    else:
        assert signer["kind"] == "pinned-key"


@pytest.mark.parametrize("method", ["key", "certificate"])
def test_prov_signature_verifies_with_the_reference(setup: dict[str, Path], method: str) -> None:
    _prov_sign(setup, method)
    done = _reference_verify(setup, method)
    assert done.returncode == 0, done.stderr
    assert "Verification succeeded" in done.stdout


def _flip_a_byte(model: Path) -> str:
    target = model / "weights" / "part-1.bin"
    data = bytearray(target.read_bytes())
    data[1234] ^= 0x01
    target.write_bytes(bytes(data))
    return "weights/part-1.bin"


def _add_a_file(model: Path) -> str:
    (model / "weights" / "backdoor.bin").write_bytes(b"\xcc" * 10)
    return "weights/backdoor.bin"


def _delete_a_file(model: Path) -> str:
    (model / "tokenizer.txt").unlink()
    return "tokenizer.txt"


TAMPERING: dict[str, tuple[Callable[[Path], str], str, str]] = {
    "flipped byte": (_flip_a_byte, "model.file.changed", "Hash mismatch for '{}'"),
    "added file": (_add_a_file, "model.file.extra", "Extra files found in model 'model': {}"),
    "deleted file": (_delete_a_file, "model.file.missing", "Missing files in model 'model': {}"),
}


@pytest.mark.parametrize("signer", ["reference", "prov"])
@pytest.mark.parametrize("tampering", sorted(TAMPERING))
def test_tampering_fails_on_both_sides_and_names_the_file(
    setup: dict[str, Path], signer: str, tampering: str
) -> None:
    tamper, code, reference_message = TAMPERING[tampering]
    if signer == "reference":
        _reference_sign(setup, "key")
    else:
        _prov_sign(setup, "key")
    name = tamper(setup["model"])
    exit_code, document = _prov_verify(setup, "key")
    failures = [f for f in document["findings"] if not f["ok"]]
    assert exit_code == 1
    assert failures == [
        {"step": "digest", "code": code, "ok": False, "message": failures[0]["message"]}
    ]
    assert failures[0]["message"].startswith(f"{name}: ")
    done = _reference_verify(setup, "key")
    assert done.returncode == 1
    assert reference_message.format(name) in done.stderr


def test_human_verdict_names_every_tampered_file(setup: dict[str, Path]) -> None:
    _prov_sign(setup, "key")
    names = [tamper(setup["model"]) for tamper, _, _ in TAMPERING.values()]
    code, _, err = _prov("model", "verify", setup["model"], "--key", setup["pub"])
    assert code == 1
    assert err.startswith("NOT VERIFIED: ")
    for name in names:
        assert name in err


def test_ignore_unsigned_files_accepts_an_added_file_but_not_a_deleted_one(
    setup: dict[str, Path],
) -> None:
    _prov_sign(setup, "key")
    _add_a_file(setup["model"])
    args = ("model", "verify", setup["model"], "--key", setup["pub"], "--ignore-unsigned-files")
    assert _prov(*args)[0] == 0
    _delete_a_file(setup["model"])
    code, _, err = _prov(*args)
    assert code == 1
    assert "model.file.missing: tokenizer.txt" in err


def test_missing_signature_file_is_unreadable_exit_3(setup: dict[str, Path]) -> None:
    code, _, err = _prov("model", "verify", setup["model"], "--key", setup["pub"])
    assert code == 3
    assert "model.sig" in err


def test_certificate_signature_without_identity_requirement_is_refused(
    setup: dict[str, Path],
) -> None:
    _prov_sign(setup, "certificate")
    code, out, _ = _prov("model", "verify", setup["model"], "--trust", setup["trust"], "--json")
    assert code == 1
    failures = [f["code"] for f in json.loads(out)["findings"] if not f["ok"]]
    assert failures == ["policy.identity.required"]


def _reference_library_sign_shards(paths: dict[str, Path]) -> None:
    """The reference signs the shards method through its library (its CLI has no shards option)."""
    hashing_config = hashing.Config().set_ignored_paths(paths=["model.sig"])  # type: ignore[no-untyped-call]
    hashing_config.use_shard_serialization(shard_size=1000)
    config = signing.Config()  # type: ignore[no-untyped-call]
    config.use_elliptic_key_signer(private_key=paths["pinned_key"])
    config.set_hashing_config(hashing_config).sign(paths["model"], paths["model"] / "model.sig")


def test_empty_file_the_reference_left_out_of_a_shards_signature_is_reported_extra(
    setup: dict[str, Path],
) -> None:
    """The reference 1.1.1 lists no resource for an empty file in the shards method: prov names it
    as not signed (model-v1.md §2.2), and accepts it only with --ignore-unsigned-files."""
    (setup["model"] / "weights" / "__init__.py").write_bytes(b"")
    _reference_library_sign_shards(setup)
    code, document = _prov_verify(setup, "key")
    failures = [(f["code"], f["message"]) for f in document["findings"] if not f["ok"]]
    assert code == 1
    assert failures == [("model.file.extra", "weights/__init__.py: in the model, but not signed")]
    args = ("model", "verify", setup["model"], "--key", setup["pub"], "--ignore-unsigned-files")
    assert _prov(*args)[0] == 0
    (setup["model"] / "weights" / "__init__.py").unlink()
    assert _prov_verify(setup, "key")[0] == 0


def test_reference_reads_our_empty_file_shard_and_names_it_missing(setup: dict[str, Path]) -> None:
    """Our shards signature names an empty file as path:0:0; the reference 1.1.1 parses it, and as
    it hashes no shard for an empty file, reports the file by that name (it verifies no shards
    signature at all: model-v1.md §10)."""
    (setup["model"] / "py.typed").write_bytes(b"")
    code, _, err = _prov(
        "model", "sign", setup["model"], "--key", setup["pinned_key"], "--shard-size", "1000"
    )
    assert code == 0, err
    config = verifying.Config()  # type: ignore[no-untyped-call]
    config.use_elliptic_key_verifier(public_key=setup["pub"])
    hashing_config = hashing.Config().set_ignored_paths(paths=["model.sig"])  # type: ignore[no-untyped-call]
    config.set_hashing_config(hashing_config.use_shard_serialization(shard_size=1000))
    with pytest.raises(ValueError, match=r"Missing files in model 'model': py\.typed:0:0"):
        config.verify(setup["model"], setup["model"] / "model.sig")
    assert _prov_verify(setup, "key")[0] == 0
    (setup["model"] / "py.typed").unlink()
    code, document = _prov_verify(setup, "key")
    failures = [(f["code"], f["message"]) for f in document["findings"] if not f["ok"]]
    assert failures == [("model.file.missing", "py.typed: signed, but missing from the model")]
