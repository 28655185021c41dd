"""The README's screenshots of the demo store: ``make screenshots`` runs this file.

    .venv/bin/python docs/screenshots.py                  # writes docs/screenshots/*.png
    .venv/bin/python docs/screenshots.py --out /tmp/shots # somewhere else (CI does)
    .venv/bin/python docs/screenshots.py --verify DIR     # every shot there, each a valid PNG

What it does, all in its own temporary directory (``var/`` is never read or written):

1. ``migrate`` and ``load_demo_store`` into a SQLite file of its own, with its own mail folder,
   media and static roots, secret key, the in-process Celery and the test payment gateway,
   whatever the shell or a ``.env`` file says about those (``store_env``);
2. ``manage.py runserver --noreload`` on a free loopback port in the background, stopped by its
   pid at the end, also when a step fails;
3. the machine's Chromium (never a downloaded one; found as the browser tests find it), driven by
   Playwright through what a shopper and staff do: the shop and a product page, alice's cart
   while ``simulate_cart --demo`` scans into it, checkout, paying with the test card, the paid
   page and the order page with the exit QR, staff signing in with the demo TOTP code and
   checking that QR's code (read from the confirmation email) at ``/staff/exit/``, and the
   admin's "Store today";
4. the PNGs (``SHOTS``), made smaller with Pillow, replace those in the output folder only when
   every shot was taken.

Each step prints a line; a failing one is named, with the end of the server's log, and the exit
status is 1. The pictures need not match from one run to the next (times, order numbers).

Size: kept in one file: it is a script a reader follows from the store's set-up to the last
shot, and no other module uses its steps.
"""

import argparse
import email
import email.policy
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PIL import Image
from playwright.sync_api import Browser, Page, expect, sync_playwright

BASE_DIR = Path(__file__).resolve().parent.parent
OUT_DEFAULT = BASE_DIR / "docs" / "screenshots"
HOST = "127.0.0.1"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}
TIMEOUT_MS = 20_000  # any one wait in the browser: the machine may be busy
SERVER_START_TIMEOUT_S = 120
COMMAND_TIMEOUT_S = 600
MAIL_TIMEOUT_S = 30
LOG_TAIL_LINES = 30

# As tests/browser/conftest.py: CHROMIUM_PATH, then these on the PATH, then the fallback.
CHROMIUM_NAMES = ("chromium", "chromium-browser")
CHROMIUM_FALLBACK = "/usr/bin/chromium"
# Headless, possibly as root, with the network closed: nothing may phone home or wait for a GPU.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

TEST_CARD = "4242 4242 4242 4242"
TEST_CARD_EXPIRY = "12 / 34"
TEST_CARD_CVC = "123"
PRODUCT_SLUG = "bananas"  # catalog/demo_data.py; has suggestions beside it
# A TOTP code is checked within the 30 s period it was made for: closer to the period's end than
# this, wait for the next one, so filling in the form cannot outlast it.
TOTP_MARGIN_S = 5.0

# Every picture, by file name, and what it shows. The README shows them; --verify checks them.
SHOTS: dict[str, str] = {
    "shop-phone.png": "the shop's home page on a phone, signed in as alice",
    "shop-desktop.png": "the shop's home page on a desktop",
    "product-phone.png": "a product page on a phone",
    "product-desktop.png": "a product page on a desktop, with what is often bought with it",
    "cart-live-phone.png": "alice's cart filling live as the simulated cart scans: 'Added: ...'",
    "cart-live-desktop.png": "the same cart on a desktop, at the same moment",
    "checkout-phone.png": "the checkout page",
    "pay-phone.png": "the test gateway's card page with the test card typed in",
    "paid-phone.png": "paid: the thank-you page with the exit QR",
    "receipt-phone.png": "the order's page under Orders: paid, with the exit QR",
    "exit-check-desktop.png": "staff's exit check of that order's code: OK, and an audit",
    "admin-today-desktop.png": "the admin's Store today dashboard",
}


