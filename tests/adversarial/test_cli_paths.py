"""Path tricks against `prov` file arguments: symlinks, existing files, `-`, directories, devices
and FIFOs. Inputs are capped and read without following the stream forever; outputs never clobber
a file the user did not name."""

from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

REVIEW = "The desk lamp is sturdy and bright.\nFive stars.\n"
PASSPHRASE = "correct horse battery"
READ_TIMEOUT_SECONDS = 20
MEMORY_LIMIT_BYTES = 1 << 30


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PROVENANCE_PASSPHRASE", PASSPHRASE)
    return CliRunner()


def _prov(runner: CliRunner, *args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stderr


@pytest.fixture
def signed(runner: CliRunner, tmp_path: Path) -> tuple[Path, Path]:
    key = tmp_path / "author.key"
    assert _prov(runner, "key", "generate", "--out", key)[0] == 0
    review = tmp_path / "review.txt"
    review.write_text(REVIEW)
    assert _prov(runner, "sign", review, "--key", key, "--text")[0] == 0
    return review, tmp_path / "author.key.pub"


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))


def _prov_process(*args: str | Path) -> tuple[int, str, float]:
    """Run `prov` in a child with 1 GiB of address space and a timeout (so a hole cannot hang or
    exhaust the machine); return exit code, stderr and seconds taken."""
    env = {**os.environ, "PROVENANCE_PASSPHRASE": PASSPHRASE}
    started = time.monotonic()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "cli", *[str(a) for a in args]],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=READ_TIMEOUT_SECONDS,
            preexec_fn=_limit_memory,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return -1, "timed out", time.monotonic() - started
    return result.returncode, result.stderr, time.monotonic() - started


def test_sign_out_through_a_symlink_does_not_clobber_its_target(
    runner: CliRunner, tmp_path: Path, signed: tuple[Path, Path]
) -> None:
    review, _ = signed
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    link = tmp_path / "out.prov.json"
    link.symlink_to(precious)
    code, _ = _prov(runner, "sign", review, "--key", tmp_path / "author.key", "--out", link)
    assert code == 0
    assert precious.read_text() == "keep me"
    assert not link.is_symlink()


def test_sign_does_not_write_through_a_planted_temporary_file_symlink(
    runner: CliRunner, tmp_path: Path, signed: tuple[Path, Path]
) -> None:
    review, _ = signed
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    (tmp_path / f".out.prov.json.tmp-{os.getpid()}").symlink_to(precious)
    _prov(
        runner,
        "sign",
        review,
        "--key",
        tmp_path / "author.key",
        "--out",
        tmp_path / "out.prov.json",
    )
    assert precious.read_text() == "keep me"


@pytest.mark.parametrize("kind", ["file", "symlink-to-file", "dangling-symlink"])
def test_key_generate_refuses_an_existing_path(
    runner: CliRunner, tmp_path: Path, kind: str
) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    out = tmp_path / "new.key"
    if kind == "file":
        out.write_text("keep me too")
    elif kind == "symlink-to-file":
        out.symlink_to(precious)
    else:
        out.symlink_to(tmp_path / "nowhere")
    code, err = _prov(runner, "key", "generate", "--out", out)
    assert code == 3, err
    assert precious.read_text() == "keep me"
    assert not (tmp_path / "nowhere").exists()
    assert not (tmp_path / "new.key.pub").exists()


def test_key_generate_refuses_when_the_public_key_path_exists(
    runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "new.key.pub").write_text("keep me")
    code, _ = _prov(runner, "key", "generate", "--out", tmp_path / "new.key")
    assert code == 2
    assert not (tmp_path / "new.key").exists()
    assert (tmp_path / "new.key.pub").read_text() == "keep me"


@pytest.mark.parametrize("bundle", ["-", "directory", "missing"])
def test_verify_with_an_unreadable_bundle_path_exits_3(
    tmp_path: Path, signed: tuple[Path, Path], bundle: str
) -> None:
    review, public = signed
    path = {"-": Path("-"), "directory": tmp_path, "missing": tmp_path / "nope.json"}[bundle]
    code, err, seconds = _prov_process("verify", review, "--key", public, "--bundle", path)
    assert code == 3, err
    assert seconds < READ_TIMEOUT_SECONDS


def test_verify_refuses_an_oversized_bundle_file_with_exit_3(
    tmp_path: Path, signed: tuple[Path, Path]
) -> None:
    review, public = signed
    huge = tmp_path / "huge.json"
    huge.write_bytes(b" " * (2 << 20))
    code, err, _ = _prov_process("verify", review, "--key", public, "--bundle", huge)
    assert code == 3, err
    assert "larger than" in err


