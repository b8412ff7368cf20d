"""geo/ is pure geometry: no web framework, no database layer, no application imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

GEO = Path(__file__).resolve().parents[2] / "geo"
FORBIDDEN = {
    "flask",
    "werkzeug",
    "sqlalchemy",
    "geoalchemy2",
    "alembic",
    "psycopg",
    "psycopg2",
    "app",
}
GEO_FILES = sorted(GEO.rglob("*.py"))


def _forbidden(module: str) -> bool:
    root = module.split(".")[0]
    return root in FORBIDDEN or root.startswith("flask_")


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports, statically or through importlib / __import__ with a literal."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level > 1:  # reaching out of the package, e.g. "from .. import app"
                found.append((node.lineno, "." * node.level + (node.module or "")))
            elif node.level == 0 and node.module:
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if name in ("import_module", "__import__") and isinstance(first, ast.Constant):
                found.append((node.lineno, str(first.value)))
    return found


def test_there_are_geo_modules() -> None:
    assert GEO / "__init__.py" in GEO_FILES
    assert len(GEO_FILES) >= 6


@pytest.mark.parametrize("path", GEO_FILES, ids=lambda p: p.name)
def test_geo_module_imports_no_framework_or_database(path: Path) -> None:
    offending = [
        f"{path.name}:{line} imports {module}"
        for line, module in imported_modules(path)
        if module.startswith("..") or _forbidden(module)
    ]
    assert offending == []


def test_checker_catches_forbidden_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import flask\nfrom sqlalchemy.orm import Session\nfrom app.models import Area\n"
        "import flask_login\nfrom .. import app\nimport importlib\n"
        "importlib.import_module('geoalchemy2')\nimport numpy\nfrom geo import crs\n"
    )
    modules = [m for _, m in imported_modules(sample)]
    flagged = [m for m in modules if m.startswith("..") or _forbidden(m)]
    assert flagged == ["flask", "sqlalchemy.orm", "app.models", "flask_login", "..", "geoalchemy2"]


def test_importing_geo_loads_no_framework_or_database() -> None:
    modules = ", ".join(f"geo.{p.stem}" for p in GEO_FILES if p.stem != "__init__")
    code = (
        f"import sys, {modules}\n"
        "print('\\n'.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code],
        cwd=GEO.parent,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert [m for m in loaded if _forbidden(m)] == []


def test_importing_the_package_is_cheap() -> None:
    code = "import sys, geo; print(sorted(m for m in ('shapely', 'pyproj', 'numpy') if m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], cwd=GEO.parent, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"
