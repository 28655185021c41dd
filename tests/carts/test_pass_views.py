"""The cart pass pages: /cart/pass/, its QR image, "email it again" and "replace my pass"."""

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from carts.models import CartPass
from carts.selectors import REASON_REVOKED, cart_pass_get_active, cart_pass_resolve
from carts.views import (
    ERROR_REPLACE_NOT_CONFIRMED,
    MESSAGE_EMAIL_WAIT,
    MESSAGE_EMAILED,
    MESSAGE_REPLACED,
)
from devices.decoding import decode_image

pytestmark = pytest.mark.django_db

PASS = reverse("carts:pass")
QR = reverse("carts:pass_qr")
EMAIL = reverse("carts:pass_email")
REPLACE = reverse("carts:pass_replace")


@pytest.fixture(autouse=True)
def _empty_cache():
    # "Email it again" is throttled through the cache.
    cache.clear()
    yield
    cache.clear()


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def qr_text(client: Client) -> str:
    response = client.get(QR)
    [code] = decode_image(response.content)
    return code.text


def test_pass_page_shows_the_shoppers_qr_and_the_actions(alice_client):
    response = alice_client.get(PASS)

    assert response.status_code == 200
    page = response.content.decode()
    assert f'src="{QR}"' in page
    assert f'action="{EMAIL}"' in page
    assert f'action="{REPLACE}"' in page
    assert "no-store" in response["Cache-Control"]


def test_qr_is_the_requesting_shoppers_own_pass_and_never_cached(alice, alice_client):
    response = alice_client.get(QR)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "no-store" in response["Cache-Control"]
    [code] = decode_image(response.content)
    assert code.symbology == "QRCODE"
    assert cart_pass_resolve(code.text).user == alice


def test_each_shopper_gets_their_own_qr(alice, bob, alice_client, bob_client):
    # No id in the URL: bob asking for "the" QR gets his own pass, never alice's.
    alices = qr_text(alice_client)
    bobs = qr_text(bob_client)

    assert alices != bobs
    assert cart_pass_resolve(alices).user == alice
    assert cart_pass_resolve(bobs).user == bob


def test_the_qr_stays_the_same_between_visits(alice_client):
    assert qr_text(alice_client) == qr_text(alice_client)
    assert CartPass.objects.count() == 1


@pytest.mark.parametrize("url", [PASS, QR, EMAIL, REPLACE])
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_visitors_are_sent_to_log_in(client, url, method):
    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert not CartPass.objects.exists()


@pytest.mark.parametrize("url", [EMAIL, REPLACE])
def test_get_on_post_only_endpoints_is_405(alice_client, url):
    assert alice_client.get(url).status_code == 405


@pytest.mark.parametrize("url", [PASS, QR])
def test_post_on_read_only_pages_is_405(alice_client, url):
    assert alice_client.post(url).status_code == 405


@pytest.mark.parametrize("url", [EMAIL, REPLACE])
def test_forms_need_the_csrf_token(alice, url):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    response = client.post(url, {"confirm": "on"})

    assert response.status_code == 403
    assert mail.outbox == []
    assert CartPass.objects.filter(revoked_at__isnull=False).count() == 0


def test_email_it_again_sends_the_pass_and_says_where(
    alice, alice_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(EMAIL)

    assert response.status_code == 302
    assert response["Location"] == PASS
    assert messages_of(response) == [MESSAGE_EMAILED.format(email=alice.email)]
    [message] = mail.outbox
    assert message.to == [alice.email]


def test_email_it_again_twice_in_a_minute_sends_once(
    alice_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(EMAIL)
        response = alice_client.post(EMAIL)

    assert messages_of(response)[-1] == MESSAGE_EMAIL_WAIT
    assert len(mail.outbox) == 1


def test_email_it_again_is_throttled_per_shopper(
    alice_client, bob_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(EMAIL)
        bob_client.post(EMAIL)

    assert len(mail.outbox) == 2


def test_replace_with_confirmation_revokes_the_old_pass(alice, alice_client):
    old_text = qr_text(alice_client)

    response = alice_client.post(REPLACE, {"confirm": "on"})

    assert response.status_code == 302
    assert response["Location"] == PASS
    assert messages_of(response) == [MESSAGE_REPLACED]
    assert cart_pass_resolve(old_text).reason == REASON_REVOKED
    new_text = qr_text(alice_client)
    assert new_text != old_text
    assert cart_pass_resolve(new_text).user == alice


def test_replace_without_confirmation_changes_nothing(alice, alice_client):
    before = qr_text(alice_client)

    response = alice_client.post(REPLACE, {})

    assert response.status_code == 400
    assert ERROR_REPLACE_NOT_CONFIRMED in response.content.decode()
    active = cart_pass_get_active(user=alice)
    assert active is not None and active.text == before


def test_replacing_alices_pass_leaves_bobs_alone(alice_client, bob_client):
    bobs = qr_text(bob_client)

    alice_client.post(REPLACE, {"confirm": "on"})

    assert qr_text(bob_client) == bobs
