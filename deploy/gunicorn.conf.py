"""gunicorn settings, shared by the container image and ``make prod-local`` so both run the same.

Start with: ``gunicorn shopcart.asgi:application -k uvicorn_worker.UvicornWorker
-c deploy/gunicorn.conf.py``. Uvicorn workers serve Django over ASGI, so an open live cart
stream (``/cart/events/``) waits on the event loop instead of holding a worker per shopper.

Environment: ``WEB_BIND`` (default ``0.0.0.0:$PORT``, ``PORT`` default 8000), ``WEB_WORKERS``
(default 4), ``WEB_GRACEFUL_TIMEOUT`` (seconds a stopping worker may finish its requests,
default 30), ``WEB_MAX_REQUESTS`` (recycle a worker after this many requests, default 0 =
never). gunicorn itself also honours ``FORWARDED_ALLOW_IPS`` and ``GUNICORN_CMD_ARGS``.
"""

import os

# All interfaces inside a container; make prod-local sets WEB_BIND=127.0.0.1:<port>.
bind = [os.environ.get("WEB_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")]
workers = int(os.environ.get("WEB_WORKERS", "4"))
worker_class = "uvicorn_worker.UvicornWorker"
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "30"))
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
# Longer than a load balancer's idle timeout is usual, so the balancer closes first.
keepalive = 75
# The workers' heartbeat files: /dev/shm is memory, where a container's /tmp may be a slow disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
# Errors to stderr; the application's own request logs (JSON in production) go there too.
errorlog = "-"
loglevel = os.environ.get("WEB_LOG_LEVEL", "info")
# No access log of our own: the proxy in front keeps one.
accesslog = None
