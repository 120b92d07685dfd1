"""Deployment end to end: a real scrapyd, the egg from scrapyd-client, jobs scheduled by the crontab recipe."""

from __future__ import annotations

import base64
import json
import os
import shlex
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from crawler.storage.mongo import connect, free_port
from replica.corpus import CITY, POLICE
from replica.server import Replica, ReplicaOptions
from tests.helpers import ROOT

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent
PROJECT, VERSION, DATABASE = "haiphong_portal", "e2e-1", "scrapyd_e2e"
CRONTAB = ROOT / "deploy" / "crontab"


USER, PASSWORD = "crawler", "s3cret-e2e"


def get_json(url: str, auth: tuple[str, str] | None = (USER, PASSWORD)) -> dict:
    request = urllib.request.Request(url)
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(":".join(auth).encode()).decode())
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def wait_until(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if result := check():
                return result
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def crontab_lines() -> tuple[dict[str, str], list[str]]:
    """The recipe's variables and the command of each schedule line."""
    env, commands = {}, []
    for line in CRONTAB.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split(None, 5)
        if "=" in fields[0] and " " not in line.split("=", 1)[0]:
            name, value = line.split("=", 1)
            env[name] = value
        else:
            commands.append(fields[5])
    return env, commands


def start_scrapyd(folder: Path, host: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    folder.mkdir()
    (folder / "scrapyd.conf").write_text(f"""[scrapyd]
bind_address = {host}
http_port = {port}
username = {USER}
password = {PASSWORD}
eggs_dir = {folder / 'eggs'}
logs_dir = {folder / 'logs'}
dbs_dir = {folder / 'dbs'}
items_dir =
max_proc = 2
poll_interval = 0.5
""")
    return subprocess.Popen([str(BIN / "scrapyd")], cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """Two password-protected scrapyd nodes (two loopback addresses) sharing one MongoDB, the egg deployed to both."""
    home = tmp_path_factory.mktemp("scrapyd")
    procs = []
    mongo_port = free_port()
    mongo_uri = f"mongodb://127.0.0.1:{mongo_port}/"
    procs.append(subprocess.Popen([sys.executable, "-m", "crawler", "mongo-server", "--data-dir", str(home / "mongo"),
                                   "--port", str(mongo_port)], cwd=ROOT))
    env = {**os.environ, "MONGO_URI": mongo_uri, "MONGO_DATABASE": DATABASE, "PORTAL_DATA_DIR": str(home / "data")}
    env.pop("MONGO_EMBEDDED", None)
    nodes = {}
    for name, host in (("node-1", "127.0.0.1"), ("node-2", "127.0.0.2")):
        port = free_port(host)
        procs.append(start_scrapyd(home / name, host, port, env))
        nodes[name] = f"http://{host}:{port}"
    try:
        targets = ""
        for name, url in nodes.items():
            wait_until(lambda url=url: get_json(url + "/daemonstatus.json")["status"] == "ok", 60, f"scrapyd at {url}")
            targets += f"[deploy:{name}]\nurl = {url}/\nproject = {PROJECT}\nusername = {USER}\npassword = ${{E2E_SCRAPYD_PASSWORD}}\n"
        client, db = connect(mongo_uri, DATABASE)
        client.drop_database(DATABASE)
        (home / "xdg").mkdir()
        (home / "xdg" / "scrapy.cfg").write_text(targets)
        for name in nodes:
            deploy = subprocess.run([str(BIN / "scrapyd-deploy"), name, "--version", VERSION], cwd=ROOT, capture_output=True, text=True,
                                    env={**os.environ, "XDG_CONFIG_HOME": str(home / "xdg"), "E2E_SCRAPYD_PASSWORD": PASSWORD},
                                    timeout=180)
            assert deploy.returncode == 0, deploy.stdout + deploy.stderr
        with Replica(ReplicaOptions(articles_per_site=150, fault_rate=0.03, slow_seconds=0.3)) as replica:
            yield {"nodes": nodes, "db": db, "replica": replica, "home": home}
        client.close()
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(timeout=30)


def schedule_from_crontab(deployment, spider: str, **environ: str) -> subprocess.CompletedProcess:
    """The crontab's line for the spider, run by bash with the recipe's variables and both nodes."""
    variables, commands = crontab_lines()
    command = next(c for c in commands if f"schedule {spider} " in c and "full=1" not in c)
    replica = deployment["replica"]
    env = {**os.environ, **variables, **environ, "CRAWLER_HOME": str(ROOT), "SCRAPYD_URL": ",".join(deployment["nodes"].values()),
           "PORTAL_SCHEDULE_OPTIONS": "-s PORTAL_PROFILE=replica",
           "CITY_OPTIONS": f"-a base_url={replica.base_url(CITY)}", "POLICE_OPTIONS": f"-a base_url={replica.base_url(POLICE)}"}
    for name in ("SCRAPYD_USERNAME", "SCRAPYD_PASSWORD"):
        if name not in environ:  # no credentials given: scrapyd-client reads ~/.netrc
            env.pop(name, None)
    if not (ROOT / ".venv").exists():
        command = command.replace(".venv/bin/python", shlex.quote(sys.executable))
    return subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=60)


def test_the_egg_holds_the_crawler_and_nothing_from_tests(tmp_path):
    egg = tmp_path / "crawler.egg"
    build = subprocess.run([str(BIN / "scrapyd-deploy"), "--build-egg", str(egg)], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert build.returncode == 0, build.stderr
    tops = {name.split("/")[0] for name in zipfile.ZipFile(egg).namelist()}
    assert tops == {"EGG-INFO", "crawler", "spiders", "pipelines"}
    assert "settings = crawler.settings" in zipfile.ZipFile(egg).read("EGG-INFO/entry_points.txt").decode()


def test_jobs_go_to_the_least_busy_authenticated_node_and_crawl_into_the_shared_mongodb(deployment):
    nodes = list(deployment["nodes"].values())
    wrong = schedule_from_crontab(deployment, CITY, SCRAPYD_USERNAME=USER, SCRAPYD_PASSWORD="wrong")
    assert wrong.returncode == 1 and "401 Unauthorized" in wrong.stderr, wrong.stderr
    jobs, placed = {}, {}
    for spider in (CITY, POLICE):
        done = schedule_from_crontab(deployment, spider, SCRAPYD_USERNAME=USER, SCRAPYD_PASSWORD=PASSWORD)
        assert done.returncode == 0, done.stderr
        jobs[spider] = done.stdout.split("job ", 1)[1].split(",", 1)[0]
        placed[spider] = done.stdout.rsplit(" on ", 1)[1].strip()
    # Both nodes idle: the first job goes to the first node; the second to the node with no job.
    assert placed == {CITY: nodes[0], POLICE: nodes[1]}
    # Credentials from ~/.netrc this time; the city job is still pending or running on node 1.
    netrc_home = deployment["home"] / "netrc-home"
    netrc_home.mkdir(exist_ok=True)
    (netrc_home / ".netrc").write_text("".join(f"machine {host} login {USER} password {PASSWORD}\n" for host in ("127.0.0.1", "127.0.0.2")))
    (netrc_home / ".netrc").chmod(0o600)
    again = schedule_from_crontab(deployment, CITY, HOME=str(netrc_home))
    assert again.returncode == 3 and "already pending or running" in again.stderr and nodes[0] in again.stderr, again.stderr
    def finished(node: str, job: str) -> bool:
        return job in {j["id"] for j in get_json(node + f"/listjobs.json?project={PROJECT}")["finished"]}

    for spider, node in placed.items():
        wait_until(lambda node=node, job=jobs[spider]: finished(node, job), 600, f"the {spider} job to finish")
    db, replica = deployment["db"], deployment["replica"]
    for spider, job in jobs.items():
        run = db.crawl_runs.find_one({"spider": spider, "job_id": job})
        assert run is not None and run["finish_reason"] == "finished" and run["version"] == VERSION, run
        expected = {r["_id"] for r in replica.truth(spider) if r["outcome"] == "stored"}
        assert {d["_id"] for d in db.articles.find({"site": spider}, {"_id": 1})} == expected
        assert db.articles.count_documents({"site": spider, "crawl.job_id": job, "crawl.version": VERSION}) == len(expected)
    log = deployment["home"] / "node-1" / "logs" / PROJECT / CITY / f"{jobs[CITY]}.log"
    assert "log_count/ERROR" not in log.read_text(encoding="utf-8", errors="replace")
