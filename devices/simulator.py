"""A cart that speaks protocol v1 exactly as the firmware will (``manage.py simulate_cart``).

Everything here works without a server: the HTTP transport is a parameter (a real one built on
``urllib.request``, a scripted one in tests), and so are the clock and the dice.

The firmware's rules, mirrored here:

- every scan gets a new uuid4 ``scan_id``; a retry sends the same bytes again, scan_id included,
  so the server adds the product once however often the request goes out;
- transport errors, 408, 429 and 5xx are retried with capped, jittered exponential backoff (a
  429's or 503's ``Retry-After`` wins); 2xx and 409 end the scan; any other 4xx is a bug or a bad
  key and stops the run.

Size: kept in one module: the simulated cart end to end (transport, retries, display, the demo
run), as the firmware's core is one program.
"""

import json
import random
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

SCAN_PATH = "/api/devices/v1/scans/"
HEARTBEAT_PATH = "/api/devices/v1/heartbeat/"
KEY_ENV = "SMARTCART_DEVICE_KEY"
USER_AGENT = "smartcart-simulator/1"
TIMEOUT_SECONDS = 10.0
PASS_SYMBOLOGY = "QRCODE"  # noqa: S105 - a barcode format, not a password
# What a phone or camera saves; anything Pillow opens is re-encoded as the cart's JPEG.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")
SYMBOLOGY_BY_LENGTH = {13: "EAN13", 12: "UPCA", 8: "EAN8"}
RETRY_AFTER_MAX = 60.0  # seconds; a larger Retry-After is not believed
# A refusal that no other photo would escape: the key or the device is wrong.
PHOTO_REFUSALS_STOPPING = frozenset({401, 403})

ERROR_NO_KEY = f"No device key: pass --key or set {KEY_ENV}."
ERROR_GAVE_UP = "Gave up on scan {scan_id} after {attempts} attempts: {last}."
ERROR_REFUSED = "The server refused the scan with {status}: {detail}"
ERROR_NOT_RUNNING = "No server answers at {server}: start it with make run."
ERROR_NO_IMAGES = "No photos (.jpg, .png, .webp, .bmp, .gif, .tif) in {directory}."
ERROR_PHOTO_UNREADABLE = "{name} is not an image that can be opened: skipped."
ERROR_BAD_CODE = "“{code}” is not CODE or CODE:SYMBOLOGY."


def default_server() -> str:
    """The store this machine runs: ``SITE_URL``, which follows ``make run``'s HOST and PORT."""
    from django.conf import settings

    return str(settings.SITE_URL).rstrip("/")


class SimulatorError(Exception):
    """The run cannot go on; the message is for the person at the terminal."""


class PhotoUnreadable(SimulatorError):
    """A file in the photo folder is no image: it is reported and the run goes on."""


class ScanRefused(SimulatorError):
    """The server refused one scan with a 4xx (not a retry, not a conflict)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class TransportError(Exception):
    """The request got no HTTP answer (connection refused, reset, timed out)."""


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


class Transport(Protocol):
    def __call__(self, url: str, *, headers: dict[str, str], body: bytes) -> HttpAnswer: ...


def urllib_transport(url: str, *, headers: dict[str, str], body: bytes) -> HttpAnswer:
    """POST ``body`` to ``url`` (``http_exchange``)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    return http_exchange(request)


