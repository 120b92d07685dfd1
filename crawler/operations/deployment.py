"""Deploying the egg to every scrapyd node with a version scrapyd orders as it was deployed.

scrapyd runs a project's *newest* version, and decides which is newest by sorting the names of its
egg files: as PEP 440 versions when every name is one, else as plain text (`scrapyd.eggstorage.
sorted_versions`), after replacing every character but letters, digits, `_` and `-` with `_`.
`--version GIT` gives `r<commits>-<branch>`: text order puts `r100-main` before `r96-main`, and
the old code runs. Our versions are a UTC timestamp of fixed width, then the commit:
`20261205T213005Z-4212c13a8f1e`. They need no character scrapyd rewrites, sort as text in deploy
order, and say which code they are. Before uploading, each node's versions are checked: one that
would still sort after the new version (an `r96-main` left from before) makes the deploy stop and
name it, since the new code would otherwise never run. After uploading, each node is asked again
that the new version is its newest.

Rollback is `delversion` of the newest version: the one before becomes the newest again
(`python -m crawler deploy --rollback`).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import requests

from crawler.operations.scheduling import Cluster, ScrapydError
from crawler.urls import redact

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class DeployError(RuntimeError):
    """The egg could not be built or a node could not take it, or would not run it."""


def sorted_like_scrapyd(versions: list[str]) -> list[str]:
    """scrapyd's own order of a project's versions (names as its egg storage lists them)."""
    from scrapyd.eggstorage import sorted_versions

    return sorted_versions([re.sub(r"[^A-Za-z0-9_-]", "_", v) for v in versions])


def commit_of(root: Path = PROJECT_ROOT) -> str:
    """The checkout's commit (12 hex digits, `-dirty` with uncommitted changes), or `nogit`."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True, text=True,
                                check=True, timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True,
                               text=True, check=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "nogit"
    return commit + ("-dirty" if dirty else "")


def make_version(now: datetime, commit: str) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{commit}"


def build_egg(folder: Path, root: Path = PROJECT_ROOT) -> Path:
    """The project's egg, built by scrapyd-client (`scrapyd-deploy --build-egg`) from the checkout."""
    egg = folder / "haiphong_portal_crawler.egg"
    tool = Path(sys.executable).parent / "scrapyd-deploy"
    done = subprocess.run([str(tool), "--build-egg", str(egg)], cwd=root, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0 or not egg.is_file():
        raise DeployError(f"the egg could not be built: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")
    return egg


@dataclass(frozen=True)
class Deployed:
    node: str
    version: str
    spiders: int


class Deployer:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    def _call(self, node: str, call: str, *args: object) -> object:
        return self.cluster.ask(node, call, *args)

    def versions(self, node: str) -> list[str]:
        try:
            return list(self._call(node, "versions", self.cluster.project))  # type: ignore[arg-type]
        except ScrapydError as error:
            if "no such file" in str(error).lower() or "not found" in str(error).lower():
                return []  # the project is not on that node yet
            raise

    def check(self, version: str) -> None:
        """Every node would run `version` once it is uploaded; else the versions in the way, named."""
        for node in self.cluster.nodes:
            existing = self.versions(node)
            if existing and sorted_like_scrapyd([*existing, version])[-1] != version:
                after = [v for v in existing if sorted_like_scrapyd([v, version])[-1] == v]
                raise DeployError(
                    f"scrapyd at {redact(node)} would keep running {', '.join(after)}: it sorts after {version} (a version from "
                    f"before versions were timestamps?). Delete it first: python -m crawler deploy --delete {after[0]} "
                    f"--scrapyd {redact(node)}")

    def upload(self, egg: Path, version: str) -> list[Deployed]:
        done = []
        for node, client in self.cluster.nodes.items():
            try:
                with egg.open("rb") as handle:
                    response = requests.post(f"{client.url}/addversion.json", data={"project": self.cluster.project, "version": version},
                                             files={"egg": handle}, auth=client.auth, timeout=300)
                answer = response.json()
            except (requests.RequestException, ValueError) as error:
                raise DeployError(redact(f"scrapyd at {node} did not take the egg: {str(error).splitlines()[0][:300]}")) from error
            if answer.get("status") != "ok":
                why = answer.get("message") or f"HTTP {response.status_code}"
                raise DeployError(redact(f"scrapyd at {node} refused the egg: {str(why).strip().splitlines()[-1][:300]}"))
            newest = self.versions(node)[-1:]
            if newest != [version]:
                raise DeployError(f"scrapyd at {redact(node)} lists {newest} as its newest version, not {version}")
            done.append(Deployed(node, version, int(answer.get("spiders", 0))))
        return done

    def delete(self, version: str) -> list[str]:
        """Delete one version from every node that has it; the nodes it was deleted from."""
        gone = []
        for node in self.cluster.nodes:
            if version in self.versions(node):
                self._call(node, "delversion", self.cluster.project, version)
                gone.append(node)
        return gone

    def rollback(self) -> list[tuple[str, str, str]]:
        """On every node, delete the newest version when an older one remains: (node, deleted, now running)."""
        plan = []
        for node in self.cluster.nodes:
            versions = self.versions(node)
            if len(versions) < 2:
                raise DeployError(f"scrapyd at {redact(node)} has {len(versions)} version(s): nothing to roll back to")
            plan.append((node, versions[-1], versions[-2]))
        for node, newest, _ in plan:
            self._call(node, "delversion", self.cluster.project, newest)
        return plan


def deploy(cluster: Cluster, now: datetime, version: str | None = None) -> list[Deployed]:
    """Build the egg once and deploy it to every node, checked before and after."""
    version = version or make_version(now, commit_of())
    deployer = Deployer(cluster)
    deployer.check(version)
    with tempfile.TemporaryDirectory(prefix="haiphong-egg-") as folder:
        egg = build_egg(Path(folder))
        return deployer.upload(egg, version)
