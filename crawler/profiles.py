"""Politeness profiles: `live` obeys robots.txt, throttles itself and identifies the crawler;
`replica` goes fast against the local replica. Explicit `-s` settings still win."""

from __future__ import annotations

from scrapy.settings import BaseSettings

PROFILES: dict[str, dict[str, object]] = {
    "live": {
        "ROBOTSTXT_OBEY": True,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": 2.0,
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "DOWNLOAD_DELAY": 1.0,
        "CONCURRENT_REQUESTS": 8,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "HTTPCACHE_ENABLED": False,
    },
    "replica": {
        "ROBOTSTXT_OBEY": True,
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS": 32,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 32,
        "PORTAL_RETRY_AFTER_MAX": 2.0,
    },
}


class PortalProfileAddon:
    def update_settings(self, settings: BaseSettings) -> None:
        name = settings.get("PORTAL_PROFILE", "live")
        if name not in PROFILES:
            raise ValueError(f"PORTAL_PROFILE must be one of {', '.join(PROFILES)}, not {name!r}")
        for key, value in PROFILES[name].items():
            settings.set(key, value, priority="addon")
