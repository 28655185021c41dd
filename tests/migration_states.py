"""Steps of a database's life, each run in a process of its own on the database
``DATABASE_URL`` names, for ``tests/test_migrations_upgrade.py``:

    python -m tests.migration_states fresh      migrate an empty database to today
    python -m tests.migration_states before     migrate it to the schema before the apps' moves
                                                (issue 21), every other app to today
    python -m tests.migration_states seed       write a store's rows in that older schema
    python -m tests.migration_states upgrade    migrate to today
    python -m tests.migration_states dump       print the schema, content types, permissions,
                                                groups and applied migrations, as JSON
    python -m tests.migration_states redemptions  print the coupon redemptions, as JSON

``seed`` and ``redemptions`` print what they wrote and found, for the test to compare.
"""

import json
import os
import re
import sys
from datetime import timedelta
from decimal import Decimal
from typing import Any

# The heads of the apps whose models moved, before they moved.
BEFORE_MOVES = {"catalog": "0011_product_import", "orders": "0005_constraint_messages"}

ORPHAN_ORDER_NUMBER = "GONE2345"


def step_fresh() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def step_before() -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    for app_label, name in BEFORE_MOVES.items():
        call_command("migrate", app_label, name, verbosity=0)
    for app_label in sorted(MigrationLoader(connection).migrated_apps - set(BEFORE_MOVES)):
        call_command("migrate", app_label, verbosity=0)
    applied = MigrationLoader(connection).applied_migrations
    ahead = [
        (app_label, name)
        for app_label, name in applied
        if app_label in BEFORE_MOVES and name > BEFORE_MOVES[app_label]
    ]
    if ahead:
        sys.exit(f"another app's migrations need {ahead}: pick the older schema again")


def step_seed() -> dict[str, Any]:
    """A shopper who used a coupon on an order, and a redemption whose order is gone, written
    through the models as they were before the move."""
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.utils import timezone

    state = MigrationLoader(connection).project_state(list(BEFORE_MOVES.items()))
    models = state.apps
    user = models.get_model("auth", "User").objects.create(username="alice@example.com")
    coupon = models.get_model("catalog", "Coupon").objects.create(
        code="SAVE5", description="5 off", amount_off=Decimal("5.00")
    )
    order = models.get_model("orders", "Order").objects.create(
        number="ABCD2345",
        user=user,
        email=user.username,
        cart_version=1,
        currency="EUR",
        subtotal=Decimal("20.00"),
        discount=Decimal("5.00"),
        total=Decimal("15.00"),
        coupon=coupon,
        coupon_code=coupon.code,
        expires_at=timezone.now() + timedelta(minutes=30),
    )
    redemption_model = models.get_model("catalog", "CouponRedemption")
    redemption_model.objects.create(coupon=coupon, user=user, order_number=order.number)
    redemption_model.objects.create(coupon=coupon, user=user, order_number=ORPHAN_ORDER_NUMBER)
    content_type = models.get_model("contenttypes", "ContentType").objects.get(
        app_label="catalog", model="couponredemption"
    )
    return {"order": order.number, "content_type_id": content_type.pk}


def step_upgrade() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def step_redemptions() -> dict[str, Any]:
    from django.contrib.contenttypes.models import ContentType

    from orders.models import CouponRedemption

    rows = CouponRedemption.objects.select_related("coupon", "order__user").order_by("pk")
    return {
        "redemptions": [
            [r.coupon.code, r.order.number, r.order.user and r.order.user.username] for r in rows
        ],
        "content_type_id": ContentType.objects.get_for_model(CouponRedemption).pk,
    }


def step_dump() -> dict[str, Any]:
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    return {
        "tables": _tables(connection),
        "content_types": sorted(ContentType.objects.values_list("app_label", "model")),
        "permissions": sorted(
            Permission.objects.values_list("content_type__app_label", "codename", "name")
        ),
        "groups": {
            group.name: sorted(group.permissions.values_list("content_type__app_label", "codename"))
            for group in Group.objects.order_by("name")
        },
        "migrations": sorted(MigrationRecorder(connection).applied_migrations()),
    }


def _tables(connection: Any) -> dict[str, str]:
    """Each table as the database itself writes it out (with its indexes and constraints)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name")
            return {f"{kind} {name}": f"{table}: {sql}" for kind, name, table, sql in cursor}
        tables = {}
        for name in connection.introspection.table_names(cursor):
            cursor.execute(f"SHOW CREATE TABLE {connection.ops.quote_name(name)}")
            created = cursor.fetchone()[1]
            # The next id is data, not schema.
            tables[name] = re.sub(r" AUTO_INCREMENT=\d+", "", created)
        return tables


STEPS = {
    "fresh": step_fresh,
    "before": step_before,
    "seed": step_seed,
    "upgrade": step_upgrade,
    "dump": step_dump,
    "redemptions": step_redemptions,
}


def main(step: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopcart.settings")
    import django

    django.setup()
    result = STEPS[step]()
    if result is not None:
        print(json.dumps(result, default=list))


if __name__ == "__main__":
    main(sys.argv[1])
