"""Store managers get every order permission; clerks view orders and check them at the exit."""

from django.db import migrations

from catalog.staff_groups import store_groups_sync


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_orders"),
    ]

    operations = [
        # Reversing leaves the groups as they are; the permissions go with the tables.
        migrations.RunPython(store_groups_sync, migrations.RunPython.noop),
    ]
