"""Store managers may read the outbox (catalog.staff_groups lists shopcart.view_outboundemail)."""

from django.db import migrations

from catalog.staff_groups import store_groups_sync


class Migration(migrations.Migration):
    dependencies = [
        ("shopcart", "0001_initial"),
        ("catalog", "0002_store_groups"),
    ]

    operations = [
        # Reversing leaves the groups as they are; the permission goes with the table.
        migrations.RunPython(store_groups_sync, migrations.RunPython.noop),
    ]
