"""``POST /api/devices/v1/scans/``: a cart sends a photo or a pre-decoded code and the product
goes into (or out of) the cart it is paired with, once, however often the request is retried."""

import io
import json
import threading
import uuid
from datetime import datetime, timedelta

import pytest
import yaml
from django.core.cache import cache
from django.db import close_old_connections, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.validation import validate_schema
from PIL import Image, ImageOps
from rest_framework.views import APIView

from carts.models import CartLine
from carts.services import cart_pass_issue
from devices.api import (
    ERROR_BAD_BASE64,
    ERROR_BODY_TOO_LARGE,
    ERROR_IMAGE_OR_CODE,
    ERROR_NOT_JPEG_OR_PNG,
    ERROR_SCAN_INVALID,
    SCAN_BODY_MAX,
    ScanCreateApi,
    _scan_fields,
)
from devices.decoding import ERROR_TOO_MANY_PIXELS, MAX_PIXELS, decode_image_timed
from devices.key_cache import device_keys_forget_all
from devices.models import Device, ScanEvent, UnknownCode
from devices.services import LAST_SEEN_WRITE_INTERVAL, device_pair
from devices.services.scans import (
    DISPLAY_AMBIGUOUS,
    DISPLAY_NO_BARCODE,
    DISPLAY_NOT_SOLD,
    DISPLAY_UNPAIRED,
    ERROR_SCAN_ID_REUSED,
)
from tests.devices.refusals import refusal
from tests.devices.support import (
    EAN13,
    EAN13_GTIN,
    OTHER_EAN13,
    OTHER_GTIN,
    URL,
    b64,
    check_answer,
    client_for_new_device,
    ean13_image,
    encoded,
    png_header,
    post_json,
    scan_body,
    scan_code,
    two_codes_photo,
)
from tests.factories import BarcodeFactory, ProductFactory

# --- Helpers shared with test_pairing.py and test_unknown_codes.py -----------------------------


# --- Fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def product(db):
    barcode = BarcodeFactory(gtin=EAN13_GTIN, product=ProductFactory(name="Oat milk 1 l"))
    return barcode.product


@pytest.fixture
def alice_cart(alice, device):
    return device_pair(device=device, cart_pass=cart_pass_issue(user=alice)).cart


# --- Adding and removing ------------------------------------------------------------------------


def test_a_photo_of_a_barcode_adds_the_product_to_the_paired_cart(
    device_client, device, alice_cart, product
):
    body = scan_body(image=b64(encoded(ean13_image())))

    answer = check_answer(post_json(device_client, body))

    assert answer["result"] == "added"
    assert answer["beep"] == "ok"
    assert answer["product"] == {"id": product.pk, "name": "Oat milk 1 l", "price": "2.50"}
    assert answer["cart"] == {"items": 1, "total": "2.50"}
    assert answer["display"] == ["+1 Oat milk 1 l", "Total 2.50"]
    line = CartLine.objects.get(cart=alice_cart, product=product)
    assert (line.quantity, line.scanned_quantity) == (1, 1)
    event = ScanEvent.objects.get(scan_id=body["scan_id"])
    assert (event.device, event.cart, event.result) == (device, alice_cart, "added")
    assert (event.code, event.gtin) == (EAN13, EAN13_GTIN)
    assert event.decode_ms is not None and event.decode_ms > 0


def test_a_jpeg_photo_is_read_too(device_client, alice_cart, product):
    body = scan_body(image=b64(encoded(ean13_image().convert("RGB"), "JPEG")))

    assert check_answer(post_json(device_client, body))["result"] == "added"


def test_a_raw_jpeg_body_with_scan_headers_adds_the_product(device_client, alice_cart, product):
    jpeg = encoded(ean13_image().convert("RGB"), "JPEG")
    headers = {"X-Scan-Id": str(uuid.uuid4()), "X-Scan-Mode": "add", "X-Scan-Qty": "2"}

    response = device_client.post(URL, jpeg, content_type="image/jpeg", headers=headers)

    answer = check_answer(response)
    assert answer["result"] == "added"
    assert answer["cart"]["items"] == 2
    replay = device_client.post(URL, jpeg, content_type="image/jpeg", headers=headers)
    assert check_answer(replay, 200) == answer
    changed = {**headers, "X-Scan-Mode": "remove"}
    conflict = device_client.post(URL, jpeg, content_type="image/jpeg", headers=changed)
    assert conflict.status_code == 409


