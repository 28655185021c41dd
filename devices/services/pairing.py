"""Pairing a device with a shopper's open cart, and ending pairings.

Lock order, shared with ``devices.services.scans``: pairing rows first, then the cart's row.
A scan locks its device's pairing and the pairing's cart in one statement
(``pairing_lock_for_scan``), which on MariaDB takes the pairing's row first; ending or
replacing a pairing locks that pairing's row before any cart, so the two never wait for each
other in a circle. Every change to a pairing happens under its row's lock, so a scan holding
it sees a pairing that cannot end under it. Cart writes that do not touch pairings (the
shopper's edits, checkout) lock the cart alone.

A pairing row is always locked the way a scan locks it: by its device, through the unique
(device, active) index (``_pairings_lock``). InnoDB locks an index entry before the row it
points to; two transactions reaching one row through two different indexes (one by its
device, one by its cart) could each hold what the other waits for. Several devices' pairings
are locked in the order of their ids.

A pairing keeps the cart pass that made it and lasts only while that pass is in force
(``devices.models.Pairing``).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from carts.models import Cart, CartPass
from carts.services import cart_get_for_user, cart_pairing_changed
from devices.models import Device, Pairing


@transaction.atomic
def device_pair(*, device: Device, cart_pass: CartPass) -> Pairing:
    """Pair ``device`` with the open cart (created if needed) of ``cart_pass``'s shopper, and
    return the pairing. The caller has checked that the pass is in force.

    Ends the device's previous pairing and any other device's pairing with that cart (one
    device per cart). Pairing again with the same cart and pass keeps the pairing; with a new
    pass, the pairing made with the old one ends. Locks those pairing rows, then the cart row
    (which makes pairings of the cart one at a time), then the cart's pairing again if a
    request that held the cart just before this one made another.
    """
    cart = cart_get_for_user(user=cart_pass.user)
    devices = {device.pk, *_cart_devices(cart)}
    _pairings_lock(devices)
    cart = Cart.objects.select_for_update().get(pk=cart.pk)
    devices |= set(_cart_devices(cart))  # a pairing made while this one waited for the cart
    current = [
        pairing
        for pairing in _pairings_lock(devices)
        if pairing.device_id == device.pk or pairing.cart_id == cart.pk
    ]
    kept = next((p for p in current if _is_pairing(p, device, cart, cart_pass)), None)
    if kept is not None:
        return kept
    _pairings_end([pairing.pk for pairing in current])
    pairing = Pairing.objects.create(device=device, cart=cart, cart_pass=cart_pass)
    cart_pairing_changed(cart_ids=[cart.pk])  # the shopper's page says which device scans
    return pairing


def _cart_devices(cart: Cart) -> list[int]:
    """The device of the cart's active pairing, if any (read without a lock)."""
    return list(Pairing.objects.filter(cart=cart, active=True).values_list("device_id", flat=True))


def _pairings_lock(device_ids: Iterable[int]) -> list[Pairing]:
    """The active pairings of the devices ``device_ids``, locked by device (module docstring)."""
    locked = Pairing.objects.select_for_update().filter(device_id__in=sorted(device_ids))
    return list(locked.filter(active=True).order_by("device_id"))


def _is_pairing(pairing: Pairing, device: Device, cart: Cart, cart_pass: CartPass) -> bool:
    return (pairing.device_id, pairing.cart_id, pairing.cart_pass_id) == (
        device.pk,
        cart.pk,
        cart_pass.pk,
    )


@transaction.atomic
def device_unpair(*, device: Device) -> bool:
    """End the device's pairing, if any; True when one ended. Idempotent. Locks the pairing's
    row (a scan of the device in progress finishes first)."""
    return _pairings_end([pairing.pk for pairing in _pairings_lock([device.pk])]) > 0


