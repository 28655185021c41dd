"""ASGI entry point: the live cart stream's pool (gunicorn with uvicorn workers behind nginx).

Only ``/cart/events/`` is routed here (``deploy/nginx/``); every other request goes to the WSGI
workers (``shopcart.wsgi``). Django's own handler, untouched. Each request runs its synchronous
code on a thread of its own, so the pool runs with ``CONN_MAX_AGE=0``
(``deploy/gunicorn-stream.conf.py``), as Django advises for ASGI; an open stream holds no
database connection between its reads (``carts.live``).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopcart.settings")

application = get_asgi_application()
