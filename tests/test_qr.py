"""QR codes are read from the image itself."""

import io

import pytest
import segno
from PIL import Image

from crawler.qr import BrokenImageError, decode_qr


def png_of(payload: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(payload, error="m").save(buffer, kind="png", scale=4, border=4)
    return buffer.getvalue()


def test_decodes_what_the_png_encodes():
    url = "https://thanhphohaiphong.gov.vn/khen-thuong-71-tap-the-ca-nhan-tieu-bieu.html"
    assert decode_qr(png_of(url)) == url


def test_an_image_without_a_qr_code_reads_as_none():
    buffer = io.BytesIO()
    Image.new("L", (150, 150), 255).save(buffer, format="PNG")
    assert decode_qr(buffer.getvalue()) is None


def test_a_png_cut_off_in_transit_is_a_broken_image():
    whole = png_of("https://thanhphohaiphong.gov.vn/x.html")
    with pytest.raises(BrokenImageError):
        decode_qr(whole[: len(whole) // 2])
    with pytest.raises(BrokenImageError):
        decode_qr(b"")
