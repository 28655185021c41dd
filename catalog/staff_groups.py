"""The store's staff permission groups, declared once and synced by migrations.

The spec below is the truth: ``store_groups_sync`` makes each group hold exactly the
permissions listed (permissions of models that do not exist yet are skipped). An app that adds
models later adds a migration running ``store_groups_sync`` again, so the groups pick up the new
models' permissions. Syncing is idempotent.

Both functions take the migration's ``apps`` (historical models); ``django.apps.apps`` works too.
"""

from dataclasses import dataclass
from typing import Any

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


def store_groups_sync(apps: Any, schema_editor: Any = None) -> None:
    """Create or update every group in ``STORE_GROUPS``; safe to run any number of times."""
    using = schema_editor.connection.alias if schema_editor else DEFAULT_DB_ALIAS
    permissions_create(apps, using=using)
    group_model = apps.get_model("auth", "Group")
    for name, spec in STORE_GROUPS.items():
        group, _ = group_model.objects.using(using).get_or_create(name=name)
        group.permissions.set(_permissions_for(apps, spec, using=using))


def store_groups_remove(apps: Any, schema_editor: Any = None) -> None:
    """Delete the groups in ``STORE_GROUPS`` (the reverse of ``store_groups_sync``)."""
    using = schema_editor.connection.alias if schema_editor else DEFAULT_DB_ALIAS
    group_model = apps.get_model("auth", "Group")
    group_model.objects.using(using).filter(name__in=STORE_GROUPS).delete()


def permissions_create(apps: Any, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create the content types and permissions of every model, as post_migrate would.

    Django creates permissions only after all migrations have run; a data migration that
    assigns them must create them first.
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
