"""The import rules of DESIGN.md §2, checked by walking every module's imports."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICE_PACKAGES = ("fastapi", "starlette", "uvicorn", "typer", "rich", "click")
ONLY_IN = {
    "sqlmodel": "provenance/tlog/sql.py",
    "sqlalchemy": "provenance/tlog/sql.py",
    "c2pa": "provenance/media/engine.py",
}


def _imports(path: Path) -> Iterator[tuple[str, list[str]]]:
    tree = ast.parse(path.read_text(), filename=str(path))
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


def test_cli_does_not_import_the_service_and_back() -> None:
    for path in _files("cli"):
        assert all(
            m.split(".")[0] != "verifier_api" or "serve" in path.name for m, _ in _imports(path)
        )
    for path in _files("verifier_api"):
        assert all(m.split(".")[0] != "cli" for m, _ in _imports(path)), path
