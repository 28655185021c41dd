"""The scan's lock (``pairing_lock_for_scan``): one statement that finds and locks the device's
pairing and its cart, as the ORM would find them; and, on MariaDB, the lock order it shares with
every change to a pairing (the pairing's row, then the cart's), so that a scan and the shopper
ending the pairing, or another cart pairing with the same shopper, wait for each other instead
of deadlocking."""

import threading
import time

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError, close_old_connections, transaction

from carts.models import Cart, CartLine
from carts.services import cart_add_product, cart_get_for_user, cart_pass_issue, cart_pass_replace
from devices.models import Pairing
from devices.services import cart_pairing_end, device_pair, device_register, device_unpair
from devices.services.pairing import pairing_lock_for_scan
from tests.devices.support import EAN13_GTIN, URL, scan_body
from tests.factories import BarcodeFactory, ProductFactory


def orm_view(device):
    """What the ORM says the scan's statement should find."""
    pairing = (
        Pairing.objects.select_related("cart")
        .filter(device=device, active=True)
        .with_pass_state()
        .first()
    )
    if pairing is None:
        return None
    cart = pairing.cart
    cart_values = (
        cart.pk,
        cart.owner_id,
        cart.status,
        cart.version,
        cart.scan_count,
        cart.pairing_count,
    )
    return pairing.pk, pairing.pass_in_force, pairing.shopper_active, cart_values, cart.coupon_id


def scan_view(device):
    with transaction.atomic():
        locked = pairing_lock_for_scan(device=device)
    if locked is None:
        return None
    cart = locked.cart
    cart_values = (
        cart.pk,
        cart.owner_id,
        cart.status,
        cart.version,
        cart.scan_count,
        cart.pairing_count,
    )
    return (
        locked.pairing_id,
        locked.pass_in_force,
        locked.shopper_active,
        cart_values,
        cart.coupon_id,
    )


def replaced(*, device, alice):
    device_pair(device=device, cart_pass=cart_pass_issue(user=alice))
    cart_pass_replace(user=alice)


def deactivated(*, device, alice):
    device_pair(device=device, cart_pass=cart_pass_issue(user=alice))
    User.objects.filter(pk=alice.pk).update(is_active=False)


def paying(*, device, alice):
    cart = device_pair(device=device, cart_pass=cart_pass_issue(user=alice)).cart
    Cart.objects.filter(pk=cart.pk).update(status=Cart.Status.CHECKING_OUT, version=7)


