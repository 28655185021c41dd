"""The run's database, the store in it (catalog, shoppers, devices) and the cart photos."""

import io
import os
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# A small camera sensor's noise, in grey levels (standard deviation): it brings the photos to
# the firmware's frame sizes (30-70 KiB), where a noiseless drawing would be a third of that.
SENSOR_NOISE = 7


class BenchmarkError(Exception):
    """The run cannot go on; the message says why."""


# --- Database -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    url: str
    vendor: str  # "sqlite" or "mysql"
    drop: Callable[[], None]


def database_create(directory: Path, name: str = "scan_load") -> Database:
    """The run's own database: ``<name>.sqlite3`` in ``directory``, or ``<database>_<name>``
    (without the underscore in ``name``) on the MySQL server ``DATABASE_URL`` names. Never the
    database the URL itself names."""
    url = os.environ.get("DATABASE_URL", "")
    if not url or url.startswith("sqlite:"):
        return Database(f"sqlite:///{directory / f'{name}.sqlite3'}", "sqlite", lambda: None)
    if urlsplit(url).scheme in ("mysql", "mysql2", "mariadb", "mysqlgis"):
        return _mysql_database_create(url, name.replace("_", ""))
    raise BenchmarkError(f"DATABASE_URL must name SQLite or MySQL/MariaDB, not {url.split(':')[0]}")


def _mysql_database_create(url: str, suffix: str) -> Database:
    import environ

    config = environ.Env.db_url_config(url)
    name = f"{config['NAME']}_{suffix}"
    # A leftover of an interrupted run is this benchmark's by its name: start afresh.
    _mysql_execute(config, f"DROP DATABASE IF EXISTS `{name}`")
    _mysql_execute(
        config, f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci"
    )
    print(f"database: {name} on {config.get('HOST') or 'localhost'} (dropped at the end)")
    own_url = urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    return Database(own_url, "mysql", lambda: _mysql_execute(config, f"DROP DATABASE `{name}`"))


def _mysql_execute(config: dict[str, Any], statement: str) -> None:
    """Run ``statement`` on the server, outside any database; refusals become BenchmarkError."""
    try:
        import MySQLdb
    except ImportError as exc:
        raise BenchmarkError(
            "MySQL needs mysqlclient: pip install -r requirements/mysql.txt"
        ) from exc
    try:
        server = MySQLdb.connect(
            host=config.get("HOST") or "localhost",
            port=int(config.get("PORT") or 3306),
            user=config.get("USER", ""),
            password=config.get("PASSWORD", ""),
        )
        try:
            with server.cursor() as cursor:
                cursor.execute(statement)
        finally:
            server.close()
    except MySQLdb.Error as exc:
        raise BenchmarkError(f"{statement}: {exc}") from exc


def django_setup(database: Database) -> None:
    """Point this process's settings at the run's database and migrate it, showing progress."""
    os.environ["DATABASE_URL"] = database.url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopcart.settings")
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):  # in-process events, eager tasks
        os.environ.pop(name, None)
    os.environ["LOG_LEVEL"] = "WARNING"
    import django
    from django.core.management import call_command

    django.setup()
    print(f"migrating the {database.vendor} database")
    call_command("migrate", verbosity=1, interactive=False)


# --- The store ------------------------------------------------------------------------------


@dataclass
class Cart:
    index: int
    device_key: str
    pass_text: str
    user_id: int
    shopping_list: list[int] = field(default_factory=list)  # product ids it adds from
    expected: Counter[int] = field(default_factory=Counter)  # product id -> quantity
    kept: list["Sent"] = field(default_factory=list)  # answered scans, for re-sending


@dataclass(frozen=True)
class Sent:
    request: bytes
    answer: Any  # the parsed JSON body


SHOPPER = "shopper{n}@example.com"
ERROR_STORE_EXISTS = (
    "the database already holds the store of an earlier run (its shoppers and products): the "
    "benchmark makes its own, so give it a fresh one; with --stack-dir, a stack it has not run "
    "against (stop it, remove its folder, start it again)"
)


def ean13(n: int) -> str:
    from catalog.barcodes import gs1_check_digit

    payload = f"400{n:09d}"  # GS1 Germany: a prefix the decoder believes at once
    return payload + str(gs1_check_digit(payload))


