"""The text inside a cart pass QR code: ``SCP1:<token>.<signature>``, 46 characters.

* ``SCP1:`` marks a pass. Letters and a colon never start a barcode a cart reads (GTINs are all
  digits), so a scanned product is never mistaken for a pass, nor a pass for a product.
* ``<token>`` is 120 random bits in base32 (24 characters), the key of the ``CartPass`` row.
* ``<signature>`` is an HMAC of the token under ``SECRET_KEY`` (80 bits, 16 base32 characters):
  a made-up token is refused without a database query.

Only upper-case letters, digits, ``:`` and ``.`` appear, so the QR code uses the compact
alphanumeric mode and stays small and easy for a cart camera to read. Nothing in the text says
who the shopper is.
"""

import base64
import re
import secrets

from django.utils.crypto import constant_time_compare, salted_hmac

PREFIX = "SCP1:"
TOKEN_BYTES = 15  # 120 bits: 24 base32 characters, no padding
SIGNATURE_LENGTH = 16  # base32 characters of the HMAC kept: 80 bits
SIGNATURE_SALT = "smartcart.carts.cart-pass.v1"

_PASS_TEXT = re.compile(
    rf"{re.escape(PREFIX)}(?P<token>[A-Z2-7]{{24}})\.(?P<signature>[A-Z2-7]{{16}})"
)


def _base32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def pass_token_new() -> str:
    return _base32(secrets.token_bytes(TOKEN_BYTES))


def pass_signature(token: str) -> str:
    digest = salted_hmac(SIGNATURE_SALT, token, algorithm="sha256").digest()
    return _base32(digest)[:SIGNATURE_LENGTH]


def pass_text(token: str) -> str:
    """The QR text for ``token``."""
    return f"{PREFIX}{token}.{pass_signature(token)}"


def pass_text_is_pass(text: str) -> bool:
    """Whether ``text`` claims to be a cart pass (it may still be forged or revoked)."""
    return text.strip().startswith(PREFIX)


def pass_token_from_text(text: str) -> str | None:
    """The token in a well-formed, correctly signed pass text; None for anything else."""
    text = text.strip()
    if not pass_text_is_pass(text):
        return None
    match = _PASS_TEXT.fullmatch(text)
    if match is None:
        return None
    token = match["token"]
    if not constant_time_compare(match["signature"], pass_signature(token)):
        return None
    return token
