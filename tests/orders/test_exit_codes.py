"""Exit QR texts: made per order, refused when forged, altered or malformed."""

import pytest

from orders.exit_codes import PREFIX, exit_code_for, exit_code_read
from orders.models import Order


def order_with(number: str = "K7M2-QX9P", nonce: str = "ABCDEFGHIJKLMNOP") -> Order:
    return Order(number=number, exit_nonce=nonce)


def test_an_exit_code_names_its_order_and_nonce():
    code = exit_code_for(order_with())

    claim = exit_code_read(code)

    assert code.startswith(PREFIX)
    assert claim is not None
    assert (claim.number, claim.nonce) == ("K7M2-QX9P", "ABCDEFGHIJKLMNOP")


def test_a_code_is_read_as_a_typist_or_camera_gives_it():
    code = exit_code_for(order_with())

    assert exit_code_read(f"  {code.lower()}\n") == exit_code_read(code)


def test_codes_differ_between_orders_and_nonces():
    assert exit_code_for(order_with()) != exit_code_for(order_with(number="K7M2-QX9Q"))
    assert exit_code_for(order_with()) != exit_code_for(order_with(nonce="ABCDEFGHIJKLMNOQ"))


def test_a_code_fits_the_compact_qr_alphabet():
    allowed = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")

    assert set(exit_code_for(order_with())) <= allowed


@pytest.mark.parametrize(
    "tamper",
    [
        lambda code: code.replace("K7M2", "K7M3"),  # another order
        lambda code: code.replace("ABCDEFGHIJKLMNOP", "ABCDEFGHIJKLMNOQ"),  # another nonce
        lambda code: code[:-1] + ("A" if code[-1] != "A" else "B"),  # signature
        lambda code: code.replace(PREFIX, "SCP1:"),  # a cart pass prefix
        lambda code: code + "X",
        lambda code: "",
        lambda code: "4006381333931",
    ],
)
def test_forged_or_altered_codes_are_refused(tamper):
    assert exit_code_read(tamper(exit_code_for(order_with()))) is None


def test_a_code_signed_with_another_secret_is_refused(settings):
    code = exit_code_for(order_with())

    settings.SECRET_KEY = "another-secret-key-for-another-store-0123456789"

    assert exit_code_read(code) is None
