"""Pairing a device with a shopper's open cart, and ending pairings.

Lock order, shared with ``devices.services.scans``: pairing rows first, then the cart's row.
A scan locks its device's pairing and the pairing's cart in one statement, which on MariaDB
takes the pairing's row first; ending or replacing a pairing locks that pairing's row before
any cart, so the two never wait for each other in a circle. Every change to a pairing
happens under its row's lock, so a scan holding it sees a pairing that cannot end under it.
Cart writes that do not touch pairings (the shopper's edits, checkout) lock the cart alone.

A pairing keeps the cart pass that made it and lasts only while that pass is in force
(``devices.models.Pairing``).
"""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from carts.models import Cart, CartPass
from carts.services import cart_get_for_user
from devices.models import Device, Pairing


@transaction.atomic
def device_pair(*, device: Device, cart_pass: CartPass) -> Pairing:
    """Pair ``device`` with the open cart (created if needed) of ``cart_pass``'s shopper, and
    return the pairing. The caller has checked that the pass is in force.

    Ends the device's previous pairing and any other device's pairing with that cart (one
    device per cart). Pairing again with the same cart and pass keeps the pairing; with a new
    pass, the pairing made with the old one ends. Locks those pairing rows, then the cart row
    (which makes pairings of the cart one at a time), then reads the pairings again: one
    made by a request that held the cart just before this one had no row to lock at first.
    """
    cart = cart_get_for_user(user=cart_pass.user)
    _pairings_lock(device, cart)
    cart = Cart.objects.select_for_update().get(pk=cart.pk)
    current = _pairings_lock(device, cart)
    kept = next((p for p in current if _is_pairing(p, device, cart, cart_pass)), None)
    if kept is not None:
        return kept
    _pairings_end([pairing.pk for pairing in current])
    return Pairing.objects.create(device=device, cart=cart, cart_pass=cart_pass)


def _pairings_lock(device: Device, cart: Cart) -> list[Pairing]:
    """The active pairings of ``device`` or of ``cart``, locked, in primary-key order."""
    pairings = Pairing.objects.select_for_update().filter(Q(device=device) | Q(cart=cart))
    return list(pairings.filter(active=True).order_by("pk"))


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
    locked = Pairing.objects.select_for_update().filter(device=device, active=True)
    return _pairings_end(list(locked.values_list("pk", flat=True))) > 0


@transaction.atomic
def cart_pairing_end(*, cart: Cart) -> bool:
    """End whichever device's pairing with ``cart`` (the shopper's "end pairing"). Idempotent.
    Locks the pairing's row, as ``device_unpair``."""
    locked = Pairing.objects.select_for_update().filter(cart=cart, active=True)
    return _pairings_end(list(locked.values_list("pk", flat=True))) > 0


def pairing_end_locked(*, pairing: Pairing) -> None:
    """End ``pairing``, whose row the caller's transaction has locked."""
    _pairings_end([pairing.pk])


def _pairings_end(pks: list[int]) -> int:
    if not pks:
        return 0
    return Pairing.objects.filter(pk__in=pks, active=True).update(
        active=None, ended_at=timezone.now()
    )
