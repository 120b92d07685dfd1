"""The spiders' arguments, parsed and checked once: they arrive as strings from `-a` and scrapyd."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ArgumentError(ValueError):
    """A spider argument with a value the spider cannot use."""


@dataclass(frozen=True)
class CrawlArguments:
    base_url: str | None = None
    categories: tuple[str, ...] = ()
    max_pages: int | None = None
    full: bool = False

    @classmethod
    def parse(cls, raw: Mapping[str, object], known_categories: Iterable[str]) -> CrawlArguments:
        known = list(known_categories)
        return cls(
            base_url=_base_url(raw.get("base_url")),
            categories=_categories(raw.get("categories"), known),
            max_pages=_positive_int("max_pages", raw.get("max_pages")),
            full=_flag("full", raw.get("full")),
        )


def _base_url(value: object) -> str | None:
    if value in (None, ""):
        return None
    text = str(value).strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ArgumentError(f"base_url must be an http(s) origin such as http://127.0.0.1:8080, not {value!r}")
    return text


def _categories(value: object, known: list[str]) -> tuple[str, ...]:
    if value in (None, ""):
        return tuple(known)
    wanted = [c.strip() for c in str(value).split(",") if c.strip()]
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise ArgumentError(f"unknown categories {', '.join(unknown)}; known: {', '.join(known)}")
    return tuple(dict.fromkeys(wanted))


def _positive_int(name: str, value: object) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value))
    except ValueError:
        raise ArgumentError(f"{name} must be a whole number, not {value!r}") from None
    if number < 1:
        raise ArgumentError(f"{name} must be 1 or more, not {number}")
    return number


def _flag(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ArgumentError(f"{name} must be 1 or 0, not {value!r}")
