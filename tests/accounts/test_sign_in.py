"""Shopper sign-in with allauth through the real URLs: sign-up, confirmation, login, reset, logout.

allauth's emails go through the outbox and Celery after commit; with the eager Celery of the
tests they land in ``mail.outbox`` once the callbacks run.
"""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.accounts.conftest import PASSWORD
from tests.accounts.support import NEW_PASSWORD, SIGNUP, link_in, sign_up

pytestmark = pytest.mark.django_db

User = get_user_model()
LOGIN = reverse("account_login")
LOGOUT = reverse("account_logout")
RESET = reverse("account_reset_password")
ERRORS = DefaultAccountAdapter.error_messages


def signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def test_sign_up_emails_a_confirmation_link_and_does_not_sign_in(
    client, django_capture_on_commit_callbacks
):
    response = sign_up(client, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="dora@example.com")
    assert not EmailAddress.objects.get(user=user).verified
    assert not signed_in(client)
    [message] = [m for m in mail.outbox if "/accounts/confirm-email/" in m.body]
    assert message.to == ["dora@example.com"]
    sent_page = client.get(response["Location"]).text
    assert '<h1 class="auth__title">Check your email</h1>' in sent_page


def test_an_unconfirmed_account_cannot_sign_in(client, django_capture_on_commit_callbacks):
    sign_up(client, django_capture_on_commit_callbacks)
    client = Client()

    response = client.post(LOGIN, {"login": "dora@example.com", "password": NEW_PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert not signed_in(client)


def test_confirmation_link_shows_a_button_and_only_the_post_confirms(
    client, django_capture_on_commit_callbacks
):
    sign_up(client, django_capture_on_commit_callbacks)
    confirm_path = link_in(mail.outbox[0], "/accounts/confirm-email/")
    address = EmailAddress.objects.get(email="dora@example.com")

    page = client.get(confirm_path)

    assert page.status_code == 200
    assert f'action="{confirm_path}"' in page.text and 'method="post"' in page.text
    address.refresh_from_db()
    assert not address.verified

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(confirm_path)

    assert response.status_code == 302
    address.refresh_from_db()
    assert address.verified
    client = Client()
    client.post(LOGIN, {"login": "dora@example.com", "password": NEW_PASSWORD})
    assert signed_in(client)


def test_login_by_email_signs_in_and_goes_to_the_shop(client, confirmed_user):
    carol = confirmed_user("carol@example.com")

    response = client.post(LOGIN, {"login": "Carol@Example.com", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("catalog:home")
    assert client.session[SESSION_KEY] == str(carol.pk)


def test_wrong_password_is_refused_with_allauth_message_on_the_form(client, confirmed_user):
    confirmed_user("carol@example.com")

    response = client.post(LOGIN, {"login": "carol@example.com", "password": "not it"})

    assert response.status_code == 200
    assert not signed_in(client)
    alert = re.search(
        r'<div class="alert alert--error" role="alert">(.*?)</div>', response.text, re.S
    )
    assert alert and str(ERRORS["email_password_mismatch"]) in alert.group(1)
    # The address stays filled in; the password does not.
    assert 'value="carol@example.com"' in response.text
    assert "not it" not in response.text


def test_sign_up_errors_are_shown_next_to_their_field(client):
    response = client.post(
        SIGNUP, {"email": "not-an-email", "password1": "short", "password2": "other"}
    )

    assert response.status_code == 200
    assert not User.objects.exists()
    errors = re.search(
        r'<ul class="field__errors" id="id_email_error">(.*?)</ul>', response.text, re.S
    )
    assert errors and "Enter a valid email address." in errors.group(1)
    # The box says it is wrong, and names the error beside it (for screen readers too); what
    # was typed stays.
    found = re.search(r'<input type="email"[^>]*>', response.text)
    assert found
    box = found.group(0)
    assert 'aria-invalid="true"' in box
    assert 'aria-describedby="id_email_error"' in box
    assert 'value="not-an-email"' in box


def test_password_reset_by_email_then_login_with_the_new_password(
    client, confirmed_user, django_capture_on_commit_callbacks
):
    carol = confirmed_user("carol@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RESET, {"email": "carol@example.com"})
    assert response["Location"] == reverse("account_reset_password_done")
    key_path = link_in(mail.outbox[-1], "/accounts/password/reset/key/")

    form_page = client.get(key_path, follow=True)
    assert form_page.status_code == 200
    assert "password1" in form_page.text
    set_path = form_page.redirect_chain[-1][0]
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(set_path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert done["Location"] == reverse("account_reset_password_from_key_done")
    carol.refresh_from_db()
    assert carol.check_password(NEW_PASSWORD)
    other = Client()
    other.post(LOGIN, {"login": "carol@example.com", "password": NEW_PASSWORD})
    assert signed_in(other)
    # The link worked once; a second use is refused, in the store's words.
    again = client.get(key_path, follow=True).text
    assert '<h1 class="auth__title">This link has already been used</h1>' in again
    assert "Bad Token" not in again


def test_reset_for_an_unknown_address_reveals_nothing(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RESET, {"email": "nobody@example.com"})

    assert response["Location"] == reverse("account_reset_password_done")
    assert not [m for m in mail.outbox if "/password/reset/key/" in m.body]


def test_logout_by_get_asks_and_only_post_signs_out(client, confirmed_user):
    client.force_login(confirmed_user("carol@example.com"))

    page = client.get(LOGOUT)

    assert page.status_code == 200
    assert signed_in(client)
    assert f'action="{LOGOUT}"' in page.text and 'method="post"' in page.text

    response = client.post(LOGOUT)

    assert response.status_code == 302
    assert not signed_in(client)


@pytest.mark.parametrize(
    ("url", "data"),
    [
        (LOGIN, {"login": "carol@example.com", "password": PASSWORD}),
        (
            SIGNUP,
            {"email": "eve@example.com", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        ),
        (RESET, {"email": "carol@example.com"}),
    ],
)
def test_forms_refuse_a_post_without_csrf_token(confirmed_user, url, data):
    confirmed_user("carol@example.com")
    client = Client(enforce_csrf_checks=True)

    response = client.post(url, data)

    assert response.status_code == 403
    assert not signed_in(client)
    assert not User.objects.filter(email="eve@example.com").exists()


def test_logout_post_without_csrf_token_is_refused(confirmed_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(confirmed_user("carol@example.com"))

    assert client.post(LOGOUT).status_code == 403
    assert signed_in(client)


def test_repeated_failed_logins_are_rate_limited_even_for_the_right_password(
    client, confirmed_user
):
    confirmed_user("carol@example.com")
    # LOGIN_FAILURES_PER_ACCOUNT failures lock the account (tests/accounts/test_lockout.py).
    for _ in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
        failed = client.post(LOGIN, {"login": "carol@example.com", "password": "guess"})
        assert str(ERRORS["email_password_mismatch"]) in failed.text

    response = client.post(LOGIN, {"login": "carol@example.com", "password": PASSWORD})

    assert response.status_code == 200
    assert str(ERRORS["too_many_login_attempts"]) in response.text
    assert not signed_in(client)


@pytest.mark.parametrize(
    "url_name",
    [
        "account_email",
        "account_change_password",
        "account_set_password",
        "socialaccount_connections",
        "mfa_index",
        "mfa_activate_totp",
        "mfa_view_recovery_codes",
    ],
)
def test_anonymous_visitors_are_sent_from_account_pages_to_login(client, url_name):
    url = reverse(url_name)

    response = client.get(url)

    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert (location.path, parse_qs(location.query)) == (LOGIN, {"next": [url]})
