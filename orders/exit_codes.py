"""The text inside an exit QR code: ``SCX1:<order number>.<nonce>.<signature>``.

* ``SCX1:`` marks an exit code (as ``SCP1:`` marks a cart pass).
* ``<order number>`` says which order; ``<nonce>`` is the order's random ``exit_nonce``, so a
  code cannot be made from an order number printed on a receipt.
* ``<signature>`` is an HMAC of both under ``SECRET_KEY`` (80 bits): a forged or altered code is
  refused without a database query.

Whether the order is paid and not yet used at the exit is the exit check's business; this module
only makes and reads the text. Upper-case letters, digits, ``-``, ``:`` and ``.`` only: the QR
code uses the compact alphanumeric mode.
"""

import base64
import re
from dataclasses import dataclass

from django.utils.crypto import constant_time_compare, salted_hmac

from orders.models import Order

PREFIX = "SCX1:"
SIGNATURE_LENGTH = 16
SIGNATURE_SALT = "smartcart.orders.exit-code.v1"

_EXIT_TEXT = re.compile(
    rf"{re.escape(PREFIX)}(?P<number>[A-Z0-9-]{{4,16}})\.(?P<nonce>[A-Z2-7]{{16}})"
    r"\.(?P<signature>[A-Z2-7]{16})"
)


@dataclass(frozen=True)
class ExitCodeClaim:
    """What a correctly signed exit code names."""

    number: str
    nonce: str


def _signature(number: str, nonce: str) -> str:
    digest = salted_hmac(SIGNATURE_SALT, f"{number}.{nonce}", algorithm="sha256").digest()
    return base64.b32encode(digest).decode("ascii")[:SIGNATURE_LENGTH]


def exit_code_for(order: Order) -> str:
    """The exit QR text of ``order``."""
    return f"{PREFIX}{order.number}.{order.exit_nonce}.{_signature(order.number, order.exit_nonce)}"


def exit_code_read(text: str) -> ExitCodeClaim | None:
    """The order a well-formed, correctly signed exit code names; None for anything else.

    Accepts the text as a phone's camera or a typist gives it: surrounding spaces and lower case.
    """
    match = _EXIT_TEXT.fullmatch(text.strip().upper())
    if match is None:
        return None
    number, nonce = match["number"], match["nonce"]
    if not constant_time_compare(match["signature"], _signature(number, nonce)):
        return None
    return ExitCodeClaim(number=number, nonce=nonce)
