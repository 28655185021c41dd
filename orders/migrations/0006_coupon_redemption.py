# A coupon's redemptions come over from catalog (catalog.0012 renamed the table) and refer to
# their order by a foreign key instead of its number. The data steps use only the functions
# below and the migration's own historical models.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def content_type_move(apps, schema_editor):
    """Keep the model's permissions (and the store groups holding them) and admin history."""
    content_type = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    content_type.objects.using(db).filter(app_label="catalog", model="couponredemption").update(
        app_label="orders"
    )


def content_type_move_back(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    content_type.objects.using(db).filter(app_label="orders", model="couponredemption").update(
        app_label="catalog"
    )


def orders_link(apps, schema_editor):
    """Each redemption's order, found by its number. A redemption whose order is gone (none
    should be: placement writes both, cancelling deletes both) or that repeats one goes."""
    redemption_model = apps.get_model("orders", "CouponRedemption")
    order_model = apps.get_model("orders", "Order")
    db = schema_editor.connection.alias
    redemptions = redemption_model.objects.using(db)
    numbers = redemptions.values_list("order_number", flat=True)
    order_ids = dict(
        order_model.objects.using(db).filter(number__in=numbers).values_list("number", "pk")
    )
    linked = set()
    for redemption in redemptions.order_by("pk").iterator():
        order_id = order_ids.get(redemption.order_number)
        if order_id is None or order_id in linked:
            redemption.delete()
            continue
        linked.add(order_id)
        redemption.order_id = order_id
        redemption.save(update_fields=["order"])


def orders_unlink(apps, schema_editor):
    redemption_model = apps.get_model("orders", "CouponRedemption")
    db = schema_editor.connection.alias
    for redemption in redemption_model.objects.using(db).select_related("order").iterator():
        redemption.order_number = redemption.order.number
        redemption.save(update_fields=["order_number"])


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0012_coupon_redemption_to_orders"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("orders", "0005_constraint_messages"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="CouponRedemption",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("order_number", models.CharField(max_length=32)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "coupon",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="redemptions",
                                to="catalog.coupon",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="coupon_redemptions",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-created_at"],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_move, content_type_move_back),
        migrations.AddField(
            model_name="couponredemption",
            name="order",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, to="orders.order"
            ),
        ),
        migrations.RunPython(orders_link, orders_unlink),
        migrations.RemoveField(
            model_name="couponredemption",
            name="order_number",
        ),
        migrations.AlterField(
            model_name="couponredemption",
            name="order",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="coupon_redemption",
                to="orders.order",
            ),
        ),
    ]
