"""Health endpoints for load balancers and orchestrators.

``/healthz`` answers 200 while the process serves requests (no I/O: a liveness probe must not
fail because the database is slow). ``/readyz`` checks what a request needs — the database, and
Redis and the Celery broker when they are configured — and answers 503 naming the failing part,
so a load balancer stops sending shoppers to a node that cannot serve them.
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0


def _database_check() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _redis_check() -> None:
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=CHECK_TIMEOUT_SECONDS,
        socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    finally:
        client.close()


def _broker_check() -> None:
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL, connect_timeout=CHECK_TIMEOUT_SECONDS) as broker:
        broker.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SECONDS)


def readiness_checks() -> dict[str, Callable[[], None]]:
    """The parts this node depends on, by name; each check raises when its part is down."""
    checks: dict[str, Callable[[], None]] = {"database": _database_check}
    if settings.REDIS_URL:
        checks["redis"] = _redis_check
    if settings.CELERY_BROKER_URL:
        checks["broker"] = _broker_check
    return checks


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    results = {}
    for name, check in readiness_checks().items():
        try:
            check()
        except Exception as error:  # any failure means "not ready"
            # The class name only: connection strings with passwords stay out of the log.
            logger.warning("readiness check %s failed: %s", name, type(error).__name__)
            results[name] = "down"
        else:
            results[name] = "ok"
    failing = [name for name, result in results.items() if result != "ok"]
    status = 503 if failing else 200
    body: dict[str, object] = {
        "status": "ok" if not failing else "unavailable",
        "checks": results,
    }
    if failing:
        body["failing"] = failing
    return JsonResponse(body, status=status)
