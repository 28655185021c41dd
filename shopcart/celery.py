"""The Celery application.

Configuration comes from Django settings (``CELERY_*``). With no ``CELERY_BROKER_URL`` the
settings make every task run eagerly in-process, so the embedded default needs no broker.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopcart.settings")

app = Celery("shopcart")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
