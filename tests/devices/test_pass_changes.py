"""A pairing lasts only while the cart pass that made it works: replacing the pass (on the pass
page, or by staff in the admin) or deactivating the shopper ends it at once. A cart paired with
a leaked pass stops scanning into the shopper's cart, and its display says why on its next
request; pairing with the new pass works."""

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from carts.models import Cart, CartLine, CartPass
from carts.services import cart_get_for_user, cart_pass_issue
from devices.models import Pairing, ScanEvent
from devices.selectors import pairing_get_active
from devices.services.scans import DISPLAY_PASS_INVALID, DISPLAY_PASS_REPLACED, DISPLAY_UNPAIRED
from tests.devices.support import EAN13_GTIN, client_for_new_device, scan_code, scan_pass
from tests.factories import BarcodeFactory, ProductFactory

pytestmark = pytest.mark.django_db

HEARTBEAT = {
    "firmware_version": "1.4.2",
    "uptime_seconds": 1,
    "wifi_rssi": -60,
    "free_heap": 1000,
    "queue_depth": 0,
}


@pytest.fixture
def product(db):
    return BarcodeFactory(gtin=EAN13_GTIN, product=ProductFactory(name="Oat milk 1 l")).product


@pytest.fixture
def paired(device_client, alice, product):
    """Alice's cart, paired through the device API with her pass, one product scanned in."""
    assert scan_pass(device_client, cart_pass_issue(user=alice).text)["result"] == "paired"
    assert scan_code(device_client)["result"] == "added"
    return Cart.objects.get(owner=alice)


def replace_on_the_pass_page(alice_client) -> None:
    response = alice_client.post(reverse("carts:pass_replace"), {"confirm": "on"})
    assert response.status_code == 302


def replace_in_the_admin(staff_client, alice) -> None:
    data = {
        "action": "replace_passes",
        ACTION_CHECKBOX_NAME: [CartPass.objects.active().get(user=alice).pk],
    }
    response = staff_client.post(reverse("admin:carts_cartpass_changelist"), data)
    assert response.status_code == 302


def deactivate(alice) -> None:
    alice.is_active = False
    alice.save(update_fields=["is_active"])


def cart_state(cart: Cart) -> tuple:
    cart.refresh_from_db()
    lines = list(CartLine.objects.filter(cart=cart).values_list("product_id", "quantity"))
    return lines, cart.version, cart.scan_count


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        ("pass replaced by the shopper", DISPLAY_PASS_REPLACED),
        ("pass replaced by staff", DISPLAY_PASS_REPLACED),
        ("shopper deactivated", DISPLAY_PASS_INVALID),
    ],
)
def test_after_the_change_the_next_scan_leaves_the_cart_alone_and_says_why(
    request, device_client, device, alice, paired, change, shown
):
    before = cart_state(paired)
    if change == "pass replaced by the shopper":
        replace_on_the_pass_page(request.getfixturevalue("alice_client"))
    elif change == "pass replaced by staff":
        replace_in_the_admin(request.getfixturevalue("staff_client"), alice)
    else:
        deactivate(alice)

    answer = scan_code(device_client)

    assert answer["result"] == "not_paired"
    assert answer["display"] == list(shown)
    assert (answer["beep"], answer["cart"], answer["product"]) == ("error", None, None)
    assert cart_state(paired) == before
    assert ScanEvent.objects.latest("pk").cart is None
    [pairing] = Pairing.objects.all()
    assert pairing.active is None and pairing.ended_at is not None
    # Nothing more reaches the cart.
    assert scan_code(device_client)["display"] == list(DISPLAY_UNPAIRED)
    assert cart_state(paired) == before


def test_the_pairing_ends_at_once_for_the_shopper_and_staff(
    alice_client, staff_client, device, paired
):
    replace_on_the_pass_page(alice_client)

    # Before the device calls again: the cart page and the device list no longer show it.
    assert pairing_get_active(device=device) is None
    assert "Scanning with" not in alice_client.get(reverse("carts:detail")).text
    devices = staff_client.get(reverse("admin:devices_device_changelist"))
    assert [row.paired_shopper_email for row in devices.context["cl"].result_list] == [None]