def test_a_raw_body_without_scan_headers_is_refused(device_client, alice_cart):
    jpeg = encoded(ean13_image().convert("RGB"), "JPEG")

    response = device_client.post(URL, jpeg, content_type="image/jpeg")

    assert response.status_code == 400
    assert response.json()["detail"] == ERROR_SCAN_INVALID
    assert set(response.json()["errors"]) == {"scan_id", "mode"}


def test_a_pre_decoded_code_adds_its_quantity(device_client, alice_cart, product):
    answer = scan_code(device_client, qty=3)

    assert answer["result"] == "added"
    assert answer["cart"] == {"items": 3, "total": "7.50"}
    assert CartLine.objects.get(cart=alice_cart).scanned_quantity == 3


def test_remove_mode_takes_the_product_out(device_client, alice_cart, product):
    scan_code(device_client, qty=2)

    answer = scan_code(device_client, mode="remove")

    assert answer["result"] == "removed"
    assert answer["display"] == ["-1 Oat milk 1 l", "Total 2.50"]
    assert answer["cart"] == {"items": 1, "total": "2.50"}
    assert CartLine.objects.get(cart=alice_cart).quantity == 1


def test_removing_a_product_not_in_the_cart_answers_not_in_cart(device_client, alice_cart, product):
    answer = scan_code(device_client, mode="remove")

    assert answer["result"] == "not_in_cart"
    assert answer["beep"] == "error"
    assert answer["product"]["id"] == product.pk
    assert not CartLine.objects.filter(cart=alice_cart).exists()


def test_a_product_no_longer_sold_is_not_added(device_client, alice_cart, product):
    product.active = False
    product.save()

    answer = scan_code(device_client)

    assert answer["result"] == "unknown_product"
    assert answer["display"][0] == DISPLAY_NOT_SOLD[0]
    assert not CartLine.objects.filter(cart=alice_cart).exists()


def test_a_photo_without_a_barcode_answers_no_barcode(device_client, alice_cart):
    blank = encoded(Image.new("L", (320, 240), "white"))

    answer = check_answer(post_json(device_client, scan_body(image=b64(blank))))

    assert answer["result"] == "no_barcode"
    assert answer["display"] == list(DISPLAY_NO_BARCODE)
    assert answer["cart"] == {"items": 0, "total": "0.00"}


def test_a_photo_with_two_different_codes_is_refused_as_ambiguous(device_client, alice_cart):
    BarcodeFactory(gtin=EAN13_GTIN)
    BarcodeFactory(gtin=OTHER_GTIN)  # the store sells both: the photo cannot say which

    answer = check_answer(post_json(device_client, scan_body(image=b64(two_codes_photo()))))

    assert answer["result"] == "ambiguous"
    assert answer["beep"] == "error"
    assert answer["display"] == list(DISPLAY_AMBIGUOUS)
    assert answer["cart"] == {"items": 0, "total": "0.00"}
    assert not CartLine.objects.exists()
    event = ScanEvent.objects.get()
    assert (event.result, event.code, event.gtin) == ("ambiguous", f"{EAN13} {OTHER_EAN13}", "")


def test_two_codes_of_which_the_store_sells_one_add_that_one(device_client, alice_cart, product):
    answer = check_answer(post_json(device_client, scan_body(image=b64(two_codes_photo()))))

    assert (answer["result"], answer["product"]["id"]) == ("added", product.pk)
    assert CartLine.objects.get().product == product


def test_two_codes_the_store_does_not_sell_are_refused_and_not_recorded(device_client, alice_cart):
    answer = check_answer(post_json(device_client, scan_body(image=b64(two_codes_photo()))))

    assert answer["result"] == "ambiguous"
    assert not UnknownCode.objects.exists()  # neither code was read alone


