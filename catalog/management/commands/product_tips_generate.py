"""``manage.py product_tips_generate``: ask the AI provider for the tips that are missing."""

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from catalog.tips import STOP_DISABLED, product_tips_generate

ERROR_LIMIT = "a whole number of products, 1 or more: {value!r}"
MESSAGE_DISABLED = "AI tips are off: set AI_TIPS_BASE_URL and AI_TIPS_MODEL (see .env.example)."
MESSAGE_DONE = "Wrote {written} tip(s); {failed} failed."
MESSAGE_STOPPED = "Stopped early: {reason}."


class Command(BaseCommand):
    help = "Write AI shopping tips for products that need one, within the configured rate."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--limit",
            type=products_limit,
            default=None,
            help="At most this many products this run (1 or more).",
        )

    def handle(self, *args: Any, limit: int | None = None, **options: Any) -> None:
        run = product_tips_generate(limit=limit)
        if run.stopped == STOP_DISABLED:
            self.stdout.write(MESSAGE_DISABLED)
            return
        self.stdout.write(
            self.style.SUCCESS(MESSAGE_DONE.format(written=run.written, failed=run.failed))
        )
        if run.stopped:
            self.stdout.write(self.style.WARNING(MESSAGE_STOPPED.format(reason=run.stopped)))


def products_limit(value: str) -> int:
    """``--limit``'s value: a whole number of products, at least one."""
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if limit < 1:
        raise argparse.ArgumentTypeError(ERROR_LIMIT.format(value=value))
    return limit
