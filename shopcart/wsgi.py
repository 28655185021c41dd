"""WSGI entry point: every request but the live cart stream (gunicorn behind nginx in
production, ``deploy/gunicorn.conf.py``; the dev server). Each worker thread keeps its database
connection from one request to the next (``CONN_MAX_AGE``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopcart.settings")

application = get_wsgi_application()
