"""WSGI entry point (used by the dev server and by gunicorn's sync workers)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopcart.settings")

application = get_wsgi_application()