STATES = {
    "unpaired": lambda **_: None,
    "in force": lambda device, alice: device_pair(
        device=device, cart_pass=cart_pass_issue(user=alice)
    ),
    "pass replaced": replaced,
    "shopper deactivated": deactivated,
    "cart being paid for": paying,
    "ended": lambda device, alice: (
        device_pair(device=device, cart_pass=cart_pass_issue(user=alice)),
        device_unpair(device=device),
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("state", STATES.values(), ids=STATES)
def test_the_scans_statement_finds_what_the_orm_finds(device, alice, state):
    state(device=device, alice=alice)

    assert scan_view(device) == orm_view(device)


@pytest.mark.django_db
def test_the_cart_from_the_lock_loads_what_it_was_not_given_when_asked(device, alice):
    cart = device_pair(device=device, cart_pass=cart_pass_issue(user=alice)).cart

    with transaction.atomic():
        locked = pairing_lock_for_scan(device=device)
    assert locked is not None

    assert locked.cart.created_at == Cart.objects.get(pk=cart.pk).created_at  # read on access


# --- MariaDB: who waits for whom ----------------------------------------------------------------


def holding_the_scans_lock(device, then, *, hold: float = 0.5) -> list[object]:
    """Lock ``device``'s pairing and cart as a scan does, run ``then`` in another thread while
    the locks are held for ``hold`` seconds, then commit; what ``then`` returned or raised, and
    whether it was still waiting when the locks were released."""
    outcome: list[object] = []
    started = threading.Event()

    def other() -> None:
        started.set()
        try:
            outcome.append(then())
        except Exception as exc:  # the test looks at it
            outcome.append(exc)
        finally:
            close_old_connections()

    with transaction.atomic():
        assert pairing_lock_for_scan(device=device) is not None
        thread = threading.Thread(target=other)
        thread.start()
        started.wait(5)
        time.sleep(hold)
        waited = thread.is_alive()
    thread.join(30)
    assert not thread.is_alive(), "the other transaction never finished"
    return [*outcome, waited]


@pytest.fixture
def paired_cart(device, alice):
    return device_pair(device=device, cart_pass=cart_pass_issue(user=alice)).cart


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "ending",
    [
        pytest.param(lambda device, cart: cart_pairing_end(cart=cart), id="shopper ends it"),
        pytest.param(lambda device, cart: device_unpair(device=device), id="staff end it"),
    ],
)
def test_ending_a_pairing_waits_for_the_scan_holding_it(device, paired_cart, ending):
    result, waited = holding_the_scans_lock(device, lambda: ending(device, paired_cart))

    assert (result, waited) == (True, True)
    assert not Pairing.objects.filter(active=True).exists()


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
def test_another_cart_pairing_with_the_shopper_waits_for_the_scan(device, alice, paired_cart):
    other, _ = device_register(name="Cart 2")
    alices_pass = cart_pass_issue(user=alice)

    result, waited = holding_the_scans_lock(
        device, lambda: device_pair(device=other, cart_pass=alices_pass)
    )

    assert isinstance(result, Pairing) and result.device == other
    assert waited
    assert Pairing.objects.get(active=True).device == other


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
def test_a_scan_waits_for_the_shoppers_edit_of_the_cart(device, device_key, paired_cart):
    BarcodeFactory(gtin=EAN13_GTIN)
    bread = ProductFactory(stock=5)
    outcome: list[object] = []

    def scanning() -> None:
        from django.test import Client

        client = Client(headers={"Authorization": f"Device {device_key}"})
        try:
            body = scan_body(code=EAN13_GTIN[1:], symbology="EAN13")
            outcome.append(client.post(URL, body, content_type="application/json").status_code)
        finally:
            close_old_connections()

    with transaction.atomic():
        cart_add_product(cart=paired_cart, product=bread)  # holds the cart's lock
        thread = threading.Thread(target=scanning)
        thread.start()
        time.sleep(0.5)
        waited = thread.is_alive()
    thread.join(30)

    assert (outcome, waited) == ([201], True)
    assert CartLine.objects.filter(cart=paired_cart).count() == 2


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
def test_scans_and_pairing_changes_at_once_never_deadlock(device, device_key, alice, bob):
    """Scans of one cart against the shopper ending and renewing the pairing, many times:
    every transaction waits its turn; none is chosen as a deadlock's victim."""
    BarcodeFactory(gtin=EAN13_GTIN)
    cart_get_for_user(user=alice)
    alices_pass = cart_pass_issue(user=alice)
    device_pair(device=device, cart_pass=alices_pass)
    errors: list[BaseException] = []
    rounds = 30

    def scanning() -> None:
        from django.test import Client

        client = Client(headers={"Authorization": f"Device {device_key}"})
        try:
            for _ in range(rounds):
                body = scan_body(code=EAN13_GTIN[1:], symbology="EAN13")
                status = client.post(URL, body, content_type="application/json").status_code
                if status != 201:
                    errors.append(AssertionError(f"scan answered {status}"))
        finally:
            close_old_connections()

    def pairing() -> None:
        cart = cart_get_for_user(user=alice)
        try:
            for _ in range(rounds):
                cart_pairing_end(cart=cart)
                device_pair(device=device, cart_pass=alices_pass)
        except OperationalError as exc:
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=scanning), threading.Thread(target=pairing)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
