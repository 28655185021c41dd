"""``manage.py recommendations_rebuild``: learn "often bought with" from the paid orders now."""

from typing import Any

from django.core.management.base import BaseCommand

from orders.recommendations.rebuild import HISTORY_DAYS, recommendations_rebuild

MESSAGE_DONE = (
    "Learnt from {orders} paid orders of the last {days} days: {products} products sold, "
    "{pairs} neighbour rows, in {seconds:.1f} s."
)


class Command(BaseCommand):
    help = (
        "Fit the “often bought with” model to the paid orders again (Celery beat does it "
        "every few hours). Safe to run at any time."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        build = recommendations_rebuild(progress=self.stdout.write)
        self.stdout.write(
            self.style.SUCCESS(
                MESSAGE_DONE.format(
                    orders=build.orders,
                    days=HISTORY_DAYS,
                    products=build.products,
                    pairs=build.pairs,
                    seconds=build.seconds,
                )
            )
        )
