"""Deployment end to end, as the README's production section runs it, all on loopback: two scrapyd nodes configured
by deploy/scrapyd.conf with basic auth, the MongoDB unit's command, the one environment file, `python -m crawler
deploy`, the crontab's own lines, an SMTP sink and a webhook receiver for the alerts."""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
import requests
from croniter import croniter
from dotenv import dotenv_values

from crawler.storage.mongo import connect, free_port
from replica.corpus import CITY, POLICE
from replica.drills import MongoProcess
from replica.server import Replica, ReplicaOptions
from tests.helpers import ROOT, smtp_sink, webhook_receiver

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent
PROJECT, DATABASE = "haiphong_portal", "scrapyd_e2e"
DEPLOY = ROOT / "deploy"
USER, PASSWORD = "crawler", "s3cret-e2e"
README_MARK = "<!-- production walkthrough"


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
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def crontab_lines() -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The crontab's variables, and each schedule line as (its five time fields, its command)."""
    env, lines = {}, []
    for line in (DEPLOY / "crontab").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if re.match(r"^[A-Z_]+=", line):
            name, value = line.split("=", 1)
            env[name] = value
        else:
            fields = line.split(None, 5)
            lines.append((" ".join(fields[:5]), fields[5]))
    return env, lines


def readme_commands() -> list[str]:
    """Every `.venv/bin/python -m crawler` line of the README's production walkthrough, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split(README_MARK, 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip().startswith(".venv/bin/python -m crawler")]


class Production:
    """The deployment of the README, on loopback: what its commands and its crontab need."""

    def __init__(self, home: Path, env_file: Path, nodes: dict[str, str], replica: Replica, mongo: MongoProcess,
                 inbox, posts: list[dict]) -> None:
        self.home, self.env_file, self.nodes, self.replica, self.mongo = home, env_file, nodes, replica, mongo
        self.inbox, self.posts = inbox, posts
        self.values = dotenv_values(env_file)

    def shell_env(self, **extra: str) -> dict[str, str]:
        """A shell's environment holding none of the file's variables: only PORTAL_ENV_FILE leads to them."""
        env = {k: v for k, v in os.environ.items() if k not in self.values and k not in ("MONGO_EMBEDDED", "PORTAL_ARCHIVE_ENABLED")}
        return env | {"PORTAL_ENV_FILE": str(self.env_file)} | extra

    def readme(self, command: str, **extra: str) -> subprocess.CompletedProcess:
        """A README command as written, with its system paths under the test's folder."""
        command = command.replace("/var/backups/haiphong-crawler", str(self.home / "backups"))
        command = command.replace("/var/lib/prometheus/node-exporter", str(self.home / "textfile"))
        command = command.replace(".venv/bin/python", shlex.quote(sys.executable))
        return subprocess.run(["bash", "-c", command], cwd=ROOT, env=self.shell_env(**extra), capture_output=True, text=True,
                              timeout=600, check=False)

    def command(self, *args: str, **extra: str) -> subprocess.CompletedProcess:
        return self.readme(".venv/bin/python -m crawler " + shlex.join(args), **extra)

    def cron(self, spider: str, base_url: str | None = None, **extra: str) -> subprocess.CompletedProcess:
        """The crontab's line for the spider, run by sh with the crontab's variables, as cron runs it."""
        variables, lines = crontab_lines()
        command = next(c for _, c in lines if f"schedule {spider} " in c)
        option = f"-a base_url={base_url or self.replica.base_url(spider)}"
        env = self.shell_env(**(variables | {"CRAWLER_HOME": str(ROOT), "PORTAL_ENV_FILE": str(self.env_file),
                                             "CITY_OPTIONS": option, "POLICE_OPTIONS": option} | extra))
        if not (ROOT / ".venv").exists():
            command = command.replace(".venv/bin/python", shlex.quote(sys.executable))
        return subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True, timeout=120, check=False)

    def scheduled(self, done: subprocess.CompletedProcess) -> tuple[str, str]:
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout.split("job ", 1)[1].split(",", 1)[0], done.stdout.rsplit(" on ", 1)[1].strip()

    def wait_finished(self, node: str, job: str, seconds: float = 600) -> None:
        def finished() -> bool:
            return job in {j["id"] for j in get_json(node + f"/listjobs.json?project={PROJECT}")["finished"]}

        wait_until(finished, seconds, f"job {job} to finish on {node}")

    def db(self):
        return connect(self.mongo.uri, DATABASE)


