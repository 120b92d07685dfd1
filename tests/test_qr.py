"""QR codes are read from the image itself."""

import io

import pytest
from PIL import Image

from crawler.qr import BrokenImageError, decode_qr
from replica.render import qr_png


def test_decodes_what_the_png_encodes():
    url = "https://thanhphohaiphong.gov.vn/khen-thuong-71-tap-the-ca-nhan-tieu-bieu.html"
    assert decode_qr(qr_png(url)) == url


def test_an_image_without_a_qr_code_reads_as_none():
    buffer = io.BytesIO()
    Image.new("L", (150, 150), 255).save(buffer, format="PNG")
    assert decode_qr(buffer.getvalue()) is None


def test_a_png_cut_off_in_transit_is_a_broken_image():
    whole = qr_png("https://thanhphohaiphong.gov.vn/x.html")
    with pytest.raises(BrokenImageError):
        decode_qr(whole[: len(whole) // 2])
    with pytest.raises(BrokenImageError):
        decode_qr(b"")
