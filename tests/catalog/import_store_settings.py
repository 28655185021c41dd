"""Settings of the embedded store that ``test_import_keeps_the_store_answering`` starts in its
own process: exactly ``make run``'s, but with the suite's fast password hasher
(tests/conftest.py), so a login measures the store and not PBKDF2's deliberate 0.4 s, and
without allauth's sign-in rate limit, as the shopper there signs in every second."""

from shopcart.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ACCOUNT_RATE_LIMITS = False  # type: ignore[assignment]  # allauth: False turns them off
