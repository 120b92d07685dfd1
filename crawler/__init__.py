"""haiphong-portal-crawler: settings, item model, shared helpers and command-line tools."""

__version__ = "0.1.0"