def test_a_code_only_one_photo_variant_reads_is_not_added(device_client, alice_cart, product):
    # Bars three pixels tall at 45°: only zxing-cpp on the turned variant reads them, and
    # nothing confirms that read (pyzbar sees the bars on too few lines).
    code = ean13_image()
    photo = ImageOps.expand(code.resize((code.width, 3)), 10, fill=255).rotate(
        45, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=255
    )
    data = encoded(photo)
    sightings = decode_image_timed(data).sightings
    assert {(s.reader, s.image, s.code.gtin) for s in sightings} == {
        ("zxing-cpp", "turned 45°", EAN13_GTIN)
    }, "the photo no longer tests a read from one variant alone"

    answer = check_answer(post_json(device_client, scan_body(image=b64(data))))

    assert answer["result"] == "no_barcode"
    assert not CartLine.objects.exists()


def test_a_code_failing_its_check_digit_answers_no_barcode(device_client, alice_cart, product):
    assert scan_code(device_client, EAN13[:-1] + "2")["result"] == "no_barcode"
    assert not CartLine.objects.exists()


def test_an_unpaired_device_answers_not_paired_and_touches_no_cart(device_client, alice, product):
    answer = scan_code(device_client)

    assert answer["result"] == "not_paired"
    assert answer["display"] == list(DISPLAY_UNPAIRED)
    assert answer["cart"] is None
    assert not CartLine.objects.exists()


def test_long_product_names_are_cut_to_the_display_width(device_client, alice_cart, product):
    product.name = "Organic wholegrain spelt crackers with sea salt"
    product.save()

    answer = scan_code(device_client)

    assert answer["display"][0] == "+1 Organic whole"


# --- Idempotency --------------------------------------------------------------------------------


def test_the_same_scan_sent_again_answers_200_with_the_stored_answer_and_adds_once(
    device_client, alice_cart, product
):
    body = scan_body(code=EAN13, symbology="EAN13")
    first = check_answer(post_json(device_client, body), 201)

    again = check_answer(post_json(device_client, body), 200)

    assert again == first
    assert CartLine.objects.get(cart=alice_cart).quantity == 1
    assert ScanEvent.objects.count() == 1


def test_a_scan_id_reused_with_another_body_answers_409(device_client, alice_cart, product):
    body = scan_body(code=EAN13, symbology="EAN13")
    post_json(device_client, body)

    response = post_json(device_client, {**body, "mode": "remove"})

    assert response.status_code == 409
    assert response.json() == refusal(response, ERROR_SCAN_ID_REUSED)
    assert CartLine.objects.get(cart=alice_cart).quantity == 1


def test_a_scan_id_reused_with_a_photo_that_cannot_be_read_answers_409(
    device_client, alice_cart, product
):
    body = scan_body(code=EAN13, symbology="EAN13")
    post_json(device_client, body)
    jpeg = encoded(ean13_image().convert("RGB"), "JPEG")

    photo = scan_body(scan_id=body["scan_id"], image=b64(jpeg[:40]))
    response = post_json(device_client, photo)

    assert response.status_code == 409
    assert response.json() == refusal(response, ERROR_SCAN_ID_REUSED)


def test_scan_ids_are_per_device(device_client, alice_cart, bob, product):
    other, other_client = client_for_new_device("Cart 2")
    device_pair(device=other, cart_pass=cart_pass_issue(user=bob))
    body = scan_body(code=EAN13, symbology="EAN13")

    check_answer(post_json(device_client, body), 201)
    check_answer(post_json(other_client, body), 201)

    assert CartLine.objects.filter(product=product).count() == 2


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_posts_of_one_scan_id_change_the_cart_once(device, device_key, alice):
    cart = device_pair(device=device, cart_pass=cart_pass_issue(user=alice)).cart
    BarcodeFactory(gtin=EAN13_GTIN)
    body = json.dumps(scan_body(code=EAN13, symbology="EAN13"))
    statuses: list[int] = []
    start = threading.Barrier(10)

    def send() -> None:
        client = Client(headers={"Authorization": f"Device {device_key}"})
        start.wait()
        try:
            statuses.append(client.post(URL, body, content_type="application/json").status_code)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=send) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] * 9 + [201]
    assert CartLine.objects.get(cart=cart).quantity == 1


# --- Protocol faults ----------------------------------------------------------------------------


