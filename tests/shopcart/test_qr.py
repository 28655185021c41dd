"""shopcart.core.qr: QR codes drawn locally, large and clean enough for a camera."""

import io

import pytest
from PIL import Image

from devices.decoding import decode_image
from shopcart.core.qr import QR_BORDER, qr_png


@pytest.mark.parametrize("text", ["SCP1:ABCDEFGHIJKLMNOPQRSTUVWX.ABCDEFGHIJKLMNOP", "exit:123 ü"])
def test_qr_png_is_a_png_that_decodes_back_to_the_text(text):
    png = qr_png(text)

    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert [code.text for code in decode_image(png)] == [text]


def test_qr_png_has_big_modules_and_a_white_quiet_zone():
    image = Image.open(io.BytesIO(qr_png("SCP1:ABCDEFGHIJKLMNOPQRSTUVWX.ABCDEFGHIJKLMNOP")))
    pixels = image.convert("L")

    # Version 3 (29 modules) plus the quiet zone on both sides, 10 px per module.
    assert image.size == ((29 + 2 * QR_BORDER) * 10,) * 2
    quiet = QR_BORDER * 10
    border = [pixels.getpixel((x, y)) for x in range(image.width) for y in range(quiet)]
    assert set(border) == {255}
    # The finder pattern's black corner starts right after the quiet zone.
    assert pixels.getpixel((quiet, quiet)) == 0
