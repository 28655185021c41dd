import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import carts.pass_codes


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CartPass",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("token", models.CharField(default=carts.pass_codes.pass_token_new, editable=False, max_length=32, unique=True)),
                ("active", models.BooleanField(default=True, editable=False, null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="cart_passes", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "verbose_name_plural": "cart passes",
                "ordering": ["-created_at", "-pk"],
                "constraints": [
                    models.UniqueConstraint(fields=("user", "active"), name="cart_pass_one_active_per_user"),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("active", True), ("active__isnull", False), ("revoked_at__isnull", True)),
                            models.Q(("active__isnull", True), ("revoked_at__isnull", False)),
                            _connector="OR",
                        ),
                        name="cart_pass_active_or_revoked",
                    ),
                ],
            },
        ),
    ]
