"""Settings of the loopback identity provider (django-oauth-toolkit with OpenID Connect).

Everything it writes lives in ``LOOPBACK_IDP_DIR``: the SQLite file and the RSA key that signs
ID tokens, generated on first use and never committed. Its cookies have their own names, so
they can never be mistaken for smartcart's even on the same host.
"""

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured

PACKAGE_DIR = Path(__file__).resolve().parent
try:
    STATE_DIR = Path(os.environ["LOOPBACK_IDP_DIR"])
except KeyError:
    raise ImproperlyConfigured(
        "Set LOOPBACK_IDP_DIR to a directory for the provider's database and key."
    ) from None


def _private_key_pem() -> str:
    """The provider's RSA signing key, made once per state directory.

    Kept in a file rather than in memory so every process of one provider (setup, server)
    signs with the same key.
    """
    key_file = STATE_DIR / "oidc-rsa-key.pem"
    if not key_file.is_file():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PrivateFormat.PKCS8,
            encryption_algorithm=serialization.NoEncryption(),
        )
        key_file.write_bytes(pem)
        key_file.chmod(0o600)
    return key_file.read_text()


SECRET_KEY = secrets.token_urlsafe(50)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
    "idp",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "idp.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ]
        },
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": STATE_DIR / "idp.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True

# A throwaway provider for tests: fast hashing for the user's password and the client secret.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
SESSION_COOKIE_NAME = "idp_sessionid"
CSRF_COOKIE_NAME = "idp_csrftoken"

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _private_key_pem(),
    "OAUTH2_VALIDATOR_CLASS": "idp.claims.ClaimsValidator",
    "SCOPES": {
        "openid": "Sign you in with your Loopback ID",
        "email": "See your email address",
        "profile": "See your name",
    },
    "DEFAULT_SCOPES": ["openid"],
    "PKCE_REQUIRED": True,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
}

# A fresh throwaway database each run: tables straight from the models (migrate --run-syncdb)
# take a fraction of the time replaying every migration would.
MIGRATION_MODULES = {app.rsplit(".", 1)[-1]: None for app in INSTALLED_APPS}
