"""QR codes are read from the image itself."""

import io

import pytest
from PIL import Image

from replica.render import qr_png
from spiders.parsers.qr import BrokenImageError, decode_qr


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


def test_an_image_larger_than_the_pixel_bound_is_refused_from_its_header_before_it_is_decoded():
    from replica.hostile import pixel_bomb_png
    from spiders.parsers.qr import ImageTooLarge

    bomb = pixel_bomb_png()  # 169 megapixels claimed, a few bytes sent
    assert len(bomb) < 10_000
    with pytest.raises(ImageTooLarge, match="13000 x 13000"):
        decode_qr(bomb)
    with pytest.raises(ImageTooLarge):
        decode_qr(pixel_bomb_png(20_000, 20_000))  # past Pillow's own DecompressionBombError too
    assert decode_qr(qr_png("https://thanhphohaiphong.gov.vn/x.html"), max_pixels=150 * 150 * 4) == "https://thanhphohaiphong.gov.vn/x.html"


def test_a_decode_past_its_deadline_is_abandoned_off_the_event_loop():
    import asyncio
    import threading

    from spiders.parsers.qr import QrDecoder

    release = threading.Event()
    decoder = QrDecoder(timeout=0.05)
    decoder.pool.submit(release.wait)  # both workers busy: the next decode cannot start before its deadline
    decoder.pool.submit(release.wait)
    try:
        with pytest.raises(TimeoutError):
            asyncio.run(decoder.decode(qr_png("https://thanhphohaiphong.gov.vn/x.html")))
    finally:
        release.set()
        decoder.close()