@transaction.atomic
def cart_pairing_end(*, cart: Cart) -> bool:
    """End whichever device's pairing with ``cart`` (the shopper's "end pairing"). Idempotent.
    Locks the pairing's row by its device, as ``device_unpair``."""
    locked = _pairings_lock(_cart_devices(cart))
    return _pairings_end([pairing.pk for pairing in locked if pairing.cart_id == cart.pk]) > 0


def pairing_end_locked(*, pairing_id: int) -> None:
    """End the pairing ``pairing_id``, whose row the caller's transaction has locked."""
    _pairings_end([pairing_id])


# --- The scan's lock --------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanPairing:
    """A device's active pairing as a scan sees it, its row and its cart's row locked."""

    pairing_id: int
    pass_in_force: bool  # ``Pairing.objects.in_force()`` would list it
    shopper_active: bool  # the account of its pass's shopper is active
    cart: Cart  # id, owner, status, version, counts and coupon loaded; the rest on access


# Written out rather than built by the ORM: compiling the queryset (two EXISTS subqueries, a
# join, the cart's columns) cost about 1 ms of CPU a scan, a quarter of the scan's budget, for
# a statement whose text never changes. It says what ``Pairing.objects.filter(device=...,
# active=True).select_related("cart").with_pass_state()`` says (a test compares the two), and
# reads only integer and text columns, which every backend returns as Python wants them.
_SCAN_PAIRING_CART_FIELDS = [
    "id",
    "owner_id",
    "status",
    "version",
    "scan_count",
    "pairing_count",
    "coupon_id",
]
_SCAN_PAIRING_SQL = """
SELECT p.id,
       EXISTS (SELECT 1 FROM {passes} pass INNER JOIN {users} u ON u.id = pass.user_id
               WHERE pass.id = p.cart_pass_id AND pass.active AND u.is_active),
       EXISTS (SELECT 1 FROM {passes} pass INNER JOIN {users} u ON u.id = pass.user_id
               WHERE pass.id = p.cart_pass_id AND u.is_active),
       c.id, c.owner_id, c.status, c.version, c.scan_count, c.pairing_count, c.coupon_id
FROM {pairings} p INNER JOIN {carts} c ON c.id = p.cart_id
WHERE p.device_id = %s AND p.active = %s
"""


def pairing_lock_for_scan(*, device: Device) -> ScanPairing | None:
    """The device's active pairing and its cart, both rows locked by this one statement, or
    None. On MariaDB the pairing's row is taken first, then the cart's: the lock order of this
    module. The state of the pass comes from subqueries, which lock no pass or user row. For a
    caller in a transaction."""
    sql = _SCAN_PAIRING_SQL.format(
        passes=CartPass._meta.db_table,
        users=get_user_model()._meta.db_table,
        pairings=Pairing._meta.db_table,
        carts=Cart._meta.db_table,
    )
    if connection.features.has_select_for_update:
        sql += connection.ops.for_update_sql()
    with connection.cursor() as cursor:
        # ``active = true`` (not a bare ``p.active``): the unique (device, active) index then
        # finds the one row, and MariaDB reads, and locks, the pairing before the cart.
        cursor.execute(sql, [device.pk, True])
        row = cursor.fetchone()
    if row is None:
        return None
    pairing_id, pass_in_force, shopper_active, *cart_values = row
    cart = Cart.from_db(connection.alias, _SCAN_PAIRING_CART_FIELDS, cart_values)
    return ScanPairing(pairing_id, bool(pass_in_force), bool(shopper_active), cart)


def _pairings_end(pks: list[int]) -> int:
    """End the active pairings ``pks`` (rows the caller locked), and tell their carts' pages."""
    if not pks:
        return 0
    ending = Pairing.objects.filter(pk__in=pks, active=True)
    cart_ids = list(ending.values_list("cart_id", flat=True))
    ended = ending.update(active=None, ended_at=timezone.now())
    cart_pairing_changed(cart_ids=cart_ids)
    return ended
