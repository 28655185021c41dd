"""devices.simulator and ``manage.py simulate_cart``: a cart that retries like the firmware.

The policy and the request building are tested without a server (a scripted transport); the
end-to-end tests talk HTTP to pytest-django's live server.
"""

import io
import json
import socket
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from carts.models import CartLine
from carts.services import cart_pass_issue
from devices import simulator
from devices.cart_photos import cart_jpeg
from devices.models import Device
from devices.services import device_register
from devices.simulator import (
    Cart,
    PhotoUnreadable,
    RetryPolicy,
    SimulatorError,
    TransportError,
    code_parse,
    code_request,
    image_request,
    is_retryable,
    retry_delay,
)
from tests.devices.golden import golden, shape
from tests.devices.support import EAN13, EAN13_GTIN, ScriptedTransport, answer, ean13_image, encoded
from tests.factories import BarcodeFactory, ProductFactory

ANSWER_ADDED = {
    "result": "added",
    "product": {"id": 1, "name": "Oat milk 1 l", "price": "2.50"},
    "cart": {"items": 1, "total": "2.50"},
    "display": ["+1 Oat milk 1 l", "Total 2.50"],
    "beep": "ok",
}


# --- The retry policy -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "retried"),
    [
        (None, True),  # no answer at all: connection refused, reset, timed out
        (408, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (200, False),
        (201, False),
        (409, False),
        (400, False),
        (401, False),
        (413, False),
        (415, False),
    ],
)
def test_which_answers_are_retried(status, retried):
    assert is_retryable(status) is retried
    delay = retry_delay(attempt=1, status=status)
    assert (delay is not None) is retried


@pytest.mark.parametrize(
    ("attempt", "full_backoff"),
    [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0)],
)
def test_backoff_doubles_from_half_a_second(attempt, full_backoff):
    assert retry_delay(attempt=attempt, status=503, jitter=1.0) == full_backoff


def test_backoff_is_capped_at_eight_seconds():
    policy = RetryPolicy(attempts=20)

    delays = [retry_delay(attempt=n, status=500, jitter=1.0, policy=policy) for n in range(1, 20)]

    assert max(d for d in delays if d is not None) == 8.0
    assert delays[-1] == 8.0


def test_jitter_spreads_the_backoff_between_half_and_all_of_it():
    assert retry_delay(attempt=3, status=500, jitter=0.0) == 1.0
    assert retry_delay(attempt=3, status=500, jitter=0.5) == 1.5
    assert retry_delay(attempt=3, status=500, jitter=1.0) == 2.0


def test_the_last_attempt_is_not_retried():
    policy = RetryPolicy(attempts=6)

    assert retry_delay(attempt=5, status=500, policy=policy) is not None
    assert retry_delay(attempt=6, status=500, policy=policy) is None


@pytest.mark.parametrize(
    ("retry_after", "delay"),
    [("7", 7.0), ("0", 0.0), ("3600", simulator.RETRY_AFTER_MAX), ("soon", 0.5), ("-1", 0.5)],
)
def test_retry_after_is_honoured_when_it_is_a_number_of_seconds(retry_after, delay):
    assert retry_delay(attempt=1, status=429, retry_after=retry_after, jitter=1.0) == delay


def test_retry_after_does_not_make_a_refusal_retryable():
    assert retry_delay(attempt=1, status=400, retry_after="1") is None


# --- Requests -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argument", "parsed"),
    [
        ("4006381333931", ("4006381333931", "EAN13")),
        ("036000291452", ("036000291452", "UPCA")),
        ("96385074", ("96385074", "EAN8")),
        ("01234565:upce", ("01234565", "UPCE")),
        ("12345", ("12345", "")),
        ("HELLO", ("HELLO", "")),
    ],
)
def test_codes_are_parsed_and_their_symbology_guessed_by_length(argument, parsed):
    assert code_parse(argument) == parsed


def test_an_empty_code_is_refused():
    with pytest.raises(SimulatorError, match="is not CODE"):
        code_parse(":EAN13")


def test_a_code_scan_is_the_protocols_json(tmp_path):
    request = code_request(code=EAN13, symbology="EAN13", mode="remove", qty=2)

    assert json.loads(request.body) == {
        "scan_id": request.scan_id,
        "mode": "remove",
        "qty": 2,
        "code": EAN13,
        "symbology": "EAN13",
    }
    assert request.content_type == "application/json"


def test_every_scan_gets_a_new_scan_id():
    first = code_request(code=EAN13, symbology="EAN13")
    second = code_request(code=EAN13, symbology="EAN13")

    assert first.scan_id != second.scan_id


