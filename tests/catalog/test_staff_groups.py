"""The staff groups: declared in catalog.staff_groups, synced after every migrate (a
post_migrate receiver), safe to re-sync; no migration runs project code."""

import ast
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management.sql import emit_post_migrate_signal

from catalog import staff_groups
from catalog.staff_groups import (
    STORE_CLERK,
    STORE_GROUPS,
    STORE_MANAGER,
    GroupSpec,
    store_groups_sync,
)

pytestmark = pytest.mark.django_db

CLERK_PERMISSIONS = {
    "catalog.view_product",
    "catalog.view_category",
    "catalog.view_barcode",
    "catalog.adjust_stock",
    "orders.view_order",
    "orders.view_orderline",
    "orders.check_exit",
}


def group_permissions(name: str) -> set[str]:
    group = Group.objects.get(name=name)
    return {
        f"{app_label}.{codename}"
        for app_label, codename in group.permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def app_permissions(*app_labels: str) -> set[str]:
    return {
        f"{app_label}.{codename}"
        for app_label, codename in Permission.objects.filter(
            content_type__app_label__in=app_labels
        ).values_list("content_type__app_label", "codename")
    }


def test_migrate_gives_managers_every_store_permission_and_token_issuing():
    permissions = group_permissions(STORE_MANAGER)

    assert app_permissions(*staff_groups.STORE_APPS) <= permissions
    assert {"catalog.add_product", "catalog.delete_product", "catalog.adjust_stock"} <= permissions
    assert {"authtoken.view_token", "authtoken.add_token"} <= permissions
    assert "authtoken.delete_token" not in permissions
    assert "auth.change_user" not in permissions


def test_migrate_gives_clerks_view_and_adjust_stock_only():
    permissions = group_permissions(STORE_CLERK)

    assert permissions == CLERK_PERMISSIONS


def test_personas_hold_their_group_permissions(staff, clerk):
    assert staff.has_perm("catalog.change_product")
    assert clerk.has_perm("catalog.adjust_stock")
    assert clerk.has_perm("catalog.view_product")
    assert not clerk.has_perm("catalog.change_product")
    assert not clerk.has_perm("catalog.add_product")


def test_sync_twice_changes_nothing():
    before = {name: group_permissions(name) for name in STORE_GROUPS}

    store_groups_sync(django_apps)
    store_groups_sync(django_apps)

    assert {name: group_permissions(name) for name in STORE_GROUPS} == before
    assert Group.objects.filter(name__in=STORE_GROUPS).count() == len(STORE_GROUPS)


def test_sync_puts_a_changed_group_back_to_its_spec():
    clerk_group = Group.objects.get(name=STORE_CLERK)
    clerk_group.permissions.remove(Permission.objects.get(codename="adjust_stock"))
    clerk_group.permissions.add(Permission.objects.get(codename="delete_product"))

    store_groups_sync(django_apps)

    assert group_permissions(STORE_CLERK) == CLERK_PERMISSIONS


def test_sync_skips_permissions_of_models_that_do_not_exist_yet(monkeypatch):
    monkeypatch.setitem(
        STORE_GROUPS,
        "Store tester",
        GroupSpec(apps=("nosuchapp",), permissions=("catalog.view_product", "orders.view_nothing")),
    )

    store_groups_sync(django_apps)

    assert group_permissions("Store tester") == {"catalog.view_product"}


def test_sync_creates_permissions_that_post_migrate_has_not_made_yet():
    Permission.objects.filter(codename="adjust_stock").delete()

    store_groups_sync(django_apps)

    assert "catalog.adjust_stock" in group_permissions(STORE_CLERK)


def test_the_end_of_a_migrate_syncs_the_groups():
    Group.objects.filter(name__in=STORE_GROUPS).delete()
    Permission.objects.filter(codename="adjust_stock").delete()

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    assert group_permissions(STORE_CLERK) == CLERK_PERMISSIONS
    assert "catalog.change_product" in group_permissions(STORE_MANAGER)


PROJECT_PACKAGES = {"shopcart", "catalog", "carts", "orders", "devices"}


def project_code_run_by(migration_source: str) -> list[str]:
    """What a migration's source imports from the project with ``from``, and what its data steps
    run that it does not define itself (a field's default named by ``import x.models`` is
    Django's own way of writing a migration, and stays)."""
    tree = ast.parse(migration_source)
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    found = []
    for node in ast.walk(tree):
        module = node.module if isinstance(node, ast.ImportFrom) else None
        if module and module.split(".")[0] in PROJECT_PACKAGES:
            found.append(f"from {module} import")
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "migrations.RunPython":
            for argument in node.args:
                name = ast.unparse(argument)
                if name not in defined and name != "migrations.RunPython.noop":
                    found.append(f"RunPython({name})")
    return found


def test_no_migration_runs_project_code():
    """Code a migration imports from the project changes under it: an old migration would then
    do new things on a database that has not applied it yet."""
    for path in sorted(Path(settings.BASE_DIR).glob("*/migrations/0*.py")):
        assert project_code_run_by(path.read_text()) == [], path


def test_the_migration_check_finds_project_code_run_by_a_migration():
    source = (
        "from django.db import migrations\n"
        "from catalog.staff_groups import store_groups_sync\n"
        "def own(apps, schema_editor): pass\n"
        "class Migration(migrations.Migration):\n"
        "    operations = [migrations.RunPython(store_groups_sync, migrations.RunPython.noop),\n"
        "                  migrations.RunPython(own, migrations.RunPython.noop)]\n"
    )

    assert project_code_run_by(source) == [
        "from catalog.staff_groups import",
        "RunPython(store_groups_sync)",
    ]
