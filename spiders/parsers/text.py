"""Text repair for what the portals' CMSs store: mojibake, entities, NFD, odd spaces."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import ftfy

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


# ftfy's mojibake check (`ftfy.badness.BADNESS_RE`, one alternation of 37 sequences of character
# classes over every alphabet) cut down to what can match in text made only of `_PLAIN`'s
# characters: the sequences that could match, each class reduced to plain characters, searched
# line by line at once. It finds the same texts a third as slowly (23 against 60 µs a paragraph).
# Written out here, not derived at import: deriving it needs CPython's private regex parser.
# tests/test_text.py derives it again from the installed ftfy and checks it is this one, and
# that it gives ftfy's own verdicts on random plain texts.
_PLAIN_BADNESS = re.compile("|".join((
    '[àáâãèéêìíăđ”][ÀÁÂÃÈÉÊÌÍÝĂĐ]',
    '[”][àáâãèéêìíăđ]',
    '[ÀÁÂÃÈÉÊÌÍÝàáâãèéêìíĂăĐđ][”][‘“•]',
    '[abcdefghijklmnopqrstuvwxyz][ÀÁÂÃÈÉÊÌÍÝĂĐ][‘“•]',
    '[ÀÁÂÃÈÉÊÌÍÝàáâãèéêìíĂăĐđ][‘“”•][0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyzÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝàáâãèéêìíòóôõùúýĂăĐđĨĩŨũƠơƯưẠạẢảẤấẦầẨẩẪẫẬậẮắẰằẲẳẴẵẶặẸẹẺẻẼẽẾếỀềỂểỄễỆệỈỉỊịỌọỎỏỐốỒồỔổỖỗỘộỚớỜờỞởỠỡỢợỤụỦủỨứỪừỬửỮữỰựỲỳỴỵỶỷỸỹ]',
    '[ÂÃ][\xa0–—‘“”•]',
    '[Ù][\xa0–—‘’“•…][Ù][\xa0–—‘’“•…]',
    '[Ã][\xa0]',
    '[abcdefghijklmnopqrstuvwxyz][\\\t\\\n\\ \xa0]{0,1}[ÂÃ][\\ ]',
    '^[ÂÃ][\\ ]',
    '[!,\\.\\?abcdefghijklmnopqrstuvwxyz”][Â][\\ ‘“”•]',
)), re.MULTILINE)


def _needs_ftfy(text: str) -> bool:
    """Whether ftfy could change this text; False only where it certainly would not (checked the way it checks)."""
    if not _PLAIN.fullmatch(text) or len(text) > 100_000:
        return True
    return _PLAIN_BADNESS.search(text) is not None


def clean_text(value: str | None) -> str:
    """One line of text as a reader sees it: repaired, NFC, single-spaced, trimmed."""
    return _cleaned(value) if value else ""


@lru_cache(maxsize=4096)  # an article's texts meet again within its parse and its pipeline stages: repaired once
def _cleaned(value: str) -> str:
    return _repaired(value)


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
