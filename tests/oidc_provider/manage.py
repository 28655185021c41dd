"""Runs the loopback identity provider's management commands: ``python manage.py <command>``."""

import os
import sys

from django.core.management import execute_from_command_line

if __name__ == "__main__":
    # Assigned, not setdefault: the caller (pytest) has smartcart's settings in its environment.
    os.environ["DJANGO_SETTINGS_MODULE"] = "idp.settings"
    execute_from_command_line(sys.argv)