def http_exchange(request: urllib.request.Request) -> HttpAnswer:
    """Send ``request``; any HTTP status is an answer, no answer is ``TransportError``."""
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return HttpAnswer(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as exc:
        return HttpAnswer(exc.code, dict(exc.headers.items()), exc.read())
    except (urllib.error.URLError, OSError) as exc:
        raise TransportError(str(getattr(exc, "reason", exc))) from exc


# --- Retry policy -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    base: float = 0.5  # seconds before the second attempt
    factor: float = 2.0
    cap: float = 8.0  # no backoff wait is longer
    attempts: int = 6  # the first try included


def is_retryable(status: int | None) -> bool:
    """Whether a scan that got ``status`` (None: no answer at all) should be sent again."""
    return status is None or status in (408, 429) or status >= 500


def retry_delay(
    *,
    attempt: int,
    status: int | None,
    retry_after: str | None = None,
    jitter: float = 1.0,
    policy: RetryPolicy = RetryPolicy(),  # frozen: one shared default is safe
) -> float | None:
    """Seconds to wait before sending again after ``attempt`` (1-based) got ``status``.

    None means do not retry: the status ends the scan, or the attempts are used up. ``jitter``
    in [0, 1] scales the backoff between half and all of it, so carts that failed together do
    not come back together. A ``Retry-After`` in seconds, where given, is used as it is.
    """
    if not is_retryable(status) or attempt >= policy.attempts:
        return None
    server_says = _retry_after_seconds(retry_after)
    if server_says is not None:
        return server_says
    backoff = min(policy.cap, policy.base * policy.factor ** (attempt - 1))
    return backoff * (0.5 + 0.5 * jitter)


def _retry_after_seconds(value: str | None) -> float | None:
    # Only the delta-seconds form: the server sends nothing else (DRF's throttles).
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    if seconds is None or seconds < 0:
        return None
    return min(seconds, RETRY_AFTER_MAX)


# --- Requests ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanRequest:
    """One scan's bytes and headers, built once: every retry sends exactly these."""

    scan_id: str
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    label: str = ""  # what the terminal shows for it


def code_parse(argument: str) -> tuple[str, str]:
    """``CODE`` or ``CODE:SYMBOLOGY`` → (code, symbology); the symbology guessed by length."""
    code, _, symbology = argument.partition(":")
    code = code.strip()
    if not code:
        raise SimulatorError(ERROR_BAD_CODE.format(code=argument))
    if symbology:
        return code, symbology.strip().upper()
    guessed = SYMBOLOGY_BY_LENGTH.get(len(code), "") if code.isdigit() else ""
    return code, guessed


def scan_id_new() -> str:
    return str(uuid.uuid4())


def code_request(
    *, code: str, symbology: str, mode: str = "add", qty: int = 1, scan_id: str | None = None
) -> ScanRequest:
    scan_id = scan_id or scan_id_new()
    fields = {"scan_id": scan_id, "mode": mode, "qty": qty, "code": code, "symbology": symbology}
    label = "cart pass" if symbology == PASS_SYMBOLOGY else f"{code} ({symbology or '?'})"
    return ScanRequest(scan_id, _json_bytes(fields), "application/json", label=label)


def pass_request(*, text: str, scan_id: str | None = None) -> ScanRequest:
    return code_request(code=text, symbology=PASS_SYMBOLOGY, scan_id=scan_id)


def image_request(
    *, path: Path, mode: str = "add", qty: int = 1, scan_id: str | None = None
) -> ScanRequest:
    """The photo at ``path`` as the cart sends it: fitted into its frame and re-encoded as its
    JPEG (``devices.cart_photos``, whatever the file's format), the raw body with scan headers.

    Raises ``PhotoUnreadable`` when the file is no image Pillow can open.
    """
    from PIL import Image, UnidentifiedImageError

    from devices.cart_photos import cart_jpeg_from_bytes

    scan_id = scan_id or scan_id_new()
    try:
        data = cart_jpeg_from_bytes(path.read_bytes())
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise PhotoUnreadable(ERROR_PHOTO_UNREADABLE.format(name=path.name)) from exc
    headers = {"X-Scan-Id": scan_id, "X-Scan-Mode": mode, "X-Scan-Qty": str(qty)}
    return ScanRequest(scan_id, data, "image/jpeg", headers=headers, label=path.name)


def image_paths(directory: Path) -> list[Path]:
    paths = sorted(p for p in directory.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise SimulatorError(ERROR_NO_IMAGES.format(directory=directory))
    return paths


@dataclass
class PhotoTally:
    """What a folder of photos came to, for the line the run ends with."""

    sent: int = 0
    skipped: int = 0
    results: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        added = self.results["added"] + self.results["removed"]
        unknown = self.results["unknown_product"]
        others = self.sent - added - self.results["no_barcode"] - unknown
        return (
            f"Photos: {self.sent} sent, {added} added or removed, "
            f"{self.results['no_barcode']} not read, {unknown} unknown, {others} other, "
            f"{self.skipped} skipped."
        )


def heartbeat_body(*, firmware_version: str = "simulator", queue_depth: int = 0) -> bytes:
    return _json_bytes(
        {
            "firmware_version": firmware_version,
            "uptime_seconds": 0,
            "wifi_rssi": -50,
            "free_heap": 100_000,
            "queue_depth": queue_depth,
            "reset_reason": "power_on",  # every run of the simulator is a fresh start
            "free_psram": 0,
            "failed_captures": 0,
            "camera_ok": True,
        }
    )


def _json_bytes(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, separators=(",", ":")).encode()


# --- The cart -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanOutcome:
    request: ScanRequest
    status: int
    answer: Any
    attempts: int


@dataclass
class Cart:
    """The simulated cart: a server, a key, and how it waits, rolls dice and prints."""

    server: str
    key: str
    transport: Transport = urllib_transport
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random
    out: Callable[[str], None] = print
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    firmware_version: str = "simulator"  # a release's version (1.1.0) gets update offers

    def _headers(self, content_type: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {
            "Authorization": f"Device {self.key}",
            "Content-Type": content_type,
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **(extra or {}),
        }

    def _url(self, path: str) -> str:
        return self.server.rstrip("/") + path

    def heartbeat(self) -> HttpAnswer:
        """One heartbeat, not retried: ``SimulatorError`` when no server answers."""
        try:
            answer = self.transport(
                self._url(HEARTBEAT_PATH),
                headers=self._headers("application/json"),
                body=heartbeat_body(firmware_version=self.firmware_version),
            )
        except TransportError as exc:
            raise SimulatorError(ERROR_NOT_RUNNING.format(server=self.server)) from exc
        if answer.status != 200:
            raise SimulatorError(ERROR_REFUSED.format(status=answer.status, detail=_detail(answer)))
        self.out(f"heartbeat: {'paired' if answer.json()['paired'] else 'not paired'}")
        self.display(answer.json())
        return answer

    def scan(self, request: ScanRequest) -> ScanOutcome:
        """Send ``request`` until it is answered for good; print the cart's display."""
        self.out(f"scan {request.label} [{request.scan_id}]")
        headers = self._headers(request.content_type, request.headers)
        attempt = 0
        while True:
            attempt += 1
            status, retry_after, last = self._attempt(request, headers)
            if status is not None and not is_retryable(status):
                return self._finish(request, status, last, attempt)
            wait = retry_delay(
                attempt=attempt,
                status=status,
                retry_after=retry_after,
                jitter=self.jitter(),
                policy=self.policy,
            )
            failure = last if status is None else f"HTTP {status}"
            if wait is None:
                raise SimulatorError(
                    ERROR_GAVE_UP.format(scan_id=request.scan_id, attempts=attempt, last=failure)
                )
            self.out(f"  attempt {attempt}: {failure}; same scan_id again in {wait:.1f} s")
            self.sleep(wait)

    def _attempt(
        self, request: ScanRequest, headers: dict[str, str]
    ) -> tuple[int | None, str | None, Any]:
        try:
            answer = self.transport(self._url(SCAN_PATH), headers=headers, body=request.body)
        except TransportError as exc:
            return None, None, f"no answer ({exc})"
        return answer.status, _header(answer.headers, "Retry-After"), answer

    def _finish(
        self, request: ScanRequest, status: int, answer: HttpAnswer, attempts: int
    ) -> ScanOutcome:
        if status == 409:  # the scan_id was used for another scan: this one is dropped
            self.out(f"  409: {_detail(answer)} (scan dropped)")
            return ScanOutcome(request, status, answer.json(), attempts)
        if not 200 <= status < 300:
            raise ScanRefused(ERROR_REFUSED.format(status=status, detail=_detail(answer)), status)
        body = answer.json()
        self.display(body)
        return ScanOutcome(request, status, body, attempts)

    def display(self, answer: dict[str, Any]) -> None:
        for line in display_render(answer):
            self.out(line)

    def scan_all(self, requests: Iterable[ScanRequest], *, pause: float = 0.0) -> list[ScanOutcome]:
        outcomes = []
        for index, request in enumerate(requests):
            if index and pause:
                self.sleep(pause)
            outcomes.append(self.scan(request))
        return outcomes

    def scan_photos(
        self, paths: Iterable[Path], *, mode: str, qty: int, pause: float = 0.0
    ) -> PhotoTally:
        """Each photo as the cart sends it. A file that is no image, or a photo the server
        refuses (400, 413, 415), is reported and skipped; a bad key stops the run."""
        tally = PhotoTally()
        for index, path in enumerate(paths):
            if index and pause:
                self.sleep(pause)
            try:
                outcome = self.scan(image_request(path=path, mode=mode, qty=qty))
            except PhotoUnreadable as exc:
                self.out(str(exc))
                tally.skipped += 1
                continue
            except ScanRefused as exc:
                if exc.status in PHOTO_REFUSALS_STOPPING:
                    raise
                self.out(f"  {exc} ({path.name} skipped)")
                tally.skipped += 1
                continue
            tally.sent += 1
            tally.results[str(outcome.answer.get("result", ""))] += 1
        return tally


def display_render(answer: dict[str, Any]) -> list[str]:
    """The cart's OLED as text: its two lines in a box, then the result and the beep."""
    lines = [str(line) for line in answer.get("display") or []]
    width = max([16, *(len(line) for line in lines)])
    box = [f"  +{'-' * (width + 2)}+"]
    box += [f"  | {line:<{width}} |" for line in lines]
    box.append(box[0])
    extras = [f"{name}={answer[name]}" for name in ("result", "beep") if answer.get(name)]
    if extras:
        box.append("  " + " ".join(extras))
    return box


def _header(headers: dict[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def _detail(answer: HttpAnswer) -> str:
    body = answer.json()
    if isinstance(body, dict) and "detail" in body:
        errors = body.get("errors")
        return f"{body['detail']} {errors}" if errors else str(body["detail"])
    return answer.body[:200].decode("utf-8", "replace")


# --- The demo -----------------------------------------------------------------------------------

DEMO_DEVICE_NAME = "Demo cart"
DEMO_PRODUCT_COUNT = 5
DEMO_PAUSE_SECONDS = 2.0

ERROR_DEMO_IN_PRODUCTION = "--demo is for a development machine; it refuses to run in production."
ERROR_DEMO_NO_SHOPPER = "The demo shopper {email} does not exist: run make run first."
ERROR_DEMO_NO_PRODUCTS = "No active, in-stock products with barcodes: run make run first."
MESSAGE_DEMO_KEY_ROTATED = (
    "Rotated the key of “{name}” to get a usable one (keys are stored hashed); "
    "the previous key keeps working for the rotation grace."
)
MESSAGE_DEMO_REGISTERED = "Registered the device “{name}”."


@dataclass(frozen=True)
class DemoSetup:
    key: str
    pass_text: str
    codes: list[tuple[str, str]]  # (printed code, symbology)
    notes: list[str]


def demo_prepare(*, product_count: int = DEMO_PRODUCT_COUNT) -> DemoSetup:
    """From the local database: the demo cart's key, alice's cart pass, a few products' codes.

    Refuses in production. Rotates the demo device's key when it exists, since only a hash of
    the old one is stored.
    """
    from django.conf import settings
    from django.contrib.auth.models import User

    from carts.services import cart_pass_issue
    from catalog.demo_data import DEMO_SHOPPER_EMAIL
    from catalog.models import Product
    from devices.models import Device
    from devices.services import DeviceError, device_register, device_rotate_key

    if settings.PRODUCTION:
        raise SimulatorError(ERROR_DEMO_IN_PRODUCTION)
    shopper = User.objects.filter(username=DEMO_SHOPPER_EMAIL).first()
    if shopper is None:
        raise SimulatorError(ERROR_DEMO_NO_SHOPPER.format(email=DEMO_SHOPPER_EMAIL))
    products = (
        Product.objects.active()
        .in_stock()
        .filter(barcodes__isnull=False)
        .prefetch_related("barcodes")
        .distinct()
        .order_by("pk")[:product_count]
    )
    codes = [_printed_code(product.barcodes.all()[0].gtin) for product in products]
    if not codes:
        raise SimulatorError(ERROR_DEMO_NO_PRODUCTS)
    device = Device.objects.filter(name=DEMO_DEVICE_NAME).first()
    if device is None:
        device, key = device_register(name=DEMO_DEVICE_NAME)
        note = MESSAGE_DEMO_REGISTERED.format(name=device.name)
    else:
        try:
            key = device_rotate_key(device=device)
        except DeviceError as exc:
            raise SimulatorError(str(exc)) from exc
        note = MESSAGE_DEMO_KEY_ROTATED.format(name=device.name)
    pass_text = cart_pass_issue(user=shopper).text
    return DemoSetup(key=key, pass_text=pass_text, codes=codes, notes=[note])


def _printed_code(gtin: str) -> tuple[str, str]:
    """The code as a scanner module reads it off the pack, for a stored GTIN-14."""
    digits = gtin.lstrip("0")
    if len(digits) <= 8:
        return digits.zfill(8), "EAN8"
    return gtin[-13:], "EAN13"