class StepFailed(Exception):
    """A step of the run failed; the message names the step and says why."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{step}: {reason}")
        self.step = step


_started = time.monotonic()


def progress(message: str) -> None:
    print(f"[{time.monotonic() - _started:6.1f}s] {message}", flush=True)


@contextmanager
def step(name: str) -> Iterator[None]:
    """Announce ``name``; any exception inside becomes ``StepFailed`` naming it."""
    progress(name)
    try:
        yield
    except StepFailed:
        raise
    except Exception as exc:
        raise StepFailed(name, f"{type(exc).__name__}: {exc}") from exc


# --- The store's own state and processes ----------------------------------------------------


def free_port(host: str = HOST) -> int:
    """A TCP port nothing listens on now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def store_env(state: Path, port: int, *, base: Mapping[str, str]) -> dict[str, str]:
    """The environment of the store and its commands: ``base`` with every path in ``state``.

    Also pins what would change the run or reach outside the machine: the embedded mode's
    in-process Celery and cache, emails as files, the test payment gateway, no AI tips, and
    exit audits only for a shopper's first order (always), none at random.
    ``.env`` only fills variables that are not set, and these all are.
    """
    return {
        **base,
        "DJANGO_SETTINGS_MODULE": "shopcart.settings",
        "SMARTCART_MODE": "embedded",
        "DEBUG": "true",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": f"sqlite:///{state / 'smartcart.sqlite3'}",
        "EMAIL_FILE_PATH": str(state / "mail"),
        "MEDIA_ROOT": str(state / "media"),
        "STATIC_ROOT": str(state / "static"),
        "HOST": HOST,
        "PORT": str(port),
        "SITE_URL": f"http://{HOST}:{port}",
        "ALLOWED_HOSTS": f"{HOST},localhost",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "EMAIL_HOST": "",
        "STRIPE_SECRET_KEY": "",
        "PAYMENT_GATEWAY": "test",
        "AI_TIPS_BASE_URL": "",
        "AI_TIPS_MODEL": "",
        "SENTRY_DSN": "",
        "EXIT_AUDIT_SHARE": "0",
    }


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    text = path.read_text(errors="replace") if path.is_file() else ""
    return "\n".join(text.splitlines()[-lines:])