def env_file_for(home: Path, nodes: list[str], mongo_uri: str, smtp_port: int, hook_url: str) -> Path:
    """deploy/crawler.env.example with this deployment's values; every variable set is one the example documents."""
    values = dotenv_values(DEPLOY / "crawler.env.example")
    ours = {"PORTAL_DATA_DIR": str(home / "data"), "MONGO_URI": mongo_uri, "MONGO_DATABASE": DATABASE, "PORTAL_PROFILE": "replica",
            "SCRAPYD_URL": ",".join(nodes), "SCRAPYD_USERNAME": USER, "SCRAPYD_PASSWORD": PASSWORD,
            "PORTAL_ALERT_EMAIL_TO": "ops@example.org", "PORTAL_ALERT_SMTP_HOST": "127.0.0.1",
            "PORTAL_ALERT_SMTP_PORT": str(smtp_port), "PORTAL_ALERT_SMTP_STARTTLS": "0", "PORTAL_ALERT_WEBHOOK_URL": hook_url}
    assert set(ours) <= set(values), set(ours) - set(values)
    path = home / "crawler.env"
    path.write_text("".join(f'{k}="{v}"\n' for k, v in (values | ours).items()), encoding="utf-8")
    return path


def start_scrapyd(folder: Path, host: str, port: int, env_file: Path) -> subprocess.Popen:
    """scrapyd as its systemd unit starts it: deploy/scrapyd.conf (its paths, address and password adapted) and
    the environment file as EnvironmentFile= gives it."""
    folder.mkdir()
    conf = (DEPLOY / "scrapyd.conf").read_text(encoding="utf-8").replace("/var/lib/haiphong-crawler/scrapyd", str(folder))
    conf = re.sub(r"(?m)^bind_address\s*=.*$", f"bind_address = {host}", conf)
    conf = re.sub(r"(?m)^http_port\s*=.*$", f"http_port = {port}", conf)
    conf = re.sub(r"(?m)^password\s*=.*$", f"password = {PASSWORD}", conf)
    conf = re.sub(r"(?m)^poll_interval\s*=.*$", "poll_interval = 0.5", conf)  # jobs start sooner; nothing else changes
    (folder / "scrapyd.conf").write_text(conf, encoding="utf-8")
    unit = (DEPLOY / "systemd" / "haiphong-scrapyd.service").read_text(encoding="utf-8")
    assert "EnvironmentFile=/etc/haiphong-crawler/crawler.env" in unit and "bin/scrapyd" in unit
    env = {k: v for k, v in os.environ.items() if k not in ("MONGO_EMBEDDED", "PORTAL_ARCHIVE_ENABLED", "MONGO_URI")}
    env |= {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    return subprocess.Popen([str(BIN / "scrapyd")], cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    home = tmp_path_factory.mktemp("production")
    unit = (DEPLOY / "systemd" / "haiphong-mongodb.service").read_text(encoding="utf-8")
    assert "-m crawler mongo-server --data-dir ${PORTAL_DATA_DIR}/mongo" in unit
    mongo = MongoProcess(home / "data" / "mongo").start()  # the unit's command, on a free port
    procs = []
    try:
        with smtp_sink() as (inbox, smtp_port), webhook_receiver() as (posts, hook_url):
            nodes = {name: f"http://{host}:{free_port(host)}" for name, host in (("node-1", "127.0.0.1"), ("node-2", "127.0.0.2"))}
            env_file = env_file_for(home, list(nodes.values()), mongo.uri, smtp_port, hook_url)
            for name, url in nodes.items():
                host, port = url.removeprefix("http://").split(":")
                procs.append(start_scrapyd(home / name, host, int(port), env_file))
            for url in nodes.values():
                wait_until(lambda url=url: get_json(url + "/daemonstatus.json")["status"] == "ok", 60, f"scrapyd at {url}")
            with Replica(ReplicaOptions(articles_per_site=150, fault_rate=0.03, slow_seconds=0.2)) as replica:
                yield Production(home, env_file, nodes, replica, mongo, inbox, posts)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
        mongo.stop()


def test_the_egg_holds_the_crawler_and_nothing_from_tests(tmp_path):
    egg = tmp_path / "crawler.egg"
    build = subprocess.run([str(BIN / "scrapyd-deploy"), "--build-egg", str(egg)], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert build.returncode == 0, build.stderr
    tops = {name.split("/")[0] for name in zipfile.ZipFile(egg).namelist()}
    assert tops == {"EGG-INFO", "crawler", "spiders", "pipelines"}
    assert "settings = crawler.settings" in zipfile.ZipFile(egg).read("EGG-INFO/entry_points.txt").decode()


def test_no_two_crontab_lines_fire_at_the_same_minute():
    _, lines = crontab_lines()
    start = time.mktime((2026, 12, 6, 0, 0, 0, 6, 340, -1))  # a Sunday: the week round
    fired: dict[float, list[str]] = {}
    for when, command in lines:
        it = croniter(when, start - 1)
        while (moment := it.get_next(float)) < start + 7 * 86400:
            fired.setdefault(moment, []).append(command)
    assert lines and not {time.ctime(m): c for m, c in fired.items() if len(c) > 1}


def test_the_readme_walkthrough_runs_as_written_and_jobs_go_to_the_least_busy_node(production):
    commands = readme_commands()
    assert [c.split()[3] for c in commands] == ["deploy", "schedule", "schedule", "health", "metrics", "backup", "prune"]
    nodes = list(production.nodes.values())
    started = time.monotonic()
    deployed = production.readme(commands[0])
    assert deployed.returncode == 0, deployed.stderr
    version = deployed.stdout.split("deployed ", 1)[1].split(" ", 1)[0]
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{12}(-dirty)?", version) and deployed.stdout.count(version) == 2
    timings = {"deploy": time.monotonic() - started}
    # The README's schedule lines, as written: the replica is reached through the spiders' base_url argument, as
    # `CITY_OPTIONS` gives it in the crontab.
    jobs, placed = {}, {}
    for spider, command in ((CITY, commands[1]), (POLICE, commands[2])):
        done = production.readme(command + f" -a base_url={production.replica.base_url(spider)}")
        jobs[spider], placed[spider] = production.scheduled(done)
        assert "(a full pass)" in done.stdout  # no full pass finished yet
    assert placed == {CITY: nodes[0], POLICE: nodes[1]}  # both idle: the first node, then the one with no job
    # A wrong password says so; credentials from ~/.netrc when the environment has none.
    wrong = production.cron(CITY, SCRAPYD_PASSWORD="wrong")
    assert wrong.returncode == 1 and "401 Unauthorized" in wrong.stderr, wrong.stderr
    netrc_home = production.home / "netrc-home"
    netrc_home.mkdir(exist_ok=True)
    (netrc_home / ".netrc").write_text("".join(f"machine {host} login {USER} password {PASSWORD}\n" for host in ("127.0.0.1", "127.0.0.2")))
    (netrc_home / ".netrc").chmod(0o600)
    again = production.cron(CITY, HOME=str(netrc_home), SCRAPYD_USERNAME="", SCRAPYD_PASSWORD="")
    assert again.returncode == 3 and "already pending or running" in again.stderr and nodes[0] in again.stderr, again.stderr
    for spider, node in placed.items():
        production.wait_finished(node, jobs[spider])
    timings["first crawls"] = time.monotonic() - started - timings["deploy"]
    client, db = production.db()
    for spider, job in jobs.items():
        run = db.crawl_runs.find_one({"spider": spider, "job_id": job})
        assert run is not None and run["state"] == "finished" and run["version"] == version and run["kind"] == "full", run
        expected = {r["_id"] for r in production.replica.truth(spider) if r["outcome"] == "stored"}
        assert {d["_id"] for d in db.articles.find({"site": spider}, {"_id": 1})} == expected
        assert db.articles.count_documents({"site": spider, "crawl.job_id": job, "crawl.version": version}) == len(expected)
        assert run["data_dir"] == str(production.home / "data") and Path(run["log_file"]).is_file()
    client.close()
    health = production.readme(commands[3])
    assert health.returncode == 0 and health.stdout.startswith("CRAWLER OK - "), health.stdout + health.stderr
    assert version in health.stdout
    metrics = production.readme(commands[4])
    assert metrics.returncode == 0 and f'version="{version}"' in (production.home / "textfile" / "haiphong_crawler.prom").read_text()
    backup = production.readme(commands[5])
    assert backup.returncode == 0 and (production.home / "backups" / "first.backup.gz").stat().st_size > 0, backup.stderr
    prune = production.readme(commands[6])
    assert prune.returncode == 0 and str(production.home / "data" / "archive") in prune.stdout, prune.stderr
    print(f"walkthrough timings: {', '.join(f'{k} {v:.1f} s' for k, v in timings.items())}")
    print(f"--- deploy\n{deployed.stdout}--- health\n{health.stdout}")


def test_two_jobs_of_a_spider_started_at_once_make_one_run(production):
    """Past the scheduler's courtesy check (scrapyd's API called twice, as a person could): one job runs, the other
    ends at once, refused, with its own record and alert."""
    nodes = list(production.nodes.values())
    form = {"project": PROJECT, "spider": CITY, "base_url": production.replica.base_url(CITY), "full": "1"}
    client, db = production.db()
    production.replica.hold_articles()  # whichever job takes the lease cannot finish before the other has started
    try:
        jobs = []
        for node in nodes:  # one on each node, at once
            answer = requests.post(node + "/schedule.json", data=form, auth=(USER, PASSWORD), timeout=30).json()
            jobs.append((node, answer["jobid"]))
        ids = [job for _, job in jobs]
        wait_until(lambda: db.crawl_runs.find_one({"job_id": {"$in": ids}, "state": "refused"}), 300, "one job to be refused")
    finally:
        production.replica.release_articles()
    for node, job in jobs:
        production.wait_finished(node, job)
    runs = [db.crawl_runs.find_one({"job_id": job}) for _, job in jobs]
    assert sorted(r["state"] for r in runs) == ["finished", "refused"], runs
    refused = next(r for r in runs if r["state"] == "refused")
    winner = next(r for r in runs if r["state"] == "finished")
    assert refused["exit_code"] == 4 and winner["_id"] in refused["state_reason"]
    assert db.leases.count_documents({}) == 0  # released by the job that held it
    client.close()
    assert any(p["run_id"] == refused["_id"] and p["cause"].startswith("another job of this spider holds its lease")
               for p in production.posts)


def test_two_deploys_the_second_runs_a_leftover_version_is_named_and_rollback_works(production):
    first = production.command("deploy")
    assert first.returncode == 0, first.stderr
    v1 = first.stdout.split("deployed ", 1)[1].split(" ", 1)[0]
    # A version from the old scheme on one node would keep running: named, nothing deployed.
    egg = production.home / "old.egg"
    subprocess.run([str(BIN / "scrapyd-deploy"), "--build-egg", str(egg)], cwd=ROOT, capture_output=True, check=True, timeout=180)
    node = production.nodes["node-2"]
    with egg.open("rb") as handle:
        assert requests.post(node + "/addversion.json", data={"project": PROJECT, "version": "r96-main"}, files={"egg": handle},
                             auth=(USER, PASSWORD), timeout=120).json()["status"] == "ok"
    blocked = production.command("deploy")
    assert blocked.returncode == 1 and "r96-main" in blocked.stderr and "--delete r96-main" in blocked.stderr, blocked.stderr
    assert production.command("deploy", "--delete", "r96-main").returncode == 0
    time.sleep(1.1)  # versions are named to the second: the next deploy is a second later
    second = production.command("deploy")
    assert second.returncode == 0, second.stderr
    v2 = second.stdout.split("deployed ", 1)[1].split(" ", 1)[0]
    assert v2 > v1
    for url in production.nodes.values():
        assert get_json(url + f"/listversions.json?project={PROJECT}")["versions"][-1] == v2
    job, node = production.scheduled(production.cron(CITY))
    production.wait_finished(node, job)
    client, db = production.db()
    assert db.crawl_runs.find_one({"job_id": job})["version"] == v2
    client.close()
    rolled = production.command("deploy", "--rollback")
    assert rolled.returncode == 0 and f"deleted {v2}" in rolled.stdout, rolled.stderr
    for url in production.nodes.values():
        assert get_json(url + f"/listversions.json?project={PROJECT}")["versions"][-1] == v1


def test_mongodb_down_as_a_job_starts_alerts_and_the_next_run_records_it_and_recovers(production):
    mails, posts = len(production.inbox.messages), len(production.posts)
    production.mongo.stop()
    try:
        down = production.cron(CITY)  # --full-every cannot read MongoDB: it says so and schedules an incremental run
        assert "cannot tell when" in down.stderr
        job, node = production.scheduled(down)
        production.wait_finished(node, job)
        health = production.command("health", "--timeout", "1")
        assert health.returncode == 3 and health.stdout.startswith("CRAWLER UNKNOWN - cannot read crawl_runs"), health.stdout
    finally:
        production.mongo.start()
    wait_until(lambda: len(production.inbox.messages) > mails and len(production.posts) > posts, 60, "the alert")
    alert = production.posts[-1]
    assert alert["cause"].startswith("MongoDB unreachable as the job started: cannot reach MongoDB") and alert["spider"] == CITY
    mail = production.inbox.messages[-1]
    assert "FAILED thanhphohaiphong: MongoDB unreachable" in mail and "Next:" in mail
    log = Path(alert["log_file"])
    assert log.is_file() and job in log.name
    assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")
    # MongoDB is back; the failed run waits in the spill folder, which health reads through the environment file.
    health = production.command("health")
    assert health.returncode == 2 and health.stdout.startswith("CRAWLER CRITICAL - thanhphohaiphong: 1 write waits in spill")
    print(f"--- the alert e-mail\n{mail}\n--- health once MongoDB is back\n{health.stdout}")
    job, node = production.scheduled(production.cron(CITY))
    production.wait_finished(node, job)
    client, db = production.db()
    assert db.crawl_runs.find_one({"_id": alert["run_id"]})["state"] == "failed"  # recorded from the spill
    assert db.crawl_runs.find_one({"job_id": job})["state"] == "finished"
    client.close()
    wait_until(lambda: production.posts[-1].get("kind") == "recovery", 60, "the recovery message")
    assert production.posts[-1]["recovers"] == alert["run_id"] and "RECOVERED" in production.inbox.messages[-1]
    assert production.command("health", "--spider", CITY).returncode == 0


def test_a_portal_refusing_every_connection_fails_the_run_alerts_with_the_cause_then_recovers(production):
    closed = f"http://127.0.0.1:{free_port()}"
    job, node = production.scheduled(production.cron(CITY, base_url=closed))
    production.wait_finished(node, job)
    client, db = production.db()
    run = db.crawl_runs.find_one({"job_id": job})
    assert run["state"] == "failed" and run["exit_code"] == 1 and run["causes"][0]["cause"] == "connection refused", run
    client.close()
    alert = next(p for p in production.posts if p.get("run_id") == run["_id"])
    assert alert["cause"].startswith(f"the portal at {closed} could not be read: connection refused")
    health = production.command("health", "--spider", CITY)
    assert health.returncode == 2 and health.stdout.startswith("CRAWLER CRITICAL - thanhphohaiphong: last run failed"), health.stdout
    job, node = production.scheduled(production.cron(CITY))
    production.wait_finished(node, job)
    wait_until(lambda: production.posts[-1].get("recovers") == run["_id"], 60, "the recovery message")
