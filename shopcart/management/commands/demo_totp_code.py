"""``manage.py demo_totp_code``: the demo staff account's current two-factor code.

The demo staff account is a store manager, so after its password the admin asks for an
authenticator-app code. ``load_demo_store`` gives it a published TOTP secret; this prints the
code an app holding that secret would show now, for a demo without a phone at hand. It only
ever computes codes for the published demo secret, and refuses in production.
"""

from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import decrypt
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from catalog import demo_data
from shopcart.core.staff_mfa import totp_code_current

ERROR_PRODUCTION = (
    "demo_totp_code prints codes for a published demo secret, so it refuses to run when "
    "SMARTCART_MODE=production."
)
ERROR_NOT_SEEDED = (
    f"{demo_data.DEMO_STAFF_EMAIL} has no demo authenticator: run `python manage.py "
    "load_demo_store` first (it also puts the demo secret back if it was changed)."
)


class Command(BaseCommand):
    help = "Print the demo staff account's current TOTP code (embedded demo mode only)."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError(ERROR_PRODUCTION)
        secret = demo_data.DEMO_STAFF_TOTP_SECRET
        stored = Authenticator.objects.filter(
            user__username=demo_data.DEMO_STAFF_EMAIL, type=Authenticator.Type.TOTP
        ).first()
        if stored is None or decrypt(stored.data["secret"]) != secret:
            raise CommandError(ERROR_NOT_SEEDED)
        code, seconds_left = totp_code_current(secret)
        self.stdout.write(code)
        self.stderr.write(
            f"Two-factor code for {demo_data.DEMO_STAFF_EMAIL}, valid for {seconds_left} more "
            "seconds (allauth accepts each code once)."
        )
