"""Queueing Celery tasks after commit without letting a broker outage undo a request.

The request's data is committed by the time its after-commit work is queued. If the broker
(Redis) is down then, the task is not queued: the failure is logged and the request answers as
usual. Nothing is lost for good, because each task queued this way has a periodic sweep that
finds the work still to do in the database and queues it again: confirmation emails and late
refunds by ``orders.tasks.orders_after_payment_sweep``, the outbox's emails by
``shopcart.tasks.email_outbox_sweep``.
"""

import logging
from functools import partial

from celery import Task
from django.db import transaction

logger = logging.getLogger(__name__)


def task_enqueue_on_commit(task: Task, *args: int) -> None:
    """Queue ``task(*args)`` once the current transaction commits (see ``task_enqueue``)."""
    transaction.on_commit(partial(task_enqueue, task, *args))


def task_enqueue(task: Task, *args: int) -> bool:
    """Queue ``task(*args)``; returns False, logged, when that failed (the broker is down, or,
    with eager tasks, the task itself raised). Never raises: the caller's work is done."""
    try:
        task.delay(*args)
    except Exception as exc:
        # The class only: broker errors quote the broker's URL.
        # Eager tasks (no broker) run here: their traceback helps and names no broker.
        eager = bool(task.app.conf.task_always_eager)
        logger.error(
            "task %s%s not queued now (%s)", task.name, args, type(exc).__name__, exc_info=eager
        )
        return False
    return True
