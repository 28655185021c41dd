"""Store managers get the device permissions (every devices permission, see catalog.staff_groups).

It synced the store groups; they are now synced after every ``migrate`` by a ``post_migrate``
receiver (``catalog.staff_groups``), so no migration runs project code. Kept, empty, so that
the migration graph stays the same for databases that applied it.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0001_device"),
        ("catalog", "0002_store_groups"),
    ]

    operations: list[migrations.operations.base.Operation] = []
