"""ASGI entry point (gunicorn with uvicorn workers in production)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopcart.settings")
# Under ASGI each request's synchronous code may run in a thread of its own, so a connection
# kept past the request would never be reused or closed: one connection per request (Django's
# advice), also on SQLite, whose default under WSGI keeps them (shopcart/settings.py).
os.environ.setdefault("CONN_MAX_AGE", "0")

application = get_asgi_application()
