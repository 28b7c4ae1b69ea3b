"""Imports point one way: domain <- engines <- storage <- services <- edges."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "legation"
LAYERS = {
    "domain": 0,
    "settings": 0,
    "errors": 0,
    "logs": 0,
    "extract": 1,
    "assess": 1,
    "fuse": 1,
    "screening": 1,
    "sharing": 1,
    "storage": 2,
    "ingest": 3,
    "pipeline": 3,
    "alerting": 3,
    "demo": 3,
    "evaluation": 3,
    "sanctions": 3,
    "partners": 3,
    "api": 4,
    "web": 4,
    "cli": 4,
    "cli_screening": 4,
    "partners_cli": 4,
    "docs_cli": 4,
    "__main__": 4,
}
EDGE_ONLY = ("fastapi", "typer", "rich", "jinja2", "uvicorn", "starlette")


def _modules() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts]


def _layer(path: Path) -> tuple[str, int]:
    part = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
    if part == "__init__":
        return part, 0
    assert part in LAYERS, f"{path}: top-level module {part!r} has no layer in this test"
    return part, LAYERS[part]


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path: Path) -> None:
    name, level = _layer(path)
    for module in _imports(path):
        top = module.split(".")
        if top[0] == "legation" and len(top) > 1:
            target = top[1]
            assert LAYERS.get(target, 0) <= level or target == name, (
                f"{path.name} ({name}, layer {level}) imports {module} (layer {LAYERS.get(target)})"
            )
        if top[0] in EDGE_ONLY:
            assert level == 4, f"{path.name} imports {top[0]}; only api, web and cli may"
