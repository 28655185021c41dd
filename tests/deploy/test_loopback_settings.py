"""SECURE_COOKIES: production mode over plain HTTP on loopback, for trying the production
settings without a proxy (``make prod-local`` itself runs behind nginx with TLS).

Settings are loaded in a fresh interpreter with only the variables named (and no ``.env``).
"""

import json
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PROBE = """
import json
import environ

environ.Env.read_env = staticmethod(lambda *args, **kwargs: None)
from django.conf import settings

print(json.dumps({
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": settings.CSRF_COOKIE_SECURE,
    "ACCOUNT_DEFAULT_HTTP_PROTOCOL": settings.ACCOUNT_DEFAULT_HTTP_PROTOCOL,
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
}))
"""
PRODUCTION = {
    "SMARTCART_MODE": "production",
    "SECRET_KEY": "0123456789abcdef" * 4,
    "ALLOWED_HOSTS": "x",
    "SITE_URL": "https://x",
    "PAYMENT_GATEWAY": "test",
}


def _settings(**environment: str) -> dict:
    result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed probe
        [sys.executable, "-c", PROBE],
        cwd=BASE_DIR,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "shopcart.settings", **environment},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_cookies_are_secure_and_links_https_by_default():
    loaded = _settings(**PRODUCTION)

    assert loaded["SESSION_COOKIE_SECURE"] is True
    assert loaded["CSRF_COOKIE_SECURE"] is True
    assert loaded["ACCOUNT_DEFAULT_HTTP_PROTOCOL"] == "https"


def test_secure_cookies_off_makes_plain_http_usable_on_loopback():
    loopback = {**PRODUCTION, "SITE_URL": "http://127.0.0.1:8080"}
    loaded = _settings(**loopback, SECURE_COOKIES="false", SECURE_SSL_REDIRECT="false")

    assert loaded == {
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "ACCOUNT_DEFAULT_HTTP_PROTOCOL": "http",
        "SECURE_SSL_REDIRECT": False,
    }


def test_embedded_mode_ignores_secure_cookies():
    loaded = _settings(SECURE_COOKIES="true")

    assert loaded["SESSION_COOKIE_SECURE"] is False
    assert loaded["ACCOUNT_DEFAULT_HTTP_PROTOCOL"] == "http"
