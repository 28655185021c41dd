"""Store managers get the permissions of pairings, scan events and unknown codes."""

from django.db import migrations

from catalog.staff_groups import store_groups_sync


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0003_pairing_scans"),
    ]

    operations = [
        # Reversing leaves the groups as they are; the permissions go with the tables.
        migrations.RunPython(store_groups_sync, migrations.RunPython.noop),
    ]
