"""The demo staff account's two-factor: seeded by load_demo_store, codes from demo_totp_code."""

import re
from io import StringIO

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth import SESSION_KEY
from django.core.management import CommandError, call_command
from django.urls import reverse

from catalog import demo_data
from shopcart.core.staff_mfa import totp_code_current, totp_secret_set
from shopcart.management.commands.demo_totp_code import ERROR_NOT_SEEDED, ERROR_PRODUCTION
from tests.accounts.conftest import totp_code

pytestmark = pytest.mark.django_db

ADMIN = reverse("admin:index")


def load() -> str:
    out = StringIO()
    call_command("load_demo_store", stdout=out)
    return out.getvalue()


def demo_code() -> str:
    out = StringIO()
    call_command("demo_totp_code", stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def test_demo_staff_signs_in_to_the_admin_with_the_printed_code(client):
    load()
    client.post(
        reverse("account_login"),
        {
            "login": demo_data.DEMO_STAFF_EMAIL,
            "password": demo_data.DEMO_STAFF_PASSWORD,
            "next": ADMIN,
        },
    )
    expected = totp_code(demo_data.DEMO_STAFF_TOTP_SECRET)  # waits out a period's last moment
    code = demo_code()

    response = client.post(reverse("mfa_authenticate"), {"code": code})

    assert re.fullmatch(r"\d{6}", code) and code == expected
    assert response["Location"] == ADMIN
    assert SESSION_KEY in client.session
    assert client.get(ADMIN).status_code == 200


def test_load_demo_store_prints_the_secret_and_the_authenticator_uri():
    output = load()

    assert demo_data.DEMO_STAFF_TOTP_SECRET in output
    assert f"otpauth://totp/staff%40example.com?secret={demo_data.DEMO_STAFF_TOTP_SECRET}" in output
    assert "python manage.py demo_totp_code" in output


def test_second_load_keeps_the_authenticator_and_puts_back_a_changed_secret():
    load()
    [first] = Authenticator.objects.filter(type=Authenticator.Type.TOTP)
    assert "demo secret, unchanged)" in load()
    staff = first.user
    totp_secret_set(user=staff, secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")

    assert "demo secret, updated)" in load()

    [again] = Authenticator.objects.filter(type=Authenticator.Type.TOTP)
    assert again.pk == first.pk
    assert again.wrap().validate_code(totp_code_current(demo_data.DEMO_STAFF_TOTP_SECRET)[0])


def test_code_command_refuses_before_the_demo_is_loaded():
    with pytest.raises(CommandError) as error:
        demo_code()

    assert str(error.value) == ERROR_NOT_SEEDED


def test_code_command_refuses_when_the_secret_is_not_the_demo_one():
    # A real secret set up through the UI must never be printed.
    load()
    staff = Authenticator.objects.get(type=Authenticator.Type.TOTP).user
    totp_secret_set(user=staff, secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")

    with pytest.raises(CommandError) as error:
        demo_code()

    assert str(error.value) == ERROR_NOT_SEEDED


def test_code_command_refuses_in_production(settings):
    load()
    settings.PRODUCTION = True

    with pytest.raises(CommandError) as error:
        demo_code()

    assert str(error.value) == ERROR_PRODUCTION


def test_current_code_matches_a_known_rfc_6238_value():
    # RFC 6238 appendix B, SHA-1, T = 59 s: 94287082, whose last six digits an app shows.
    rfc_secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of "12345678901234567890"

    assert totp_code_current(rfc_secret, at=59) == ("287082", 1)