def manage(args: list[str], *, env: Mapping[str, str], log: Path) -> None:
    """Run ``manage.py args`` to its end, its output appended to ``log``; raise if it fails."""
    with log.open("a") as out:
        done = subprocess.run(  # noqa: S603 - our interpreter and manage.py, our arguments
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(
            f"manage.py {args[0]} exited with {done.returncode}; the end of {log}:\n{log_tail(log)}"
        )


def manage_start(args: list[str], *, env: Mapping[str, str], log: Path) -> subprocess.Popen:
    """Start ``manage.py args`` in the background, its output to ``log``."""
    with log.open("a") as out:
        return subprocess.Popen(  # noqa: S603 - as in manage()
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def process_stop(process: subprocess.Popen, *, grace_s: float = 10.0) -> None:
    """Stop ``process`` (only it, by its pid): SIGTERM, then SIGKILL after ``grace_s``."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def store_ready(port: int) -> bool:
    """Whether the store at ``port`` answers ``/readyz`` (database reachable) with 200."""
    # http.client rather than urllib: a proxy set in the environment must not get in the way.
    connection = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        connection.request("GET", "/readyz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def server_wait(server: subprocess.Popen, port: int, log: Path, *, timeout_s: float) -> None:
    """Wait until the server is ready; raise with its log if it exits or takes too long."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}:\n{log_tail(log)}")
        if store_ready(port):
            return
        time.sleep(0.2)
    raise RuntimeError(
        f"the server did not answer /readyz within {timeout_s:g} s:\n{log_tail(log)}"
    )


@contextmanager
def store_served(env: Mapping[str, str], port: int, log: Path) -> Iterator[str]:
    """``runserver`` on ``HOST:port`` while the block runs; yields its URL. Always stopped."""
    server = manage_start(["runserver", f"{HOST}:{port}", "--noreload"], env=env, log=log)
    try:
        with step(f"Starting the store on http://{HOST}:{port}/ (runserver, pid {server.pid})"):
            server_wait(server, port, log, timeout_s=SERVER_START_TIMEOUT_S)
        yield f"http://{HOST}:{port}"
    finally:
        process_stop(server)
        progress(f"  server pid {server.pid} stopped")


# --- What the script reads: the demo TOTP code, the exit code -------------------------------


def totp_code_fresh(
    secret: str,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    margin_s: float = TOTP_MARGIN_S,
) -> str:
    """The code an authenticator app holding ``secret`` shows now (the project's own function).

    Within ``margin_s`` of the end of its period, waits for the next period and gives its code,
    so the server still checks the code within the period it was made for.
    """
    from shopcart.core.staff_mfa import totp_code_current

    code, seconds_left = totp_code_current(secret, at=clock())
    if seconds_left <= margin_s:
        sleep(seconds_left + 0.1)
        code, _ = totp_code_current(secret, at=clock())
    return code


def exit_code_in_mail(folder: Path, order_number: str) -> str | None:
    """The exit code typed in the confirmation email of ``order_number`` under ``folder``."""
    from orders.exit_codes import PREFIX

    pattern = re.compile(rf"{re.escape(PREFIX)}[A-Z0-9.-]+")
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if order_number not in str(message.get("Subject", "")):
            continue
        body = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
        found = pattern.search(body.get_content()) if body is not None else None
        if found:
            return found.group(0)
    return None


def exit_code_wait(folder: Path, order_number: str, *, timeout_s: float = MAIL_TIMEOUT_S) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        code = exit_code_in_mail(folder, order_number)
        if code:
            return code
        time.sleep(0.3)
    raise RuntimeError(f"no confirmation email of {order_number} in {folder} after {timeout_s:g} s")


# --- The pictures ---------------------------------------------------------------------------


def chromium_find() -> str:
    """The machine's Chromium, as the browser tests find it; raises when there is none."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        if os.access(configured, os.X_OK):
            return configured
        raise RuntimeError(f"CHROMIUM_PATH={configured} is not an executable file")
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    if os.access(CHROMIUM_FALLBACK, os.X_OK):
        return CHROMIUM_FALLBACK
    raise RuntimeError(
        f"no Chromium found: install {' or '.join(CHROMIUM_NAMES)} or set CHROMIUM_PATH "
        "(this script never downloads a browser)"
    )


def page_new(browser: Browser, size: Mapping[str, int]) -> Page:
    """A page in a fresh context (own cookies) of ``size``, light colours, one pixel a pixel."""
    context = browser.new_context(
        viewport={"width": size["width"], "height": size["height"]},
        device_scale_factor=1,
        color_scheme="light",
        reduced_motion="reduce",
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def shot_size(name: str) -> tuple[int, int]:
    """A shot's size in pixels, from its name: ``...-phone.png`` or ``...-desktop.png``."""
    size = PHONE if name.endswith("-phone.png") else DESKTOP
    return size["width"], size["height"]


def shot(page: Page, folder: Path, name: str) -> None:
    """The page's viewport, from the top, as ``folder/name`` (one of ``SHOTS``).

    Always the viewport, never the whole page: the README sets pictures of one kind side by
    side, and equal sizes keep them aligned.
    """
    assert name in SHOTS, name
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=folder / name, animations="disabled", caret="hide")
    progress(f"  {name}")


def png_optimise(path: Path) -> None:
    """Rewrite the PNG with at most 256 colours: pages of flat colours and text lose nothing
    visible and the file shrinks to about a third."""
    with Image.open(path) as image:
        fewer = image.convert("RGB").quantize(colors=256, dither=Image.Dither.NONE)
    fewer.save(path, format="PNG", optimize=True)


