"""One way to match Vietnamese text typed with or without diacritics: `do son`, `Đồ Sơn` and `DO SON` meet.

The search database folds what it indexes and every query with it; the command line folds category names
with it. Unicode decomposition drops the tone and vowel marks; `đ`/`Đ` is a letter of its own (no
decomposition), so it is mapped to `d`/`D` first. Case is kept: SQLite's FTS5 tokenizer ignores it, and
its operators (`AND`, `OR`, `NOT`, `NEAR`) are upper case; `matches` compares case-insensitively.
"""

from __future__ import annotations

import unicodedata

_D = str.maketrans({"đ": "d", "Đ": "D"})


def fold(text: str) -> str:
    """The text without diacritics, `đ` as `d`: `Đồ Sơn` → `Do Son`."""
    decomposed = unicodedata.normalize("NFD", text.translate(_D))
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def key(text: str) -> str:
    """A key two spellings of one name share: folded, case-folded, single-spaced."""
    return " ".join(fold(text).casefold().split())


def matches(a: str, b: str) -> bool:
    return key(a) == key(b)
