"""The staff groups: created by a migration, declared in catalog.staff_groups, safe to re-sync."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, Permission

from catalog import staff_groups
from catalog.staff_groups import (
    STORE_CLERK,
    STORE_GROUPS,
    STORE_MANAGER,
    GroupSpec,
    store_groups_remove,
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


def test_migration_gives_managers_every_store_permission_and_token_issuing():
    permissions = group_permissions(STORE_MANAGER)

    assert app_permissions(*staff_groups.STORE_APPS) <= permissions
    assert {"catalog.add_product", "catalog.delete_product", "catalog.adjust_stock"} <= permissions
    assert {"authtoken.view_token", "authtoken.add_token"} <= permissions
    assert "authtoken.delete_token" not in permissions
    assert "auth.change_user" not in permissions


def test_migration_gives_clerks_view_and_adjust_stock_only():
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


def test_migration_syncs_the_groups_and_reverses_by_removing_them():
    migration = importlib.import_module("catalog.migrations.0002_store_groups").Migration
    (operation,) = migration.operations
    assert (operation.code, operation.reverse_code) == (store_groups_sync, store_groups_remove)

    store_groups_remove(django_apps)
    assert not Group.objects.filter(name__in=STORE_GROUPS).exists()

    store_groups_sync(django_apps)
    assert group_permissions(STORE_CLERK) == CLERK_PERMISSIONS
    assert "catalog.change_product" in group_permissions(STORE_MANAGER)