def shots_verify(folder: Path) -> list[str]:
    """What is wrong with the shots in ``folder``: a missing file, or one that is no valid PNG."""
    problems = []
    for name in SHOTS:
        path = folder / name
        if not path.is_file():
            problems.append(f"{name}: missing")
            continue
        try:
            with Image.open(path) as image:
                kind, (width, height) = image.format, image.size
                image.verify()
        except (OSError, SyntaxError) as exc:
            problems.append(f"{name}: not a valid image ({exc})")
            continue
        if (kind, (width, height)) != ("PNG", shot_size(name)):
            expected = "x".join(map(str, shot_size(name)))
            problems.append(f"{name}: a {kind} of {width}x{height}, not a PNG of {expected}")
    return problems


def image_loaded(page: Page, selector: str) -> None:
    """Wait until the image at ``selector`` has loaded and decoded, not merely been laid out."""
    # A function, not an expression: the site's Content-Security-Policy forbids eval.
    page.wait_for_function(
        "(selector) => { const image = document.querySelector(selector);"
        " return Boolean(image && image.complete && image.naturalWidth > 0); }",
        arg=selector,
    )


# --- The walk through the store -------------------------------------------------------------


def page_open(page: Page, url: str) -> None:
    """Go to ``url``; raise when it answers with an error (a 404 must not become a picture)."""
    response = page.goto(url)
    if response is None or not response.ok:
        status = "no answer" if response is None else f"{response.status} {response.status_text}"
        raise RuntimeError(f"{url} answered {status}")


def url_of(name: str, *args: Any, **kwargs: Any) -> str:
    """The path of a named URL (imported here: Django is set up by then)."""
    from django.urls import reverse

    return reverse(name, args=args or None, kwargs=kwargs or None)


def sign_in(page: Page, url: str, *, login: str, password: str, next_path: str = "") -> None:
    """Sign in on the store's sign-in form, as a person would."""
    page_open(page, url + url_of("account_login") + (f"?next={next_path}" if next_path else ""))
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Sign in").click()


def shopper_sign_in(pages: list[Page], url: str) -> None:
    from catalog import demo_data

    for page in pages:
        sign_in(
            page,
            url,
            login=demo_data.DEMO_SHOPPER_EMAIL,
            password=demo_data.DEMO_SHOPPER_PASSWORD,
        )
        expect(page).to_have_url(url + url_of("catalog:home"))


def staff_sign_in(page: Page, url: str, *, next_path: str) -> None:
    """The demo staff's password, then its TOTP code (a store manager must give one)."""
    from catalog import demo_data

    sign_in(
        page,
        url,
        login=demo_data.DEMO_STAFF_EMAIL,
        password=demo_data.DEMO_STAFF_PASSWORD,
        next_path=next_path,
    )
    code = page.locator("input[name=code]")
    expect(code).to_be_visible()
    code.fill(totp_code_fresh(demo_data.DEMO_STAFF_TOTP_SECRET))
    code.press("Enter")
    expect(page).to_have_url(url + next_path)


def shots_shop(pages: dict[str, Page], url: str, folder: Path) -> None:
    product = url + url_of("catalog:product_detail", slug=PRODUCT_SLUG)
    for kind, page in pages.items():
        page_open(page, url + url_of("catalog:home"))
        expect(page.locator(".product-grid .card__name").first).to_be_visible()
        shot(page, folder, f"shop-{kind}.png")
        page_open(page, product)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        shot(page, folder, f"product-{kind}.png")


