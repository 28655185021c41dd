"""The settings module, loaded in fresh interpreters with chosen environments.

Each case starts ``python -c`` with only the variables it names (plus PATH), so neither the
developer's shell nor the environment of this test run leaks in. The probe also ignores a
``.env`` file in the checkout for the same reason.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.checks.security import base as django_security_checks

from shopcart.settings import (
    CONN_MAX_AGE_DEFAULT,
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from tests.settings_probe import BASE_DIR, python_in_project, settings_loaded, settings_refusal

# Strong by Django's measure: 64 characters, 16 different ones.
LONG_KEY = "0123456789abcdef" * 4
SITE = {"SITE_URL": "https://shop.example.com"}


def test_production_refuses_to_start_without_secret_key():
    stderr = settings_refusal(SMARTCART_MODE="production", ALLOWED_HOSTS="shop.example.com")

    assert "SECRET_KEY must be set when SMARTCART_MODE=production." in stderr


@pytest.mark.parametrize("debug", ["1", "true", "on"])
def test_production_refuses_to_start_with_debug_on(debug):
    stderr = settings_refusal(SMARTCART_MODE="production", SECRET_KEY=LONG_KEY, DEBUG=debug)

    assert "DEBUG must be off when SMARTCART_MODE=production." in stderr


# A production store that would start, but for the one variable each test changes.
STRONG = {
    "SMARTCART_MODE": "production",
    "SECRET_KEY": LONG_KEY,
    "ALLOWED_HOSTS": "shop.example.com",
    "PAYMENT_GATEWAY": "test",
    **SITE,
}


def test_the_strong_production_environment_starts():
    assert settings_loaded(**STRONG)["SECRET_KEY"] == LONG_KEY


@pytest.mark.parametrize(
    "key",
    [
        "x",
        "k" * 60,  # long, but one character
        "abcd" * 20,  # four different ones
        "0123456789abcdef" * 3,  # 48: two short
        "django-insecure-" + "0123456789abcdef" * 4,  # what startproject writes
    ],
)
def test_production_refuses_a_weak_secret_key(key):
    stderr = settings_refusal(**{**STRONG, "SECRET_KEY": key})

    assert "SECRET_KEY is too weak for SMARTCART_MODE=production" in stderr
    assert "secrets.token_urlsafe(64)" in stderr  # says how to make a good one


def test_the_bar_for_a_key_is_djangos_deploy_check():
    # security.W009: production refuses what `check --deploy` would only warn about.
    assert SECRET_KEY_MIN_LENGTH == django_security_checks.SECRET_KEY_MIN_LENGTH
    assert (
        SECRET_KEY_MIN_UNIQUE_CHARACTERS == django_security_checks.SECRET_KEY_MIN_UNIQUE_CHARACTERS
    )
    assert SECRET_KEY_INSECURE_PREFIX == django_security_checks.SECRET_KEY_INSECURE_PREFIX


@pytest.mark.parametrize("hosts", ["*", "shop.example.com,*", "*.example.com"])
def test_production_refuses_a_wildcard_host(hosts):
    stderr = settings_refusal(**{**STRONG, "ALLOWED_HOSTS": hosts})

    assert "ALLOWED_HOSTS must list the store's host names" in stderr


def test_a_leading_dot_for_subdomains_is_no_wildcard():
    assert settings_loaded(**{**STRONG, "ALLOWED_HOSTS": ".example.com"})


SITE_URLS_REFUSED = {
    "the embedded default, http://127.0.0.1:8000": {},
    "http": {"SITE_URL": "http://shop.example.com"},
    "no scheme": {"SITE_URL": "shop.example.com"},
    "no host": {"SITE_URL": "https://"},
    "not a URL": {"SITE_URL": "https://[::1"},
    # Plain HTTP on loopback only with cookies that say so (make prod-local) ...
    "loopback with secure cookies": {"SITE_URL": "http://127.0.0.1:8080"},
    # ... and never elsewhere.
    "http without secure cookies": {"SITE_URL": "http://shop.example.com", "SECURE_COOKIES": "0"},
}


@pytest.mark.parametrize("environment", SITE_URLS_REFUSED.values(), ids=SITE_URLS_REFUSED)
def test_production_refuses_a_site_url_without_https(environment):
    production = {key: value for key, value in STRONG.items() if key != "SITE_URL"}

    stderr = settings_refusal(**production, **environment)

    assert "SITE_URL must be the store's https:// address" in stderr


@pytest.mark.parametrize("site", ["http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]"])
def test_production_over_plain_http_on_loopback_starts(site):
    loaded = settings_loaded(**{**STRONG, "SITE_URL": site, "SECURE_COOKIES": "false"})

    assert loaded["SESSION_COOKIE_SECURE"] is False


def test_embedded_mode_takes_any_key_hosts_and_site():
    assert settings_loaded(SECRET_KEY="x", ALLOWED_HOSTS="*", SITE_URL="http://shop.test")


def test_unknown_mode_is_refused():
    stderr = settings_refusal(SMARTCART_MODE="prod")

    assert "SMARTCART_MODE must be 'embedded' or 'production'." in stderr


STRIPE_KEYS = {"STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"}


def test_production_with_a_secret_key_starts_hardened():
    loaded = settings_loaded(
        SMARTCART_MODE="production",
        SECRET_KEY=LONG_KEY,
        ALLOWED_HOSTS="shop.example.com",
        **SITE,
        **STRIPE_KEYS,
    )

    assert loaded["DEBUG"] is False
    assert loaded["SECRET_KEY"] == LONG_KEY
    assert loaded["SESSION_COOKIE_SECURE"] is True
    assert loaded["CSRF_COOKIE_SECURE"] is True
    assert loaded["SECURE_SSL_REDIRECT"] is True
    assert loaded["SECURE_HSTS_SECONDS"] >= 60 * 60 * 24 * 365


def test_production_refuses_to_start_without_a_way_to_take_real_payments():
    stderr = settings_refusal(
        SMARTCART_MODE="production", SECRET_KEY=LONG_KEY, ALLOWED_HOSTS="x", **SITE
    )

    assert "set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET, or PAYMENT_GATEWAY=test" in stderr


def test_a_stripe_key_without_its_webhook_secret_is_refused():
    stderr = settings_refusal(STRIPE_SECRET_KEY="sk_test_x")

    assert "STRIPE_WEBHOOK_SECRET" in stderr


def test_production_takes_the_test_gateway_only_when_told_so():
    loaded = settings_loaded(
        SMARTCART_MODE="production",
        SECRET_KEY=LONG_KEY,
        ALLOWED_HOSTS="x",
        PAYMENT_GATEWAY="test",
        **SITE,
    )

    assert loaded["PAYMENT_GATEWAY"] == "test"


def test_production_trusts_one_proxy_for_client_addresses_unless_told_otherwise():
    production = {"SMARTCART_MODE": "production", "SECRET_KEY": LONG_KEY, "ALLOWED_HOSTS": "x"}
    production |= {"PAYMENT_GATEWAY": "test", **SITE}

    assert settings_loaded(**production)["ALLAUTH_TRUSTED_PROXY_COUNT"] == 1
    assert (
        settings_loaded(**production, TRUSTED_PROXY_COUNT="2")["ALLAUTH_TRUSTED_PROXY_COUNT"] == 2
    )
    # The embedded store has no proxy: X-Forwarded-For is whatever a client made up.
    assert settings_loaded()["ALLAUTH_TRUSTED_PROXY_COUNT"] == 0


def test_gateway_follows_the_stripe_key_by_default():
    assert settings_loaded(**STRIPE_KEYS)["PAYMENT_GATEWAY"] == "stripe"
    assert settings_loaded()["PAYMENT_GATEWAY"] == "test"


def test_embedded_defaults_with_a_clean_environment():
    loaded = settings_loaded()

    var_dir = BASE_DIR / "var"
    assert loaded["DEBUG"] is True
    assert loaded["SECRET_KEY"]
    # Django's own SQLite backend: writers take the lock at BEGIN and wait for it; the
    # pragmas come from init_command.
    assert loaded["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(loaded["NAME"]).parent == var_dir
    assert loaded["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert loaded["OPTIONS"]["timeout"] > 0
    assert "journal_mode=WAL" in loaded["OPTIONS"]["init_command"]
    assert loaded["CELERY_TASK_ALWAYS_EAGER"] is True
    assert loaded["celery_task_always_eager"] is True
    assert loaded["EMAIL_BACKEND"] == "shopcart.core.mail_backends.EmlFileBackend"
    assert Path(loaded["EMAIL_FILE_PATH"]) == var_dir / "mail"
    assert loaded["CACHE_BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_mysql_database_url_selects_mysql_with_utf8mb4():
    # Only settings are read: no driver import, no connection.
    loaded = settings_loaded(DATABASE_URL="mysql://shop:secret@db.example.com:3306/smartcart")

    assert loaded["ENGINE"] == "django.db.backends.mysql"
    assert (loaded["NAME"], loaded["HOST"], loaded["PORT"]) == (
        "smartcart",
        "db.example.com",
        3306,
    )
    assert loaded["OPTIONS"]["charset"] == "utf8mb4"
    assert "STRICT_TRANS_TABLES" in loaded["OPTIONS"]["init_command"]
    assert loaded["OPTIONS"]["isolation_level"] == "read committed"
    assert loaded["TEST"]["CHARSET"] == "utf8mb4"
    assert loaded["TEST"]["COLLATION"] == "utf8mb4_unicode_520_ci"
    assert loaded["CONN_HEALTH_CHECKS"] is True


def test_connections_are_kept_across_requests_unless_told_otherwise():
    # Opening a connection per request cost a scan about 3 ms of CPU on SQLite.
    mariadb = "mysql://shop:secret@db.example.com:3306/smartcart"
    assert settings_loaded()["CONN_MAX_AGE"] == CONN_MAX_AGE_DEFAULT > 0
    assert settings_loaded(DATABASE_URL=mariadb)["CONN_MAX_AGE"] == CONN_MAX_AGE_DEFAULT
    assert settings_loaded(DATABASE_URL=mariadb, CONN_MAX_AGE="0")["CONN_MAX_AGE"] == 0


def test_asgi_keeps_the_connection_setting(tmp_path):
    # It once forced 0 (a new connection per request): its threads now live as long as the worker.
    probe = (
        "import shopcart.asgi\n"
        "from django.conf import settings\n"
        "print(settings.DATABASES['default']['CONN_MAX_AGE'])"
    )
    database = f"sqlite:///{tmp_path / 'asgi.sqlite3'}"

    def conn_max_age(**environment: str) -> str:
        result = python_in_project(probe, DATABASE_URL=database, **environment)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1]

    assert conn_max_age() == str(CONN_MAX_AGE_DEFAULT)
    assert conn_max_age(CONN_MAX_AGE="30") == "30"


def test_celery_broker_url_turns_eager_off():
    loaded = settings_loaded(CELERY_BROKER_URL="redis://127.0.0.1:6379/0")

    assert loaded["CELERY_TASK_ALWAYS_EAGER"] is False
    assert loaded["celery_task_always_eager"] is False
    assert loaded["celery_broker_url"] == "redis://127.0.0.1:6379/0"


def test_redis_url_switches_the_cache_to_redis():
    loaded = settings_loaded(REDIS_URL="redis://127.0.0.1:6379/1", REDIS_TIMEOUT="0.25")

    # Fail-soft: while Redis is down the cache reads as empty (tests/shopcart/test_redis_down.py).
    assert loaded["CACHE_BACKEND"] == "shopcart.core.cache_backends.FailSoftRedisCache"
    assert loaded["CACHE_LOCATION"] == "redis://127.0.0.1:6379/1"
    assert loaded["CACHE_OPTIONS"] == {"socket_connect_timeout": 0.25, "socket_timeout": 0.25}


def test_redis_timeout_must_be_positive():
    assert "REDIS_TIMEOUT" in settings_refusal(
        REDIS_URL="redis://127.0.0.1:6379/1", REDIS_TIMEOUT="0"
    )


def test_email_host_switches_email_to_smtp():
    loaded = settings_loaded(EMAIL_HOST="smtp.example.com")

    assert loaded["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"


ENV_READ = re.compile(r"""\benv(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""")
ENV_DOCUMENTED = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def test_env_example_documents_exactly_the_variables_settings_reads():
    read = set(ENV_READ.findall((BASE_DIR / "shopcart" / "settings.py").read_text()))
    documented = set(ENV_DOCUMENTED.findall((BASE_DIR / ".env.example").read_text()))

    assert read, "found no env.*() calls in settings.py: is the pattern still right?"
    assert read - documented == set(), "read by settings.py but missing from .env.example"
    assert documented - read == set(), "in .env.example but no longer read by settings.py"


@pytest.mark.skipif(not settings.REDIS_URL, reason="REDIS_URL is not set: the cache is in-process")
def test_redis_cache_round_trips():
    cache.set("tests:settings:probe", "🍓", timeout=30)

    assert cache.get("tests:settings:probe") == "🍓"
    cache.delete("tests:settings:probe")
