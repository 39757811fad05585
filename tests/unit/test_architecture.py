"""The library's layers, enforced: each folder imports only from the folders before it, and the
domain is pure (it imports nothing that does I/O). docs/architecture.md states the same rule.

    base -> domain -> settings -> store -> jose -> clients -> services -> runtime

Imports are read from the source (``ast``), including those inside functions and under
``TYPE_CHECKING``, so a lazy import cannot slip past the rule.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

LIBRARY = Path(__file__).resolve().parents[2] / "layers" / "identity" / "okta_auth0_sync"
LAYERS = ("base", "domain", "settings", "store", "jose", "clients", "services", "runtime")
# What the pure domain may import besides the standard library and the layers below it.
IO_MODULES = ("requests", "boto3", "botocore", "aws_lambda_powertools", "urllib3", "socket", "http", "urllib.request")


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(LIBRARY.rglob("*.py")):
        rel = path.relative_to(LIBRARY.parent).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        found.append((".".join(parts), path))
    return found


def _imports(module: str, path: Path) -> set[str]:
    """Every module ``module`` imports (absolute names; relative imports resolved)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


MODULES = _modules()


def test_every_library_module_lives_in_a_layer():
    loose = [m for m, _ in MODULES if m != "okta_auth0_sync" and _layer(m) not in LAYERS]
    assert not loose, f"modules outside the layer folders: {loose}"


@pytest.mark.parametrize(("module", "path"), MODULES, ids=[m for m, _ in MODULES])
def test_a_layer_imports_only_from_the_layers_before_it(module, path):
    if module == "okta_auth0_sync":
        return
    rank = LAYERS.index(_layer(module))
    upward = sorted(
        name
        for name in _imports(module, path)
        if name.startswith("okta_auth0_sync.") and _layer(name) in LAYERS and LAYERS.index(_layer(name)) > rank
    )
    assert not upward, f"{module} ({_layer(module)}) imports from a later layer: {upward}"


@pytest.mark.parametrize(
    ("module", "path"),
    [(m, p) for m, p in MODULES if _layer(m) == "domain"],
    ids=[m for m, _ in MODULES if _layer(m) == "domain"],
)
def test_the_domain_does_no_io(module, path):
    third_party = sorted(
        name
        for name in _imports(module, path)
        if name.split(".")[0] not in sys.stdlib_module_names and not name.startswith("okta_auth0_sync")
    )
    io = sorted(name for name in _imports(module, path) if name.startswith(IO_MODULES))
    assert not io, f"{module} imports I/O: {io}"
    assert not third_party, f"{module} imports a third-party library: {third_party}"


def test_the_rule_catches_an_upward_import(tmp_path):
    """The checker itself: a domain module importing a client is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("from okta_auth0_sync.clients.http import HttpClient\n")
    names = _imports("okta_auth0_sync.domain.bad", bad)
    assert "okta_auth0_sync.clients.http" in names
    assert LAYERS.index(_layer("okta_auth0_sync.clients.http")) > LAYERS.index("domain")