def shots_cart_live(
    pages: dict[str, Page], url: str, folder: Path, *, env: Mapping[str, str], log: Path
) -> None:
    """The open cart pages while ``simulate_cart --demo`` scans, each shot as the last scan's
    "Added: ..." notice shows (it hides after a few seconds)."""
    from devices.simulator import DEMO_PAUSE_SECONDS, DEMO_PRODUCT_COUNT

    for page in pages.values():
        page_open(page, url + url_of("carts:detail"))
        expect(page.locator("[data-cart-live]")).to_have_attribute("data-state", "live")
    progress("  the cart pages are live; simulate_cart --demo scans")
    simulator = manage_start(["simulate_cart", "--demo", "--server", url], env=env, log=log)
    try:
        # Django's start-up, then one scan every DEMO_PAUSE_SECONDS.
        filling_s = 60 + DEMO_PRODUCT_COUNT * DEMO_PAUSE_SECONDS
        full = f"[data-cart-body][data-cart-units='{DEMO_PRODUCT_COUNT}']"
        for kind, page in pages.items():
            expect(page.locator(full)).to_be_attached(timeout=filling_s * 1000)
            expect(page.locator("[data-scan-notice]")).to_be_visible()
            expect(page.locator("[data-scan-notice]")).to_contain_text("Added")
            shot(page, folder, f"cart-live-{kind}.png")
        returncode = simulator.wait(timeout=COMMAND_TIMEOUT_S)
    finally:
        process_stop(simulator)
    if returncode != 0:
        raise RuntimeError(f"simulate_cart exited with {returncode}:\n{log_tail(log)}")


def shots_checkout_and_pay(phone: Page, url: str, folder: Path) -> str:
    """From the cart to paid with the test card; returns the order's number."""
    phone.locator("[data-checkout-link]").click()
    expect(phone).to_have_url(url + url_of("orders:checkout"))
    shot(phone, folder, "checkout-phone.png")
    phone.locator("[data-pay]").click()
    expect(phone.locator("[data-test-pay]")).to_be_visible()
    phone.get_by_label("Card number").fill(TEST_CARD)
    phone.locator("input[autocomplete=cc-exp]").fill(TEST_CARD_EXPIRY)
    phone.locator("input[autocomplete=cc-csc]").fill(TEST_CARD_CVC)
    shot(phone, folder, "pay-phone.png")
    phone.locator("[data-test-pay]").click()
    expect(phone.locator("[data-payment-state=paid]")).to_be_visible()
    image_loaded(phone, ".pay-exit__qr")
    shot(phone, folder, "paid-phone.png")
    return phone.locator(".pay-number").first.inner_text().strip()


def shot_receipt(phone: Page, url: str, folder: Path, *, number: str) -> None:
    page_open(phone, url + url_of("orders:detail", number))
    image_loaded(phone, "[data-exit-qr]")
    shot(phone, folder, "receipt-phone.png")


def shot_exit_check(door: Page, folder: Path, *, code: str) -> None:
    door.get_by_label("Exit code").fill(code)
    door.get_by_role("button", name="Check", exact=True).click()
    expect(door.locator("[data-exit-result=ok]")).to_be_visible()
    # The code box takes the focus again (autofocus: the next code goes there), scrolling the
    # page down to it; only then can the shot scroll back up to the verdict.
    expect(door.get_by_label("Exit code")).to_be_focused()
    shot(door, folder, "exit-check-desktop.png")


def shot_admin_today(page: Page, url: str, folder: Path) -> None:
    page_open(page, url + url_of("admin-dashboard"))
    expect(page.locator("#dashboard-tiles")).to_be_visible()
    shot(page, folder, "admin-today-desktop.png")


def walk(browser: Browser, url: str, folder: Path, *, env: Mapping[str, str], state: Path) -> None:
    """A shopper's visit and staff's part in it, every shot into ``folder``."""
    expect.set_options(timeout=TIMEOUT_MS)
    shopper = {"phone": page_new(browser, PHONE), "desktop": page_new(browser, DESKTOP)}
    phone, door = shopper["phone"], page_new(browser, DESKTOP)
    with step("alice signs in on a phone and on a desktop"):
        shopper_sign_in(list(shopper.values()), url)
    with step("The shop and a product page"):
        shots_shop(shopper, url, folder)
    with step("alice's cart while simulate_cart --demo scans into it"):
        shots_cart_live(shopper, url, folder, env=env, log=state / "simulate_cart.log")
    with step(f"Checking out and paying with the test card {TEST_CARD}"):
        number = shots_checkout_and_pay(phone, url, folder)
    with step(f"The order page of {number} with its exit QR"):
        shot_receipt(phone, url, folder, number=number)
    with step("Reading the exit code from the confirmation email"):
        code = exit_code_wait(state / "mail", number)
    with step("Staff sign in with the password and the demo TOTP code"):
        staff_sign_in(door, url, next_path=url_of("orders_staff:exit_check"))
    with step(f"Checking order {number}'s exit code at the exit check"):
        shot_exit_check(door, folder, code=code)
    with step("The admin's Store today"):
        shot_admin_today(door, url, folder)