@pytest.mark.parametrize("suffix", ["jpg", "png", "webp"])
def test_a_photo_of_any_format_goes_as_the_carts_jpeg_in_the_raw_body(tmp_path, suffix):
    path = tmp_path / f"milk.{suffix}"
    ean13_image().convert("RGB").save(path)

    request = image_request(path=path, mode="add", qty=3)

    assert request.body == cart_jpeg(Image.open(path))
    assert request.content_type == "image/jpeg"
    assert request.headers == {
        "X-Scan-Id": request.scan_id,
        "X-Scan-Mode": "add",
        "X-Scan-Qty": "3",
    }


def test_a_large_phone_photo_is_fitted_into_the_carts_frame(tmp_path):
    path = tmp_path / "big.png"
    Image.effect_noise((3000, 2000), 60).save(path)  # a PNG of several MiB
    assert path.stat().st_size > 512 * 1024

    request = image_request(path=path)

    assert Image.open(io.BytesIO(request.body)).size == (800, 533)
    assert len(request.body) < 512 * 1024


def test_a_file_that_is_no_image_is_refused_by_name(tmp_path):
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"not a photo")

    with pytest.raises(PhotoUnreadable, match=r"broken\.jpg is not an image"):
        image_request(path=path)


def test_a_folder_without_images_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("no")

    with pytest.raises(SimulatorError, match=r"No photos"):
        simulator.image_paths(tmp_path)


# --- The cart against a scripted transport ------------------------------------------------------


def scripted_cart(transport, **kwargs) -> tuple[Cart, list[float], list[str]]:
    sleeps: list[float] = []
    printed: list[str] = []
    cart = Cart(
        server="http://cart.test",
        key="scd_test_key",
        transport=transport,
        sleep=sleeps.append,
        jitter=lambda: 1.0,
        out=printed.append,
        **kwargs,
    )
    return cart, sleeps, printed


def test_retries_send_the_same_scan_id_and_bytes_until_answered():
    transport = ScriptedTransport(
        TransportError("connection refused"),
        answer(503),
        answer(429, {"detail": "slow down"}, **{"Retry-After": "3"}),
        answer(201, ANSWER_ADDED),
    )
    cart, sleeps, _ = scripted_cart(transport)
    request = code_request(code=EAN13, symbology="EAN13")

    outcome = cart.scan(request)

    assert (outcome.status, outcome.attempts) == (201, 4)
    bodies = {body for _, _, body in transport.sent}
    assert bodies == {request.body}
    assert {json.loads(body)["scan_id"] for body in bodies} == {request.scan_id}
    assert sleeps == [0.5, 1.0, 3.0]  # backoff, backoff, then the server's Retry-After


def test_a_raw_jpeg_retry_repeats_its_scan_id_header(tmp_path):
    path = tmp_path / "milk.jpg"
    path.write_bytes(encoded(ean13_image().convert("RGB"), "JPEG"))
    transport = ScriptedTransport(answer(500), answer(201, ANSWER_ADDED))
    cart, _, _ = scripted_cart(transport)
    request = image_request(path=path)

    cart.scan(request)

    assert [headers["X-Scan-Id"] for _, headers, _ in transport.sent] == [request.scan_id] * 2
    assert all(headers["Content-Type"] == "image/jpeg" for _, headers, _ in transport.sent)


def test_the_device_key_and_the_scan_url_are_sent():
    transport = ScriptedTransport(answer(201, ANSWER_ADDED))
    cart, _, _ = scripted_cart(transport)

    cart.scan(code_request(code=EAN13, symbology="EAN13"))

    url, headers, _ = transport.sent[0]
    assert url == "http://cart.test/api/devices/v1/scans/"
    assert headers["Authorization"] == "Device scd_test_key"


def test_a_conflict_ends_the_scan_without_retrying():
    transport = ScriptedTransport(answer(409, {"detail": "scan_id reused"}), answer(201))
    cart, sleeps, printed = scripted_cart(transport)

    outcome = cart.scan(code_request(code=EAN13, symbology="EAN13"))

    assert outcome.status == 409
    assert len(transport.sent) == 1
    assert sleeps == []
    assert any("scan dropped" in line for line in printed)


