"""Reading QR codes from the images the portals serve, within bounds on their size."""

from __future__ import annotations

import asyncio
import io
import warnings
from concurrent.futures import ThreadPoolExecutor

import zxingcpp
from PIL import Image, UnidentifiedImageError

# Pillow's own guard (a DecompressionBombError past twice this) stays on as a second line; ours is lower.
DEFAULT_MAX_PIXELS = 4_000_000


class BrokenImageError(ValueError):
    """The bytes are not a whole image (cut off in transit, or not an image at all)."""


class ImageTooLarge(ValueError):
    """An image larger than the bound (bytes or pixels): not decoded, whatever it holds."""


def decode_qr(image_bytes: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> str | None:
    """The text a QR code image encodes, or None when the image holds no readable QR code.

    The image's size is read from its header before anything is decoded: more than `max_pixels`
    raises ImageTooLarge (a 669 KB PNG can claim 169 megapixels and take a gigabyte to decode).
    Raises BrokenImageError when the bytes are not a whole image, which a retry may mend.
    """
    try:
        with warnings.catch_warnings():  # Pillow warns of a large image as it opens it; our own bound, lower, decides
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(image_bytes))
        with image:
            width, height = image.size
            if width * height > max_pixels:
                raise ImageTooLarge(f"{width} x {height} pixels, more than {max_pixels:,}")
            image.load()
            gray = image.convert("L")
    except Image.DecompressionBombError as error:
        raise ImageTooLarge(str(error)) from error
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise BrokenImageError(str(error)) from error
    found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)
    return next((code.text for code in found if code.valid and code.text), None)


class QrDecoder:
    """Decodes QR images in worker threads, off the event loop, each within a deadline.

    A decode past its deadline is abandoned (`TimeoutError`); its thread finishes on its own,
    bounded by the pixel limit. Two threads: a slow image never holds up the next.
    """

    def __init__(self, max_pixels: int = DEFAULT_MAX_PIXELS, timeout: float = 10.0, workers: int = 2) -> None:
        self.max_pixels, self.timeout = max_pixels, timeout
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="qr-decode")

    async def decode(self, image_bytes: bytes) -> str | None:
        """As `decode_qr`; raises TimeoutError past the deadline."""
        loop = asyncio.get_running_loop()
        return await asyncio.wait_for(loop.run_in_executor(self.pool, decode_qr, image_bytes, self.max_pixels), self.timeout)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