# --- The run --------------------------------------------------------------------------------


def django_setup(env: Mapping[str, str]) -> None:
    """Django in this process, on the run's own state: for URLs and the TOTP code, never the
    database (the browser's event loop runs in this thread)."""
    os.environ.update(env)
    if str(BASE_DIR) not in sys.path:
        sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()


def shots_take(state: Path, folder: Path, *, chromium: str) -> None:
    """Set up the store in ``state``, serve it, and walk it in Chromium; shots into ``folder``."""
    port = free_port()
    env = store_env(state, port, base=os.environ)
    setup_log = state / "setup.log"
    with step(f"Migrating a database of its own and loading the demo store in {state}"):
        django_setup(env)
        manage(["migrate", "--no-input"], env=env, log=setup_log)
        manage(["load_demo_store"], env=env, log=setup_log)
    with (
        store_served(env, port, state / "server.log") as url,
        sync_playwright() as playwright,
    ):
        with step(f"Starting Chromium ({chromium})"):
            browser = playwright.chromium.launch(
                executable_path=chromium, headless=True, args=CHROMIUM_ARGS
            )
        try:
            walk(browser, url, folder, env=env, state=state)
        finally:
            browser.close()


def shots_publish(shots: Path, out: Path) -> None:
    """Make the shots smaller, check each, then put them in ``out`` (only all of them)."""
    with step("Making the PNGs smaller"):
        for name in SHOTS:
            png_optimise(shots / name)
    with step("Checking every PNG"):
        problems = shots_verify(shots)
        if problems:
            raise RuntimeError("; ".join(problems))
    with step(f"Writing them to {out}"):
        out.mkdir(parents=True, exist_ok=True)
        for name in SHOTS:
            shutil.copyfile(shots / name, out / name)


def run(out: Path, *, keep_state: bool) -> None:
    """The whole run in a temporary directory, removed at the end unless ``keep_state``."""
    with step("Finding Chromium"):
        chromium = chromium_find()
    state = Path(tempfile.mkdtemp(prefix="smartcart-screenshots-"))
    shots = state / "shots"
    shots.mkdir()
    try:
        shots_take(state, shots, chromium=chromium)
        shots_publish(shots, out)
    except StepFailed:
        server_log = state / "server.log"
        if server_log.is_file():
            print(f"The end of the server's log:\n{log_tail(server_log)}", file=sys.stderr)
        raise
    finally:
        if keep_state:
            progress(f"State kept in {state}")
        else:
            shutil.rmtree(state, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Take the README's screenshots of the demo store in Chromium."
    )
    parser.add_argument(
        "--out", type=Path, default=OUT_DEFAULT, help=f"where the PNGs go (default: {OUT_DEFAULT})"
    )
    parser.add_argument(
        "--verify",
        type=Path,
        metavar="DIR",
        help="take nothing: check that DIR holds every screenshot, each a valid PNG",
    )
    parser.add_argument(
        "--keep-state",
        action="store_true",
        help="keep the temporary directory (database, logs, emails, raw shots) and print it",
    )
    args = parser.parse_args(argv)
    if args.verify:
        problems = shots_verify(args.verify)
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"{args.verify}: {len(SHOTS) - len(problems)} of {len(SHOTS)} screenshots valid")
        return 1 if problems else 0
    # A TERM (a CI timeout, kill) unwinds like Ctrl+C, so the server is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        run(args.out.resolve(), keep_state=args.keep_state)
    except StepFailed as exc:
        print(f"screenshots: FAILED at step: {exc}", file=sys.stderr)
        return 1
    progress(f"Done: {len(SHOTS)} screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
