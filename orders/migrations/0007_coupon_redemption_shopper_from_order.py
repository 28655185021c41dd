# A redemption's shopper is its order's: the copy it kept (written with the order, cleared with
# the account, like the order's own) goes, and the per-shopper limit counts by order__user.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0006_coupon_redemption"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="couponredemption",
            name="user",
        ),
    ]
