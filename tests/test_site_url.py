"""One site URL: SITE_URL follows where ``make run`` serves, and everything that prints or mails
an address, or looks for the server, uses it (issue 19, item 4).

Settings are loaded in fresh interpreters with only the variables a case names, as in
tests/test_settings.py, so neither the developer's shell nor a ``.env`` file leaks in.
"""

import io
import os
import shutil
import socket
import subprocess
import sys
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from django.core.management import call_command

from devices import simulator
from tests.devices.support import EAN13_GTIN
from tests.factories import BarcodeFactory, ProductFactory
from tests.settings_probe import BASE_DIR, python_in_project

SITE_URL_PROBE = """
import environ
environ.Env.read_env = staticmethod(lambda *args, **kwargs: None)
from django.conf import settings
print(settings.SITE_URL)
"""


def site_url(**environment: str) -> str:
    result = python_in_project(SITE_URL_PROBE, **environment)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"PORT": "8100"}, "http://127.0.0.1:8100"),
        ({"HOST": "localhost", "PORT": "8100"}, "http://localhost:8100"),
        # Listening on every interface: this machine reaches it on loopback.
        ({"HOST": "0.0.0.0", "PORT": "8100"}, "http://127.0.0.1:8100"),  # noqa: S104
        ({"HOST": "::1", "PORT": "8100"}, "http://[::1]:8100"),
        ({"PORT": "8100", "SITE_URL": "https://shop.example.com"}, "https://shop.example.com"),
    ],
)
def test_site_url_follows_host_and_port_unless_set(environment, expected):
    assert site_url(**environment) == expected


# A store started with PORT=8100 on a clean environment: the demo shopper's cart pass email
# and a paid order's confirmation, sent as the store sends them (outbox, eager task, .eml files).
EMAILS_PROBE = """
import environ
environ.Env.read_env = staticmethod(lambda *args, **kwargs: None)
import django
django.setup()
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from carts.services import cart_pass_email
from orders.emails import order_confirmation_email
from orders.models import Order, order_number_new

call_command("migrate", verbosity=0)
alice = User.objects.create_user("alice@example.com", "alice@example.com", first_name="Alice")
cart_pass_email(user=alice)
order = Order.objects.create(
    number=order_number_new(), user=alice, email=alice.email, cart_version=1,
    status=Order.Status.PAID, currency="EUR", subtotal=Decimal("1.00"), total=Decimal("1.00"),
    expires_at=timezone.now() + timedelta(minutes=30), paid_at=timezone.now(),
)
assert order_confirmation_email(order_id=order.pk)
"""


def _text(message: Message) -> str:
    parts = [
        part for part in message.walk() if part.get_content_type() in ("text/plain", "text/html")
    ]
    payloads = [part.get_payload(decode=True) for part in parts]
    return "".join(payload.decode() for payload in payloads if isinstance(payload, bytes))


def test_with_port_8100_the_pass_and_payment_emails_link_to_8100(tmp_path):
    result = python_in_project(
        EMAILS_PROBE,
        PORT="8100",
        DATABASE_URL="sqlite://:memory:",
        EMAIL_FILE_PATH=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr

    emails = [message_from_bytes(path.read_bytes()) for path in sorted(tmp_path.glob("*.eml"))]
    texts = {message["Subject"]: _text(message) for message in emails}
    assert len(texts) == 2
    for subject, text in texts.items():
        assert "http://127.0.0.1:8100/" in text, subject
        assert ":8000" not in text, subject
    [pass_text] = [text for subject, text in texts.items() if "pass" in subject.lower()]
    assert "http://127.0.0.1:8100/cart/pass/" in pass_text


def test_the_simulators_default_server_is_the_site_url(settings):
    settings.SITE_URL = "http://127.0.0.1:8100/"

    assert simulator.default_server() == "http://127.0.0.1:8100"


@pytest.mark.django_db(transaction=True)
def test_simulate_cart_without_server_talks_to_the_site_url(live_server, settings, alice):
    BarcodeFactory(gtin=EAN13_GTIN, product=ProductFactory(name="Oat milk 1 l"))
    settings.SITE_URL = live_server.url
    out = io.StringIO()

    call_command("simulate_cart", "--demo", "--pause", "0", stdout=out)

    assert f"Checking the server at {live_server.url}" in out.getvalue()
    assert alice.carts.get().lines.exists()


# --- make run -------------------------------------------------------------------------------------

# Stands in for the interpreter: the commands of `make run` print what settings say instead of
# migrating, loading and serving; anything else (the echo line's settings lookup) runs for real.
FAKE_PYTHON = """#!/bin/sh
case "$1 $2" in
  "manage.py migrate"|"manage.py load_demo_store"|"manage.py runserver")
    shift
    DJANGO_SETTINGS_MODULE=shopcart.settings exec {python} -c 'import environ, sys
environ.Env.read_env = staticmethod(lambda *args, **kwargs: None)
from django.conf import settings
print(sys.argv[1], sys.argv[2:], settings.SITE_URL)' "$@" ;;
esac
exec {python} "$@"
"""


def make_run(tmp_path: Path, port: int) -> subprocess.CompletedProcess[str]:
    """``make run PORT=port`` with the interpreter standing in (``FAKE_PYTHON``)."""
    fake = tmp_path / "python"
    fake.write_text(FAKE_PYTHON.format(python=sys.executable))
    fake.chmod(0o755)
    venv = BASE_DIR / ".venv"
    stamps = [f"{venv}/.installed-base", f"{venv}/bin/python", str(fake)]
    options = [f"-o{stamp}" for stamp in stamps]  # treated as made: nothing is installed
    return subprocess.run(  # noqa: S603 - our own Makefile
        ["make", "--no-print-directory", *options, "run", f"PORT={port}", f"PY={fake}"],  # noqa: S607
        cwd=BASE_DIR,
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_passes_host_and_port_on_and_prints_the_site_url(tmp_path):
    port = free_port()

    result = make_run(tmp_path, port)

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"load_demo_store [] http://127.0.0.1:{port}" in out
    assert f"runserver ['127.0.0.1:{port}'] http://127.0.0.1:{port}" in out
    assert f"smartcart is starting on http://127.0.0.1:{port}/ " in out
    assert "8000" not in out


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_stops_before_its_set_up_when_the_port_is_taken(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]

        result = make_run(tmp_path, port)

    assert result.returncode != 0
    assert f"make run: cannot serve on 127.0.0.1:{port} (Address already in use)" in result.stderr
    assert "make run PORT=8100" in result.stderr
    assert "Migrating" not in result.stdout  # nothing was set up
