"""The "Store manager" and "Store clerk" groups (see catalog/staff_groups.py).

It synced the store groups; they are now synced after every ``migrate`` by a ``post_migrate``
receiver (``catalog.staff_groups``), so no migration runs project code. Kept, empty, so that
the migration graph stays the same for databases that applied it.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations: list[migrations.operations.base.Operation] = []