def test_a_bad_request_stops_the_run_with_the_servers_detail():
    transport = ScriptedTransport(answer(400, {"detail": "The scan is not valid."}), answer(201))
    cart, sleeps, _ = scripted_cart(transport)

    with pytest.raises(SimulatorError, match=r"refused the scan with 400: The scan is not valid\."):
        cart.scan(code_request(code=EAN13, symbology="EAN13"))

    assert len(transport.sent) == 1
    assert sleeps == []


def photo_folder(tmp_path: Path, *names: str) -> list[Path]:
    paths = []
    for name in names:
        path = tmp_path / name
        if name.startswith("broken"):
            path.write_bytes(b"not a photo")
        else:
            ean13_image().convert("RGB").save(path)
        paths.append(path)
    return paths


def test_photos_a_server_refuses_or_that_are_no_images_are_skipped_and_counted(tmp_path):
    paths = photo_folder(tmp_path, "a.jpg", "broken.png", "c.png", "d.webp", "e.jpg")
    transport = ScriptedTransport(
        answer(201, ANSWER_ADDED),
        answer(415, {"detail": "Not a JPEG."}),
        answer(201, {**ANSWER_ADDED, "result": "no_barcode", "product": None}),
        answer(201, {**ANSWER_ADDED, "result": "unknown_product", "product": None}),
    )
    cart, _, printed = scripted_cart(transport)

    tally = cart.scan_photos(paths, mode="add", qty=1)

    assert len(transport.sent) == 4  # the broken file never went out
    assert any("broken.png is not an image" in line for line in printed)
    assert any("415" in line and "c.png skipped" in line for line in printed)
    assert tally.summary() == (
        "Photos: 3 sent, 1 added or removed, 1 not read, 1 unknown, 0 other, 2 skipped."
    )


def test_a_bad_key_stops_a_run_of_photos(tmp_path):
    paths = photo_folder(tmp_path, "a.jpg", "b.jpg")
    transport = ScriptedTransport(answer(401, {"detail": "Invalid or revoked device key."}))
    cart, _, _ = scripted_cart(transport)

    with pytest.raises(SimulatorError, match="401"):
        cart.scan_photos(paths, mode="add", qty=1)

    assert len(transport.sent) == 1


def test_it_gives_up_after_the_last_attempt():
    transport = ScriptedTransport(*[answer(502)] * 3)
    cart, sleeps, _ = scripted_cart(transport, policy=RetryPolicy(attempts=3))

    with pytest.raises(SimulatorError, match="after 3 attempts: HTTP 502"):
        cart.scan(code_request(code=EAN13, symbology="EAN13"))

    assert len(sleeps) == 2


def test_the_answer_is_shown_like_the_carts_display():
    cart, _, printed = scripted_cart(ScriptedTransport(answer(201, ANSWER_ADDED)))

    cart.scan(code_request(code=EAN13, symbology="EAN13"))

    screen = "\n".join(printed)
    assert "| +1 Oat milk 1 l  |" in screen
    assert "| Total 2.50       |" in screen
    assert "result=added beep=ok" in screen


def test_a_server_that_is_not_running_says_how_to_start_it():
    with socket.socket() as probe:  # a free loopback port, closed again: nobody listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cart = Cart(server=f"http://127.0.0.1:{port}", key="scd_x", out=lambda line: None)

    with pytest.raises(SimulatorError) as caught:
        cart.heartbeat()

    assert str(caught.value) == simulator.ERROR_NOT_RUNNING.format(server=cart.server)


# --- The command against a live server -----------------------------------------------------------


@pytest.fixture
def oat_milk(db):
    return BarcodeFactory(gtin=EAN13_GTIN, product=ProductFactory(name="Oat milk 1 l")).product


