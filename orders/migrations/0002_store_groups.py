"""Store managers get every order permission; clerks view orders and check them at the exit.

It synced the store groups; they are now synced after every ``migrate`` by a ``post_migrate``
receiver (``catalog.staff_groups``), so no migration runs project code. Kept, empty, so that
the migration graph stays the same for databases that applied it.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_orders"),
    ]

    operations: list[migrations.operations.base.Operation] = []
