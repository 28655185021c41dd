"""“Add a cart” in the devices admin: a new device's provisioning QR, shown once, never cached,
with no device key; and a new QR for an existing cart."""

import base64
import io

import pytest
from django.urls import reverse
from django.utils.html import escape
from PIL import Image

from devices.admin_provisioning import ERROR_NAME_TAKEN
from devices.decoding import decode_image
from devices.models import Device, EnrolmentToken
from devices.provisioning import WARNING_NO_CA, WARNING_NO_WIFI, provisioning_parse
from devices.services import device_revoke

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:devices_device_provision")


@pytest.fixture(autouse=True)
def store_network(settings):
    settings.CART_WIFI_SSID = "Store-Carts"
    settings.CART_WIFI_PASSWORD = "the-wifi-password"
    settings.CART_SERVER_URL = "https://shop.example.com"
    settings.CART_CA_SHA256 = "cd" * 32


def qr_text(page: str) -> str:
    """The text of the provisioning QR on the page, read with the server's decoder."""
    data = page.split('id="provision-qr" src="data:image/png;base64,', 1)[1].split('"', 1)[0]
    png = base64.b64decode(data)
    Image.open(io.BytesIO(png)).verify()
    (code,) = decode_image(png)
    return code.text


def test_staff_add_a_cart_and_see_its_qr_once(staff_client):
    response = staff_client.post(ADD_URL, {"name": "Cart 12"})

    assert response.status_code == 200
    assert {"private", "no-store"} <= {
        part.strip() for part in response["Cache-Control"].split(",")
    }
    page = response.content.decode()
    payload = provisioning_parse(qr_text(page))
    device = Device.objects.get(name="Cart 12")
    assert EnrolmentToken.objects.get(device=device).used_at is None
    assert payload.wifi_ssid == "Store-Carts"
    assert payload.token.startswith("sce_")
    assert "scd_" not in page  # no device key, anywhere on the page
    assert payload.token not in page.replace(qr_text(page), "")  # only inside the QR image
    assert 'id="provision-expiry"' in page


def test_the_form_asks_for_the_name_first(staff_client):
    response = staff_client.get(ADD_URL)

    assert response.status_code == 200
    assert list(response.context["form"].fields) == ["name"]
    assert not Device.objects.exists()


def test_a_taken_name_is_refused_by_the_form(staff_client, device):
    response = staff_client.post(ADD_URL, {"name": device.name})

    assert response.status_code == 200
    assert response.context["form"].errors["name"] == [ERROR_NAME_TAKEN]
    assert not EnrolmentToken.objects.exists()


def test_missing_store_settings_are_warned_about(staff_client, settings):
    settings.CART_WIFI_SSID = ""
    settings.CART_CA_SHA256 = ""

    page = staff_client.post(ADD_URL, {"name": "Cart 12"}).content.decode()

    assert escape(WARNING_NO_WIFI) in page
    assert escape(WARNING_NO_CA) in page


def test_the_list_links_to_add_a_cart(staff_client):
    page = staff_client.get(reverse("admin:devices_device_changelist")).content.decode()

    assert f'href="{ADD_URL}"' in page


def test_a_clerk_who_may_not_add_devices_is_refused(clerk_client):
    assert clerk_client.post(ADD_URL, {"name": "Cart 12"}).status_code in (302, 403)
    assert not Device.objects.exists()


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    response = client.post(ADD_URL, {"name": "Cart 12"})

    assert response.status_code == 302
    assert not Device.objects.exists()


def test_a_cart_is_provisioned_again_after_confirmation(staff_client, device):
    url = reverse("admin:devices_device_reprovision", args=[device.pk])

    asked = staff_client.get(url)
    assert asked.status_code == 200
    assert not EnrolmentToken.objects.exists()

    shown = staff_client.post(url, {"post": "yes"})

    assert shown.status_code == 200
    assert provisioning_parse(qr_text(shown.content.decode())).token
    assert EnrolmentToken.objects.filter(device=device).count() == 1


def test_a_revoked_cart_is_not_provisioned_again(staff_client, device):
    device_revoke(device=device)
    url = reverse("admin:devices_device_reprovision", args=[device.pk])

    response = staff_client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not EnrolmentToken.objects.exists()


def test_provisioning_again_an_unknown_device_is_404(staff_client):
    url = reverse("admin:devices_device_reprovision", args=[999999])

    assert staff_client.post(url, {"post": "yes"}).status_code == 404