def store_create(carts: int, products: int) -> tuple[list[Cart], dict[int, str]]:
    """The shoppers with their passes and devices, and the catalog as product id -> EAN-13.

    Raises ``BenchmarkError`` when the database holds an earlier run's store already."""
    from django.contrib.auth.models import User

    from carts import pass_codes
    from carts.services import cart_get_for_user, cart_pass_issue
    from catalog.selectors import product_get_by_barcode
    from catalog.services import product_create
    from devices.services import device_register

    shopper_zero = User.objects.filter(username=SHOPPER.format(n=0))
    if product_get_by_barcode(text=ean13(0)) is not None or shopper_zero.exists():
        raise BenchmarkError(ERROR_STORE_EXISTS)
    catalog = {}
    for n in range(products):
        product = product_create(
            name=f"Product {n:03d}",
            price=Decimal("1.00") + Decimal(n % 400) / 100,
            stock=10_000_000,
            barcodes=[ean13(n)],
        )
        catalog[product.pk] = ean13(n)
    shoppers = []
    for n in range(carts):
        email = SHOPPER.format(n=n)
        user = User.objects.create_user(username=email, email=email, first_name=f"Cart{n}")
        cart_get_for_user(user=user)
        pass_text = pass_codes.pass_text(cart_pass_issue(user=user).token)
        _, key = device_register(name=f"Cart {n:03d}")
        shoppers.append(Cart(index=n, device_key=key, pass_text=pass_text, user_id=user.pk))
    return shoppers, catalog


# --- Photos ---------------------------------------------------------------------------------


def photo_render(code: str, rng: random.Random) -> bytes:
    """A photo of ``code``'s EAN-13 on a label as a cart sends it (``devices.cart_photos``:
    SVGA, the cart's JPEG): somewhere in the frame, turned a little, lit unevenly, slightly out
    of focus, with the sensor's noise."""
    from PIL import Image, ImageChops, ImageFilter

    from devices.cart_photos import CART_FRAME, cart_jpeg

    label = label_render(code, scale=rng.choice((3, 4)))
    angle = rng.uniform(-12, 12)
    turned = label.rotate(angle, Image.Resampling.BILINEAR, expand=True, fillcolor=0)
    outline = Image.new("L", label.size, 255).rotate(angle, expand=True, fillcolor=0)
    page = Image.new("L", CART_FRAME, rng.randint(90, 170))
    x = rng.randint(0, max(0, CART_FRAME[0] - turned.width))
    y = rng.randint(0, max(0, CART_FRAME[1] - turned.height))
    page.paste(turned, (x, y), outline)
    light = Image.linear_gradient("L").rotate(rng.choice((0, 90, 180, 270))).resize(CART_FRAME)
    page = ImageChops.multiply(page, light.point(lambda v: 150 + v * 105 // 255))
    page = page.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.2)))
    noise = Image.effect_noise(CART_FRAME, SENSOR_NOISE)  # centred on 128
    return cart_jpeg(ImageChops.add(page, noise, scale=1, offset=-128))


def label_render(code: str, *, scale: int) -> Any:
    """``code``'s EAN-13 bars (zxing-cpp's writer), ``scale`` pixels a module, on white paper."""
    import zxingcpp
    from PIL import Image, ImageOps

    symbol = zxingcpp.create_barcode(code, zxingcpp.BarcodeFormat.EAN13)
    written: Any = zxingcpp.write_barcode_to_image(symbol, scale=scale)
    height, width = written.shape
    bars = Image.frombytes("L", (width, height), memoryview(written).tobytes())
    return ImageOps.expand(bars, border=24, fill=255)


def photos_render(catalog: dict[int, str], seed: int) -> dict[int, bytes]:
    """A photo per product, kept only when the project's decoder reads that product (alone)."""
    from devices.decoding import decode_image

    rng = random.Random(seed)
    photos = {}
    for product_id, code in catalog.items():
        photo = photo_render(code, rng)
        if [found.text for found in decode_image(photo)] == [code]:
            photos[product_id] = photo
    return photos


def pass_photo(text: str) -> bytes:
    """The shopper's pass QR code as a cart photographs it (a phone screen held up)."""
    from PIL import Image

    from devices.cart_photos import CART_FRAME, cart_jpeg
    from shopcart.core.qr import qr_png

    qr = Image.open(io.BytesIO(qr_png(text, box_size=6))).convert("L")
    page = Image.new("L", CART_FRAME, 140)
    page.paste(qr, ((CART_FRAME[0] - qr.width) // 2, (CART_FRAME[1] - qr.height) // 2))
    return cart_jpeg(page)
