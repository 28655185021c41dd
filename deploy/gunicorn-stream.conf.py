"""gunicorn settings of the live cart stream's pool (ASGI), shared by the container image's
``stream`` service and ``make prod-local``.

Start with: ``gunicorn shopcart.asgi:application -c deploy/gunicorn-stream.conf.py``. nginx
sends it ``/cart/events/`` only (Server-Sent Events, unbuffered): an open cart page waits on
the event loop, holding no worker, no thread and, between its reads, no database connection.
Everything else goes to the WSGI workers (``deploy/gunicorn.conf.py``).

Environment: ``STREAM_BIND`` (default ``0.0.0.0:$STREAM_PORT``, ``STREAM_PORT`` default
8001), ``STREAM_WORKERS`` (default 1; each holds thousands of streams),
``WEB_GRACEFUL_TIMEOUT`` (default 30; a stream cut by a restart reconnects by itself).
"""

import os

bind = [os.environ.get("STREAM_BIND", f"0.0.0.0:{os.environ.get('STREAM_PORT', '8001')}")]
workers = int(os.environ.get("STREAM_WORKERS", "1"))
worker_class = "uvicorn_worker.UvicornWorker"
# Django runs each ASGI request's synchronous code on a thread of its own, which ends with the
# request: "When using ASGI, persistent connections should be disabled" (Django's databases
# documentation). The streams' own reads close their connection after each read anyway.
raw_env = ["CONN_MAX_AGE=0"]
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "30"))
preload_app = True
keepalive = 75
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
control_socket_disable = True
errorlog = "-"
loglevel = os.environ.get("WEB_LOG_LEVEL", "info")
accesslog = None
