"""Bylines and source lines at the end of an article."""

import pytest

from spiders.parsers.bylines import is_byline, parse_source_line, split_trailer


@pytest.mark.parametrize(("line", "name", "publisher"), [
    ("Nguồn. ANHP", "ANHP", "Báo An ninh Hải Phòng"),
    ("Nguồn: Báo HP", "Báo HP", "Báo Hải Phòng"),
    ("(Nguồn: TTXVN)", "TTXVN", "Thông tấn xã Việt Nam"),
    ("Theo THP", "THP", "Truyền hình Hải Phòng"),
    ("Nguồn: CATP", "CATP", "Công an thành phố Hải Phòng"),
    ("Nguồn: VOV", "VOV", "Đài Tiếng nói Việt Nam"),
])
def test_source_line_forms(line, name, publisher):
    assert parse_source_line(line) == {"text": line, "name": name, "publisher": publisher}


def test_prose_that_opens_with_theo_is_not_a_source():
    assert parse_source_line("Theo đó, các đơn vị cần làm tốt công tác tổ chức các hoạt động kỷ niệm 15 năm") is None


@pytest.mark.parametrize(("line", "expected"), [
    ("MINH PHƯƠNG", True), ("HẢI YẾN - QUANG HUY", True), ("Thượng tá Lê Trung Sơn", False), ("2020", False),
])
def test_bylines_are_short_lines_in_capitals(line, expected):
    assert is_byline(line) is expected


def test_trailer_comes_off_in_either_order():
    body = ["Đoạn một.", "Đoạn hai."]
    for tail in (["MINH PHƯƠNG", "Nguồn. ANHP"], ["Nguồn. ANHP", "MINH PHƯƠNG"]):
        trailer = split_trailer(body + tail)
        assert trailer.paragraphs == body
        assert trailer.author == "MINH PHƯƠNG"
        assert trailer.source["name"] == "ANHP"


def test_a_body_that_is_only_a_byline_is_left_as_it_is():
    assert split_trailer(["MINH PHƯƠNG"]).paragraphs == ["MINH PHƯƠNG"]


def test_every_outlet_the_replica_plants_has_its_publisher_in_the_one_table():
    from replica.corpus import PUBLISHERS as PLANTED
    from spiders.parsers.bylines import PUBLISHERS, parse_source_line

    for code, publisher in PLANTED.items():
        assert publisher and PUBLISHERS[code.upper()] == publisher, code
        assert parse_source_line(f"Nguồn. {code}")["publisher"] == publisher
