"""The whole journey of a cart pass: sign up, confirm, receive the email, scan its QR code.

Everything is real except SMTP: the sign-up form, allauth's confirmation email and link, the
outbox and its Celery task (eager), the pass email's inline PNG, and the project's own decoders
(zxing-cpp, and pyzbar when libzbar is installed), each tried on its own.
"""

import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from carts.selectors import REASON_OK, REASON_REVOKED, cart_pass_resolve
from carts.services import cart_pass_replace
from devices.decoding import (
    decode_image,
    decode_with_pyzbar,
    decode_with_zxing,
    image_open,
    pyzbar_available,
)

pytestmark = pytest.mark.django_db

EMAIL = "newshopper@example.com"
PASSWORD = "a long passphrase 4 tests"
CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/accounts/confirm-email/[^/\s]+/)")


@pytest.fixture(autouse=True)
def _empty_cache():
    # allauth's rate limits live in the cache (one confirmation email per address per while).
    cache.clear()
    yield
    cache.clear()


def inline_png(message) -> bytes:
    parsed = message.message()
    html = next(
        part.get_payload(decode=True).decode()
        for part in parsed.walk()
        if part.get_content_type() == "text/html"
    )
    [image] = [part for part in parsed.walk() if part.get_content_type() == "image/png"]
    assert image.get_content_disposition() == "inline"
    assert f"cid:{image['Content-ID'].strip('<>')}" in html
    return image.get_payload(decode=True)


def sign_up_and_confirm(client, capture) -> tuple[User, bytes]:
    with capture(execute=True):
        client.post(
            reverse("account_signup"),
            {"email": EMAIL, "password1": PASSWORD, "password2": PASSWORD},
        )
    [confirmation] = mail.outbox
    assert confirmation.to == [EMAIL]
    link = CONFIRM_LINK.search(confirmation.body)
    assert link, confirmation.body

    with capture(execute=True):
        response = client.post(link[1])

    assert response.status_code == 302
    shopper = User.objects.get(email=EMAIL)
    [pass_email] = mail.outbox[1:]
    assert pass_email.to == [EMAIL]
    return shopper, inline_png(pass_email)


def test_emailed_pass_decodes_back_to_the_new_shopper(client, django_capture_on_commit_callbacks):
    shopper, png = sign_up_and_confirm(client, django_capture_on_commit_callbacks)

    [code] = decode_image(png)

    assert code.symbology == "QRCODE"
    resolution = cart_pass_resolve(code.text)
    assert (resolution.user, resolution.reason) == (shopper, REASON_OK)


def test_zxing_alone_reads_the_emailed_pass(client, django_capture_on_commit_callbacks):
    shopper, png = sign_up_and_confirm(client, django_capture_on_commit_callbacks)

    [code] = decode_with_zxing(image_open(png))

    assert cart_pass_resolve(code.text).user == shopper


@pytest.mark.skipif(
    not pyzbar_available(), reason="libzbar is not installed (apt-get install libzbar0)"
)
def test_pyzbar_alone_reads_the_emailed_pass(client, django_capture_on_commit_callbacks):
    shopper, png = sign_up_and_confirm(client, django_capture_on_commit_callbacks)

    [code] = decode_with_pyzbar(image_open(png))

    assert cart_pass_resolve(code.text).user == shopper


def test_replacing_the_pass_makes_the_emailed_qr_resolve_to_revoked(
    client, django_capture_on_commit_callbacks
):
    shopper, png = sign_up_and_confirm(client, django_capture_on_commit_callbacks)
    [code] = decode_image(png)

    cart_pass_replace(user=shopper)

    resolution = cart_pass_resolve(code.text)
    assert (resolution.user, resolution.reason) == (None, REASON_REVOKED)


def test_new_shopper_sees_the_emailed_pass_on_the_website(
    client, django_capture_on_commit_callbacks
):
    _, png = sign_up_and_confirm(client, django_capture_on_commit_callbacks)
    client.post(reverse("account_login"), {"login": EMAIL, "password": PASSWORD})

    page = client.get(reverse("carts:pass"))
    [on_the_website] = decode_image(client.get(reverse("carts:pass_qr")).content)

    assert page.status_code == 200
    assert [on_the_website] == decode_image(png)
