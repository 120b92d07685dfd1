"""Scheduling a spider on scrapyd, never twice at once: what the crontab recipe calls."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

REFUSED = 3  # exit status when a job of the same spider is already pending or running


class ScrapydError(RuntimeError):
    """scrapyd could not be reached, or answered with an error."""


@dataclass
class Scrapyd:
    url: str
    project: str
    timeout: float = 10.0

    def call(self, endpoint: str, params: dict | None = None, form: list[tuple[str, str]] | None = None) -> dict:
        url = urllib.parse.urljoin(self.url.rstrip("/") + "/", endpoint)
        if params:
            url += "?" + urllib.parse.urlencode(params)
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with urllib.request.urlopen(url, data=data, timeout=self.timeout) as answer:
                body = json.loads(answer.read().decode("utf-8"))
        except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as error:
            raise ScrapydError(f"scrapyd at {self.url} did not answer {endpoint}: {error}") from error
        if body.get("status") != "ok":
            raise ScrapydError(f"scrapyd {endpoint}: {body.get('message', body)}")
        return body

    def active_jobs(self, spider: str) -> list[dict]:
        jobs = self.call("listjobs.json", {"project": self.project})
        return [job for state in ("pending", "running") for job in jobs.get(state, []) if job.get("spider") == spider]

    def current_version(self) -> str | None:
        versions = self.call("listversions.json", {"project": self.project}).get("versions", [])
        return versions[-1] if versions else None

    def schedule(self, spider: str, arguments: dict[str, str], settings: dict[str, str]) -> tuple[str, str | None]:
        version = self.current_version()
        form = [("project", self.project), ("spider", spider)]
        if version:
            form.append(("_version", version))  # scrapyd hands it to the job: provenance
        form += [("setting", f"{k}={v}") for k, v in settings.items()]
        form += list(arguments.items())
        return self.call("schedule.json", form=form)["jobid"], version


def pairs(values: list[str], flag: str) -> dict[str, str]:
    out = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise ValueError(f"{flag} takes NAME=VALUE, not {value!r}")
        out[key] = rest
    return out
