"""devices.cart_photos: a photo as the cart sends it (the benchmarks and the simulator use it)."""

import io

import pytest
from PIL import Image

from devices.cart_photos import CART_FRAME, cart_jpeg, cart_jpeg_from_bytes
from tests.devices.support import encoded


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(
    ("size", "sent"),
    [
        pytest.param((1600, 1200), CART_FRAME, id="UXGA is fitted into SVGA"),
        pytest.param((1000, 1000), (600, 600), id="the shape is kept"),
        pytest.param((240, 240), (240, 240), id="a small photo is never enlarged"),
    ],
)
def test_a_photo_is_fitted_into_the_carts_frame(size, sent):
    assert opened(cart_jpeg(Image.new("L", size, 128))).size == sent


def test_any_mode_and_format_becomes_a_baseline_jpeg():
    palette = Image.new("P", (64, 48))
    palette.info["transparency"] = 0

    for image in (palette, Image.new("RGBA", (64, 48)), Image.new("L", (64, 48))):
        sent = opened(cart_jpeg(image))
        assert (sent.format, sent.mode) == ("JPEG", "RGB")
    assert opened(cart_jpeg_from_bytes(encoded(Image.new("L", (64, 48))))).format == "JPEG"
