"""The "Store manager" and "Store clerk" groups (see catalog/staff_groups.py)."""

from django.db import migrations

from catalog.staff_groups import store_groups_remove, store_groups_sync


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [
        migrations.RunPython(store_groups_sync, store_groups_remove),
    ]
