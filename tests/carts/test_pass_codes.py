"""The cart pass text: short, prefixed, signed, free of personal data; and how it resolves."""

import pytest

from carts import pass_codes
from carts.models import CartPass
from carts.selectors import (
    REASON_BAD_SIGNATURE,
    REASON_MESSAGES,
    REASON_OK,
    REASON_REVOKED,
    REASON_UNKNOWN,
    cart_pass_resolve,
    cart_pass_text_is_pass,
)
from carts.services import cart_pass_issue, cart_pass_replace
from catalog.barcodes import gtin_normalise

pytestmark = pytest.mark.django_db


def test_pass_text_is_short_prefixed_and_holds_no_personal_data(alice):
    text = cart_pass_issue(user=alice).text

    assert len(text) <= 64
    assert text.startswith(pass_codes.PREFIX)
    for personal in ("alice", "Alice", "example.com", str(alice.pk) + "."):
        assert personal not in text
    # Upper case, digits and ":." only: the QR code's compact alphanumeric mode.
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:.")


def test_pass_resolves_to_its_shopper(alice, bob):
    alice_pass = cart_pass_issue(user=alice)
    cart_pass_issue(user=bob)

    resolution = cart_pass_resolve(alice_pass.text)

    assert (resolution.user, resolution.reason, resolution.ok) == (alice, REASON_OK, True)


def test_surrounding_whitespace_from_a_scanner_is_ignored(alice):
    text = cart_pass_issue(user=alice).text

    assert cart_pass_resolve(f"  {text}\r\n").user == alice


def tampered(text: str, position: int) -> str:
    replacement = "A" if text[position] != "A" else "B"
    return text[:position] + replacement + text[position + 1 :]


@pytest.mark.parametrize("where", ["token", "signature"])
def test_tampered_pass_has_a_bad_signature(alice, where, django_assert_num_queries):
    text = cart_pass_issue(user=alice).text
    position = len(pass_codes.PREFIX) + 3 if where == "token" else len(text) - 2

    with django_assert_num_queries(0):  # refused before the database is asked
        resolution = cart_pass_resolve(tampered(text, position))

    assert (resolution.user, resolution.reason) == (None, REASON_BAD_SIGNATURE)
    assert resolution.message == REASON_MESSAGES[REASON_BAD_SIGNATURE]


@pytest.mark.parametrize(
    "text",
    ["", "SCP1:", "SCP1:short.sig", "scp1:" + "A" * 24 + "." + "A" * 16, "SCP2:" + "A" * 41],
)
def test_malformed_text_has_a_bad_signature(text):
    assert cart_pass_resolve(text).reason == REASON_BAD_SIGNATURE


def test_validly_signed_token_without_a_row_is_unknown():
    text = pass_codes.pass_text(pass_codes.pass_token_new())

    resolution = cart_pass_resolve(text)

    assert (resolution.user, resolution.reason) == (None, REASON_UNKNOWN)


def test_replaced_pass_resolves_to_revoked(alice):
    old = cart_pass_issue(user=alice)

    new = cart_pass_replace(user=alice)

    assert cart_pass_resolve(old.text).reason == REASON_REVOKED
    assert cart_pass_resolve(old.text).user is None
    assert cart_pass_resolve(new.text).user == alice


def test_pass_of_a_deactivated_account_is_revoked(alice):
    text = cart_pass_issue(user=alice).text
    alice.is_active = False
    alice.save()

    assert cart_pass_resolve(text).reason == REASON_REVOKED


def test_signature_depends_on_the_secret_key(alice, settings):
    text = cart_pass_issue(user=alice).text

    settings.SECRET_KEY = "another secret key, another store" * 2

    assert cart_pass_resolve(text).reason == REASON_BAD_SIGNATURE


@pytest.mark.parametrize(
    "code", ["4006381333931", "036602301467", "00036602301467", "96385074", "(01)04006381333931"]
)
def test_a_gtin_is_never_a_pass(code):
    gtin_normalise(code.replace("(01)", ""))  # they are real, valid product codes

    assert cart_pass_text_is_pass(code) is False
    assert cart_pass_resolve(code).reason == REASON_BAD_SIGNATURE


def test_pass_text_is_recognised_as_a_pass_even_when_forged():
    assert cart_pass_text_is_pass("SCP1:anything")
    assert cart_pass_text_is_pass(" SCP1:" + "A" * 41 + "\n")


def test_new_tokens_differ_and_are_24_base32_characters():
    tokens = {pass_codes.pass_token_new() for _ in range(1000)}

    assert len(tokens) == 1000
    assert all(len(token) == 24 and token.isalnum() and token.isupper() for token in tokens)


def test_issued_pass_text_carries_its_row_token(alice):
    cart_pass = cart_pass_issue(user=alice)

    assert pass_codes.pass_token_from_text(cart_pass.text) == cart_pass.token
    assert CartPass.objects.get(token=cart_pass.token) == cart_pass
