"""smartcart settings: one module, driven by the environment.

With no environment at all the store runs in the *embedded* mode: SQLite under ``var/``,
Celery tasks run eagerly in-process, emails are written to files under ``var/mail/``.
Every variable is documented in ``.env.example``. ``SMARTCART_MODE=production`` turns on the
checks and hardening a real store needs: it refuses to start without a strong ``SECRET_KEY``,
with ``DEBUG`` on, with ``*`` in ``ALLOWED_HOSTS`` or without an ``https://`` ``SITE_URL``.

Size: kept in one module: every setting, read once from the environment, in the one module
Django reads; each block says why it is set so.
"""

import secrets
from email.utils import formataddr, parseaddr
from pathlib import Path
from urllib.parse import urlsplit

import environ
from biip.rcn import RcnRegion
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

MODE = env.str("SMARTCART_MODE", default="embedded")
if MODE not in ("embedded", "production"):
    raise ImproperlyConfigured("SMARTCART_MODE must be 'embedded' or 'production'.")
PRODUCTION = MODE == "production"


def _embedded_secret_key() -> str:
    """A random key kept in var/ so sessions survive restarts of the embedded store."""
    key_file = VAR_DIR / "secret_key"
    if not key_file.is_file():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


# What Django's deploy check calls a weak key (security.W009), which production refuses instead
# of warning about; tests/test_settings.py keeps these equal to Django's.
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5
SECRET_KEY_INSECURE_PREFIX = "django-insecure-"  # noqa: S105 - the mark of a made-up key
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_NEW_KEY_COMMAND = "python3 -c 'import secrets; print(secrets.token_urlsafe(64))'"


def _secret_key_weak(key: str) -> bool:
    return (
        len(key) < SECRET_KEY_MIN_LENGTH
        or len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
        or key.startswith(SECRET_KEY_INSECURE_PREFIX)
    )


