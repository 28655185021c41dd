"""The shopper sees which cart device is paired with their cart, and can end the pairing."""

import pytest
from django.urls import reverse

from carts.services import cart_get_for_user, cart_pass_issue
from devices.models import Pairing
from devices.services import device_pair, device_register
from devices.views import MESSAGE_NOT_PAIRED, MESSAGE_PAIRING_ENDED

pytestmark = pytest.mark.django_db

CART = reverse("carts:detail")
END = reverse("devices:pairing_end")


@pytest.fixture
def paired_device(alice):
    device, _key = device_register(name="Cart 07")
    device_pair(device=device, cart_pass=cart_pass_issue(user=alice))
    return device


def test_cart_page_names_the_paired_device(alice_client, paired_device):
    page = alice_client.get(CART).content.decode()

    assert "Scanning with <strong>Cart 07</strong>" in page
    assert END in page


def test_cart_page_without_a_pairing_says_nothing_about_devices(alice_client, alice):
    cart_get_for_user(user=alice)

    assert "Scanning with" not in alice_client.get(CART).content.decode()


def test_bob_does_not_see_alices_device(bob_client, bob, paired_device):
    cart_get_for_user(user=bob)

    assert "Cart 07" not in bob_client.get(CART).content.decode()


def test_end_pairing_ends_only_the_shoppers_own_pairing(alice_client, bob, paired_device):
    other, _key = device_register(name="Cart 08")
    device_pair(device=other, cart_pass=cart_pass_issue(user=bob))

    response = alice_client.post(END, follow=True)

    assert MESSAGE_PAIRING_ENDED in response.content.decode()
    assert list(Pairing.objects.active().values_list("device__name", flat=True)) == ["Cart 08"]


def test_end_pairing_without_one_says_so(alice_client):
    response = alice_client.post(END, follow=True)

    assert MESSAGE_NOT_PAIRED in response.content.decode()


def test_end_pairing_needs_a_signed_in_shopper_and_post(client, alice_client):
    assert client.post(END).status_code == 302
    assert alice_client.get(END).status_code == 405