def simulate(*args: str) -> str:
    out = io.StringIO()
    call_command("simulate_cart", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_pair_and_scan_puts_the_product_into_the_shoppers_cart(live_server, alice, oat_milk):
    _, key = device_register(name="Cart 7")
    pass_text = cart_pass_issue(user=alice).text

    output = simulate("--server", live_server.url, "--key", key, "--pass", pass_text, EAN13)

    line = CartLine.objects.get(cart__owner=alice, product=oat_milk)
    assert (line.quantity, line.scanned_quantity) == (1, 1)
    assert "| Hi Alice" in output
    assert "| +1 Oat milk 1 l  |" in output
    assert "result=added beep=ok" in output


@pytest.mark.django_db(transaction=True)
def test_the_key_can_come_from_the_environment(live_server, alice, oat_milk, monkeypatch):
    _, key = device_register(name="Cart 8")
    monkeypatch.setenv(simulator.KEY_ENV, key)

    output = simulate("--server", live_server.url, EAN13)

    assert "result=not_paired" in output


def test_without_a_key_it_says_where_to_put_one(monkeypatch):
    monkeypatch.delenv(simulator.KEY_ENV, raising=False)

    with pytest.raises(CommandError, match=simulator.ERROR_NO_KEY):
        simulate(EAN13)


@pytest.mark.django_db(transaction=True)
def test_a_wrong_key_stops_with_the_servers_answer(live_server):
    with pytest.raises(CommandError, match="refused the scan with 401"):
        simulate("--server", live_server.url, "--key", "scd_00000000_wrong", EAN13)


@pytest.mark.django_db(transaction=True)
def test_the_demo_pairs_as_alice_and_fills_her_cart(live_server, alice, oat_milk):
    output = simulate("--demo", "--server", live_server.url, "--pause", "0")

    assert CartLine.objects.filter(cart__owner=alice, product=oat_milk).exists()
    assert Device.objects.filter(name=simulator.DEMO_DEVICE_NAME).exists()
    assert simulator.MESSAGE_DEMO_REGISTERED.format(name="Demo cart") in output
    assert "| Hi Alice" in output

    again = simulate("--demo", "--server", live_server.url, "--pause", "0")

    assert simulator.MESSAGE_DEMO_KEY_ROTATED.format(name="Demo cart") in again
    assert CartLine.objects.get(cart__owner=alice, product=oat_milk).quantity == 2


@pytest.mark.django_db(transaction=True)
def test_the_demo_sends_the_photos_and_codes_given_instead_of_its_own(
    live_server, alice, oat_milk, tmp_path: Path
):
    (tmp_path / "oat-milk.png").write_bytes(encoded(ean13_image()))

    output = simulate(
        "--demo", "--server", live_server.url, "--pause", "0", "--images", str(tmp_path), EAN13
    )

    assert "| Hi Alice" in output
    assert "scan oat-milk.png" in output
    assert "Photos: 1 sent, 1 added or removed" in output
    assert "Scanning" not in output  # not the demo's own products
    assert CartLine.objects.get(cart__owner=alice).quantity == 2  # the code, then the photo


@pytest.mark.parametrize(
    ("option", "named"),
    [(("--key", "scd_x"), "--key"), (("--pass", "SC1:x"), "--pass"), (("--update",), "--update")],
)
def test_the_demo_refuses_a_device_or_pass_of_the_users_own(db, option, named):
    with pytest.raises(CommandError, match=f"leave out {named}, or leave out --demo"):
        simulate("--demo", *option)

    assert not Device.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_demo_says_to_start_the_server_when_none_runs(alice, oat_milk):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        server = f"http://127.0.0.1:{probe.getsockname()[1]}"

    with pytest.raises(CommandError, match="start it with make run"):
        simulate("--demo", "--server", server)


def test_the_demo_refuses_in_production(settings, db):
    settings.PRODUCTION = True

    with pytest.raises(CommandError, match=simulator.ERROR_DEMO_IN_PRODUCTION):
        simulate("--demo")

    assert not Device.objects.exists()


def test_the_demo_needs_the_demo_shopper(db):
    with pytest.raises(CommandError, match="does not exist"):
        simulate("--demo")


@pytest.mark.django_db(transaction=True)
def test_photos_from_a_folder_are_sent_as_the_carts_jpegs_and_summed_up(
    live_server, alice, oat_milk, tmp_path: Path
):
    (tmp_path / "a.png").write_bytes(encoded(ean13_image()))
    (tmp_path / "b.jpg").write_bytes(encoded(ean13_image().convert("RGB"), "JPEG"))
    (tmp_path / "c.jpg").write_bytes(b"a text file named like a photo")
    (tmp_path / "notes.txt").write_text("skipped")
    _, key = device_register(name="Cart 9")
    pass_text = cart_pass_issue(user=alice).text

    output = simulate(
        "--server", live_server.url, "--key", key, "--pass", pass_text, "--images", str(tmp_path)
    )

    assert "scan a.png" in output
    assert "scan b.jpg" in output
    assert "c.jpg is not an image" in output
    assert "notes.txt" not in output
    assert (
        "Photos: 2 sent, 2 added or removed, 0 not read, 0 unknown, 0 other, 1 skipped." in output
    )
    assert CartLine.objects.get(cart__owner=alice, product=oat_milk).quantity == 2


def test_the_simulators_heartbeat_has_the_firmwares_keys_and_types():

    assert shape(json.loads(simulator.heartbeat_body())) == shape(golden("request_heartbeat"))
