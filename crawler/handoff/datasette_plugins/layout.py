"""Datasette plugin (loaded with `--plugins-dir`): the column descriptions in a short scrolling box.

Datasette lists every column's description above a table; with 48 columns described from the data
dictionary, the list filled the first screen and pushed the search box and the results below it.
"""

from __future__ import annotations

from urllib.parse import quote

from datasette import hookimpl

CSS = "dl.column-descriptions{max-height:7.5em;overflow-y:auto;border:1px solid #ddd;padding:.2em .6em;font-size:.9em}"


@hookimpl
def extra_css_urls() -> list[str]:
    return ["data:text/css," + quote(CSS)]
