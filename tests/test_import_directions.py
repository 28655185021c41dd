"""The apps stand in one direction (docs/architecture.md): each imports only those below it.

    shopcart top: accounts/, staff/, management commands, urls      may import every app
    orders, devices                                                   carts, catalog, core
    carts                                                             catalog, core
    catalog                                                           core
    shopcart core: core/, and the app's own models, admin, tasks      none of the apps

Only imports are read (``ast``), not strings such as ``apps.get_model("orders", ...)``.
"""

import ast
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
APPS = ("shopcart", "catalog", "carts", "orders", "devices")
MAY_IMPORT: dict[str, set[str]] = {
    "shopcart": set(),  # its core
    "catalog": {"shopcart"},
    "carts": {"catalog", "shopcart"},
    "orders": {"carts", "catalog", "shopcart"},
    "devices": {"carts", "catalog", "shopcart"},
}
# Modules of the project package that stand above the apps: they may import any app, and no app
# or core module imports them.
TOP = ("shopcart.accounts", "shopcart.staff", "shopcart.management", "shopcart.urls")


def _is_top(module: str) -> bool:
    return any(module == top or module.startswith(f"{top}.") for top in TOP)


def forbidden_imports(module: str, source: str) -> list[str]:
    """The imports of ``module`` (dotted name, its source ``source``) against the directions."""
    own_app = module.split(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            target_app = name.split(".")[0]
            if target_app not in APPS:
                continue
            if _is_top(name) and not _is_top(module):
                found.append(f"{module} imports {name}, which stands above the apps")
            elif _is_top(module) or target_app == own_app:
                continue
            elif target_app not in MAY_IMPORT[own_app]:
                found.append(f"{module} imports {name}: {own_app} may not import {target_app}")
    return found


def project_modules() -> list[tuple[str, Path]]:
    modules = []
    for app in APPS:
        for path in sorted((BASE_DIR / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            dotted = ".".join(path.relative_to(BASE_DIR).with_suffix("").parts)
            modules.append((dotted.removesuffix(".__init__"), path))
    return modules


def test_every_module_imports_only_in_the_allowed_directions():
    found = [
        problem
        for module, path in project_modules()
        for problem in forbidden_imports(module, path.read_text())
    ]

    assert found == []


def test_the_direction_check_finds_an_import_against_the_directions():
    assert forbidden_imports("catalog.selectors", "from orders.models import Order\n") == [
        "catalog.selectors imports orders.models: catalog may not import orders"
    ]
    assert forbidden_imports("shopcart.core.money", "import devices.models\n") == [
        "shopcart.core.money imports devices.models: shopcart may not import devices"
    ]
    assert forbidden_imports("orders.views", "from shopcart.staff.dashboard import x\n") == [
        "orders.views imports shopcart.staff.dashboard, which stands above the apps"
    ]


def test_the_direction_check_lets_allowed_imports_through():
    source = (
        "from carts.models import Cart\nfrom catalog import barcodes\nimport shopcart.core.money\n"
    )
    assert forbidden_imports("orders.services.placement", source) == []
    assert forbidden_imports("shopcart.staff.dashboard", "from orders.selectors import x\n") == []
    assert forbidden_imports("devices.api", "from devices.models import Device\n") == []