BAD_SCANS = [
    pytest.param({"scan_id": "not-a-uuid"}, "scan_id", id="bad uuid"),
    pytest.param({"qty": 0}, "qty", id="qty 0"),
    pytest.param({"qty": 100}, "qty", id="qty 100"),
    pytest.param({"qty": "x"}, "qty", id="qty x"),
    pytest.param({"mode": "steal"}, "mode", id="unknown mode"),
    pytest.param({"image": "not base64!"}, "image", id="bad base64"),
]


@pytest.mark.parametrize(("change", "field"), BAD_SCANS)
def test_a_malformed_scan_is_refused_with_400_naming_the_field(
    device_client, alice_cart, change, field
):
    body = {**scan_body(code=EAN13, symbology="EAN13"), **change}
    if "image" in change:
        del body["code"]

    response = post_json(device_client, body)

    assert response.status_code == 400
    assert response.json()["detail"] == ERROR_SCAN_INVALID
    assert field in response.json()["errors"]
    assert not ScanEvent.objects.exists()


def test_bad_base64_says_so(device_client, alice_cart):
    response = post_json(device_client, scan_body(image="@@@"))

    assert response.json()["errors"]["image"] == [ERROR_BAD_BASE64]


@pytest.mark.parametrize(
    "fields", [{}, {"code": EAN13, "image": b64(b"x")}], ids=["neither", "both"]
)
def test_a_scan_needs_an_image_or_a_code(device_client, fields):
    response = post_json(device_client, scan_body(**fields))

    assert response.status_code == 400
    assert response.json()["errors"]["non_field_errors"] == [ERROR_IMAGE_OR_CODE]


def test_a_body_that_is_not_json_is_refused_with_400(device_client):
    response = post_json(device_client, "{not json")

    assert response.status_code == 400
    assert "detail" in response.json()


def test_a_json_list_is_refused_with_400(device_client):
    assert post_json(device_client, "[1, 2]").status_code == 400


def test_a_gif_is_refused_with_415(device_client, alice_cart):
    buffer = io.BytesIO()
    ean13_image().save(buffer, format="GIF")

    response = post_json(device_client, scan_body(image=b64(buffer.getvalue())))

    assert response.status_code == 415
    assert response.json() == refusal(response, ERROR_NOT_JPEG_OR_PNG)


def test_a_raw_gif_body_is_refused_with_415(device_client):
    response = device_client.post(URL, b"GIF89a", content_type="image/gif")

    assert response.status_code == 415
    assert "detail" in response.json()


def test_a_corrupt_jpeg_is_refused_with_415(device_client, alice_cart):
    jpeg = encoded(ean13_image().convert("RGB"), "JPEG")

    response = post_json(device_client, scan_body(image=b64(jpeg[:40])))

    assert response.status_code == 415
    assert response.json() == refusal(response, ERROR_NOT_JPEG_OR_PNG)


def test_a_body_over_512_kib_is_refused_with_413(device_client, alice_cart):
    body = scan_body(image=b64(b"\xff\xd8\xff" + b"\0" * (600 * 1024)))

    response = post_json(device_client, body)

    assert response.status_code == 413
    assert response.json() == refusal(response, ERROR_BODY_TOO_LARGE)
    assert len(json.dumps(body)) > SCAN_BODY_MAX


def test_an_image_claiming_too_many_pixels_is_refused_with_413(device_client, alice_cart):
    bomb = png_header(20000, 20000)

    response = post_json(device_client, scan_body(image=b64(bomb)))

    assert response.status_code == 413
    assert response.json() == refusal(response, ERROR_TOO_MANY_PIXELS.format(limit=MAX_PIXELS))
    assert not ScanEvent.objects.exists()


def test_an_anonymous_request_is_refused_with_401(client, alice_cart):
    response = post_json(client, scan_body(code=EAN13, symbology="EAN13"))

    assert response.status_code == 401
    assert not ScanEvent.objects.exists()


def test_a_shoppers_session_cannot_scan(alice_client, alice_cart):
    assert post_json(alice_client, scan_body(code=EAN13)).status_code == 401


def test_get_is_not_allowed(device_client):
    assert device_client.get(URL).status_code == 405


# --- The cart is seen ---------------------------------------------------------------------------


