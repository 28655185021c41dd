"""Pairing a device with a shopper's open cart, and ending pairings.

Lock order, shared with ``devices.services.scans``: the cart row first, then pairing rows.
Every change to the pairings of a cart happens under that cart's lock, so a scan holding the
lock sees a pairing that cannot end under it.

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
    pass, the pairing made with the old one ends. Locks the cart row, then the pairing rows.
    """
    cart = Cart.objects.select_for_update().get(pk=cart_get_for_user(user=cart_pass.user).pk)
    current = list(
        Pairing.objects.select_for_update()
        .filter(Q(device=device) | Q(cart=cart), active=True)
        .order_by("pk")
    )
    kept = next((p for p in current if _is_pairing(p, device, cart, cart_pass)), None)
    if kept is not None:
        return kept
    _pairings_end([pairing.pk for pairing in current])
    return Pairing.objects.create(device=device, cart=cart, cart_pass=cart_pass)


def _is_pairing(pairing: Pairing, device: Device, cart: Cart, cart_pass: CartPass) -> bool:
    return (pairing.device_id, pairing.cart_id, pairing.cart_pass_id) == (
        device.pk,
        cart.pk,
        cart_pass.pk,
    )


@transaction.atomic
def device_unpair(*, device: Device) -> bool:
    """End the device's pairing, if any; True when one ended. Idempotent."""
    pairing = Pairing.objects.active().filter(device=device).first()
    if pairing is None:
        return False
    # The cart lock first, as everywhere (see the module docstring).
    Cart.objects.select_for_update().filter(pk=pairing.cart_id).first()
    return _pairings_end([pairing.pk]) > 0


@transaction.atomic
def cart_pairing_end(*, cart: Cart) -> bool:
    """End whichever device's pairing with ``cart`` (the shopper's "end pairing"). Idempotent."""
    Cart.objects.select_for_update().filter(pk=cart.pk).first()
    pks = list(Pairing.objects.active().filter(cart=cart).values_list("pk", flat=True))
    return _pairings_end(pks) > 0


def pairing_end_locked(*, pairing: Pairing) -> None:
    """End ``pairing``, whose cart the caller's transaction has locked."""
    _pairings_end([pairing.pk])


def _pairings_end(pks: list[int]) -> int:
    if not pks:
        return 0
    return Pairing.objects.filter(pk__in=pks, active=True).update(
        active=None, ended_at=timezone.now()
    )
