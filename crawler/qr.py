"""Reading QR codes from the images the portals serve."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image, UnidentifiedImageError


class BrokenImageError(ValueError):
    """The bytes are not a whole image (cut off in transit, or not an image at all)."""


def decode_qr(image_bytes: bytes) -> str | None:
    """The text a QR code image encodes, or None when the image holds no readable QR code.

    Raises BrokenImageError when the bytes are not a whole image, which a retry may mend.
    """
    try:
        with Image.open(io.BytesIO(image_bytes)) as image:
            image.load()
            gray = image.convert("L")
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise BrokenImageError(str(error)) from error
    found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)
    return next((code.text for code in found if code.valid and code.text), None)
