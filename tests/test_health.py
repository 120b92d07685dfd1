"""`python -m crawler health` and the fill rates the monitors compare."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crawler.operations.health import CRITICAL, OK, UNKNOWN, WARNING, spider_health, summary
from crawler.operations.monitors import fill_rates
from tests.helpers import fresh_db

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def run(spider: str, hours_ago: float, state: str = "finished", failed: list | None = None) -> dict:
    started = NOW - timedelta(hours=hours_ago)
    return {"_id": f"{spider}:{hours_ago}", "spider": spider, "started_at": started, "finished_at": started + timedelta(minutes=5),
            "state": state, "state_reason": None if state == "finished" else "stopped by a signal",
            "monitors": {"passed": [], "failed": failed or [], "skipped": []}}


def test_health_names_what_is_wrong_with_each_spider(mongo_uri):
    db = fresh_db(mongo_uri, "health")
    drop = {"monitor": "Fill rates/every watched field is filled as often as before", "message": "author 58% → 0%"}
    db.crawl_runs.insert_many([
        run("thanhphohaiphong", 30), run("thanhphohaiphong", 2),
        run("congan_haiphong", 30), run("congan_haiphong", 2, failed=[drop]),
        run("other", 50), run("other", 1, state="shutdown"),
    ])
    good = spider_health(db, "thanhphohaiphong", NOW, max_age_hours=36)
    assert good.ok and good.last_success_age_hours < 2
    drifted = spider_health(db, "congan_haiphong", NOW, max_age_hours=36)
    assert not drifted.ok and "author 58% → 0%" in drifted.line() and drifted.line().startswith("WARNING")
    assert drifted.last_success_age_hours > 29  # the run that failed a monitor is no success
    stopped = spider_health(db, "other", NOW, max_age_hours=36)
    assert [(level, text.split(":")[0]) for level, text in stopped.problems] == [
        (WARNING, "last run shutdown"), (CRITICAL, "no successful run for 50 h (limit 36 h)")]
    assert stopped.level == CRITICAL and summary([good, drifted, stopped])[0] == CRITICAL
    assert not spider_health(db, "nobody", NOW, max_age_hours=36).ok
    unmonitored = run("quiet", 1)
    del unmonitored["monitors"]  # PORTAL_MONITORS_ENABLED=0
    db.crawl_runs.insert_one(unmonitored)
    assert spider_health(db, "quiet", NOW, max_age_hours=36).ok
    db.client.close()


def test_health_speaks_as_a_monitoring_plugin_first_line_on_stdout_and_exit_0_1_2_3(mongo_uri, tmp_path):
    data = tmp_path / "data"

    def health(uri: str | None, *args: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k != "MONGO_URI"} | {"MONGO_DATABASE": "health_cli"}
        if uri:
            env["MONGO_URI"] = uri
        return subprocess.run([sys.executable, "-m", "crawler", "health", "--timeout", "1", "--data-dir", str(data), *args],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)

    down = health("mongodb://127.0.0.1:9/")
    assert down.returncode == UNKNOWN and down.stdout.startswith("CRAWLER UNKNOWN - cannot read crawl_runs"), down
    assert "Traceback" not in down.stderr
    nothing = health(None)  # no MONGO_URI, no embedded database in the data folder: said, and nothing created
    assert nothing.returncode == UNKNOWN and nothing.stdout.startswith("CRAWLER UNKNOWN") and "holds no embedded database" in nothing.stdout
    assert not (data / "mongo").exists()
    db = fresh_db(mongo_uri, "health_cli")
    db.crawl_runs.insert_one(run("thanhphohaiphong", 1) | {"started_at": datetime.now(UTC), "finished_at": datetime.now(UTC)})
    answer = health(mongo_uri, "--json", "--spider", "thanhphohaiphong")
    assert answer.returncode == OK, answer.stderr
    said = json.loads(answer.stdout)
    assert said["status"] == "OK" and said["spiders"][0]["last_state"] == "finished"
    police = health(mongo_uri)  # the police spider has no run at all
    assert police.returncode == WARNING and police.stdout.startswith("CRAWLER WARNING - congan_haiphong: no run recorded")
    # A job killed with its lease: past the expiry, a warning; writes waiting in a spill file: critical.
    db.leases.insert_one({"_id": "thanhphohaiphong", "owner": "thanhphohaiphong:killed", "host": "node-1", "pid": 7,
                          "taken_at": datetime.now(UTC) - timedelta(hours=1), "expires_at": datetime.now(UTC) - timedelta(minutes=5)})
    lapsed = health(mongo_uri, "--spider", "thanhphohaiphong")
    assert lapsed.returncode == WARNING and "lease held past its expiry by job thanhphohaiphong:killed" in lapsed.stdout.splitlines()[0]
    (data / "spill").mkdir(parents=True)
    (data / "spill" / "thanhphohaiphong-20261205T000000000000-1.jsonl").write_text('{"kind": "updates"}\n' * 3)
    spilled = health(mongo_uri, "--spider", "thanhphohaiphong")
    assert spilled.returncode == CRITICAL and spilled.stdout.startswith("CRAWLER CRITICAL - thanhphohaiphong: 3 writes wait in spill")
    db.client.close()


def test_fill_rates_come_from_spidermons_field_coverage():
    stats = {"spidermon_item_scraped_count/ArticleItem": 40, "spidermon_item_scraped_count/ArticleItem/author": 10,
             "spidermon_item_scraped_count/ArticleItem/qr/payload": 40}
    items, rates = fill_rates(stats, ("author", "qr.payload", "summary"))
    assert items == 40 and rates == {"author": 0.25, "qr.payload": 1.0, "summary": 0.0}
    assert fill_rates({}) == (0, {})
