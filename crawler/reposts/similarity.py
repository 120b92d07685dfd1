"""Whether one article is a repost of another: the decision over plain texts, with its reasons.

Reposts between the portals are rarely identical: the copy is retitled, its lead rewritten, a
paragraph dropped or added, a typo fixed. Routine notices (a weekly reception schedule, a
wanted-person notice, a list of traffic fines) are the opposite trap: most of their text is the
same, yet each is another story. So:

- **Candidates** share a key: a band of the body's MinHash (datasketch; near-identical bodies)
  or a whole paragraph (a copy keeps most paragraphs as they were, however much else changed).
- **The comparison** aligns the two bodies word by word (rapidfuzz). Its score is the share of
  the shorter body found in the longer one (containment, so a shortened repost still scores
  high). A repost's differences are whole passages, or a single word; a look-alike's are many
  small substitutions of dates, names and figures. Two or more such substitutions make a pair
  look-alikes, never linked; they are kept for review, as are pairs just below the threshold.
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from itertools import accumulate
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

SHINGLE_WORDS = 5
NUM_PERM, BAND_ROWS = 64, 4  # 16 bands of 4: pairs with a Jaccard of 0.6 or more share a band (p > 0.87)
MIN_WORDS = 30  # a body shorter than this says too little to call two articles the same
PARAGRAPH_KEY_MIN_WORDS = 12
LINK_AT = 0.4  # containment from which a pair is one story (when its differences are not specifics)
REVIEW_AT = 0.25  # containment from which a pair is kept for review
SPECIFIC_SUBSTITUTIONS_MAX = 1  # a repost may correct a figure; a look-alike changes dates, names and figures
SUBSTITUTION_WORDS = 12  # a replaced passage this short is a substitution of details, not a rewrite
KEPT_WORDING = 0.2  # ...when at least this share of its paragraph is word for word the other's
SHORT_RUN = 3  # equal runs shorter than this are chance matches of common words inside a changed passage
_WORD = re.compile(r"\w+")
_SCHEME = "affine32"
_SKETCHES = threading.local()  # one sketch a thread, cleared for each body: making one checks the permutations again


@dataclass(frozen=True)
class Body:
    """A body as the comparison sees it: its words folded, as written, and its paragraphs."""

    folded: tuple[str, ...]
    written: tuple[str, ...]
    paragraphs: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, text: str) -> Body:
        by_paragraph = [_WORD.findall(p) for p in unicodedata.normalize("NFC", text or "").split("\n\n")]
        paragraphs = tuple(tuple(w.casefold() for w in words) for words in by_paragraph)
        return cls(tuple(w for p in paragraphs for w in p), tuple(w for words in by_paragraph for w in words), paragraphs)

    @property
    def comparable(self) -> bool:
        return len(self.folded) >= MIN_WORDS


def _key(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)


def keys_of(body: Body) -> list[int]:
    """The keys a candidate must share: MinHash bands and whole paragraphs (64-bit ints, for MongoDB)."""
    if not body.comparable:
        return []
    sketch = getattr(_SKETCHES, "sketch", None) or _new_sketch()
    sketch.clear()
    sketch.update_batch(_shingles(body.folded))  # a shingle met twice changes no minimum: no set needed
    values = sketch.hashvalues
    keys = [_key(b"band%d:" % (i // BAND_ROWS) + values[i:i + BAND_ROWS].tobytes()) for i in range(0, NUM_PERM, BAND_ROWS)]
    keys += sorted({_key(b"para:" + " ".join(p).encode()) for p in body.paragraphs if len(p) >= PARAGRAPH_KEY_MIN_WORDS})
    return keys


def _new_sketch() -> Any:
    """This thread's MinHash, with the permutations every sketch shares (stable across processes, so stored keys stay comparable).

    datasketch is imported here, when the first body is sketched, not with this module: its package
    imports its LSH classes, and they import scipy, 1.2 s of every crawl's start. A recrawl that finds
    nothing new never needs it.
    """
    from datasketch import MinHash

    sketch = _SKETCHES.sketch = MinHash(num_perm=NUM_PERM, hashfunc=zlib.crc32, permutations=_permutations(), scheme=_SCHEME)
    return sketch


@cache
def _permutations() -> Any:
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=1, scheme=_SCHEME).permutations


def _shingles(words: tuple[str, ...]) -> list[bytes]:
    r"""Each run of SHINGLE_WORDS words as UTF-8, joined by spaces: sliced out of the body encoded once.

    The words hold no space (they are `\w+`), so word i starts after the i-th space of the encoded body.
    """
    joined = " ".join(words).encode()
    starts = [0, *accumulate(map((1).__add__, map(len, joined.split(b" "))))]
    return [joined[starts[i]:starts[i + SHINGLE_WORDS] - 1] for i in range(len(words) - SHINGLE_WORDS + 1)]


@dataclass(frozen=True)
class Comparison:
    score: float  # the share of the shorter body found in the longer one
    method: str  # "exact" or "aligned"
    specific_substitutions: int  # figures, dates and names replaced in short passages

    @property
    def linked(self) -> bool:
        return self.score >= LINK_AT and self.specific_substitutions <= SPECIFIC_SUBSTITUTIONS_MAX

    @property
    def for_review(self) -> bool:
        return not self.linked and self.score >= REVIEW_AT

    @property
    def why(self) -> str:
        if self.linked:
            return "the same story"
        if self.specific_substitutions > SPECIFIC_SUBSTITUTIONS_MAX and self.score >= LINK_AT:
            return f"the same wording with {self.specific_substitutions} other dates, names or figures: a routine notice?"
        return "close, below the threshold"


def _specifics(words: tuple[str, ...]) -> int:
    """How many of the words are figures, dates or names (a digit in them, or a capital)."""
    return sum(1 for w in words if w[:1].isupper() or any(ch.isdigit() for ch in w))


def compare(a: Body, b: Body) -> Comparison:
    """How much of the shorter body the longer one holds, and how their differences look."""
    if a.folded == b.folded:
        return Comparison(1.0, "exact", 0)
    # Merge chance matches (a common word inside a rewritten passage) into the change around them.
    blocks: list[list[Any]] = []  # [equal?, a_start, a_end, b_start, b_end]
    for op in Indel.opcodes(a.folded, b.folded):
        equal = op.tag == "equal" and op.src_end - op.src_start >= SHORT_RUN
        if blocks and blocks[-1][0] == equal:
            blocks[-1][2], blocks[-1][4] = op.src_end, op.dest_end
        else:
            blocks.append([equal, op.src_start, op.src_end, op.dest_start, op.dest_end])
    same = sum(block[2] - block[1] for block in blocks if block[0])
    # How much of each paragraph of `a` the other body keeps: a look-alike keeps each paragraph's wording and
    # swaps its details; a repost keeps paragraphs whole, or rewrites one (where chance matches count for nothing).
    bounds, start = [], 0
    for paragraph in a.paragraphs:
        bounds.append((start, start + len(paragraph)))
        start += len(paragraph)
    kept = [sum(max(0, min(e1, p1) - max(e0, p0)) for equal, e0, e1, _, _ in blocks if equal) for p0, p1 in bounds]
    substitutions = 0
    for equal, a0, a1, b0, b1 in blocks:
        # A substitution: a short passage replaced by one of about its length (not a rewritten lead, an added paragraph)...
        a_len, b_len = a1 - a0, b1 - b0
        short = 0 < a_len <= SUBSTITUTION_WORDS and 0 < b_len <= SUBSTITUTION_WORDS
        if equal or not short or max(a_len, b_len) > 2.5 * min(a_len, b_len):
            continue
        # ...inside a paragraph whose wording is mostly kept.
        paragraph = next((i for i, (p0, p1) in enumerate(bounds) if p0 <= a0 < p1), None)
        if paragraph is None or kept[paragraph] < KEPT_WORDING * (bounds[paragraph][1] - bounds[paragraph][0]):
            continue
        substitutions += max(_specifics(a.written[a0:a1]), _specifics(b.written[b0:b1]))
    return Comparison(round(same / max(1, min(len(a.folded), len(b.folded))), 4), "aligned", substitutions)


@dataclass(frozen=True)
class Candidate:
    """A stored article as the decision needs it."""

    id: str
    site: str
    published_at: datetime
    credits_source: bool
    title: str
    rank: int  # the portal's originating rank (crawler.portals)
    duplicate_of: str | None = None

    def order(self) -> tuple[bool, datetime, int, str]:
        """The original comes first: it credits no other source, else it is the earliest, else its portal breaks stories."""
        return (self.credits_source, self.published_at, self.rank, self.id)


def best_match(article: Candidate, body: Body, others: Iterable[tuple[Candidate, Body]]) -> tuple[
        tuple[Candidate, Comparison] | None, list[tuple[Candidate, Comparison]]]:
    """The candidate the article is linked to (the best score, then the closest title), and those kept for review."""
    linked, review = [], []
    for other, other_body in others:
        if other.id == article.id or not other_body.comparable:
            continue
        result = compare(body, other_body)
        if result.linked:
            linked.append((other, result))
        elif result.for_review:
            review.append((other, result))
    if not linked:
        return None, review
    best = max(linked, key=lambda pair: (pair[1].score, fuzz.token_set_ratio(article.title, pair[0].title)))
    return best, review