@pytest.mark.parametrize("argument", ["--bundle", "--key"])
def test_verify_reading_dev_zero_exits_3_quickly(signed: tuple[Path, Path], argument: str) -> None:
    review, public = signed
    args = {"--bundle": ("--key", public, "--bundle", "/dev/zero"), "--key": ("--key", "/dev/zero")}
    code, err, seconds = _prov_process("verify", review, *args[argument])
    assert code == 3, err
    assert seconds < READ_TIMEOUT_SECONDS


def test_verify_reading_a_fifo_that_never_ends_exits_3_quickly(
    tmp_path: Path, signed: tuple[Path, Path]
) -> None:
    review, public = signed
    fifo = tmp_path / "bundle.fifo"
    os.mkfifo(fifo)
    writer = subprocess.Popen(  # keeps the FIFO open and full for the reader
        [
            sys.executable,
            "-c",
            f"import sys\nwith open({str(fifo)!r}, 'wb') as f:\n  while True: f.write(b' ' * 65536)",
        ],
        stderr=subprocess.DEVNULL,
    )
    try:
        code, err, seconds = _prov_process("verify", review, "--key", public, "--bundle", fifo)
    finally:
        writer.kill()
        writer.wait()
    assert code == 3, err
    assert seconds < READ_TIMEOUT_SECONDS


# --- outputs that are not regular files (issue 12.14): never replaced ---------------------------


def _char_device(path: Path) -> Path:
    """A character device like /dev/null (1, 3) at ``path``, in the test's own directory."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating a device node needs CAP_MKNOD")
    return path


def test_sign_out_to_a_character_device_writes_to_it_and_keeps_the_device(
    runner: CliRunner, tmp_path: Path, signed: tuple[Path, Path]
) -> None:
    review, _ = signed
    device = _char_device(tmp_path / "null")
    code, err = _prov(runner, "sign", review, "--key", tmp_path / "author.key", "--out", device)
    assert stat.S_ISCHR(device.lstat().st_mode)
    assert device.lstat().st_rdev == os.makedev(1, 3)
    assert code == 0, err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".null.")]


def test_sign_out_to_a_fifo_writes_through_it_and_keeps_the_fifo(
    runner: CliRunner, tmp_path: Path, signed: tuple[Path, Path]
) -> None:
    review, _ = signed
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        code, err = _prov(runner, "sign", review, "--key", tmp_path / "author.key", "--out", fifo)
        received = os.read(reader, 1 << 20)
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert code == 0, err
    assert json.loads(received)["mediaType"] == "application/vnd.provenance.bundle.v1+json"


def test_sign_out_to_a_fifo_nobody_reads_exits_3_and_keeps_the_fifo(
    runner: CliRunner, tmp_path: Path, signed: tuple[Path, Path]
) -> None:
    review, _ = signed
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code, err = _prov(runner, "sign", review, "--key", tmp_path / "author.key", "--out", fifo)
    assert code == 3, err
    assert "reads" in err
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_sign_out_through_a_symlink_to_a_device_is_refused(
    runner: CliRunner, tmp_path: Path, signed: tuple[Path, Path]
) -> None:
    review, _ = signed
    device = _char_device(tmp_path / "null")
    link = tmp_path / "out.prov.json"
    link.symlink_to(device)
    code, err = _prov(runner, "sign", review, "--key", tmp_path / "author.key", "--out", link)
    assert code == 3, err
    assert link.is_symlink()
    assert stat.S_ISCHR(device.lstat().st_mode)


@pytest.mark.parametrize("armored", [False, True])
def test_sign_out_dash_writes_to_stdout(
    runner: CliRunner,
    tmp_path: Path,
    signed: tuple[Path, Path],
    armored: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    review, _ = signed
    monkeypatch.chdir(tmp_path)  # a file named "-" would land here
    before = sorted(tmp_path.iterdir())
    args = ["sign", str(review), "--key", str(tmp_path / "author.key"), "--out", "-"]
    result = runner.invoke(app, args + (["--armor"] if armored else []))
    assert result.exit_code == 0, result.stderr
    if armored:
        assert result.stdout.startswith("-----BEGIN")
    else:
        assert json.loads(result.stdout)["mediaType"].startswith("application/vnd.provenance")
    assert sorted(tmp_path.iterdir()) == before
