"""What the browser may skip: the pages it renders need scripts and markup, not pictures."""

from __future__ import annotations

_HEAVY = {"image", "media", "font", "stylesheet"}


def skip_heavy_resources(request) -> bool:  # request: a playwright Request
    return request.resource_type in _HEAVY
