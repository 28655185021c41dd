# A coupon's redemptions move to the orders app (orders.0006), which gives each its order as a
# foreign key: the table is renamed here and the model leaves catalog's state; the rows stay.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0011_product_import"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(
                    name="couponredemption", table="orders_couponredemption"
                ),
            ],
            state_operations=[
                migrations.DeleteModel(name="CouponRedemption"),
            ],
        ),
    ]
