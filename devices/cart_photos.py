"""A photo as the cart's camera sends it: SVGA at most, JPEG at the cart's compression.

The firmware takes SVGA (800 x 600) frames with esp32-camera's JPEG quality 12 (its scale runs
from 0, best, to 63), 30 to 70 KiB a frame. Pillow's quality scale is another one, so the
quality here is the one whose files carry as many bits per pixel as the cart's: about 0.85 at
the middle of that range (50 KiB for 480,000 pixels). ``python -m benchmarks.decode`` prints
the sizes this gives on the barcode corpus.

Used by the decode benchmark's "cart" column, the scan load benchmark's photos and the cart
simulator, so that all three send what a cart sends.
"""

import io

from PIL import Image

CART_FRAME = (800, 600)
CART_JPEG_QUALITY = 40
# The firmware's frames: 30 to 70 KiB for SVGA's 480,000 pixels.
CART_FRAME_KIB = (30, 70)


def cart_jpeg(image: Image.Image) -> bytes:
    """``image`` fitted into the cart's frame and encoded as the cart's JPEG."""
    return fitted_jpeg(image, frame=CART_FRAME, quality=CART_JPEG_QUALITY)


def fitted_jpeg(image: Image.Image, *, frame: tuple[int, int], quality: int) -> bytes:
    """``image`` fitted into ``frame`` (never enlarged: a camera invents no pixels), as a JPEG of
    Pillow's ``quality``."""
    # Through RGBA: Pillow warns when a palette with transparency goes straight to RGB.
    fitted = image.convert("RGBA").convert("RGB")
    fitted.thumbnail(frame)
    buffer = io.BytesIO()
    fitted.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def cart_jpeg_from_bytes(data: bytes) -> bytes:
    """``cart_jpeg`` of a photo file's bytes (any format Pillow opens)."""
    with Image.open(io.BytesIO(data)) as image:
        return cart_jpeg(image)
