"""Background work of the catalog: CSV imports and the optional AI tips."""

from celery import Task, shared_task
from django.db import DatabaseError

from catalog import imports
from catalog.tips import product_tips_generate as product_tips_generate_service
from shopcart.core.db_outage import database_unavailable

# Retries while the database is unavailable wait 30 s, 1, 2, 4, 8 minutes; after that the
# sweep queues the import again, up to catalog.imports.runs.MAX_ATTEMPTS runs in all.
PRODUCT_IMPORT_MAX_RETRIES = 5
PRODUCT_IMPORT_RETRY_BASE_SECONDS = 30


@shared_task
def product_tips_generate() -> int:
    """Write AI tips for the products that need one; run by beat. Returns how many.

    A no-op without AI_TIPS_* configuration. Provider failures are logged and left for the
    next run rather than retried here: the run is rate-limited and repeats anyway.
    """
    return product_tips_generate_service().written


@shared_task(bind=True, acks_late=True, max_retries=PRODUCT_IMPORT_MAX_RETRIES)
def product_import_run(self: Task, product_import_id: int) -> str:
    """Import one uploaded product file, or resume it after its last committed chunk; returns
    the status reached ("" when finished already or another run holds it).

    Safe to run again and at the same time (``catalog.imports``): no row is written twice.
    Late acknowledgement: a worker that dies mid-import leaves the task to another worker.
    While the database is unavailable, retried with growing waits.
    """
    try:
        return imports.product_import_run(product_import_id=product_import_id)
    except DatabaseError as exc:
        if not database_unavailable(exc):
            raise
        countdown = PRODUCT_IMPORT_RETRY_BASE_SECONDS * 2**self.request.retries
        raise self.retry(exc=exc, countdown=countdown) from None


@shared_task
def product_imports_sweep() -> int:
    """Queue again the unfinished imports nobody works on (a worker died, or the broker was
    down when one was uploaded); returns how many. Run by celery beat."""
    stalled = imports.product_imports_stalled()
    for product_import_id in stalled:
        product_import_run.delay(product_import_id)
    return len(stalled)
