"""The architecture page stays true: every file or folder it names exists, and every crawler module is named."""

from __future__ import annotations

import re

from tests.helpers import ROOT

PAGE = ROOT / "docs" / "architecture.md"


def named_paths() -> set[str]:
    text = PAGE.read_text(encoding="utf-8")
    return set(re.findall(r"`((?:crawler|spiders|pipelines|replica|tests|bench)/[\w/.-]*)`", text))


def test_every_path_the_page_names_exists():
    missing = sorted(p for p in named_paths() if not (ROOT / p.rstrip("/")).exists())
    assert len(named_paths()) > 30 and missing == []


def test_every_package_of_the_crawler_is_on_the_page():
    packages = {f"crawler/{p.name}/" for p in (ROOT / "crawler").iterdir() if (p / "__init__.py").exists()}
    assert {p for p in packages if not any(named.startswith(p) for named in named_paths())} == set()