def _site_url_secure(url: str, *, tls: bool) -> bool:
    """An https:// address; http:// only on loopback without TLS (``make prod-local``)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed [ of an IPv6 address
        return False
    if parts.scheme == "https" and host:
        return True
    return not tls and parts.scheme == "http" and host in _LOOPBACK_HOSTS


if PRODUCTION:
    if not env.str("SECRET_KEY", default=""):
        raise ImproperlyConfigured("SECRET_KEY must be set when SMARTCART_MODE=production.")
    if env.bool("DEBUG", default=False):
        raise ImproperlyConfigured("DEBUG must be off when SMARTCART_MODE=production.")
    SECRET_KEY = env.str("SECRET_KEY")
    DEBUG = False
    if _secret_key_weak(SECRET_KEY):
        raise ImproperlyConfigured(
            f"SECRET_KEY is too weak for SMARTCART_MODE=production: use at least "
            f"{SECRET_KEY_MIN_LENGTH} random characters ({SECRET_KEY_MIN_UNIQUE_CHARACTERS} or "
            f"more different ones, not starting {SECRET_KEY_INSECURE_PREFIX!r}), e.g. from "
            f"{_NEW_KEY_COMMAND}."
        )
else:
    SECRET_KEY = env.str("SECRET_KEY", default="") or _embedded_secret_key()
    DEBUG = env.bool("DEBUG", default=True)

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Where the server listens (make run passes its HOST and PORT on): SITE_URL, the address in every
# email, printed URL and the cart simulator, follows them unless it is set itself.
RUN_HOST = env.str("HOST", default="127.0.0.1")
RUN_PORT = env.int("PORT", default=8000)


def _local_site_url(host: str, port: int) -> str:
    """The address of a server listening on ``host``:``port``, as this machine reaches it."""
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - every interface: this machine is one
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


SITE_URL = env.str("SITE_URL", default="") or _local_site_url(RUN_HOST, RUN_PORT)
# What shoppers call the store: every page, email subject and sender, the authenticator app.
STORE_NAME = env.str("STORE_NAME", default="smartcart demo store")
if PRODUCTION and any("*" in host for host in ALLOWED_HOSTS):
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS must list the store's host names when SMARTCART_MODE=production (e.g. "
        "shop.example.com, or .example.com for its subdomains), never '*': a wildcard believes "
        "any Host header, and links built from it, as in password-reset emails, could point "
        "to another site."
    )
# SECURE_COOKIES=false (below) is production over plain HTTP on loopback: make prod-local.
if PRODUCTION and not _site_url_secure(SITE_URL, tls=env.bool("SECURE_COOKIES", default=True)):
    raise ImproperlyConfigured(
        f"SITE_URL must be the store's https:// address when SMARTCART_MODE=production (e.g. "
        f"https://shop.example.com), not {SITE_URL!r}: it is the link in every email and QR "
        f"code. Plain http:// is taken only on loopback with SECURE_COOKIES=false."
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.facebook",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.mfa",
    "shopcart",
    "catalog",
    "carts",
    "orders",
    "devices",
]

MIDDLEWARE = [
    # First, so every later log line of the request carries its id.
    "shopcart.core.request_ids.RequestIdMiddleware",
    # A database outage in a view answers 503 "retry", not a 500 (shopcart/core/db_outage.py).
    "shopcart.core.db_outage.DatabaseOutageMiddleware",
    # A service's refusal no view answered: its message and status, not a 500 (core/errors.py).
    "shopcart.core.errors.RefusalMiddleware",
    # Query strings and multipart forms in a client-named charset other than UTF-8 answer 400:
    # decoded, they could hold text the database cannot store (shopcart/core/storable_text.py).
    "shopcart.core.storable_text.RequestCharsetMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Store managers without two factors are sent from the admin to set them up or give a code.
    "shopcart.core.staff_mfa.StaffMfaMiddleware",
]

ROOT_URLCONF = "shopcart.urls"
WSGI_APPLICATION = "shopcart.wsgi.application"
ASGI_APPLICATION = "shopcart.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shopcart.core.context_processors.store",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite by default; DATABASE_URL=mysql://user:pass@host:3306/name switches to MySQL/MariaDB.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'smartcart.sqlite3'}")
}
_db = DATABASES["default"]
SQLITE_INIT_COMMAND = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # Django's own backend. IMMEDIATE transactions take the write lock up front, so concurrent
    # writers wait (SQLite's busy handler, up to the timeout) instead of failing with
    # "database is locked" mid-transaction. WAL lets reads go on while one connection writes;
    # with synchronous=NORMAL a commit no longer waits for the disk (fsync comes at
    # checkpoints): committed data survives a crash of the server, a power cut may lose the
    # last commits but never corrupts the file.
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": SQLITE_INIT_COMMAND,
        **_db.get("OPTIONS", {}),
    }
elif _db["ENGINE"] == "django.db.backends.mysql":
    _db["OPTIONS"] = {
        "charset": "utf8mb4",
        "isolation_level": "read committed",
        "init_command": "SET sql_mode='STRICT_TRANS_TABLES'",
        # A server that is down answers 503 in seconds instead of holding a worker for minutes.
        "connect_timeout": 5,
        **_db.get("OPTIONS", {}),
    }
    # unicode_520 gives emoji and other 4-byte characters their own weights; the older
    # utf8mb4_unicode_ci and utf8mb4_general_ci treat them all as equal ("🍓" = "🍌").
    # Create the production database with the same: see .env.example.
    _db["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_520_ci"}
    # MariaDB ignores conditional unique constraints. Ours avoid them (see Cart.current);
    # allauth's MFA model has one (one TOTP per user), which allauth also checks in code.
    # tests/test_database.py keeps our own apps free of them.
    SILENCED_SYSTEM_CHECKS = ["models.W036"]
# Database connections are kept across requests by the thread that opened them, as Django's
# CONN_MAX_AGE means it: each WSGI worker thread keeps one. Opening one per request costs more
# CPU than many a request's own work (SQLite: the PRAGMAs, reading the schema, a WAL checkpoint
# whenever the last connection closed; MariaDB: logging in and the session set-up queries; see
# benchmarks/README.md). CONN_MAX_AGE=0: one per request (the live stream's
# ASGI pool runs so, deploy/gunicorn-stream.conf.py). Keep the web workers' threads + Celery's
# processes under the database's max_connections.
CONN_MAX_AGE_DEFAULT = 600
_db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=CONN_MAX_AGE_DEFAULT)
# With persistent connections, check a reused one first: the server may have closed it
# (MariaDB's wait_timeout) while the worker was idle.
_db["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
# Redis when REDIS_URL is set (shared by all web nodes: throttles, live events), else in-process.
REDIS_URL = env.str("REDIS_URL", default="")
# Seconds to wait for Redis to connect or answer. Short: while Redis is down the cache reads as
# empty (throttles fail open, shopcart/core/cache_backends.py) and live events fall back to polling.
REDIS_TIMEOUT = env.float("REDIS_TIMEOUT", default=0.5)
if REDIS_TIMEOUT <= 0:
    raise ImproperlyConfigured("REDIS_TIMEOUT must be a positive number of seconds.")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "shopcart.core.cache_backends.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT},
        }
    }
else:
    # Room for "often bought with": one entry per product and category (Django's default,
    # 300 entries, would be culled at every request of a real catalogue).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    }

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A broker that stops answering (hung, or a half-open connection) would hold a request queueing
# a task forever (kombu's default): give up after 2 s a try, about 4 s in all, and the request
# goes on (shopcart/core/queueing.py). Longer than the worker's 1 s BRPOP wait, which it must
# not cut.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}
# Periodic work, run by `celery beat` in production (the embedded default has no beat; see
# each task's management command).
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "orders-expire-pending": {"task": "orders.tasks.orders_expire_pending", "schedule": 60.0},
    "scan-photos-purge": {"task": "devices.tasks.scan_photos_purge_task", "schedule": 60 * 60},
    "email-outbox-sweep": {"task": "shopcart.tasks.email_outbox_sweep", "schedule": 5 * 60},
    # Confirmation emails and late refunds not queued because the broker was down.
    "orders-after-payment-sweep": {
        "task": "orders.tasks.orders_after_payment_sweep",
        "schedule": 5 * 60,
    },
    # Product imports whose worker died, or whose task the broker never got.
    "product-imports-sweep": {"task": "catalog.tasks.product_imports_sweep", "schedule": 5 * 60},
}

# --- Email ----------------------------------------------------------------------------------
# Every email comes from the store by name: an address given without one gets STORE_NAME.
_from_name, _from_address = parseaddr(env.str("DEFAULT_FROM_EMAIL", default="shop@example.com"))
DEFAULT_FROM_EMAIL = formataddr((_from_name or STORE_NAME, _from_address), charset="utf-8")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
# A worker sending an outbox email holds it this long; if the worker dies, the outbox sweeper
# hands the email to another worker once the hold runs out.
EMAIL_CLAIM_SECONDS = env.int("EMAIL_CLAIM_SECONDS", default=300)
if env.str("EMAIL_HOST", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env.str("EMAIL_HOST")
    EMAIL_PORT = env.int("EMAIL_PORT", default=587)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
    EMAIL_TIMEOUT = 20
else:
    # One .eml file per message under EMAIL_FILE_PATH; open it with any mail program.
    EMAIL_BACKEND = "shopcart.core.mail_backends.EmlFileBackend"

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "catalog:home"

# Shoppers: django-allauth. Email + password, confirmed by email before the first login.
ACCOUNT_ADAPTER = "shopcart.accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "shopcart.accounts.adapters.SocialAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
# Confirming signs the shopper in, when it happens in the browser they signed up in (allauth
# keeps the sign-up in that session: a link that leaked elsewhere signs nobody in).
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
# Production sits behind TLS. SECURE_COOKIES=false is only for production mode over plain HTTP
# on loopback (make prod-local): cookies and account-email links then work over http.
SECURE_COOKIES = PRODUCTION and env.bool("SECURE_COOKIES", default=True)
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SECURE_COOKIES else "http"
# Failed sign-ins (wrong passwords, and wrong two-factor codes, which allauth counts alike) lock
# the account after LOGIN_FAILURES_PER_ACCOUNT in 5 minutes. The address they come from is only
# slowed, after many more in a minute: a store's Wi-Fi puts every shopper behind one address, and
# one account's failures must not lock them all out. The account is counted first, so attempts
# at a locked account use up nothing of the address's allowance. Sign-in attempts of any outcome
# are limited per address well above that, against floods. allauth's other rate limits
# (sign-ups, emails, password resets) stay at their defaults.
LOGIN_FAILURES_PER_ACCOUNT = 5
LOGIN_FAILURES_PER_ADDRESS = 30
ACCOUNT_RATE_LIMITS = {
    "login": f"{4 * LOGIN_FAILURES_PER_ADDRESS}/1m/ip",
    "login_failed": f"{LOGIN_FAILURES_PER_ACCOUNT}/5m/key,{LOGIN_FAILURES_PER_ADDRESS}/1m/ip",
}
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# Members of these groups (and superusers) must use two-factor authentication on every staff
# surface: the admin, the dashboard, the exit check, the staff API (shopcart/core/staff_mfa.py).
STAFF_MFA_REQUIRED_GROUPS = ["Store manager"]


def _social_providers() -> dict[str, dict]:
    """Social login providers, each only when its client id and secret are configured.

    Providers can also be added by staff in the admin (Social applications).
    """
    providers: dict[str, dict] = {}
    # Each variable is named in full, so tests/test_settings.py can check .env.example lists it.
    if env.str("GOOGLE_CLIENT_ID", default=""):
        app = {"client_id": env.str("GOOGLE_CLIENT_ID"), "secret": env.str("GOOGLE_CLIENT_SECRET")}
        providers["google"] = {"APPS": [app], "SCOPE": ["profile", "email"]}
    if env.str("FACEBOOK_CLIENT_ID", default=""):
        app = {
            "client_id": env.str("FACEBOOK_CLIENT_ID"),
            "secret": env.str("FACEBOOK_CLIENT_SECRET"),
        }
        providers["facebook"] = {"APPS": [app], "SCOPE": ["email"]}
    if env.str("OIDC_CLIENT_ID", default=""):
        app = {
            "provider_id": env.str("OIDC_PROVIDER_ID", default="oidc"),
            "name": env.str("OIDC_PROVIDER_NAME", default="Single sign-on"),
            "client_id": env.str("OIDC_CLIENT_ID"),
            "secret": env.str("OIDC_CLIENT_SECRET"),
            # PKCE on: many providers require it, and it costs nothing where they do not.
            "settings": {"server_url": env.str("OIDC_SERVER_URL"), "oauth_pkce_enabled": True},
        }
        providers["openid_connect"] = {"APPS": [app]}
    return providers


SOCIALACCOUNT_PROVIDERS = _social_providers()

# --- Internationalisation and money ---------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
# Messages stay on the server: some carry what must not sit in a cookie (a new device key).
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
MFA_TOTP_ISSUER = STORE_NAME
STORE_CURRENCY = env.str("STORE_CURRENCY", default="EUR")

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
if not PRODUCTION:
    # WhiteNoise serves from the finders here; an empty root keeps it from warning on each request.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = not PRODUCTION
# Files browsers ask for at the site's root: /favicon.ico, /apple-touch-icon.png.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Uploads: product photos in the admin and CSV imports. Larger bodies are refused.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
PRODUCT_IMAGE_MAX_BYTES = 2 * 1024 * 1024
# The largest CSV file the product import takes (about 150,000 rows); a larger one is refused
# with a form error before anything reads it. The proxy's body limit must be a little above.
PRODUCT_IMPORT_MAX_BYTES = env.int("PRODUCT_IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
if PRODUCT_IMPORT_MAX_BYTES < 1:
    raise ImproperlyConfigured("PRODUCT_IMPORT_MAX_BYTES must be a positive number of bytes.")
PRODUCT_IMAGE_MAX_PIXELS = 4000 * 4000

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first, so an anonymous request is answered 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's JSON parser, refusing deep nesting and text that cannot be stored with a 400
    # (shopcart/core/json_input.py).
    "DEFAULT_PARSER_CLASSES": ["shopcart.core.json_input.BoundedJSONParser"],
    # DRF's own handler, plus 503 with Retry-After when the database is away.
    "EXCEPTION_HANDLER": "shopcart.core.api_errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "smartcart API",
    "DESCRIPTION": "Staff product API, shopper cart API and the cart device protocol.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Devices (the carts) --------------------------------------------------------------------
# After a key rotation the old key keeps working this many seconds, so a cart that was offline
# can still come back and be given its new key.
DEVICE_KEY_ROTATION_GRACE = env.int("DEVICE_KEY_ROTATION_GRACE", default=24 * 60 * 60)
# A web process trusts what it remembers of a device key at most this many seconds; rotating
# or revoking a key reaches every process sooner through the shared cache when there is one
# (devices/authentication.py).
DEVICE_KEY_CACHE_SECONDS = env.float("DEVICE_KEY_CACHE_SECONDS", default=5.0)
# A cart silent for longer than this many seconds shows as offline in the admin.
DEVICE_OFFLINE_AFTER = 180
# Requests per device (never per IP: every cart sits behind the store's one NAT address).
DEVICE_THROTTLE_RATE = env.str("DEVICE_THROTTLE_RATE", default="600/min")
# Provisioning by QR ("Add a cart" in the admin, devices/provisioning.py): the carts' Wi-Fi, the
# address they call (default SITE_URL), the SHA-256 fingerprint (hex) of the CA certificate
# that signed the server's chain, and how long a provisioning QR's enrolment code works.
CART_WIFI_SSID = env.str("CART_WIFI_SSID", default="")
CART_WIFI_PASSWORD = env.str("CART_WIFI_PASSWORD", default="")
CART_SERVER_URL = env.str("CART_SERVER_URL", default="") or SITE_URL
CART_CA_SHA256 = env.str("CART_CA_SHA256", default="").replace(":", "").strip().lower()
DEVICE_ENROLMENT_TTL = env.int("DEVICE_ENROLMENT_TTL", default=10 * 60)
# Enrolment attempts for the whole store (there is no device to count them by yet).
DEVICE_ENROL_THROTTLE_RATE = env.str("DEVICE_ENROL_THROTTLE_RATE", default="30/min")
# Over-the-air updates: the store's Ed25519 release public key (the 32 raw bytes, base64). A
# firmware release uploaded in the admin must be signed with its private key, kept offline;
# carts have the same public key compiled in. Empty: no release can be uploaded.
FIRMWARE_RELEASE_PUBLIC_KEY = env.str("FIRMWARE_RELEASE_PUBLIC_KEY", default="").strip()
# In-store price and weight labels (prefixes 02, 20-29) follow this country's GS1 layout,
# named by biip's region code ("de", "se", "gb", ...). Empty: labels off, such codes are
# ordinary barcodes (catalog/instore_labels.py).
INSTORE_LABEL_REGION = env.str("INSTORE_LABEL_REGION", default="").strip().lower()
if INSTORE_LABEL_REGION and INSTORE_LABEL_REGION not in {r.value for r in RcnRegion}:
    raise ImproperlyConfigured(
        f"INSTORE_LABEL_REGION={INSTORE_LABEL_REGION!r} is not known; use one of "
        f"{', '.join(sorted(r.value for r in RcnRegion))}, or leave it empty to turn labels off."
    )
# Keep the photos of scans in which nothing was read (for staff to see why), deleted after
# SCAN_FAILED_PHOTO_DAYS days. Never the photos of scans that were read.
SCAN_STORE_FAILED_PHOTOS = env.bool("SCAN_STORE_FAILED_PHOTOS", default=False)
SCAN_FAILED_PHOTO_DAYS = env.int("SCAN_FAILED_PHOTO_DAYS", default=7)
if SCAN_FAILED_PHOTO_DAYS < 1:
    raise ImproperlyConfigured("SCAN_FAILED_PHOTO_DAYS must be at least 1.")

# --- Orders and payments --------------------------------------------------------------------
# An order not paid within this many minutes expires and gives its stock back.
ORDER_PENDING_MINUTES = env.int("ORDER_PENDING_MINUTES", default=30)
# Share of paid orders (0..1) flagged for a random check at the exit; a shopper's first always is.
EXIT_AUDIT_SHARE = env.float("EXIT_AUDIT_SHARE", default=0.05)
# Stripe, when a secret key is set; otherwise the built-in test gateway takes card payments.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# Only tests and a local fake change this; real stores leave it alone.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")
# Who takes card payments: "stripe", or "test" (the built-in gateway: test cards only, no money
# moves). Default: stripe with a key; otherwise test — except in production, where a store must
# either set the key or say PAYMENT_GATEWAY=test on purpose (a demo or a staging store).
PAYMENT_GATEWAY = env.str(
    "PAYMENT_GATEWAY", default="stripe" if STRIPE_SECRET_KEY or PRODUCTION else "test"
)
if PAYMENT_GATEWAY not in ("stripe", "test"):
    raise ImproperlyConfigured("PAYMENT_GATEWAY must be 'stripe' or 'test'.")
if PAYMENT_GATEWAY == "stripe" and not (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET):
    raise ImproperlyConfigured(
        "Card payments go through Stripe: set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET, or "
        "PAYMENT_GATEWAY=test for a store that takes no real payments."
    )

# --- Recommendations and AI tips -----------------------------------------------------------
# "Often bought with" is learnt again from the paid orders every few hours (and by
# `manage.py recommendations_rebuild`); orders/recommendations/.
CELERY_BEAT_SCHEDULE["orders-recommendations-rebuild"] = {
    "task": "orders.tasks.recommendations_rebuild",
    "schedule": 6 * 60 * 60,
}
# Optional AI shopping tips from an OpenAI-compatible chat-completions API (catalog/tips.py).
# Off unless the base URL and the model are set: then nothing calls out.
AI_TIPS_BASE_URL = env.str("AI_TIPS_BASE_URL", default="").strip()
AI_TIPS_API_KEY = env.str("AI_TIPS_API_KEY", default="")
AI_TIPS_MODEL = env.str("AI_TIPS_MODEL", default="").strip()
AI_TIPS_RATE_PER_MINUTE = env.int("AI_TIPS_RATE_PER_MINUTE", default=10)
AI_TIPS_TIMEOUT = env.float("AI_TIPS_TIMEOUT", default=20.0)
if AI_TIPS_BASE_URL and not AI_TIPS_BASE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured("AI_TIPS_BASE_URL must be an http:// or https:// URL.")
if bool(AI_TIPS_BASE_URL) != bool(AI_TIPS_MODEL):
    raise ImproperlyConfigured("Set both AI_TIPS_BASE_URL and AI_TIPS_MODEL, or neither.")
if AI_TIPS_RATE_PER_MINUTE < 1 or AI_TIPS_TIMEOUT <= 0:
    raise ImproperlyConfigured("AI_TIPS_RATE_PER_MINUTE and AI_TIPS_TIMEOUT must be positive.")
if AI_TIPS_BASE_URL:
    CELERY_BEAT_SCHEDULE["catalog-product-tips"] = {
        "task": "catalog.tasks.product_tips_generate",
        "schedule": 5 * 60,
    }

# --- Security -------------------------------------------------------------------------------
# Content-Security-Policy: scripts only from our own static files (no inline script, no eval),
# no plugins, no framing. Inline style attributes stay allowed (the admin uses them). No
# form-action: sign-in with Google/Facebook/OIDC and Stripe's checkout redirect a posted form to
# another site, which form-action would block.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SESSION_COOKIE_HTTPONLY = True
# A form from a page gone stale (signed in on another tab) explains itself and offers a retry.
CSRF_FAILURE_VIEW = "shopcart.core.errors.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    # TLS ends at the proxy, which tells us the original scheme in X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # The proxy also appends the address it saw to X-Forwarded-For; allauth's per-address
    # sign-in limits take that entry, counted from the end (the first ones come from the
    # client and may be made up). Without it every shopper would share the proxy's address.
    # Behind a second proxy (a cloud load balancer in front of nginx) set it to 2.
    ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = SECURE_COOKIES
    CSRF_COOKIE_SECURE = SECURE_COOKIES
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# --- Logging --------------------------------------------------------------------------------
# One line per event on stderr: JSON in production (for a log collector), plain text otherwise.
# Every line carries the request id (also sent back in the X-Request-ID header).
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "plain")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured("LOG_FORMAT must be 'json' or 'plain'.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "shopcart.core.request_ids.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "shopcart.core.log_formats.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Errors to Sentry when a DSN is set; no personal data is sent.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=MODE,
        send_default_pii=False,
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