def test_the_heartbeat_after_a_replacement_shows_the_unpaired_state(
    device_client, alice_client, paired
):
    url = reverse("devices-api:heartbeat")
    assert device_client.post(url, HEARTBEAT, content_type="application/json").json()["paired"]

    replace_on_the_pass_page(alice_client)
    answer = device_client.post(url, HEARTBEAT, content_type="application/json").json()

    assert (answer["paired"], answer["display"]) == (False, list(DISPLAY_UNPAIRED))


def test_the_old_pass_no_longer_pairs_any_cart(alice, alice_client, paired):
    leaked = CartPass.objects.active().get(user=alice).text
    replace_on_the_pass_page(alice_client)
    _, other_client = client_for_new_device("Cart 2")

    answer = scan_pass(other_client, leaked)

    assert answer["result"] == "not_paired"
    assert not Pairing.objects.in_force().exists()


@pytest.mark.parametrize("scanned_between", [True, False])
def test_pairing_with_the_new_pass_works(
    device_client, device, alice, alice_client, paired, scanned_between
):
    replace_on_the_pass_page(alice_client)
    if scanned_between:  # the device learnt of the change first
        assert scan_code(device_client)["result"] == "not_paired"
    new_pass = CartPass.objects.active().get(user=alice)

    assert scan_pass(device_client, new_pass.text)["result"] == "paired"
    answer = scan_code(device_client)

    assert answer["result"] == "added"
    assert answer["cart"]["items"] == 2
    pairing = pairing_get_active(device=device)
    assert pairing is not None
    assert (pairing.cart, pairing.cart_pass) == (cart_get_for_user(user=alice), new_pass)
    assert Pairing.objects.active().count() == 1


def test_a_shopper_active_again_pairs_again(device_client, alice, paired):
    deactivate(alice)
    assert scan_code(device_client)["result"] == "not_paired"
    alice.is_active = True
    alice.save(update_fields=["is_active"])

    assert scan_pass(device_client, CartPass.objects.active().get(user=alice).text)["result"] == (
        "paired"
    )
    assert scan_code(device_client)["result"] == "added"


@pytest.fixture
def latest_schema_after():
    """Migrates the test database forward to the latest migrations after the test: later
    devices migrations change the schema that the other tests' tables need."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("latest_schema_after")
def test_the_migration_gives_pairings_their_pass_or_ends_them():
    """Pairings made before passes were kept: one made with the shopper's active pass keeps
    going with it; one made with a pass replaced since, or of an inactive shopper, ends."""
    before, after = ("devices", "0006_scan_result_ambiguous"), ("devices", "0007_pairing_cart_pass")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    latest_elsewhere = [node for node in executor.loader.graph.leaf_nodes() if node[0] != "devices"]
    apps = executor.loader.project_state([*latest_elsewhere, before]).apps
    user_model, cart_model = apps.get_model("auth", "User"), apps.get_model("carts", "Cart")
    pass_model = apps.get_model("carts", "CartPass")
    device_model, pairing_model = (
        apps.get_model("devices", "Device"),
        apps.get_model("devices", "Pairing"),
    )
    now = timezone.now()
    pairings = {}
    for name, pass_age, pairing_age, is_active in [
        ("kept", 60, 30, True),  # paired 30 minutes ago with a pass made an hour ago
        ("old pass", 10, 30, True),  # the pass was replaced 10 minutes ago
        ("inactive", 60, 30, False),
    ]:
        user = user_model.objects.create(username=name, is_active=is_active)
        pass_model.objects.create(
            user=user, token=name, created_at=now - timedelta(minutes=pass_age)
        )
        device = device_model.objects.create(name=name, key_prefix=name, key_hash=name)
        pairings[name] = pairing_model.objects.create(
            device=device,
            cart=cart_model.objects.create(owner=user),
            created_at=now - timedelta(minutes=pairing_age),
        ).pk

    executor = MigrationExecutor(connection)
    executor.migrate([after])

    kept = Pairing.objects.get(pk=pairings["kept"])
    assert kept.active and kept.cart_pass == CartPass.objects.get(token="kept")
    for name in ("old pass", "inactive"):
        ended = Pairing.objects.get(pk=pairings[name])
        assert (ended.active, ended.cart_pass) == (None, None)
        assert ended.ended_at is not None
