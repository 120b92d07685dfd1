"""Scheduling a spider on one of several scrapyd nodes, never twice at once: what the crontab recipe calls.

The nodes are reached through scrapyd-client's own client, which sends credentials from
`SCRAPYD_USERNAME`/`SCRAPYD_PASSWORD`, else from `~/.netrc` (one `machine` line per host).
Before scheduling, every node is asked for its jobs: a spider pending or running anywhere is
not scheduled again, and a node that does not answer makes the answer unknown, so nothing is
scheduled (two runs of a spider at once would both walk the portal and both write its state).
A job goes to the node with the fewest pending and running jobs, with that node's newest version.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import requests
from scrapyd_client.exceptions import ErrorResponse, MalformedResponse
from scrapyd_client.pyclient import ScrapydClient

from crawler.urls import redact

REFUSED = 3  # exit status when a job of the same spider is already pending or running


class ScrapydError(RuntimeError):
    """A scrapyd node could not be reached, refused the credentials, or answered with an error."""


@dataclass(frozen=True)
class Scheduled:
    node: str
    job: str
    version: str | None


@dataclass(frozen=True)
class ActiveJob:
    node: str
    job: str
    state: str  # pending or running


def node_urls(values: list[str] | None, environ: dict[str, str] = os.environ) -> list[str]:
    """`--scrapyd` values (each may list several, comma- or space-separated), else `SCRAPYD_URL`."""
    raw = values or [environ.get("SCRAPYD_URL") or "http://127.0.0.1:6800"]
    urls = [url.rstrip("/") for value in raw for url in re.split(r"[\s,]+", value) if url]
    return list(dict.fromkeys(urls))


class Cluster:
    """The scrapyd nodes of one project, seen as one scheduler."""

    def __init__(self, urls: list[str], project: str, username: str | None = None, password: str | None = None) -> None:
        self.project = project
        # No username: scrapyd-client looks the host up in ~/.netrc.
        self.nodes = {url: ScrapydClient(url, username=username, password=password) for url in urls}

    @classmethod
    def from_environment(cls, urls: list[str], project: str) -> Cluster:
        return cls(urls, project, os.environ.get("SCRAPYD_USERNAME") or None, os.environ.get("SCRAPYD_PASSWORD") or None)

    def ask(self, url: str, call: str, *args: object) -> object:
        try:
            return getattr(self.nodes[url], call)(*args)
        except (requests.RequestException, ErrorResponse, MalformedResponse) as error:
            raise ScrapydError(redact(f"scrapyd at {url}: {call} failed: {_why(error)}")) from error

    def jobs(self) -> dict[str, dict]:
        """Every node's listjobs answer; any node that does not answer raises."""
        return {url: self.ask(url, "jobs", self.project) for url in self.nodes}

    def active_jobs(self, spider: str, jobs: dict[str, dict] | None = None) -> list[ActiveJob]:
        jobs = self.jobs() if jobs is None else jobs
        return [ActiveJob(url, job["id"], state) for url, answer in jobs.items() for state in ("pending", "running")
                for job in answer.get(state, []) if job.get("spider") == spider]

    def schedule(self, spider: str, arguments: dict[str, str], settings: dict[str, str]) -> Scheduled | list[ActiveJob]:
        """The job scheduled on the least busy node, or the jobs of the spider already pending or running."""
        jobs = self.jobs()
        active = self.active_jobs(spider, jobs)
        if active:
            return active
        busy = {url: len(answer.get("pending", [])) + len(answer.get("running", [])) for url, answer in jobs.items()}
        node = min(self.nodes, key=lambda url: busy[url])  # ties go to the first node listed
        versions = self.ask(node, "versions", self.project)
        version = versions[-1] if versions else None
        form = [("setting", f"{k}={v}") for k, v in settings.items()] + list(arguments.items())
        if version:
            form.append(("_version", version))  # scrapyd hands it to the job: provenance
        job = self.ask(node, "schedule", self.project, spider, form)
        return Scheduled(node, job, version)


def _why(error: Exception) -> str:
    if isinstance(error, MalformedResponse) and "Unauthorized" in str(error):
        return "401 Unauthorized (set SCRAPYD_USERNAME and SCRAPYD_PASSWORD, or a ~/.netrc entry for the host)"
    return str(error).split("\n", 1)[0][:200]


def pairs(values: list[str], flag: str) -> dict[str, str]:
    out = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise ValueError(f"{flag} takes NAME=VALUE, not {value!r}")
        out[key] = rest
    return out
