"""Fixtures for the sign-in tests: confirmed accounts, TOTP codes, a clean cache.

allauth keeps its rate-limit counters and the TOTP codes already used in the cache; each test
starts with an empty one so the tests cannot limit or replay each other.
"""

import time
from collections.abc import Callable

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.cache import cache

from tests.factories import UserFactory

PASSWORD = "correct horse battery"  # UserFactory's password


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def confirmed_user(db) -> Callable[..., AbstractBaseUser]:
    """A user with UserFactory's password and a confirmed primary email address."""

    def make(email: str = "carol@example.com", **fields) -> AbstractBaseUser:
        user = UserFactory(username=email, email=email, **fields)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        return user

    return make


def totp_code(secret: str) -> str:
    """The code an authenticator app shows for ``secret`` now, computed with allauth's helpers.

    Close to the end of a period it waits for the next one, so the server checks the code
    within the period it was made for (allauth allows no drift by default).
    """
    period = mfa_settings.TOTP_PERIOD
    if period - time.time() % period < 2:
        time.sleep(period - time.time() % period + 0.05)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))
