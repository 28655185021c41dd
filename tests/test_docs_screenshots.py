"""docs/screenshots.py (``make screenshots``): the pieces that run in a moment.

The whole walk takes about a minute and runs in CI (``.ci/run``); here: the store's own state
and settings, the TOTP code, the exit code read from the confirmation email, stopping what it
started, the PNG checks, one real Chromium shot (skipped without Chromium).
"""

import importlib.util
import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest
from allauth.mfa import app_settings as mfa_settings
from django.conf import settings
from django.core import mail
from PIL import Image

from catalog import demo_data
from orders.emails import order_confirmation_email
from orders.exit_codes import exit_code_for
from shopcart.core.mail_backends import EmlFileBackend
from shopcart.core.staff_mfa import totp_code_current
from tests.orders.factories import OrderLineFactory, PaidOrderFactory

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

BASE_DIR = Path(settings.BASE_DIR)
SCRIPT = BASE_DIR / "docs" / "screenshots.py"


def script_load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_screenshots", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


screenshots = script_load()


def png_write(path: Path, size: tuple[int, int] | None = None) -> None:
    """A PNG of the size its name calls for, or of ``size``."""
    size = size or screenshots.shot_size(path.name)
    Image.new("RGB", size, (245, 245, 240)).save(path, format="PNG")


# --- the store's own state ------------------------------------------------------------------


def test_store_env_puts_every_file_in_the_state_directory_and_pins_the_outside_services(
    tmp_path,
):
    shell = {
        "PATH": "/usr/bin",
        "DATABASE_URL": "mysql://shop:secret@db:3306/shop",
        "REDIS_URL": "redis://cache:6379/1",
        "CELERY_BROKER_URL": "redis://cache:6379/0",
        "EMAIL_HOST": "smtp.example.com",
        "STRIPE_SECRET_KEY": "sk_live_x",
        "SMARTCART_MODE": "production",
        "PORT": "8000",
    }

    env = screenshots.store_env(tmp_path, 8123, base=shell)

    assert env["PATH"] == "/usr/bin"
    assert env["DATABASE_URL"] == f"sqlite:///{tmp_path}/smartcart.sqlite3"
    for name in ("EMAIL_FILE_PATH", "MEDIA_ROOT", "STATIC_ROOT"):
        assert Path(env[name]).parent == tmp_path, name
    assert (env["PORT"], env["SITE_URL"]) == ("8123", "http://127.0.0.1:8123")
    assert env["SMARTCART_MODE"] == "embedded"
    assert env["PAYMENT_GATEWAY"] == "test"
    assert env["EXIT_AUDIT_SHARE"] == "0"
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "EMAIL_HOST", "STRIPE_SECRET_KEY"):
        assert env[name] == "", name
    assert len(env["SECRET_KEY"]) >= 50
    assert env["SECRET_KEY"] != screenshots.store_env(tmp_path, 8123, base=shell)["SECRET_KEY"]


