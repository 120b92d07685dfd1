"""The police portal's browser-check cookie as the crawl sees it: how long one lasts, and how much of it is used.

The portal does not say how long its `hpcc` cookie is good for: the middleware
(`crawler/middlewares/browser_check.py`) learns it from the answers, in requests. These are the
plain values it decides by, apart from any I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from http.cookies import SimpleCookie

from scrapy import Request


@dataclass
class Lifetime:
    """How long the portal's cookie is good for, as last seen: in requests (renewed by) and in seconds (for the record)."""

    requests: int
    seconds: float

    RENEW_AT = 0.8  # of the lifetime: a new cookie is earned in the background from here...
    WAIT_AT = 0.95  # ...and past here requests wait for it rather than risk being turned away


@dataclass
class HeldCookie:
    """The cookie requests are sent with, and how much of it has been used."""

    value: str
    earned_at: float  # time.monotonic()
    sent: int = 0  # plain requests sent with it
    answered: int = 0  # ...and answered with a real page
    last_answer_at: float | None = None

    def used(self, lifetime: Lifetime) -> float:
        """The share of its lifetime this cookie has used, in requests sent.

        Not in time: a lifetime counted in requests lasts as many seconds as the crawl's pace makes
        it, and a slower run would renew for nothing. A cookie that lapses by time instead is
        learned again at its first expiry in a faster run.
        """
        return self.sent / max(lifetime.requests, 1)

    def lifetime(self) -> Lifetime:
        """What this cookie turned out to be good for, now that the check came back for it."""
        return Lifetime(self.answered, (self.last_answer_at or self.earned_at) - self.earned_at)


def cookie_sent(request: Request, name: str) -> str | None:
    header = request.headers.get(b"Cookie")
    if not header:
        return None
    jar = SimpleCookie()
    jar.load(header.decode("latin-1"))
    return jar[name].value if name in jar else None
