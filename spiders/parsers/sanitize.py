"""Article body HTML made safe to show: no scripts, styles or event handlers; absolute links."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urljoin

import nh3

_TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "span", "div", "a", "img", "figure", "figcaption",
    "table", "tbody", "thead", "tr", "td", "th", "ul", "ol", "li", "blockquote", "h2", "h3", "h4",
    "h5", "h6", "sub", "sup",
}
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}, "td": {"colspan", "rowspan"}}


def sanitize_html(fragment: str, base_url: str, rewrite_url: Callable[[str], str] | None = None) -> str:
    """The fragment cleaned by an allow-list, its links absolute (and rewritten if asked)."""
    if not fragment or not fragment.strip():
        return ""

    def absolute_links(tag: str, attribute: str, value: str) -> str:
        if attribute in ("href", "src"):
            value = urljoin(base_url, value)
            return rewrite_url(value) if rewrite_url else value
        return value

    return nh3.clean(
        fragment, tags=_TAGS, attributes=_ATTRIBUTES, link_rel=None, strip_comments=True,
        attribute_filter=absolute_links,
    ).strip()