def test_the_settings_of_that_environment_use_nothing_under_var(tmp_path):
    env = screenshots.store_env(tmp_path, 8123, base={"PATH": "/usr/bin:/bin"})
    show = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([str(s.DATABASES['default']['NAME']), s.EMAIL_FILE_PATH, "
        "str(s.MEDIA_ROOT), str(s.STATIC_ROOT), s.SITE_URL, s.CELERY_TASK_ALWAYS_EAGER, "
        "s.PAYMENT_GATEWAY, s.EMAIL_BACKEND]))"
    )

    done = subprocess.run(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-c", show],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    *paths, site_url, eager, gateway, backend = json.loads(done.stdout)
    assert all(Path(path).is_relative_to(tmp_path) for path in paths), paths
    assert (site_url, eager, gateway) == ("http://127.0.0.1:8123", True, "test")
    assert backend == "shopcart.core.mail_backends.EmlFileBackend"


def test_free_port_is_one_that_can_be_bound():
    port = screenshots.free_port()

    with socket.socket() as server:
        server.bind((screenshots.HOST, port))


# --- stopping what it started ---------------------------------------------------------------


def sleeper(*, ignore_term: bool = False) -> subprocess.Popen:
    code = "import signal, time\n"
    if ignore_term:
        code += "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    code += "print('ready', flush=True)\ntime.sleep(120)\n"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)  # noqa: S603
    assert process.stdout is not None and process.stdout.readline() == "ready\n"
    return process


def test_process_stop_ends_the_process_by_its_pid():
    process = sleeper()

    screenshots.process_stop(process)

    assert process.returncode == -15  # SIGTERM


def test_process_stop_kills_a_process_that_ignores_the_request():
    process = sleeper(ignore_term=True)

    screenshots.process_stop(process, grace_s=0.5)

    assert process.returncode == -9  # SIGKILL


def test_process_stop_of_a_process_that_ended_does_nothing():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()

    screenshots.process_stop(process)

    assert process.returncode == 0


def test_server_wait_reports_a_server_that_exits_with_its_log(tmp_path):
    log = tmp_path / "server.log"
    log.write_text("Error: That port is already in use.\n")
    server = subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"])
    server.wait()

    with pytest.raises(RuntimeError, match=r"exited with 1:\nError: That port is already in use"):
        screenshots.server_wait(server, screenshots.free_port(), log, timeout_s=30)


def test_a_failure_inside_a_step_names_the_step():
    with (
        pytest.raises(screenshots.StepFailed) as failed,
        screenshots.step("Paying with the test card"),
    ):
        raise ValueError("no Pay button")

    assert failed.value.step == "Paying with the test card"
    assert str(failed.value) == "Paying with the test card: ValueError: no Pay button"


# --- what it reads: the TOTP code, the exit code --------------------------------------------


def test_totp_code_fresh_is_the_code_an_authenticator_app_shows():
    period = mfa_settings.TOTP_PERIOD
    middle = 1_700_000_000 // period * period + period / 2
    slept: list[float] = []

    code = screenshots.totp_code_fresh(
        demo_data.DEMO_STAFF_TOTP_SECRET, clock=lambda: middle, sleep=slept.append
    )

    assert code == totp_code_current(demo_data.DEMO_STAFF_TOTP_SECRET, at=middle)[0]
    assert re.fullmatch(r"\d{6}", code)
    assert slept == []


def test_totp_code_fresh_near_the_end_of_a_period_waits_for_the_next_code():
    period = mfa_settings.TOTP_PERIOD
    start = 1_700_000_000 // period * period
    now = [start + period - 2.0]  # 2 s left, inside the margin
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    code = screenshots.totp_code_fresh(
        demo_data.DEMO_STAFF_TOTP_SECRET, clock=lambda: now[0], sleep=sleep
    )

    assert slept == [pytest.approx(2.1)]
    assert code == totp_code_current(demo_data.DEMO_STAFF_TOTP_SECRET, at=start + period)[0]


@pytest.mark.django_db
def test_exit_code_in_mail_reads_the_code_of_that_order_from_its_confirmation(
    alice, tmp_path, django_capture_on_commit_callbacks
):
    orders = [PaidOrderFactory(user=alice, email=alice.email) for _ in range(2)]
    for order in orders:
        OrderLineFactory(order=order)
        with django_capture_on_commit_callbacks(execute=True):
            assert order_confirmation_email(order_id=order.pk)
    for message in mail.outbox:
        EmlFileBackend(file_path=tmp_path).write_message(message)

    for order in orders:
        assert screenshots.exit_code_in_mail(tmp_path, order.number) == exit_code_for(order)
    assert screenshots.exit_code_in_mail(tmp_path, "NONE-0000") is None


def test_exit_code_wait_says_which_order_it_waited_for(tmp_path):
    started = time.monotonic()

    with pytest.raises(RuntimeError, match="no confirmation email of ABCD-1234"):
        screenshots.exit_code_wait(tmp_path, "ABCD-1234", timeout_s=0.5)

    assert time.monotonic() - started < 5


# --- the PNGs -------------------------------------------------------------------------------


def test_shots_verify_names_each_missing_or_broken_file(tmp_path):
    names = list(screenshots.SHOTS)
    for name in names[2:]:
        png_write(tmp_path / name)
    (tmp_path / names[1]).write_bytes(b"\x89PNG\r\n\x1a\nnot really")

    problems = screenshots.shots_verify(tmp_path)

    assert problems[0] == f"{names[0]}: missing"
    assert problems[1].startswith(f"{names[1]}: not a valid image")
    assert len(problems) == 2


def test_shots_verify_wants_a_png_of_the_size_the_name_says(tmp_path):
    for name in screenshots.SHOTS:
        png_write(tmp_path / name)
    Image.new("RGB", (375, 812)).save(tmp_path / "shop-phone.png", format="JPEG")
    png_write(tmp_path / "shop-desktop.png", size=(1280, 1600))

    problems = screenshots.shots_verify(tmp_path)

    assert problems == [
        "shop-phone.png: a JPEG of 375x812, not a PNG of 375x812",
        "shop-desktop.png: a PNG of 1280x1600, not a PNG of 1280x800",
    ]


def test_every_shot_is_named_for_a_phone_or_a_desktop():
    for name in screenshots.SHOTS:
        assert re.fullmatch(r"[a-z-]+-(phone|desktop)\.png", name), name


def test_png_optimise_keeps_size_and_colours_of_a_flat_picture(tmp_path):
    path = tmp_path / "flat.png"
    image = Image.new("RGB", (375, 812), (245, 245, 240))
    image.paste((11, 110, 60), (16, 16, 200, 60))  # a green button
    image.save(path, format="PNG")

    screenshots.png_optimise(path)

    with Image.open(path) as smaller:
        assert smaller.format == "PNG" and smaller.size == (375, 812)
        rgb = smaller.convert("RGB")
        assert rgb.getpixel((100, 30)) == (11, 110, 60)
        assert rgb.getpixel((300, 700)) == (245, 245, 240)


@pytest.mark.browser
def test_a_shot_in_the_machines_chromium_is_a_phone_sized_png(tmp_path):
    try:
        chromium = screenshots.chromium_find()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=screenshots.CHROMIUM_ARGS
        )
        try:
            page = screenshots.page_new(browser, screenshots.PHONE)
            page.set_content("<h1 style='color: #0b6e3c'>smartcart</h1>")
            screenshots.shot(page, tmp_path, "shop-phone.png")
        finally:
            browser.close()
    screenshots.png_optimise(tmp_path / "shop-phone.png")

    with Image.open(tmp_path / "shop-phone.png") as shot:
        assert (shot.format, shot.size) == ("PNG", (375, 812))
