"""The import rules of ARCHITECTURE.md (Boundaries), checked by walking every module's imports."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICE_PACKAGES = ("fastapi", "starlette", "uvicorn", "typer", "rich", "click")
FACES = (
    "provenance",
    "provenance.identity",
    "provenance.media",
    "provenance.model",
    "provenance.present",
    "provenance.tlog",
    "provenance.trust_repository",
    "provenance.trust_store",
    "provenance.verify",
)
"""The library's faces: the only modules the front ends import from, each with an ``__all__``."""
FRONT_ENDS = ("cli", "verifier_api")
ONLY_IN = {
    "sqlmodel": "provenance/tlog/sql.py",
    "sqlalchemy": "provenance/tlog/sql.py",
    "c2pa": "provenance/media/engine.py",
}


def _imports(path: Path) -> Iterator[tuple[str, list[str]]]:
    yield from _source_imports(path.read_text(), str(path))


def _source_imports(source: str, filename: str) -> Iterator[tuple[str, list[str]]]:
    tree = ast.parse(source, filename=filename)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, [alias.name for alias in node.names]


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", _files("provenance"), ids=lambda p: str(p.relative_to(ROOT)))
def test_library_imports_neither_cli_nor_service(path: Path) -> None:
    relative = str(path.relative_to(ROOT))
    for module, _ in _imports(path):
        top = module.split(".")[0]
        assert top not in {"cli", "verifier_api"}, f"{relative} imports {module}"
        assert top not in SERVICE_PACKAGES, (
            f"{relative} imports {module}: no UI or web in the library"
        )
        if top in ONLY_IN:
            assert relative == ONLY_IN[top], f"{relative} imports {module}; only {ONLY_IN[top]} may"


@pytest.mark.parametrize(
    "path", _files("cli") + _files("verifier_api"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_frontends_use_only_public_library_names(path: Path) -> None:
    relative = str(path.relative_to(ROOT))
    for module, names in _imports(path):
        if module.split(".")[0] != "provenance":
            continue
        private_parts = [part for part in module.split(".") if part.startswith("_")]
        assert not private_parts, f"{relative} imports private module {module}"
        private_names = [name for name in names if name.startswith("_")]
        assert not private_names, f"{relative} imports private names {private_names} from {module}"


@cache
def _face_names() -> Mapping[str, frozenset[str]]:
    return {face: frozenset(importlib.import_module(face).__all__) for face in FACES}


def deep_imports(source: str, faces: Mapping[str, frozenset[str]]) -> list[str]:
    """The imports in ``source`` that reach the library other than through a face's ``__all__``
    (``from provenance import media`` names the face ``provenance.media`` and is allowed)."""
    found: list[str] = []
    for module, names in _source_imports(source, "<front end>"):
        if module.split(".")[0] != "provenance":
            continue
        if module not in faces:
            found.append(f"{module} is not a face")
            continue
        hidden = [n for n in names if n not in faces[module] and f"{module}.{n}" not in faces]
        found.extend(f"{module}.{name} is not in {module}.__all__" for name in hidden)
    return found


def command_imports(source: str) -> list[str]:
    """The CLI command modules (``cli/*_cmd.py``) that ``source`` imports."""
    found: list[str] = []
    for module, names in _source_imports(source, "<command>"):
        targets = [f"cli.{name}" for name in names] if module == "cli" else [module]
        found.extend(t for t in targets if t.startswith("cli.") and t.endswith("_cmd"))
    return found


def test_every_face_lists_only_names_it_has() -> None:
    for face, names in _face_names().items():
        module = importlib.import_module(face)
        assert names, f"{face} has an empty __all__"
        for name in names:
            assert getattr(module, name, None) is not None, f"{face}.{name} does not resolve"


def test_no_face_name_is_a_submodule_of_its_package() -> None:
    """``provenance.armor`` was once both a face name and a module: whichever loaded first won."""
    for face, names in _face_names().items():
        package = ROOT / face.replace(".", "/")
        modules = (
            {path.stem for path in package.glob("*.py")}
            | {path.name for path in package.iterdir() if (path / "__init__.py").exists()}
            if package.is_dir()
            else set()
        )
        assert not names & modules, f"{face} lists submodules as names: {sorted(names & modules)}"


@pytest.mark.parametrize(
    "path", [p for end in FRONT_ENDS for p in _files(end)], ids=lambda p: str(p.relative_to(ROOT))
)
def test_frontends_import_the_library_only_through_its_faces(path: Path) -> None:
    assert deep_imports(path.read_text(), _face_names()) == [], path.relative_to(ROOT)


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("from provenance import Verifier, media", []),
        ("from provenance.tlog import TransparencyLog\nimport provenance", []),
        ("from provenance.tlog.note import NoteSigner", ["provenance.tlog.note is not a face"]),
        ("import provenance.keys", ["provenance.keys is not a face"]),
        (
            "def f():\n    from provenance.errors import LogError",
            ["provenance.errors is not a face"],
        ),
        ("from provenance import LogState", ["provenance.LogState is not in provenance.__all__"]),
        ("from provenance import _FACE", ["provenance._FACE is not in provenance.__all__"]),
        ("from fastapi import APIRouter", []),
    ],
)
def test_the_face_check_finds_deep_imports(source: str, found: list[str]) -> None:
    assert deep_imports(source, _face_names()) == found


@pytest.mark.parametrize("path", sorted((ROOT / "cli").glob("*_cmd.py")), ids=lambda p: p.name)
def test_cli_commands_do_not_import_each_other(path: Path) -> None:
    assert command_imports(path.read_text()) == [], (
        f"{path.name}: shared inputs go in cli/inputs.py"
    )


def test_the_command_check_finds_command_imports() -> None:
    source = "from cli.sign_cmd import load_chain\nfrom cli import common, trust_cmd\n"
    assert command_imports(source) == ["cli.sign_cmd", "cli.trust_cmd"]
    assert command_imports("from cli.common import fail\nimport cli.render") == []


def test_the_log_face_loads_sqlalchemy_only_for_the_sql_store() -> None:
    """``provenance.tlog`` is lazy: the CLI's log commands never pay for SQLAlchemy."""
    code = (
        "import sys\n"
        "from provenance.tlog import FileStore, NoteSigner, TransparencyLog\n"
        "assert 'sqlalchemy' not in sys.modules, 'sqlalchemy loaded without the SQL store'\n"
        "from provenance.tlog import SqlLogStore\n"
        "assert 'sqlalchemy' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()


def test_cli_does_not_import_the_service_and_back() -> None:
    for path in _files("cli"):
        assert all(
            m.split(".")[0] != "verifier_api" or "serve" in path.name for m, _ in _imports(path)
        )
    for path in _files("verifier_api"):
        assert all(m.split(".")[0] != "cli" for m, _ in _imports(path)), path
