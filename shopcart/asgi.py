"""ASGI entry point (gunicorn with uvicorn workers in production).

The handler is Django's own (``get_asgi_application``) with a bound on the requests a worker
runs at once, ``ASGI_REQUEST_CONCURRENCY`` (see ``shopcart.asgi_handler``).
"""

import os

import django
from django.conf import settings

from shopcart.asgi_handler import BoundedASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopcart.settings")
# Under ASGI each request's synchronous code may run in a thread of its own, so a connection
# kept past the request would never be reused or closed: one connection per request (Django's
# advice), also on SQLite, whose default under WSGI keeps them (shopcart/settings.py).
os.environ.setdefault("CONN_MAX_AGE", "0")
django.setup(set_prefix=False)

application = BoundedASGIHandler(settings.ASGI_REQUEST_CONCURRENCY)
