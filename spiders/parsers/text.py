"""Text repair for what the portals' CMSs store: mojibake, entities, NFD, odd spaces."""

from __future__ import annotations

import re
import re._compiler
import re._constants
import re._parser
import unicodedata
from collections.abc import Iterable

import ftfy
from ftfy.badness import BADNESS_RE, is_bad

# Characters CMSs leave between words that a reader sees as one plain space.
_ODD_SPACES = re.compile(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000\t\r\n\f\v]+")
_INVISIBLES = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_RUNS_OF_SPACES = re.compile(r" {2,}")
# Curly quotes are the authors' own: ftfy would straighten them by default.
_FTFY = ftfy.TextFixerConfig(normalization="NFC", unescape_html=True, uncurl_quotes=False, explain=False)


# Vietnamese letters, precomposed (NFC): every vowel with every tone, and đ.
_VIETNAMESE = "".join(sorted({unicodedata.normalize("NFC", vowel + tone)
                              for vowel in "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY" for tone in ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")}
                             | set("đĐ")))
# Text made only of these needs nothing from ftfy's fixers but, perhaps, its encoding repair, which runs
# only where ftfy's own badness check finds mojibake: no entity (`&`), control character, ligature,
# wide form, odd line break or combining mark (so NFC leaves it as it is). Most paragraphs are such text.
# A no-break space is in it too: no fixer but the encoding repair touches one ("Ã\xa0" is mojibake of "à").
_PLAIN = re.compile(f"[\t\n -%'-~\u00a0{_VIETNAMESE}“”‘’–—…•]*")


def _badness_within(plain: re.Pattern) -> re.Pattern | None:
    """ftfy's mojibake check as it can match in text made only of `plain`'s characters, or None if not derivable.

    ftfy's `BADNESS_RE` is one alternation of 37 sequences of character classes over every
    alphabet; most need characters plain text never holds. Kept here: the sequences that could
    match, each class cut down to the plain characters, in one multiline search (a match in any
    line is a match in the text). It finds the same texts a third as slowly; the tests walk both
    over the same random texts. An element it does not know (a new ftfy) gives None, and the
    check is then ftfy's own.
    """
    alphabet = [ch for ch in map(chr, range(0x3000)) if plain.fullmatch(ch)]  # Vietnamese and punctuation: all below U+3000
    parsed = re._parser.parse(BADNESS_RE.pattern, BADNESS_RE.flags)

    def within(element: tuple) -> str:
        element_only = re._compiler.compile(re._parser.SubPattern(parsed.state, [element]), BADNESS_RE.flags)
        return "".join(re.escape(ch) for ch in alphabet if element_only.fullmatch(ch))

    if len(parsed.data) != 1 or parsed.data[0][0] is not re._constants.BRANCH:
        return None
    alternatives = parsed.data[0][1][1]
    kept = []
    for alternative in alternatives:
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
                return None
        if parts:
            kept.append("".join(parts))
    return re.compile("|".join(kept), re.MULTILINE)


_PLAIN_BADNESS = _badness_within(_PLAIN)


def _needs_ftfy(text: str) -> bool:
    """Whether ftfy could change this text; False only where it certainly would not (checked the way it checks)."""
    if not _PLAIN.fullmatch(text) or len(text) > 100_000:
        return True
    if _PLAIN_BADNESS is not None:
        return _PLAIN_BADNESS.search(text) is not None
    return any(is_bad(line) for line in text.splitlines(keepends=True))  # ftfy repairs line by line


# Texts cleaned lately, and their clean forms: a text is repaired once, however many stages clean
# it again (the parser, the paragraph split, the normalise stage). Bounded: emptied when full.
_CLEANED: dict[str, str] = {}
_CLEANED_MAX = 4096  # an article's texts meet again within its own parse and pipeline stages


def clean_text(value: str | None) -> str:
    """One line of text as a reader sees it: repaired, NFC, single-spaced, trimmed."""
    if not value:
        return ""
    known = _CLEANED.get(value)
    if known is not None:
        return known
    text = _repaired(value)
    if len(_CLEANED) >= _CLEANED_MAX:
        _CLEANED.clear()
    _CLEANED[value] = _CLEANED[text] = text  # cleaning is idempotent: the clean form is its own
    return text


def _repaired(value: str) -> str:
    text = ftfy.fix_text(value, config=_FTFY) if _needs_ftfy(value) else value
    text = _INVISIBLES.sub("", text)
    text = _ODD_SPACES.sub(" ", text)
    text = _RUNS_OF_SPACES.sub(" ", text)
    return unicodedata.normalize("NFC", text.strip())


def clean_paragraphs(paragraphs: Iterable[str | None]) -> list[str]:
    """Clean each paragraph and drop the empty ones (stray `&nbsp;` paragraphs)."""
    cleaned = (clean_text(p) for p in paragraphs)
    return [p for p in cleaned if p]


def join_paragraphs(paragraphs: Iterable[str]) -> str:
    """Body text as the contract wants it: paragraphs split by blank lines."""
    return "\n\n".join(paragraphs)


def fold_for_matching(value: str) -> str:
    """Case- and punctuation-blind form of a text, for finding the same article twice."""
    folded = unicodedata.normalize("NFC", value).casefold()
    return "".join(ch for ch in folded if ch.isalnum())
