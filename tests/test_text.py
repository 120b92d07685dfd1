"""Text repair: what the CMSs store becomes what a reader sees."""

import random
import re
import unicodedata
from unittest import mock

from spiders.parsers import text as text_module
from spiders.parsers.text import clean_paragraphs, clean_text, fold_for_matching, join_paragraphs


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


def _always_ftfy(value: str) -> str:
    """The repair as it was before the fast path: ftfy over every text."""
    with mock.patch("spiders.parsers.text._needs_ftfy", return_value=True):
        return text_module._repaired(value)


def test_the_fast_path_skips_ftfy_only_where_ftfy_would_change_nothing():
    # Text the fast path must send to ftfy (or where ftfy would leave it): mojibake of Vietnamese and of
    # curly quotes, entities, NFD, ligatures, wide forms, C1 and other controls, odd line breaks.
    vietnamese = "Hải Phòng đẩy mạnh phong trào Ừ ỹ Ỵ ấ"
    tricky = [vietnamese, vietnamese.encode("utf-8").decode("latin-1"), vietnamese.encode("utf-8").decode("cp1252", "replace"),
              "“Ô".encode().decode("cp1252"), "NGÃ” ", "Ã”", "â€œ", "t&#7893; &amp;", unicodedata.normalize("NFD", vietnamese),
              "ﬁle ＬＯＵＤ　x", "a\x85b\x9cc", "a\x00b\x1bc\u2028d\r\ne", "plain ASCII text.\nsecond line",
              "voilÃ\u00a0le travail", "Hải\u00a0Phòng", "Hải Phòng".encode().decode("latin-1").replace(" ", "\u00a0")]
    for text in tricky:
        assert text_module._repaired(text) == _always_ftfy(text), text
    # And random text from an alphabet that holds every kind of character the fast path judges.
    alphabet = list(" \n\t&;#ÃÂÄâáàãạảấầẫđĐơưỡ“”‘’–—…•€œ™¢©º»\x80\x9d\u0301\u0323ﬁＡ\u3000\u00a0\u200babcXYZ019.,")
    rng = random.Random(13)
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        assert text_module._repaired(text) == _always_ftfy(text), repr(text)


def badness_within(plain: re.Pattern) -> str:
    """ftfy's mojibake check as it can match in text made only of `plain`'s characters (see `_PLAIN_BADNESS`).

    Derived with CPython's regex parser (private: here in a test, never at run time). Kept: the
    sequences of ftfy's alternation that could match, each class cut down to the plain characters.
    """
    import re._compiler
    import re._constants
    import re._parser

    from ftfy.badness import BADNESS_RE

    alphabet = [ch for ch in map(chr, range(0x3000)) if plain.fullmatch(ch)]  # Vietnamese and punctuation: all below U+3000
    parsed = re._parser.parse(BADNESS_RE.pattern, BADNESS_RE.flags)

    def within(element: tuple) -> str:
        element_only = re._compiler.compile(re._parser.SubPattern(parsed.state, [element]), BADNESS_RE.flags)
        return "".join(re.escape(ch) for ch in alphabet if element_only.fullmatch(ch))

    assert len(parsed.data) == 1 and parsed.data[0][0] is re._constants.BRANCH, "ftfy's BADNESS_RE is no longer one alternation"
    kept = []
    for alternative in parsed.data[0][1][1]:
        parts: list[str] | None = []
        for op, value in alternative.data:
            if op is re._constants.AT and value is re._constants.AT_BEGINNING:
                parts.append("^")
            elif op in (re._constants.IN, re._constants.LITERAL, re._constants.ANY):
                if not (chars := within((op, value))):
                    parts = None  # a character plain text never holds: the sequence cannot match it
                    break
                parts.append(f"[{chars}]")
            elif op is re._constants.MAX_REPEAT and len(value[2].data) == 1 and value[1] is not re._constants.MAXREPEAT:
                least, most, (element,) = value[0], value[1], value[2].data
                if chars := within(element):
                    parts.append(f"[{chars}]{{{least},{most}}}")
                elif least:
                    parts = None
                    break
            else:
                raise AssertionError(f"ftfy's BADNESS_RE holds an element the derivation does not know: {op}")
        if parts:
            kept.append("".join(parts))
    return "|".join(kept)


def test_the_written_out_mojibake_check_is_ftfys_own_cut_to_plain_text():
    assert text_module._PLAIN_BADNESS.pattern == badness_within(text_module._PLAIN)


def test_the_plain_text_mojibake_check_finds_what_ftfys_finds():
    from ftfy.badness import is_bad

    check = text_module._PLAIN_BADNESS
    # Plain characters, the ones ftfy's sequences are made of weighted up, so that both verdicts come out often;
    # the second alphabet for the rarer sequences (`Ù…Ù…`, a letter, a space, then `Ã` and a no-break space).
    alphabets = ("aeiouxyzAEIOUXYZ .,!?\n\t\u00a0ÂÃĂĐàáâãèéêìíăđÀÁÈÉÊÌÍÝÙ“”‘’–—…•ờữ019", "ÙÂÃ\u00a0 \t\n–—‘’“”•…a.!")
    rng = random.Random(29)
    verdicts = set()
    for alphabet in alphabets:
        assert text_module._PLAIN.fullmatch(alphabet)
        for _ in range(20000):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 10)))
            ftfys = any(is_bad(line) for line in text.splitlines(keepends=True))
            assert (check.search(text) is not None) == ftfys, repr(text)
            verdicts.add(ftfys)
    assert verdicts == {True, False}
