"""Portal dates: Vietnamese as shown, ISO as machines give them; always UTC out."""

from datetime import UTC, datetime

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
