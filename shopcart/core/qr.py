"""QR codes as PNG images, drawn locally (never fetched from a web service)."""

import io

import qrcode
import qrcode.constants
from qrcode.image.pil import PilImage

# 10 px per module and the standard 4-module quiet zone: a short text (QR version 2-4) gives a
# 330-410 px square that a cart camera reads from a phone screen or a printout. Medium error
# correction survives a scratched screen protector or a crease without growing the code much.
QR_BOX_SIZE = 10
QR_BORDER = 4


def qr_png(text: str, *, box_size: int = QR_BOX_SIZE) -> bytes:
    """A black-on-white PNG of ``text`` as a QR code, in the smallest version that fits.

    Upper-case letters, digits and `` $%*+-./:`` use the compact alphanumeric mode.
    """
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=QR_BORDER
    )
    code.add_data(text)
    code.make(fit=True)
    image = code.make_image(image_factory=PilImage)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
