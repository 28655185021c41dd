"""ASGI entry point (gunicorn with uvicorn workers in production).

The handler is Django's own (``get_asgi_application``) with a bound on the requests a worker
runs at once, ``ASGI_REQUEST_CONCURRENCY`` (see ``shopcart.asgi_handler``).
"""

import os

import django
from django.conf import settings

from shopcart.asgi_handler import BoundedASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopcart.settings")
django.setup(set_prefix=False)

application = BoundedASGIHandler(settings.ASGI_REQUEST_CONCURRENCY)
