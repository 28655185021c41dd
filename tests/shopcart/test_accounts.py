"""The allauth adapters: account emails through the outbox, the cart pass on confirmation."""

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.contrib.auth.models import User
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse

from carts.models import CartPass
from carts.services import EMAIL_KIND_CART_PASS
from shopcart.accounts.adapters import AccountAdapter, SocialAccountAdapter
from shopcart.models import OutboundEmail

pytestmark = pytest.mark.django_db

PASSWORD = "a long passphrase 4 tests"
CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/accounts/confirm-email/[^/\s]+/)")


def sign_up(client, capture, email: str = "carol@example.com") -> User:
    with capture(execute=True):
        response = client.post(
            reverse("account_signup"),
            {"email": email, "password1": PASSWORD, "password2": PASSWORD},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    return User.objects.get(email=email)


def confirm_link(message) -> str:
    match = CONFIRM_LINK.search(message.body)
    assert match, message.body
    return match[1]


def pass_emails() -> list:
    return [message for message in mail.outbox if message.subject.startswith("Your cart pass")]


def test_sign_up_confirmation_email_goes_through_the_outbox(
    client, django_capture_on_commit_callbacks
):
    carol = sign_up(client, django_capture_on_commit_callbacks)

    [row] = OutboundEmail.objects.all()
    assert row.kind == "account:email_confirmation_signup"
    assert (row.recipient, row.user, row.sent_at is not None) == ("carol@example.com", carol, True)
    [message] = mail.outbox
    assert message.to == ["carol@example.com"]
    assert confirm_link(message)
    assert pass_emails() == []  # not before the address is confirmed


def test_password_reset_email_goes_through_the_outbox(
    alice, client, django_capture_on_commit_callbacks
):
    EmailAddress.objects.create(user=alice, email=alice.email, verified=True, primary=True)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": alice.email})

    assert OutboundEmail.objects.get().kind == "account:password_reset_key"
    assert mail.outbox[0].to == [alice.email]


def test_confirming_the_address_emails_the_cart_pass_once(
    client, django_capture_on_commit_callbacks
):
    carol = sign_up(client, django_capture_on_commit_callbacks)
    link = confirm_link(mail.outbox[0])

    for _ in range(2):  # a double click, or a mail scanner following the link first
        with django_capture_on_commit_callbacks(execute=True):
            client.post(link)

    assert EmailAddress.objects.get(user=carol).verified
    [message] = pass_emails()
    assert message.to == ["carol@example.com"]
    assert OutboundEmail.objects.filter(kind=EMAIL_KIND_CART_PASS, user=carol).count() == 1
    assert CartPass.objects.filter(user=carol).count() == 1


def an_allauth_request():
    request = RequestFactory().get("/")
    SessionMiddleware(lambda request: None).process_request(request)
    MessageMiddleware(lambda request: None).process_request(request)
    return request


def test_confirming_an_already_verified_address_sends_no_pass(
    alice, django_capture_on_commit_callbacks
):
    address = EmailAddress.objects.create(
        user=alice, email=alice.email, verified=True, primary=True
    )
    request = an_allauth_request()

    with allauth_context.request_context(request), django_capture_on_commit_callbacks(execute=True):
        assert AccountAdapter().confirm_email(request, address) is True

    assert pass_emails() == []
    assert not CartPass.objects.filter(user=alice).exists()


def social_sign_up(email: str, *, verified: bool, capture) -> User:
    sociallogin = SocialLogin(
        user=User(email=email),
        account=SocialAccount(provider="openid_connect", uid="subject-42"),
        email_addresses=[EmailAddress(email=email, verified=verified, primary=True)],
    )
    request = an_allauth_request()
    with allauth_context.request_context(request), capture(execute=True):
        return SocialAccountAdapter().save_user(request, sociallogin)


def test_social_sign_up_with_a_verified_email_gets_the_pass_at_once(
    django_capture_on_commit_callbacks,
):
    dora = social_sign_up(
        "dora@example.com", verified=True, capture=django_capture_on_commit_callbacks
    )

    [message] = pass_emails()
    assert message.to == ["dora@example.com"]
    assert CartPass.objects.active().get().user == dora


def test_social_sign_up_with_an_unverified_email_waits_for_confirmation(
    django_capture_on_commit_callbacks,
):
    social_sign_up("erin@example.com", verified=False, capture=django_capture_on_commit_callbacks)

    assert pass_emails() == []
    assert not CartPass.objects.exists()
