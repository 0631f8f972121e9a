"""The wheel: the library installs without the service and media dependencies, and ships `prov`."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (path,) = out.glob("provenance_toolkit-*.whl")
    return zipfile.ZipFile(path)


def _metadata(wheel: zipfile.ZipFile) -> list[str]:
    name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    return wheel.read(name).decode().splitlines()


def test_wheel_ships_packages_type_markers_and_console_script(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    assert {"provenance/py.typed", "cli/main.py", "provenance/verify/verifier.py"} <= names
    assert not any(n.startswith(("tests/", "bench/", "scripts/")) for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "prov = cli.main:app" in wheel.read(entry_points).decode()


def test_library_dependencies_exclude_service_and_media(wheel: zipfile.ZipFile) -> None:
    requires = [line for line in _metadata(wheel) if line.startswith("Requires-Dist:")]
    unconditional = [line for line in requires if "extra ==" not in line]
    assert unconditional, "the library needs its crypto dependencies"
    for heavy in ("fastapi", "sqlmodel", "c2pa-python", "uvicorn"):
        assert not any(heavy in line for line in unconditional), heavy
        assert any(heavy in line for line in requires), f"{heavy} belongs to an extra"
    extras = {
        line.split(":", 1)[1].strip()
        for line in _metadata(wheel)
        if line.startswith("Provides-Extra:")
    }
    assert {"api", "media", "all", "dev"} <= extras
