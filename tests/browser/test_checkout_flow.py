"""The whole purchase in a real Chromium: scan, pay with a test card, get the exit QR by email,
and have staff check it at the door, once.

Everything is real except SMTP (Django's test outbox): the shopper signs in on the sign-in
form; a registered cart device pairs by photographing the shopper's cart pass and scans two
products through the device API over HTTP; the shopper checks out and pays on the built-in
test gateway's page (its signed webhook goes through the same processing Stripe's would); the
confirmation email's inline QR image is decoded with zxing-cpp; a store clerk types the
decoded text into the exit check page and sees it accepted, then refused when used again.

The exit check's camera button is tried too, with stand-ins for the camera and the browser's
BarcodeDetector (headless Chromium on Linux has neither).
"""

import base64
from decimal import Decimal

import pytest
import zxingcpp
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from carts.services import cart_pass_issue
from devices.decoding import image_open
from orders.exit_codes import PREFIX, exit_code_for, exit_code_read
from orders.models import Order
from orders.services.exits import ERROR_ALREADY_USED, MESSAGE_OK
from shopcart.core.money import money_format
from shopcart.core.qr import qr_png
from tests.browser.conftest import PHONE, is_png
from tests.browser.support import device_scan
from tests.factories import BarcodeFactory, ProductFactory, valid_gtin13
from tests.orders.factories import OrderLineFactory, PaidOrderFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's
CARD = "4242 4242 4242 4242"
RED = "rgb(180, 35, 24)"  # --red in static/css/site.css
GREEN_DARK = "rgb(8, 82, 44)"  # --green-dark


def sign_in_with_form(page, live_server, user) -> None:
    page.goto(live_server.url + reverse("account_login"))
    page.locator("input[name=login]").fill(user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url + reverse("catalog:home"))
    expect(page.locator(f"form[action='{reverse('account_logout')}']").first).to_be_attached()


def sign_in_with_session(page, live_server, user) -> None:
    """Give the page's browser a session of ``user`` (made by Client.force_login)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def exit_qr_png_from(message) -> bytes:
    """The inline PNG the confirmation's HTML shows, checked to be the one it refers to."""
    parsed = message.message()
    html = next(
        part.get_payload(decode=True).decode()
        for part in parsed.walk()
        if part.get_content_type() == "text/html"
    )
    [image] = [part for part in parsed.walk() if part.get_content_type() == "image/png"]
    assert f"cid:{image['Content-ID'].strip('<>')}" in html
    return image.get_payload(decode=True)


def test_scan_pay_receive_the_exit_qr_and_pass_the_exit_once(
    live_server, new_page, alice, clerk, device_key, tmp_path
):
    EmailAddress.objects.create(user=alice, email=alice.email, verified=True, primary=True)
    milk, bread = valid_gtin13(901), valid_gtin13(902)  # EAN-13, as a scanner reads them
    for ean, name, price in ((milk, "Oat milk", "2.00"), (bread, "Rye bread", "3.50")):
        BarcodeFactory(gtin=ean.zfill(14), product=ProductFactory(name=name, price=Decimal(price)))
    total = money_format(Decimal("7.50"))

    # The shopper signs in on their phone.
    shopper = new_page(**PHONE)
    sign_in_with_form(shopper, live_server, alice)

    # In the store: the cart photographs the shopper's pass, then scans two milks and a bread.
    pass_photo = qr_png(cart_pass_issue(user=alice).text)
    paired = device_scan(live_server, device_key, image=base64.b64encode(pass_photo).decode())
    assert paired["result"] == "paired"
    for ean, qty in ((milk, 2), (bread, 1)):
        answer = device_scan(live_server, device_key, code=ean, symbology="EAN13", qty=qty)
        assert answer["result"] == "added", answer

    # The cart page shows the scans; checkout; pay with the test card.
    shopper.goto(live_server.url + reverse("carts:detail"))
    expect(shopper.get_by_role("link", name="Oat milk")).to_be_visible()
    expect(shopper.locator("[data-cart-total]")).to_have_text(total)
    shopper.locator("[data-checkout-link]").click()
    expect(shopper).to_have_url(live_server.url + reverse("orders:checkout"))
    shopper.locator("[data-pay]").click()
    expect(shopper.locator("[data-test-pay]")).to_be_visible()
    shopper.get_by_label("Card number").fill(CARD)
    shopper.locator("input[autocomplete=cc-exp]").fill("12 / 34")
    shopper.locator("input[autocomplete=cc-csc]").fill("123")
    shopper.locator("[data-test-pay]").click()

    # The success page: paid, with the exit QR.
    expect(shopper.locator("[data-payment-state=paid]")).to_be_visible()
    order = Order.objects.get(user=alice)
    assert order.status == Order.Status.PAID
    assert order.total == Decimal("7.50")
    shopper.screenshot(path=tmp_path / "paid.png", full_page=True)

    # The history (through the header's link) and the order page show it, QR included.
    shopper.get_by_text("Menu").click()
    shopper.locator(".menu__panel").get_by_role("link", name="Orders").click()
    shopper.get_by_role("link", name=order.number).click()
    qr = shopper.locator("[data-exit-qr]")
    expect(qr).to_be_visible()
    # Loaded, not merely laid out: the PNG answered and decoded in the browser.
    # (A function, not an expression: the site's Content-Security-Policy forbids eval.)
    shopper.wait_for_function("() => document.querySelector('[data-exit-qr]').naturalWidth > 0")

    # The confirmation email carries the exit QR; decode the image itself.
    [confirmation] = [message for message in mail.outbox if order.number in message.subject]
    assert confirmation.to == [alice.email]
    png = exit_qr_png_from(confirmation)
    emailed = tmp_path / "exit-qr.png"
    emailed.write_bytes(png)
    assert is_png(emailed)
    [decoded] = zxingcpp.read_barcodes(image_open(png))
    code = decoded.text
    assert code.startswith(PREFIX)
    claim = exit_code_read(code)
    assert claim is not None and claim.number == order.number

    # At the door: a clerk types the decoded code and the order is let out...
    door = new_page()
    sign_in_with_session(door, live_server, clerk)
    door.goto(live_server.url + reverse("orders_staff:exit_check"))
    expect(door.get_by_label("Exit code")).to_be_focused()
    door.get_by_label("Exit code").fill(code)
    door.get_by_role("button", name="Check", exact=True).click()
    verdict = door.locator(".exit-result__verdict")
    expect(verdict).to_have_text(MESSAGE_OK)
    expect(verdict).to_have_css("color", GREEN_DARK)
    expect(door.locator("[data-exit-result=ok]")).to_contain_text("Oat milk")
    expect(door.locator("[data-exit-result=ok]")).to_contain_text(total)
    door.screenshot(path=tmp_path / "exit-ok.png", full_page=True)

    # ...and the same code a second time is refused, in red.
    door.get_by_label("Exit code").fill(code)
    door.get_by_role("button", name="Check", exact=True).click()
    expect(verdict).to_contain_text(ERROR_ALREADY_USED.format(time=""))
    expect(verdict).to_have_css("color", RED)
    expect(door.locator("[data-exit-result=already_used]")).not_to_contain_text("Oat milk")
    refused = tmp_path / "exit-refused.png"
    door.screenshot(path=refused, full_page=True)
    assert is_png(refused)

    order.refresh_from_db()
    assert order.exited_at is not None
    assert order.exit_checked_by == clerk


