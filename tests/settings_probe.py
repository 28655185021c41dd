"""Settings as a fresh process loads them from an environment: ``settings_loaded`` (what it
read), ``settings_refusal`` (why it refused to start) and ``python_in_project`` (any probe)."""

import json
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

PROBE = """
import json
import environ

# Hermetic: a developer's .env must not change what this probe sees.
environ.Env.read_env = staticmethod(lambda *args, **kwargs: None)

# Settings and the Celery app only: django.setup() would import the database driver.
from django.conf import settings
from shopcart.celery import app

db = settings.DATABASES["default"]
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "SECRET_KEY": settings.SECRET_KEY,
    "ENGINE": db["ENGINE"],
    "NAME": str(db["NAME"]),
    "HOST": db.get("HOST", ""),
    "PORT": db.get("PORT", ""),
    "OPTIONS": db.get("OPTIONS", {}),
    "TEST": db.get("TEST", {}),
    "CONN_HEALTH_CHECKS": db.get("CONN_HEALTH_CHECKS"),
    "CONN_MAX_AGE": db.get("CONN_MAX_AGE"),
    "CACHE_BACKEND": settings.CACHES["default"]["BACKEND"],
    "CACHE_LOCATION": settings.CACHES["default"].get("LOCATION", ""),
    "CACHE_OPTIONS": settings.CACHES["default"].get("OPTIONS", {}),
    "CELERY_TASK_ALWAYS_EAGER": settings.CELERY_TASK_ALWAYS_EAGER,
    "celery_task_always_eager": app.conf.task_always_eager,
    "celery_broker_url": app.conf.broker_url,
    "EMAIL_BACKEND": settings.EMAIL_BACKEND,
    "EMAIL_FILE_PATH": str(settings.EMAIL_FILE_PATH),
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": settings.CSRF_COOKIE_SECURE,
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "SECURE_HSTS_SECONDS": settings.SECURE_HSTS_SECONDS,
    "PAYMENT_GATEWAY": settings.PAYMENT_GATEWAY,
    "ALLAUTH_TRUSTED_PROXY_COUNT": getattr(settings, "ALLAUTH_TRUSTED_PROXY_COUNT", 0),
}))
"""


def _run_settings(**environment: str) -> subprocess.CompletedProcess:
    return python_in_project(PROBE, **environment)


def python_in_project(probe: str, **environment: str) -> subprocess.CompletedProcess:
    """``probe`` run by this interpreter in the project, with only PATH and ``environment``."""
    env = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "shopcart.settings"}
    env.update(environment)
    return subprocess.run(  # noqa: S603 - our own interpreter and a fixed probe
        [sys.executable, "-c", probe],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def settings_loaded(**environment: str) -> dict:
    result = _run_settings(**environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def settings_refusal(**environment: str) -> str:
    result = _run_settings(**environment)
    assert result.returncode != 0, "settings loaded but should have been refused"
    assert "ImproperlyConfigured" in result.stderr
    return result.stderr
