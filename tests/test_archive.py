"""The raw archive's index: the records it gives are the records the WARC files hold, and a file without a sealed index is read itself."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse, Response

import crawler.storage.archive as archive
from crawler.storage.archive import ARTICLE, IMAGE, WarcArchive, read_archive

SITE = "thanhphohaiphong"


class Stats:
    def inc_value(self, *args) -> None:
        pass


@pytest.fixture
def folder(tmp_path):
    """Forty pages and their images, written as a crawl writes them, in files rotated every 4 KB."""
    writer = WarcArchive(tmp_path, SITE, max_bytes=4_096, stats=Stats())
    for n in range(40):
        url = f"http://127.0.0.2:8000/tin-tuc/bai-{n}/"
        page = HtmlResponse(url, body=f"<html><body><p>Bài số {n}: Hải Phòng</p>{'x' * 900 * n}</body></html>".encode(),
                            headers={"Content-Type": "text/html; charset=UTF-8", "ETag": f'"{n}"', "Set-Cookie": ["a=1", "b=2"]})
        writer.write(page, {"WARC-Portal-Site": SITE, "WARC-Portal-Kind": ARTICLE, "WARC-Portal-Native-Id": str(n),
                            "WARC-Portal-Seen-URL": url, "WARC-Portal-Crawl-Origin": "http://127.0.0.2:8000"})
        image = Response(f"http://127.0.0.2:8000/qr?u=bai-{n}.html", body=bytes(range(256)) * (n + 1),
                         headers={"Content-Type": "image/png"})
        writer.write(image, {"WARC-Portal-Site": SITE, "WARC-Portal-Kind": IMAGE})
    writer.close()
    return tmp_path


def scanned(folder) -> list:
    return [record for path in sorted(folder.glob(f"{SITE}-*.warc.gz")) for record in archive._scan(path)]


def test_the_index_gives_every_record_as_the_files_hold_it_and_their_bodies(folder, monkeypatch):
    files = sorted(folder.glob("*.warc.gz"))
    assert len(files) > 3 and all(archive._index_path(path).exists() for path in files)
    expected = scanned(folder)
    assert len(expected) == 80 and expected[2].headers[-2:] == [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
    monkeypatch.setattr(archive, "_scan", lambda path: pytest.fail(f"{path} was read although it is indexed"))
    indexed = list(read_archive(folder, SITE))
    assert indexed == expected
    assert indexed[10].body().decode().startswith("<html><body><p>Bài số 5: Hải Phòng</p>")
    assert indexed[11].body() == bytes(range(256)) * 6


@pytest.mark.parametrize("damage", ["unsealed", "cut short", "file grew", "missing"])
def test_a_file_without_a_sealed_index_of_its_size_is_read_itself(folder, damage):
    expected = scanned(folder)
    path = sorted(folder.glob("*.warc.gz"))[1]
    index = archive._index_path(path)
    lines = index.read_text(encoding="utf-8").splitlines(keepends=True)
    if damage == "unsealed":  # the crawl was killed while writing this file: its index a record behind
        index.write_text("".join(lines[:-2]), encoding="utf-8")
    elif damage == "cut short":
        index.write_text("".join(lines)[:-30], encoding="utf-8")
    elif damage == "file grew":
        index.write_text("".join(lines[:-2]) + '{"sealed": 10}\n', encoding="utf-8")
    else:
        index.unlink()
    assert list(read_archive(folder, SITE)) == expected


def test_a_sealed_index_damaged_inside_says_which_line_and_what_to_do(folder):
    index = archive._index_path(sorted(folder.glob("*.warc.gz"))[0])
    lines = index.read_text(encoding="utf-8").splitlines(keepends=True)
    index.write_text(lines[0] + "{garbage\n" + "".join(lines[2:]), encoding="utf-8")
    with pytest.raises(ValueError, match=r"\.warc\.gz\.index, line 2, is damaged .*: remove the index"):
        list(read_archive(folder, SITE))
