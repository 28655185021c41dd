"""``manage.py orders_expire``: expire overdue pending orders now and give their stock back."""

from typing import Any

from django.core.management.base import BaseCommand

from orders.services import orders_expire_pending

MESSAGE_EXPIRED = "Expired {count} pending order(s) not paid in time."


class Command(BaseCommand):
    help = (
        "Expire pending orders past their payment time, giving back their stock and coupon "
        "uses. Celery beat does this every minute in production; run it from cron where no "
        "beat runs."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = orders_expire_pending()
        self.stdout.write(MESSAGE_EXPIRED.format(count=count))
