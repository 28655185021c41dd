"""Background work of the catalog: the recommendations model and the optional AI tips."""

from celery import shared_task

from catalog.recommendations.rebuild import (
    recommendations_rebuild as recommendations_rebuild_service,
)
from catalog.tips import product_tips_generate as product_tips_generate_service


@shared_task
def recommendations_rebuild() -> int:
    """Learn "often bought with" from the paid orders again; run by beat. Idempotent.

    Returns the id of the ``RecommendationBuild`` row that records the run.
    """
    return recommendations_rebuild_service().pk


@shared_task
def product_tips_generate() -> int:
    """Write AI tips for the products that need one; run by beat. Returns how many.

    A no-op without AI_TIPS_* configuration. Provider failures are logged and left for the
    next run rather than retried here: the run is rate-limited and repeats anyway.
    """
    return product_tips_generate_service().written
