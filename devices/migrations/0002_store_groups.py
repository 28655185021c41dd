"""Store managers get the device permissions (every devices permission, see catalog.staff_groups)."""

from django.db import migrations

from catalog.staff_groups import store_groups_sync


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0001_device"),
        ("catalog", "0002_store_groups"),
    ]

    operations = [
        # Reversing leaves the groups as they are; the permissions go with the table.
        migrations.RunPython(store_groups_sync, migrations.RunPython.noop),
    ]
