"""ASGI entry point (gunicorn with uvicorn workers in production).

The handler is Django's own with a fixed set of request threads per worker,
``ASGI_REQUEST_CONCURRENCY``, that keep their database connections (see
``shopcart.asgi_handler``).
"""

import os

import django
from django.conf import settings

from shopcart.asgi_handler import PooledASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopcart.settings")
django.setup(set_prefix=False)

application = PooledASGIHandler(settings.ASGI_REQUEST_CONCURRENCY)
