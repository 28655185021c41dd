"""Failed sign-ins lock the account they were for; the address they came from is only slowed.

A store's Wi-Fi puts every shopper behind one address (NAT), so a limit per address low enough
to stop guessing at one account would lock out the whole store. Every test client here comes
from the same address (127.0.0.1), like shoppers on the store's Wi-Fi.
"""

import pytest
from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.totp.internal.auth import generate_totp_secret
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from shopcart.core.staff_mfa import totp_secret_set
from tests.accounts.conftest import PASSWORD, totp_code

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")
MFA_AUTHENTICATE = reverse("mfa_authenticate")
ERRORS = DefaultAccountAdapter.error_messages
TOO_MANY = str(ERRORS["too_many_login_attempts"])
MISMATCH = str(ERRORS["email_password_mismatch"])
WRONG_CODE = str(DefaultMFAAdapter.error_messages["incorrect_code"])
# Well past the old limit of 10 failures a minute per address.
MANY = 3 * settings.LOGIN_FAILURES_PER_ACCOUNT


def sign_in(client: Client, email: str, password: str = PASSWORD):
    return client.post(LOGIN, {"login": email, "password": password})


def signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def test_the_account_limit_is_far_below_the_address_limit():
    assert settings.LOGIN_FAILURES_PER_ADDRESS >= 5 * settings.LOGIN_FAILURES_PER_ACCOUNT


def test_failed_passwords_lock_that_account_and_no_other_behind_the_same_address(confirmed_user):
    confirmed_user("carol@example.com")
    confirmed_user("dora@example.com")
    guesser = Client()
    for attempt in range(MANY):
        answer = sign_in(guesser, "carol@example.com", "guess").text
        expected = MISMATCH if attempt < settings.LOGIN_FAILURES_PER_ACCOUNT else TOO_MANY
        assert expected in answer, attempt

    carol, dora = Client(), Client()
    # Carol's account is locked, even for her right password...
    assert TOO_MANY in sign_in(carol, "carol@example.com").text
    assert not signed_in(carol)
    # ... while Dora, on the same Wi-Fi, signs in.
    assert sign_in(dora, "dora@example.com")["Location"] == reverse("catalog:home")
    assert signed_in(dora)


def test_wrong_codes_lock_that_managers_second_step_and_no_one_elses(confirmed_user):
    manager = confirmed_user("boss@example.com", is_staff=True)
    manager.groups.add(Group.objects.get(name="Store manager"))
    secret = generate_totp_secret()
    totp_secret_set(user=manager, secret=secret)
    confirmed_user("dora@example.com")
    guesser = Client()
    assert sign_in(guesser, "boss@example.com")["Location"] == MFA_AUTHENTICATE
    right = totp_code(secret)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for attempt in range(MANY):
        answer = guesser.post(MFA_AUTHENTICATE, {"code": wrong}).text
        expected = WRONG_CODE if attempt < settings.LOGIN_FAILURES_PER_ACCOUNT else TOO_MANY
        assert expected in answer, attempt

    assert TOO_MANY in guesser.post(MFA_AUTHENTICATE, {"code": right}).text
    assert not signed_in(guesser)
    dora = Client()
    assert sign_in(dora, "dora@example.com")["Location"] == reverse("catalog:home")


def test_failures_of_many_shoppers_behind_one_address_do_not_lock_it(confirmed_user):
    confirmed_user("dora@example.com")
    # A busy store: a dozen shoppers mistype their password in the same minute.
    for number in range(12):
        shopper = f"shopper{number}@example.com"
        confirmed_user(shopper)
        assert MISMATCH in sign_in(Client(), shopper, "typo").text

    dora = Client()
    assert sign_in(dora, "dora@example.com")["Location"] == reverse("catalog:home")


def test_a_flood_of_failures_across_accounts_from_one_address_is_slowed(confirmed_user):
    confirmed_user("dora@example.com")
    for number in range(settings.LOGIN_FAILURES_PER_ADDRESS):
        answer = sign_in(Client(), f"nobody{number}@example.com", "guess").text
        assert MISMATCH in answer, number

    flooded = Client()
    assert TOO_MANY in sign_in(flooded, "dora@example.com").text
    assert not signed_in(flooded)
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    assert sign_in(elsewhere, "dora@example.com")["Location"] == reverse("catalog:home")