def device_writes(queries: CaptureQueriesContext) -> list[str]:
    """The UPDATE statements of devices_device among ``queries`` (any database's quoting)."""
    statements = [query["sql"] for query in queries.captured_queries]
    return [sql for sql in statements if sql.startswith("UPDATE") and "devices_device" in sql[:30]]


def seen_ago(device: Device, age: timedelta) -> datetime:
    """Make the device's last_seen_at ``age`` old, as if that much time had passed; return it.
    Only before the device's first request: the process then remembers the device as read
    (devices.key_cache), and time has to pass instead (``later``)."""
    moment = timezone.now() - age
    Device.objects.filter(pk=device.pk).update(last_seen_at=moment)
    return moment


def later(time_machine, age: timedelta) -> None:
    """Let ``age`` pass for Django's clock (the key cache's own clock stands still: its entry
    for the device, made by an earlier request, is still the one used)."""
    time_machine.move_to(timezone.now(), tick=True)
    time_machine.shift(age)


def test_a_scan_moves_the_devices_last_seen_so_a_scanning_cart_is_online(
    device_client, device, alice_cart, product
):
    assert device.last_seen_at is None

    scan_code(device_client)

    device.refresh_from_db()
    assert device.last_seen_at is not None
    assert timezone.now() - device.last_seen_at < timedelta(seconds=5)
    assert device.is_online


def test_a_request_within_30_s_of_the_last_write_writes_nothing_to_the_device(
    device_client, device, alice_cart, product
):
    before = seen_ago(device, LAST_SEEN_WRITE_INTERVAL - timedelta(seconds=1))

    with CaptureQueriesContext(connection) as queries:
        scan_code(device_client)

    assert device_writes(queries) == []
    assert Device.objects.get(pk=device.pk).last_seen_at == before


def test_a_request_30_s_after_the_last_write_moves_last_seen_again(
    device_client, device, alice_cart, product, time_machine
):
    scan_code(device_client)  # the device is now remembered by the process, as it was read
    before = Device.objects.get(pk=device.pk).last_seen_at
    later(time_machine, LAST_SEEN_WRITE_INTERVAL - timedelta(seconds=1))

    with CaptureQueriesContext(connection) as queries:
        scan_code(device_client)
    assert device_writes(queries) == []

    later(time_machine, timedelta(seconds=1))
    with CaptureQueriesContext(connection) as queries:
        scan_code(device_client)

    assert len(device_writes(queries)) == 1
    after = Device.objects.get(pk=device.pk).last_seen_at
    assert before is not None and after is not None
    assert after - before >= LAST_SEEN_WRITE_INTERVAL


REFUSED_AFTER_AUTHENTICATION = [
    pytest.param(lambda client: post_json(client, scan_body(qty=0, code=EAN13)), 400, id="400"),
    pytest.param(lambda client: post_json(client, "{not json"), 400, id="400 not JSON"),
    pytest.param(lambda client: client.get(URL), 405, id="405"),
    pytest.param(
        lambda client: client.post(URL, b"GIF89a", content_type="image/gif"), 415, id="415"
    ),
]


@pytest.mark.parametrize(("send", "status"), REFUSED_AFTER_AUTHENTICATION)
def test_a_refused_request_with_a_good_key_still_moves_last_seen(
    device_client, device, send, status
):
    assert send(device_client).status_code == status

    device.refresh_from_db()
    assert device.last_seen_at is not None


def test_a_throttled_request_still_moves_last_seen(device_client, device, settings, time_machine):
    settings.DEVICE_THROTTLE_RATE = "1/min"
    cache.clear()  # throttle history of earlier tests, whose devices may have had the same id
    assert device_client.get(URL).status_code == 405
    before = Device.objects.get(pk=device.pk).last_seen_at
    later(time_machine, LAST_SEEN_WRITE_INTERVAL)

    assert device_client.get(URL).status_code == 429

    device.refresh_from_db()
    assert before is not None and device.last_seen_at is not None
    assert device.last_seen_at > before


def test_a_bad_key_moves_no_last_seen(device, device_key, alice_cart, product):
    forged_key = device_key[:-4] + ("BBBB" if device_key.endswith("AAAA") else "AAAA")
    forged = Client(headers={"Authorization": f"Device {forged_key}"})

    with CaptureQueriesContext(connection) as queries:
        assert post_json(forged, scan_body(code=EAN13, symbology="EAN13")).status_code == 401

    assert device_writes(queries) == []
    device.refresh_from_db()
    assert device.last_seen_at is None