# Chromium on Linux has no BarcodeDetector, and a headless one no camera: stand-ins for both,
# installed before the page's script runs. The "camera" is a canvas stream; the "detector"
# sees the code the test puts in window.codeInView.
FAKE_CAMERA_AND_DETECTOR = """
window.BarcodeDetector = class {
  static async getSupportedFormats() { return ["qr_code", "ean_13"]; }
  constructor(options) { window.detectorFormats = options.formats; }
  async detect(video) {
    if (!(video instanceof HTMLVideoElement) || !video.srcObject) throw new Error("no video");
    return window.codeInView ? [{ rawValue: window.codeInView, format: "qr_code" }] : [];
  }
};
navigator.mediaDevices.getUserMedia = async (constraints) => {
  window.cameraConstraints = constraints;
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 64;
  canvas.getContext("2d").fillRect(0, 0, 64, 64);
  return canvas.captureStream();
};
"""


def test_the_exit_check_reads_the_code_with_the_camera_where_the_browser_can(
    live_server, new_page, alice, clerk, tmp_path
):
    order = PaidOrderFactory(user=alice, subtotal=Decimal("4.00"))
    OrderLineFactory(order=order, product_name="Oat milk", unit_price=Decimal("4.00"))
    door = new_page(**PHONE)
    door.add_init_script(FAKE_CAMERA_AND_DETECTOR)
    sign_in_with_session(door, live_server, clerk)

    door.goto(live_server.url + reverse("orders_staff:exit_check"))
    door.get_by_role("button", name="Scan with camera").click()
    expect(door.locator("[data-exit-camera] video")).to_be_visible()
    assert door.evaluate("window.cameraConstraints.video.facingMode") == "environment"
    assert door.evaluate("window.detectorFormats") == ["qr_code"]
    door.screenshot(path=tmp_path / "exit-camera.png", full_page=True)
    door.evaluate("code => { window.codeInView = code; }", exit_code_for(order))

    expect(door.locator(".exit-result__verdict")).to_have_text(MESSAGE_OK)
    expect(door.locator("[data-exit-result=ok]")).to_contain_text("Oat milk")
    order.refresh_from_db()
    assert order.exited_at is not None


def test_the_camera_button_stays_hidden_where_the_browser_cannot_read_codes(
    live_server, page, clerk
):
    sign_in_with_session(page, live_server, clerk)

    page.goto(live_server.url + reverse("orders_staff:exit_check"))

    assert page.evaluate("'BarcodeDetector' in window") is False
    expect(page.locator("[data-exit-camera-start]")).to_be_hidden()
    expect(page.get_by_label("Exit code")).to_be_focused()
