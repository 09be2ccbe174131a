"""The layers of `hub/__init__.py`, enforced: no module imports from a layer above its own, no exception list.

Every import is read from the syntax tree, including imports inside functions and under
TYPE_CHECKING: a lazy import that goes upward is still an upward dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("hub", "schemas", "connectors")

# Module prefixes and their layer; the longest matching prefix wins.
LAYERS: dict[str, int] = {
    "hub.errors": 0,
    "hub.settings": 0,
    "hub.files": 0,
    "hub.redact": 0,
    "schemas": 1,
    "hub.core": 2,
    "hub.ledger": 3,
    "hub.kafka": 3,
    "hub.config": 3,
    "hub.worker": 4,
    "connectors": 5,
    "hub.report": 5,
    "hub.audit": 5,
    "hub.dashboard": 5,
    "hub.demo": 5,
    "hub.stix": 5,
    "hub.taxii": 5,
    "hub.web": 5,
    "hub.cli": 6,
    "hub.__main__": 6,
    "hub": 0,  # the package itself holds nothing but its docstring
}


def layer(module: str) -> int:
    """The layer of a dotted module name; KeyError for a module no layer claims."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in LAYERS:
            return LAYERS[prefix]
    raise KeyError(module)


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of one of the project's packages in `path`."""
    return imports_in(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py")


def imports_in(text: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, module) of every project import in the source `text` of `module`."""
    tree = ast.parse(text)
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
            names = [f"{base}.{a.name}" if _is_module(f"{base}.{a.name}") else base for a in node.names]
            found += [(node.lineno, n) for n in names]
    return [(line, m) for line, m in found if m.split(".")[0] in PACKAGES]


def _is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def test_every_module_has_a_layer():
    unclaimed = []
    for path in sources():
        try:
            layer(module_name(path))
        except KeyError:
            unclaimed.append(module_name(path))
    assert unclaimed == []


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_import_goes_upward(path: Path):
    own = layer(module_name(path))
    upward = [f"line {line}: {m} (layer {layer(m)})" for line, m in imports(path) if layer(m) > own]
    assert upward == [], f"{module_name(path)} (layer {own}) imports from above"


def upward(text: str, module: str) -> list[str]:
    return [m for _, m in imports_in(text, module, False) if layer(m) > layer(module)]


def test_the_check_sees_every_form_of_an_upward_import():
    """The checker itself: absolute, relative, lazy and TYPE_CHECKING imports that go up are all caught."""
    assert upward("from hub.ledger import Ledger", "hub.core.decide") == ["hub.ledger"]
    assert upward("import connectors.misp.service", "hub.worker.app") == ["connectors.misp.service"]
    assert upward("def f():\n    from hub.cli.core import x\n", "connectors.misp.sync") == ["hub.cli.core"]
    assert upward("from ..ledger import store", "hub.core.decide") == ["hub.ledger.store"]
    checking = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from hub.worker.app import HubWorker\n"
    assert upward(checking, "hub.kafka.config") == ["hub.worker.app"]
    assert upward("from hub.core.route import inbox\nimport json", "hub.kafka.topics") == []
    with pytest.raises(KeyError):
        layer("elsewhere.module")