# --- Cost ---------------------------------------------------------------------------------------


def statements(queries: CaptureQueriesContext) -> list[str]:
    """What each statement of ``queries`` is: its first word, and the table it writes."""
    kinds = []
    for query in queries.captured_queries:
        sql = " ".join(query["sql"].split())
        word = sql.split(" ", 1)[0].upper()
        if word in ("UPDATE", "INSERT", "DELETE"):
            word += " " + sql.split(" ")[2 if word != "UPDATE" else 1].strip('`"')
        elif word == "SELECT" and "FOR UPDATE" in sql.upper():
            word += " FOR UPDATE"
        kinds.append(word)
    return kinds


def test_a_scan_costs_a_fixed_number_of_queries(
    device_client, alice_cart, product, django_assert_max_num_queries
):
    scan_code(device_client)  # the line exists and the key is known: the common case

    # The product; BEGIN; the pairing and its cart locked (one statement); the lines; the
    # line's UPDATE; the cart's version and scan notice (one UPDATE); the scan stored with
    # its answer; COMMIT. The device comes from the process's memory of its key.
    with django_assert_max_num_queries(8) as queries:
        assert scan_code(device_client)["result"] == "added"

    lock = "SELECT FOR UPDATE" if connection.features.has_select_for_update else "SELECT"
    kinds = statements(queries)
    begin = next(i for i, kind in enumerate(kinds) if kind.startswith(("BEGIN", "SAVEPOINT")))
    assert kinds[begin + 1 :] == [
        lock,
        "SELECT",
        "UPDATE carts_cartline",
        "UPDATE carts_cart",
        "INSERT devices_scanevent",
        kinds[-1],  # COMMIT, or the test's RELEASE SAVEPOINT
    ]


@pytest.mark.parametrize("line_count", [1, 30])
def test_a_scans_queries_do_not_grow_with_the_carts_lines(
    device_client, alice_cart, product, line_count, django_assert_max_num_queries
):
    for _ in range(line_count - 1):
        BarcodeFactory(product=ProductFactory(stock=5))
    codes = [barcode.gtin[1:] for barcode in BarcodeFactory._meta.model.objects.all()]
    for code in codes:
        scan_code(device_client, code)
    assert CartLine.objects.filter(cart=alice_cart).count() == line_count

    with django_assert_max_num_queries(8):
        assert scan_code(device_client)["cart"]["items"] == line_count + 1


def test_the_first_request_of_a_device_in_a_process_reads_its_key(
    device_client, alice_cart, product, django_assert_max_num_queries
):
    scan_code(device_client)
    device_keys_forget_all()  # a new web process, or the key's few seconds are up

    with django_assert_max_num_queries(9):  # the 8 above, and the device
        assert scan_code(device_client)["result"] == "added"


def test_a_scan_that_moves_last_seen_costs_one_query_more(
    device_client, device, alice_cart, product, django_assert_max_num_queries, time_machine
):
    scan_code(device_client)
    later(time_machine, LAST_SEEN_WRITE_INTERVAL)

    # The common case above, and the device's last_seen_at written (once every 30 s at most).
    with django_assert_max_num_queries(9):
        assert scan_code(device_client)["result"] == "added"


# --- The lean path -------------------------------------------------------------------------------


def test_no_drf_request_handling_runs_for_a_scan(device_client, alice_cart, product, monkeypatch):
    def not_on_the_scan_path(*args, **kwargs):
        raise AssertionError("DRF request handling ran")

    for name in ("initialize_request", "initial", "finalize_response", "handle_exception"):
        monkeypatch.setattr(APIView, name, not_on_the_scan_path)
    monkeypatch.setattr(ScanCreateApi.InputSerializer, "is_valid", not_on_the_scan_path)

    assert scan_code(device_client)["result"] == "added"
    jpeg = encoded(ean13_image().convert("RGB"), "JPEG")
    headers = {"X-Scan-Id": str(uuid.uuid4()), "X-Scan-Mode": "add", "X-Scan-Qty": "2"}
    response = device_client.post(URL, jpeg, content_type="image/jpeg", headers=headers)
    assert check_answer(response)["result"] == "added"


