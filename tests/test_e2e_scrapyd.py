"""Deployment end to end: a real scrapyd, the egg from scrapyd-client, jobs scheduled by the crontab recipe."""

from __future__ import annotations

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

from crawler.mongo import connect, free_port
from replica.corpus import CITY, POLICE
from replica.server import Replica, ReplicaOptions
from tests.helpers import ROOT

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent
PROJECT, VERSION, DATABASE = "haiphong_portal", "e2e-1", "scrapyd_e2e"
CRONTAB = ROOT / "deploy" / "crontab"


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as answer:
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


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    home = tmp_path_factory.mktemp("scrapyd")
    procs = []
    mongo_port, scrapyd_port = free_port(), free_port()
    mongo_uri = f"mongodb://127.0.0.1:{mongo_port}/"
    procs.append(subprocess.Popen([sys.executable, "-m", "crawler", "mongo-server", "--data-dir", str(home / "mongo"),
                                   "--port", str(mongo_port)], cwd=ROOT))
    (home / "scrapyd.conf").write_text(f"""[scrapyd]
bind_address = 127.0.0.1
http_port = {scrapyd_port}
eggs_dir = {home / 'eggs'}
logs_dir = {home / 'logs'}
dbs_dir = {home / 'dbs'}
items_dir =
max_proc = 2
poll_interval = 0.5
""")
    env = {**os.environ, "MONGO_URI": mongo_uri, "MONGO_DATABASE": DATABASE, "PORTAL_DATA_DIR": str(home / "data")}
    env.pop("MONGO_EMBEDDED", None)
    procs.append(subprocess.Popen([str(BIN / "scrapyd")], cwd=home, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    url = f"http://127.0.0.1:{scrapyd_port}/"
    try:
        wait_until(lambda: get_json(url + "daemonstatus.json")["status"] == "ok", 60, "scrapyd")
        client, db = connect(mongo_uri, DATABASE)
        client.drop_database(DATABASE)
        (home / "xdg").mkdir()
        (home / "xdg" / "scrapy.cfg").write_text(f"[deploy:e2e]\nurl = {url}\nproject = {PROJECT}\n")
        deploy = subprocess.run([str(BIN / "scrapyd-deploy"), "e2e", "--version", VERSION], cwd=ROOT, capture_output=True,
                                text=True, env={**os.environ, "XDG_CONFIG_HOME": str(home / "xdg")}, timeout=180)
        assert deploy.returncode == 0, deploy.stdout + deploy.stderr
        with Replica(ReplicaOptions(articles_per_site=150, fault_rate=0.03, slow_seconds=0.3)) as replica:
            yield {"url": url, "db": db, "replica": replica, "home": home}
        client.close()
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(timeout=30)


def schedule_from_crontab(deployment, spider: str) -> subprocess.CompletedProcess:
    variables, commands = crontab_lines()
    command = next(c for c in commands if f"schedule {spider} " in c and "full=1" not in c)
    replica = deployment["replica"]
    env = {**os.environ, **variables, "CRAWLER_HOME": str(ROOT), "SCRAPYD_URL": deployment["url"],
           "PORTAL_SCHEDULE_OPTIONS": "-s PORTAL_PROFILE=replica",
           "CITY_OPTIONS": f"-a base_url={replica.base_url(CITY)}", "POLICE_OPTIONS": f"-a base_url={replica.base_url(POLICE)}"}
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


def test_scheduled_jobs_crawl_into_the_shared_mongodb_with_provenance(deployment):
    jobs = {}
    for spider in (CITY, POLICE):
        done = schedule_from_crontab(deployment, spider)
        assert done.returncode == 0, done.stderr
        jobs[spider] = done.stdout.split("job ", 1)[1].split(",", 1)[0]
    again = schedule_from_crontab(deployment, CITY)  # the first city job is still pending or running
    assert again.returncode == 3 and "already pending or running" in again.stderr
    finished = wait_until(lambda: (lambda js: js if {j["id"] for j in js} >= set(jobs.values()) else None)(
        get_json(deployment["url"] + f"listjobs.json?project={PROJECT}")["finished"]), 600, "the jobs to finish")
    assert {j["id"] for j in finished} >= set(jobs.values())
    db, replica = deployment["db"], deployment["replica"]
    for spider, job in jobs.items():
        run = db.crawl_runs.find_one({"spider": spider, "job_id": job})
        assert run is not None and run["finish_reason"] == "finished" and run["version"] == VERSION, run
        expected = {r["_id"] for r in replica.truth(spider) if r["outcome"] == "stored"}
        assert {d["_id"] for d in db.articles.find({"site": spider}, {"_id": 1})} == expected
        assert db.articles.count_documents({"site": spider, "crawl.job_id": job, "crawl.version": VERSION}) == len(expected)
    log = next((deployment["home"] / "logs" / PROJECT / CITY).glob(f"{jobs[CITY]}.log")).read_text(encoding="utf-8", errors="replace")
    assert "log_count/ERROR" not in log
