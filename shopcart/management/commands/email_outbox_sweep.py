"""`manage.py email_outbox_sweep`: queue the outbox's stalled emails again (what beat runs)."""

from typing import Any

from django.core.management.base import BaseCommand

from shopcart.tasks import email_outbox_sweep


class Command(BaseCommand):
    help = (
        "Queue again every outbox email that nothing is going to send: queued while the broker "
        "was down, held by a worker that died, or failed and out of retries in time."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = email_outbox_sweep()
        self.stdout.write(f"{count} stalled email(s) queued again.")
