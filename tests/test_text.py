"""Text repair: what the CMSs store becomes what a reader sees."""

import unicodedata

from crawler.text import clean_paragraphs, clean_text, fold_for_matching, join_paragraphs


def test_non_breaking_and_runs_of_spaces_become_one_space():
    assert clean_text("các thành\u00a0 viên\u2009Ban  Chỉ đạo\u200b ") == "các thành viên Ban Chỉ đạo"


def test_decomposed_vietnamese_is_recomposed():
    nfd = unicodedata.normalize("NFD", "Hải Phòng")
    assert nfd != "Hải Phòng"
    assert clean_text(nfd) == "Hải Phòng"


def test_entities_left_in_text_are_decoded():
    assert clean_text("t&#7893; ch&#7913;c") == "tổ chức"


def test_mojibake_is_repaired():
    assert clean_text("Háº£i PhÃ²ng") == "Hải Phòng"


def test_curly_quotes_and_ellipsis_are_kept():
    assert clean_text("“Đẩy mạnh phong trào”…") == "“Đẩy mạnh phong trào”…"


def test_empty_paragraphs_are_dropped_and_body_joined_by_blank_lines():
    assert join_paragraphs(clean_paragraphs(["Một.", "\u00a0", "", "Hai."])) == "Một.\n\nHai."


def test_fold_for_matching_ignores_case_spacing_and_punctuation():
    assert fold_for_matching("Sơ kết, 5 NĂM!") == fold_for_matching("sơ kết 5 năm")
