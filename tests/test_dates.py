"""Portal dates: Vietnamese as shown, ISO as machines give them; always UTC out."""

import random
from datetime import UTC, datetime

from crawler import dates
from crawler.dates import parse_iso_datetime, parse_vietnamese_datetime


def test_police_update_label():
    assert parse_vietnamese_datetime("Cập nhật: 11/07/2020 09:00") == datetime(2020, 7, 11, 2, 0, tzinfo=UTC)


def test_city_weekday_form():
    assert parse_vietnamese_datetime("Thứ Bảy, 16/11/2019 09:06") == datetime(2019, 11, 16, 2, 6, tzinfo=UTC)


def test_date_without_time_is_local_midnight():
    assert parse_vietnamese_datetime("(15/11/2019)") == datetime(2019, 11, 14, 17, 0, tzinfo=UTC)


def test_day_first_even_when_month_first_would_fit():
    assert parse_vietnamese_datetime("03/04/2021 10:00") == datetime(2021, 4, 3, 3, 0, tzinfo=UTC)


def test_no_date_in_text():
    assert parse_vietnamese_datetime("Cập nhật:") is None
    assert parse_vietnamese_datetime(None) is None


def test_iso_with_offset_and_naive_iso():
    assert parse_iso_datetime("2019-11-16T09:06:12+07:00") == datetime(2019, 11, 16, 2, 6, 12, tzinfo=UTC)
    assert parse_iso_datetime("2019-11-16T09:06:12") == datetime(2019, 11, 16, 2, 6, 12, tzinfo=UTC)


def test_numeric_dates_are_read_directly_as_dateparser_reads_them():
    rng = random.Random(5)
    compared = 0
    for _ in range(1500):
        d, m, y, sep = rng.randint(1, 31), rng.randint(1, 12), rng.randint(1976, 2035), rng.choice("/.-")
        part = f"{d:0{rng.choice((1, 2))}d}{sep}{m:0{rng.choice((1, 2))}d}{sep}{y}"
        if rng.random() < 0.75:
            part += rng.choice((" ", ", ", ",")) + f"{rng.randint(0, 23):0{rng.choice((1, 2))}d}{rng.choice(':h')}{rng.randint(0, 59):02d}"
            part += f":{rng.randint(0, 59):02d}" if rng.random() < 0.3 else ""
        direct = dates._read_numeric(part)
        assert direct == dates._read_with_dateparser(part), part
        compared += direct is not None
    assert compared > 1400  # only impossible days (31/02) are left to dateparser
    assert dates._read_numeric("31/02/2020") is None and dates._read_numeric("16/11/1969 09:06") is None