WELL_FORMED = [
    pytest.param({"code": EAN13, "symbology": "EAN13"}, id="code"),
    pytest.param({"code": EAN13}, id="code without symbology"),
    pytest.param({"code": EAN13, "symbology": "", "mode": "remove", "qty": 99}, id="remove 99"),
    pytest.param({"image": b64(b"\x89PNG\r\n\x1a\n")}, id="image"),
    pytest.param({"code": EAN13, "scan_id": "{7D0F8A52-1C1E-4B0E-9A43-5B8F8E3D2C11}"}, id="braces"),
    pytest.param({"code": EAN13, "scan_id": "7d0f8a521c1e4b0e9a435b8f8e3d2c11"}, id="no dashes"),
    pytest.param({"code": EAN13, "extra": [1, 2]}, id="unknown field"),
]


@pytest.mark.parametrize("fields", WELL_FORMED)
def test_a_well_formed_scan_is_read_as_the_serializer_reads_it(fields):
    body = {**scan_body(), **fields}

    serializer = ScanCreateApi.InputSerializer(data=body)

    assert serializer.is_valid(), serializer.errors
    assert _scan_fields(body, raw=False) == dict(serializer.validated_data)


NOT_PLAINLY_WELL_FORMED = [
    pytest.param({"qty": "2"}, id="qty as text"),
    pytest.param({"qty": 2.0}, id="qty as float"),
    pytest.param({"qty": True}, id="qty as boolean"),
    pytest.param({"code": " 4006381333931 "}, id="code to trim"),
    pytest.param({"code": ""}, id="code empty"),
    pytest.param({"code": "x" * 129}, id="code too long"),
    pytest.param({"code": "a\x00b"}, id="code with NUL"),
    pytest.param({"symbology": "E" * 17}, id="symbology too long"),
    pytest.param({"scan_id": "not-a-uuid"}, id="bad uuid"),
    pytest.param({"scan_id": 12}, id="uuid as number"),
    pytest.param({"mode": "ADD"}, id="mode in capitals"),
    pytest.param({"image": "not base64!"}, id="bad base64"),
]


@pytest.mark.parametrize("change", NOT_PLAINLY_WELL_FORMED)
def test_anything_else_is_left_to_the_serializer(change):
    body = {**scan_body(code=EAN13), **change}

    assert _scan_fields(body, raw=False) is None


def test_raw_headers_are_read_as_the_header_serializer_reads_them():
    fields = {"scan_id": str(uuid.uuid4()), "mode": "remove", "qty": "12"}

    serializer = ScanCreateApi.HeaderSerializer(data=fields)

    assert serializer.is_valid()
    assert _scan_fields(fields, raw=True) == dict(serializer.validated_data)
    assert _scan_fields({**fields, "qty": "+1"}, raw=True) is None
    assert _scan_fields({**fields, "qty": "100"}, raw=True) is None


def test_an_empty_body_of_any_type_is_a_scan_without_fields(device_client):
    response = device_client.post(URL, b"", content_type="image/gif")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"scan_id", "mode"}


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity"])
def test_json_numbers_that_are_no_json_are_refused(device_client, text):
    response = post_json(device_client, f'{{"scan_id": "x", "qty": {text}}}')

    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


def test_a_wrong_method_names_the_allowed_one(device_client):
    response = device_client.put(URL, "{}", content_type="application/json")

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json() == refusal(response, 'Method "PUT" not allowed.')


def test_answers_are_compact_utf8_json_as_drf_rendered_them(device_client, alice_cart, product):
    product.name = "Crème fraîche"
    product.save()

    response = post_json(device_client, scan_body(code=EAN13, symbology="EAN13"))

    assert response["Content-Type"] == "application/json"
    assert "Crème".encode() in response.content
    assert b'"result":"added"' in response.content


def test_the_schema_documents_the_scan_endpoint(client):
    schema = yaml.safe_load(client.get(reverse("api-schema")).content)

    validate_schema(schema)
    operation = schema["paths"]["/api/devices/v1/scans/"]["post"]
    assert "application/json" in operation["requestBody"]["content"]
    assert set(operation["responses"]) >= {"200", "201", "400", "409", "413"}
