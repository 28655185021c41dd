"""gunicorn settings of the web workers (WSGI), shared by the container image and
``make prod-local`` so both run the same.

Start with: ``gunicorn shopcart.wsgi:application -c deploy/gunicorn.conf.py``, behind nginx
(``deploy/nginx/``), which buffers each request and response, so a slow phone or a cart on
weak Wi-Fi never holds a worker. Every request but the live cart stream comes here; the
stream goes to its own ASGI pool (``deploy/gunicorn-stream.conf.py``).

Environment: ``WEB_BIND`` (default ``0.0.0.0:$PORT``, ``PORT`` default 8000), ``WEB_WORKERS``
(processes, default: 2 a CPU this process may use, plus 1, at most 9), ``WEB_WORKER_CLASS``
(``sync``, the default, or ``gthread``), ``WEB_THREADS`` (threads of a gthread worker, default 4),
``WEB_GRACEFUL_TIMEOUT`` (seconds a stopping worker may finish its requests, default 30),
``WEB_MAX_REQUESTS`` (recycle a worker after this many requests, default 0 = never). gunicorn
itself also honours ``FORWARDED_ALLOW_IPS`` and ``GUNICORN_CMD_ARGS``. Each worker (each
thread of a gthread worker) keeps one database connection (``CONN_MAX_AGE``).
"""

import os

# All interfaces inside a container; make prod-local sets WEB_BIND=127.0.0.1:<port>.
bind = [os.environ.get("WEB_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")]


# Each worker holds a database connection and about 110 MiB: a node on a large host stops at
# this many unless WEB_WORKERS says otherwise (more load: more nodes, or WEB_WORKERS).
MAX_DEFAULT_WORKERS = 9


def default_workers() -> int:
    """gunicorn's advice: 2 workers per CPU, plus one, for the CPUs this process may run on (a
    container limited by CPU quota rather than a CPU set sees the host's), at most
    ``MAX_DEFAULT_WORKERS``."""
    return min(2 * len(os.sched_getaffinity(0)) + 1, MAX_DEFAULT_WORKERS)


workers = int(os.environ.get("WEB_WORKERS") or default_workers())
# sync: one request at a time per process. A process that is free takes the next connection
# from the kernel's queue, so requests are served in the order they came, whichever worker is
# free; nginx in front buffers slow clients, so none holds a worker. gthread workers keep the
# connections nginx reuses and queue requests on their own, so a busier worker's requests wait
# longer: with 32 carts scanning, p95 81-102 ms against sync's 56 ms at the same CPU per scan
# (benchmarks/README.md, "Scan load"). A sync worker waits idle on MariaDB: hence 2 per CPU.
worker_class = os.environ.get("WEB_WORKER_CLASS") or "sync"
# Only for gthread: gunicorn turns a sync worker with more than one thread into a gthread one.
threads = int(os.environ.get("WEB_THREADS", "4")) if worker_class == "gthread" else 1
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "30"))
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
# Django is imported once, before the workers fork: they answer from their first request, and
# a worker that dies is replaced in a moment.
preload_app = True
# Longer than nginx keeps an idle upstream connection (60 s), so nginx closes first (sync
# workers close after each response instead).
keepalive = 75
# The workers' heartbeat files: /dev/shm is memory, where a container's /tmp may be a slow disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
# Several gunicorns run side by side (web nodes, the stream pool): none needs gunicornc's
# socket, whose default path they would share.
control_socket_disable = True
# Errors to stderr; the application's own request logs (JSON in production) go there too.
errorlog = "-"
loglevel = os.environ.get("WEB_LOG_LEVEL", "info")
# No access log of our own: nginx in front keeps one.
accesslog = None
