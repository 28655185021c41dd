"""Prepare the loopback provider: its tables, then one user and one client application.

Safe to run again: the user and the application are updated in place.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from oauth2_provider.models import Application

APPLICATION_NAME = "smartcart"


class Command(BaseCommand):
    help = "Migrate the provider's database and create its user and client application."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--client-id", required=True)
        parser.add_argument("--client-secret", required=True)
        parser.add_argument("--redirect-uri", required=True, help="The client's callback URL.")
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
        user = self._user_save(options)
        self._application_save(options)
        self.stdout.write(f"user {user.get_username()}, client {options['client_id']}")

    def _user_save(self, options: dict[str, Any]) -> Any:
        user, _ = get_user_model().objects.update_or_create(
            username=options["username"],
            defaults={
                "email": options["email"],
                "first_name": options["first_name"],
                "last_name": options["last_name"],
            },
        )
        user.set_password(options["password"])
        user.save(update_fields=["password"])
        return user

    def _application_save(self, options: dict[str, Any]) -> None:
        # Confidential, authorization code, ID tokens signed with the provider's RSA key, and
        # no skip_authorization: the shopper really sees and answers the consent page.
        Application.objects.update_or_create(
            client_id=options["client_id"],
            defaults={
                "name": APPLICATION_NAME,
                "client_secret": options["client_secret"],
                "client_type": Application.CLIENT_CONFIDENTIAL,
                "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
                "algorithm": Application.RS256_ALGORITHM,
                "redirect_uris": options["redirect_uri"],
                "skip_authorization": False,
            },
        )
