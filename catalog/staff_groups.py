"""The store's staff permission groups, declared once and synced after every ``migrate``.

The spec below is the truth: ``store_groups_sync`` makes each group hold exactly the
permissions listed (permissions of models that do not exist yet are skipped). It runs as a
``post_migrate`` receiver (connected in ``catalog.apps``), so a fresh database and an upgraded
one end with the same groups, a new model's permissions join the groups with the migration
that adds it, and no migration imports this module. Syncing is idempotent.
"""

from dataclasses import dataclass
from typing import Any

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Q

STORE_APPS = ("catalog", "carts", "orders", "devices")

STORE_MANAGER = "Store manager"
STORE_CLERK = "Store clerk"


@dataclass(frozen=True)
class GroupSpec:
    apps: tuple[str, ...] = ()  # every permission of these apps
    permissions: tuple[str, ...] = ()  # "app_label.codename"


STORE_GROUPS: dict[str, GroupSpec] = {
    STORE_MANAGER: GroupSpec(
        apps=STORE_APPS,
        # Managers issue API tokens for the staff product API and read the email outbox.
        permissions=("authtoken.view_token", "authtoken.add_token", "shopcart.view_outboundemail"),
    ),
    STORE_CLERK: GroupSpec(
        permissions=(
            "catalog.view_product",
            "catalog.view_category",
            "catalog.view_barcode",
            "catalog.adjust_stock",
            "orders.view_order",
            "orders.view_orderline",
            "orders.check_exit",
        ),
    ),
}


def store_groups_sync(apps: Any, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create or update every group in ``STORE_GROUPS``; safe to run any number of times.
    ``apps``: the project's app registry, or a migration state's."""
    permissions_create(apps, using=using)
    group_model = apps.get_model("auth", "Group")
    for name, spec in STORE_GROUPS.items():
        group, _ = group_model.objects.using(using).get_or_create(name=name)
        group.permissions.set(_permissions_for(apps, spec, using=using))


def store_groups_after_migrate(
    *, using: str = DEFAULT_DB_ALIAS, apps: Any = global_apps, **kwargs: Any
) -> None:
    """The ``post_migrate`` receiver: the groups as the models stand after the migration run
    (``apps``, its final state); ``flush`` sends the signal too, without ``apps``."""
    store_groups_sync(apps, using=using)


def permissions_create(apps: Any, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create the content types and permissions of every model, as post_migrate would.

    Django's own receiver creates them app by app, and the store apps' groups name permissions
    of several apps: whichever app's signal this runs with, they all exist first.
    """
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)
        # Historical app configs have no models module, and create_permissions skips those.
        app_config.models_module = models_module or True
        try:
            create_permissions(app_config, verbosity=0, using=using, apps=apps)
        finally:
            app_config.models_module = models_module


def _permissions_for(apps: Any, spec: GroupSpec, *, using: str) -> list[Any]:
    permission_model = apps.get_model("auth", "Permission")
    condition = Q(content_type__app_label__in=spec.apps)
    for dotted in spec.permissions:
        app_label, codename = dotted.split(".", 1)
        condition |= Q(content_type__app_label=app_label, codename=codename)
    return list(permission_model.objects.using(using).filter(condition))
