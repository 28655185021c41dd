"""Pairing a device with a shopper's open cart, and ending pairings.

Lock order, shared with ``devices.services.scans``: the cart row first, then pairing rows.
Every change to the pairings of a cart happens under that cart's lock, so a scan holding the
lock sees a pairing that cannot end under it.
"""

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from carts.models import Cart
from carts.services import cart_get_for_user
from devices.models import Device, Pairing


@transaction.atomic
def device_pair(*, device: Device, user: User) -> Pairing:
    """Pair ``device`` with ``user``'s open cart (created if needed) and return the pairing.

    Ends the device's previous pairing and any other device's pairing with that cart (one
    device per cart). Pairing again with the same cart keeps the pairing. Locks the cart row,
    then the pairing rows.
    """
    cart = Cart.objects.select_for_update().get(pk=cart_get_for_user(user=user).pk)
    current = list(
        Pairing.objects.select_for_update()
        .filter(Q(device=device) | Q(cart=cart), active=True)
        .order_by("pk")
    )
    kept = next((p for p in current if p.device_id == device.pk and p.cart_id == cart.pk), None)
    if kept is not None:
        return kept
    _pairings_end([pairing.pk for pairing in current])
    return Pairing.objects.create(device=device, cart=cart)


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


def _pairings_end(pks: list[int]) -> int:
    if not pks:
        return 0
    return Pairing.objects.filter(pk__in=pks, active=True).update(
        active=None, ended_at=timezone.now()
    )
